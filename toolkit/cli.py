"""Command line: parse arguments, call the app layer, render results. No logic lives here.

Start-up must stay light (a button click waits for it): heavy modules are imported inside commands.
Exit codes: 0 done; 1 done but some input rejected/invalid; 2 could not run; 3 internal error.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit import cli_text

if TYPE_CHECKING:
    from toolkit.commands.merge import MergeResult


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
            click.echo(_printable(text))

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


def _printable(text: str) -> str:
    from toolkit.core.display import printable

    return printable(text)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


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


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
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
            click.echo(f"错误：{_printable(str(exc))}", err=True)
            sys.exit(EXIT_USAGE)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("已中断。", err=True)
            sys.exit(EXIT_USAGE)
        except Exception as exc:  # the last line of defence: no traceback without --debug
            if os.environ.get("BRANDKIT_DEBUG") or "--debug" in sys.argv:
                raise
            click.echo(f"内部错误：{type(exc).__name__}: {_printable(str(exc))}\n请加 --debug 重新运行并把输出发给维护人员。",
                       err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=BrandkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, is_eager=True, callback=_set_lang,
              help="Message language.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems (rejected files and errors).")
@click.version_option(package_name="brandkit")
@click.pass_context
def main(ctx: click.Context, as_json: bool, lang: str | None, debug: bool, quiet: bool) -> None:
    """brandkit: collect, check, merge, stamp and summarise party-branch brand applications."""
    if debug:
        os.environ["BRANDKIT_DEBUG"] = "1"
    for stream in (sys.stdout, sys.stderr):  # a cp936 console or pipe (Chinese Windows) has no 𠮷, no emoji
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    ctx.obj = Context(as_json, debug, quiet)


@main.command()
@click.option("--profile", "profile_name", help="Show one campaign in full: the notice, labels, stages, notes.")
@click.pass_obj
def profiles(obj: Context, profile_name: str | None) -> None:
    """List the built-in campaigns (活动方案)."""
    from toolkit.commands import profiles as profiles_cmd

    if profile_name:
        detail = profiles_cmd.describe_profile(profile_name)
        if obj.as_json:
            obj.emit(detail)
        else:
            from toolkit.render import render_profile

            render_profile(detail, obj.say)
        return
    listing = profiles_cmd.list_profiles()
    if obj.as_json:
        obj.emit({"profiles": listing})
        return
    for p in listing:
        obj.say(f"{p['id']:<20} {p['title']}  —  {p['source']}")


@main.command()
@click.option("--profile", "profile_name", required=True, help="Campaign id, or a .toml path.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--master", "as_master", is_flag=True, help="Write a macro-enabled master (台账.xlsm) with buttons.")
@click.pass_obj
def template(obj: Context, profile_name: str, output: Path, as_master: bool) -> None:
    """Write the branch form (申报表), or with --master the macro-enabled master with buttons."""
    from toolkit.commands import template as template_cmd

    path = template_cmd.write_template(profile_name, output, as_master=as_master)
    what = "带按钮的台账" if as_master else "申报表模板"
    obj.emit({"template": str(path)}) if obj.as_json else obj.say(f"已生成{what}：{path}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", "profile_name", help="Campaign id, or a .toml path.")
@click.option("--master", type=click.Path(dir_okay=False, path_type=Path), help="Take rules and roster from this master.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Write annotated copies here.")
@click.pass_obj
def validate(obj: Context, paths: tuple[Path, ...], profile_name: str | None, master: Path | None,
             report_dir: Path | None) -> None:
    """Check branch forms against the campaign's rules."""
    from toolkit.commands import validate as validate_cmd
    from toolkit.render import render_validation

    result = validate_cmd.validate(list(paths), profile_name=profile_name, master=master, report_dir=report_dir,
                          progress=obj.progress("校验"))
    if obj.as_json:
        obj.emit(result.to_json())
    else:
        render_validation(result, obj.say)
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_OK)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", "profile_name", help="Campaign id, or a .toml path.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A sheet listing 党总支 / 党支部名称 / 类别 / 必须参与.")
@click.option("--by", "operator", help="Operator name for the log (default: login name).")
@click.option("--year", type=click.IntRange(2000, 2100),
              help="Campaign year: the year of the first dated stage (default: the notice's, else this year).")
@click.option("--date", "dates", multiple=True, metavar="STAGE=DATE",
              help="A stage's due date (STAGE=2027-03-31) or start~due (repeatable).")
@click.pass_obj
def init(obj: Context, master: Path, profile_name: str | None, roster: Path | None, operator: str | None,
         year: int | None, dates: tuple[str, ...]) -> None:
    """Create a master, or adopt an existing workbook as one."""
    from toolkit.commands.init import init_master
    from toolkit.render import render_init

    result = init_master(master, profile_name, roster, operator, year=year, dates=dates)
    obj.emit(result.to_json()) if obj.as_json else render_init(result, obj.say)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--by", "operator", help="Operator name for the log (default: login name).")
@click.option("--accept-warnings", is_flag=True, help="Merge submissions that have warnings only.")
@click.pass_obj
def merge(obj: Context, master: Path, inputs: tuple[Path, ...], dry_run: bool, operator: str | None,
          accept_warnings: bool) -> None:
    """Merge accepted branch forms into the master."""
    from toolkit.files.phases import phase
    from toolkit.files.sandbox import warm_up

    with phase("parent: command imports"):
        warm_up("toolkit.commands.merge")  # the workers' server imports while this process does
        from toolkit.commands.merge import merge as run_merge
        from toolkit.render import render_merge

    result = run_merge(master, list(inputs), dry_run=dry_run, operator=operator,
                       accept_warnings=accept_warnings, progress=obj.progress("读取"))
    obj.emit(result.to_json()) if obj.as_json else render_merge(result, obj.say)
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_OK)


@main.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", "inbox", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Inbox folder for the attachments.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only mail received on or after this day.")
@click.option("--subject", help="Only mail whose subject contains this text.")
@click.option("--move-to", help="IMAP: move handled mail to this folder.")
@click.pass_obj
def intake(obj: Context, sources: tuple[str, ...], inbox: Path, since, subject: str | None,
           move_to: str | None) -> None:
    """Collect attachments from .eml/.msg/mbox/Maildir/IMAP into an inbox folder."""
    from toolkit.core.errors import UsageProblem
    from toolkit.mail import IntakeError, MissingPassword
    from toolkit.mail import intake as run_intake
    from toolkit.render import render_intake

    try:
        report = run_intake(list(sources), inbox, since=since.date() if since else None, subject=subject,
                            move_to=move_to, progress=obj.progress("收取"))
    except (IntakeError, MissingPassword) as exc:
        raise UsageProblem(str(exc)) from exc
    obj.emit(report.to_json()) if obj.as_json else render_intake(report, inbox, obj.say)
    sys.exit(EXIT_REJECTED if report.has_rejections else EXIT_OK)


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--stage", help="Stage name, e.g. 党总支审批.")
@click.option("--status", "status_", help="Status, e.g. 已通过.")
@click.option("--branch", "branches", multiple=True, help="Branch to stamp (repeatable).")
@click.option("--all", "all_", is_flag=True, help="Every branch in the ledger.")
@click.option("--by", "operator", help="Who stamps (default: login name).")
@click.option("--note", help="A note for the log.")
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Stamp date (default: today).")
@click.option("--force", is_flag=True, help="Allow going back to an earlier status.")
@click.option("--quota-reason", help="Leave a group below its quota's minimum, for this reason (logged).")
@click.option("--paper", is_flag=True, help="Record paper copies received (instead of --stage/--status).")
@click.option("--copies", type=click.IntRange(min=1), help="With --paper: copies received (default: as the notice asks).")
@click.option("--sealed/--unsealed", default=None, help="With --paper: sealed or not (default: as the notice asks).")
@click.pass_obj
def stamp(obj: Context, master: Path, stage: str | None, status_: str | None, branches: tuple[str, ...], all_: bool,
          operator: str | None, note: str | None, date, force: bool, quota_reason: str | None, paper: bool,
          copies: int | None, sealed: bool | None) -> None:
    """Stamp a stage's status for branches, or (--paper) record their paper copies."""
    from toolkit.commands.stamp import render_stamp
    from toolkit.commands.stamp import stamp as run_stamp
    from toolkit.core.errors import UsageProblem

    day = date.date() if date else None
    if paper:
        from toolkit.commands.paper import stamp_paper

        if stage or status_ or quota_reason:
            raise UsageProblem("--paper 登记纸质版，不能同时使用 --stage、--status 或 --quota-reason")
        result = stamp_paper(master, branches, all_, by=operator, date=day, copies=copies, sealed=sealed)
    elif not (stage and status_):
        raise UsageProblem("请用 --stage 和 --status 指明要盖的阶段和状态（登记纸质版请用 --paper）")
    elif copies is not None or sealed is not None:
        raise UsageProblem("--copies 和 --sealed/--unsealed 只能与 --paper 一起使用")
    else:
        result = run_stamp(master, stage, status_, branches, all_, by=operator, note=note, date=day, force=force,
                           quota_reason=quota_reason)
    obj.emit(result.to_json()) if obj.as_json else obj.say(render_stamp(result))
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_OK)


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Count as of this day (default: today).")
@click.pass_obj
def status(obj: Context, master: Path, date) -> None:
    """Progress per 党总支 and stage: submitted, passed, returned, late, missing."""
    from toolkit.commands.status import render_status, status_json
    from toolkit.commands.status import status as run_status

    progress = run_status(master, today=date.date() if date else None)
    obj.emit(status_json(progress)) if obj.as_json else obj.say(render_status(progress))


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--png", "png_dir", type=click.Path(file_okay=False, path_type=Path), help="Also write charts as PNG.")
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Count as of this day (default: today).")
@click.pass_obj
def summary(obj: Context, master: Path, output: Path, png_dir: Path | None, date) -> None:
    """Write the leaders' summary workbook (and PNG charts)."""
    from toolkit.commands.summary import summary as run_summary

    result = run_summary(master, output, png_dir, today=date.date() if date else None)
    obj.emit(result.to_json()) if obj.as_json else obj.say(f"已生成汇总：{result.path}" + (
        f"；图表：{', '.join(map(str, result.charts))}" if result.charts else ""))


@main.command()
@click.argument("folder", required=False, default="brandkit-demo", type=click.Path(file_okay=False, path_type=Path))
@click.option("--profile", "profile_name", default="hospital-brand", show_default=True,
              help="Which campaign's samples to run.")
@click.pass_obj
def demo(obj: Context, folder: Path, profile_name: str) -> None:
    """Run the whole flow on the bundled samples."""
    from toolkit.commands.demo import run_demo
    from toolkit.render import render_merge

    def show_merge(merged: MergeResult) -> None:
        render_merge(merged, lambda line="", problem=False: obj.say("   " + line))

    sys.exit(run_demo(folder, obj.say, show_merge, profile_name))


@main.command()
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open the browser; only print the address.")
@click.pass_obj
def serve(obj: Context, folder: Path, port: int, no_browser: bool) -> None:
    """Open the campaign in FOLDER as a local web page (127.0.0.1 only)."""
    from toolkit.web.server import serve as run_serve

    run_serve(folder, lambda line: click.echo(_printable(line)), port=port, open_browser=not no_browser)


@main.command()
@click.argument("folder", required=False, default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--desktop", type=click.Path(file_okay=False, path_type=Path), help="Folder to put it in (default: the desktop).")
@click.pass_obj
def launcher(obj: Context, folder: Path, desktop: Path | None) -> None:
    """Put an icon on the desktop that opens FOLDER's web page."""
    from toolkit.web.launcher import install_launcher

    path = install_launcher(folder, desktop)
    obj.emit({"launcher": str(path)}) if obj.as_json else obj.say(f"已在桌面放置启动图标：{path}（双击即可打开网页）")


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def undo(obj: Context, master: Path) -> None:
    """Restore the master as it was before the last apply."""
    from toolkit.files.transaction import undo as run_undo

    restored = run_undo(master)
    obj.emit({"master": str(master), "restored": str(restored)}) if obj.as_json else \
        obj.say(f"已撤销上一次操作：{master} 已恢复为 {restored.name} 的内容")


if __name__ == "__main__":
    main()
