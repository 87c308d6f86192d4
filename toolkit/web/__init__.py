"""`brandkit serve`: the campaign as a local web page (Starlette + Jinja2 + htmx, served by uvicorn on
127.0.0.1). Imported only by the `serve` and `launcher` commands: `brandkit --help` loads none of it."""
