"""The command line's frame: the context every command gets (how to say things, JSON, progress), the
global options accepted before or after the command, and the group that turns errors into exit codes and
Chinese messages. cli.py holds the commands themselves."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from toolkit import cli_text

cli_text.install()  # click's own messages ("Usage:", "No such option") in the language chosen

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class Context:
    def __init__(self, as_json: bool, debug: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.debug = debug
        self.quiet = quiet or as_json

    def say(self, text: str = "", *, problem: bool = False) -> None:
        """Human text on stdout; none with --json (stdout is the document); with -q only problems. Control
        characters from subjects, names and values are shown escaped, never obeyed (render.printable)."""
        if not self.as_json and (problem or not self.quiet):
            click.echo(printable_text(text))

    def emit(self, document: dict[str, Any]) -> None:
        """The JSON document on stdout, as UTF-8 whatever the console's code page (none under pythonw)."""
        if sys.stdout is None:
            return
        from toolkit.core.display import json_text

        text = json_text(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default)) + "\n"
        sys.stdout.flush()
        binary = getattr(sys.stdout, "buffer", None)  # absent when a caller swapped in a StringIO
        if binary is None:
            sys.stdout.write(text)
        else:
            binary.write(text.encode("utf-8"))
            binary.flush()

    def progress(self, label: str) -> Callable[[int, int], None] | None:
        if self.quiet or sys.stderr is None or not sys.stderr.isatty():  # None: under pythonw
            return None
        from toolkit.render import progress_callback

        return progress_callback(label)


def printable_text(text: str) -> str:
    from toolkit.core.display import printable

    return printable(text)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def quiet_closed_stdout() -> None:
    """Point stdout at the null device: Python's flush at exit would meet the closed pipe again and print
    "Exception ignored … BrokenPipeError" (the Python documentation's recipe, SIGPIPE being absent on Windows)."""
    try:
        fd = sys.stdout.fileno() if sys.stdout is not None else -1
    except (OSError, ValueError):  # a StringIO in a caller's test, or already closed
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


GLOBAL_FLAGS = ("--json", "--debug", "-q", "--quiet")


def hoist_global_options(args: list[str]) -> list[str]:
    """Global options may come after the command (`brandkit merge … --json --lang en`): move them to the
    front, where the group parses them. Arguments after `--` are left alone."""
    end = args.index("--") if "--" in args else len(args)
    head, rest, tail = [], [], args[end:]
    i = 0
    while i < end:
        if args[i] in GLOBAL_FLAGS:
            head.append(args[i])
        elif args[i] == "--lang" and i + 1 < end:
            head += args[i:i + 2]
            i += 1
        elif args[i].startswith("--lang="):
            head.append(args[i])
        else:
            rest.append(args[i])
        i += 1
    return head + rest + tail


def set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:  # eager, so that help shown in the same call is in this language
        os.environ["BRANDKIT_LANG"] = value
    return value


class BrandkitCommand(click.Command):
    """A command whose help is shown in the language chosen (Chinese by default), with examples."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from toolkit.cli_text import localize

        localize(self)
        super().format_help(ctx, formatter)


class BrandkitGroup(click.Group):
    """Turns known failures into exit codes and Chinese messages; global options may come after the
    command; help in the language chosen."""

    command_class = BrandkitCommand

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from toolkit.cli_text import localize

        localize(self)
        for name in self.list_commands(ctx):
            localize(self.commands[name])
        super().format_help(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        from toolkit.core.errors import UsageProblem

        try:
            return super().invoke(ctx)
        except UsageProblem as exc:
            click.echo(f"错误：{printable_text(str(exc))}", err=True)
            sys.exit(EXIT_USAGE)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("已中断。", err=True)
            sys.exit(EXIT_USAGE)
        except BrokenPipeError:  # `brandkit … | head`: the reader has all it wants; end quietly
            quiet_closed_stdout()
            sys.exit(EXIT_OK)
        except Exception as exc:  # the last line of defence: no traceback without --debug
            if os.environ.get("BRANDKIT_DEBUG") or "--debug" in sys.argv:
                raise
            click.echo(f"内部错误：{type(exc).__name__}: {printable_text(str(exc))}\n请加 --debug 重新运行并把输出发给维护人员。",
                       err=True)
            sys.exit(EXIT_INTERNAL)
