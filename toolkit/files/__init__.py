"""Everything that touches the file system for the layers above: atomic writes, the master's
transaction (lock, backup, verify, replace, undo), reading the master in a child, the sandbox, and the
workbooks brandkit writes for people (returned reports, the branch form)."""
