"""One module per command: the shell that reads files, calls the core, and applies through
files.transaction. Each returns a result object; cli.py and xl.py render it."""
