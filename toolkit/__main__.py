"""`python -m toolkit` and the `brandkit` command (pyproject's entry point is `main` here).

Light at the top on purpose: multiprocessing runs the `brandkit` script again in every worker it starts
(to rebuild `__main__`), and the script imports this module; importing the command line here would cost
each worker its click. `main` imports it when it runs.
"""

import sys
import time


def main() -> None:
    started = time.time()
    _start_workers_server(sys.argv[1:])
    from toolkit.cli import main as command_line
    from toolkit.files.phases import mark

    mark("parent: imports", started)
    command_line()


def _start_workers_server(args: list[str]) -> None:
    """For a command whose first job is in worker processes, start their fork server now, before the
    command line is even parsed: its imports (~0.15 s) overlap this process's (toolkit.files.sandbox)."""
    command = _command_name(args)
    if command not in ("merge", "stamp") or {"-h", "--help", "--version"} & set(args):
        return
    from toolkit.files.sandbox import MASTER_PRELOAD, PRELOAD, warm_up

    # merge reads forms (and its master); stamp reads only its master
    warm_up(preload=(*PRELOAD, "toolkit.commands.merge_worker") if command == "merge" else MASTER_PRELOAD)


def _command_name(args: list[str]) -> str | None:
    """The subcommand: the first argument that is neither an option of the group nor --lang's value."""
    after_lang = False
    for arg in args:
        if after_lang:
            after_lang = False
        elif arg == "--lang":
            after_lang = True
        elif not arg.startswith("-"):
            return arg
    return None


if __name__ == "__main__":
    main()
