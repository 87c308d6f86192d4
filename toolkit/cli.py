"""Command line: parse arguments, call the app layer, render results. No logic lives here.

Start-up must stay light (a button click waits for it): heavy modules are imported inside commands.
Exit codes: 0 done; 1 done but some input rejected/invalid; 2 could not run; 3 internal error.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli_base import EXIT_OK, EXIT_REJECTED, BrandkitGroup, Context, printable_text, set_lang
from toolkit.core.vocabulary import NoticeKind

if TYPE_CHECKING:
    from toolkit.commands.merge import MergeResult


@click.group(cls=BrandkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, is_eager=True, callback=set_lang,
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
    from toolkit.render import next_step

    obj.say(next_step("brandkit init 品牌台账.xlsx --profile <活动方案> --roster 支部名单.xlsx 新建台账"))


@main.command()
@click.option("--profile", "profile_name", help="Campaign id, or a .toml path.")
@click.option("--from-master", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Take the campaign (profile, year and stage dates) from this master instead of --profile.")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="年份", help="Campaign year of the dates on the form.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--master", "as_master", is_flag=True, help="Write a macro-enabled master (台账.xlsm) with buttons.")
@click.pass_obj
def template(obj: Context, profile_name: str | None, from_master: Path | None, year: int | None, output: Path,
             as_master: bool) -> None:
    """Write the branch form (申报表), or with --master the macro-enabled master with buttons."""
    from toolkit.commands import template as template_cmd
    from toolkit.render import next_step, shell_arg

    path = template_cmd.write_template(profile_name, output, as_master=as_master, from_master=from_master, year=year)
    what = "带按钮的台账" if as_master else "申报表模板"
    if obj.as_json:
        obj.emit({"template": str(path)})
        return
    obj.say(f"已生成{what}：{path}")
    obj.say(next_step(f"双击打开 {shell_arg(path)}，用表中的按钮收件、校验、合并" if as_master else
                      f"把 {shell_arg(path)} 发给各支部填写；收到后用 brandkit merge 合并进台账"))


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
    from toolkit.render import next_after_validation, render_validation

    result = validate_cmd.validate(list(paths), profile_name=profile_name, master=master, report_dir=report_dir,
                          progress=obj.progress("校验"))
    if obj.as_json:
        obj.emit(result.to_json())
    else:
        render_validation(result, obj.say)
        obj.say(next_after_validation(result, list(paths), master))
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_OK)


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", "profile_name", help="Campaign id, or a .toml path.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A sheet listing 党总支 / 党支部名称 / 类别 / 必须参与.")
@click.option("--by", "operator", help="Operator name for the log (default: login name).")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="年份",
              help="Campaign year: the year of the first dated stage (default: the notice's, else this year).")
@click.option("--date", "dates", multiple=True, metavar="STAGE=DATE",
              help="A stage's due date (STAGE=2027-03-31) or start~due (repeatable).")
@click.option("--office", help="The office that signs the mails to branches (kept in 填报规则).")
@click.pass_obj
def init(obj: Context, master: Path, profile_name: str | None, roster: Path | None, operator: str | None,
         year: int | None, dates: tuple[str, ...], office: str | None) -> None:
    """Create a master, or adopt an existing workbook as one."""
    from toolkit.commands.init import init_master
    from toolkit.render import next_after_init, render_init

    result = init_master(master, profile_name, roster, operator, year=year, dates=dates, office=office)
    if obj.as_json:
        obj.emit(result.to_json())
        return
    render_init(result, obj.say)
    obj.say(next_after_init(result, profile_name or "<活动方案>"))


@main.command()
@click.argument("master", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--by", "operator", help="Operator name for the log (default: login name).")
@click.option("--accept-warnings", is_flag=True, help="Merge submissions that have warnings only.")
@click.option("-v", "--verbose", is_flag=True, help="Show each merged form's fields as they changed.")
@click.pass_obj
def merge(obj: Context, master: Path, inputs: tuple[Path, ...], dry_run: bool, operator: str | None,
          accept_warnings: bool, verbose: bool) -> None:
    """Merge accepted branch forms into the master."""
    from toolkit.files.phases import phase
    from toolkit.files.sandbox import warm_up

    with phase("parent: command imports"):
        warm_up("toolkit.commands.merge_worker")  # the workers' server imports while this process does
        from toolkit.commands.merge import merge as run_merge
        from toolkit.render import next_after_merge, render_merge

    result = run_merge(master, list(inputs), dry_run=dry_run, operator=operator,
                       accept_warnings=accept_warnings, progress=obj.progress("读取"))
    if obj.as_json:
        obj.emit(result.to_json())
    else:
        render_merge(result, obj.say, verbose)
        obj.say(next_after_merge(result, master, list(inputs)))
    sys.exit(EXIT_REJECTED if result.rejected or result.form_missing else EXIT_OK)


@main.command()
@click.argument("upper", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("lowers", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prefer", multiple=True, metavar="[BRANCH=]LOWER",
              help="Settle conflicts for this lower master (all of its, or BRANCH=LOWER for one branch; repeatable).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--by", "operator", help="Operator name for the log (default: login name).")
@click.pass_obj
def rollup(obj: Context, upper: Path, lowers: tuple[Path, ...], prefer: tuple[str, ...], dry_run: bool,
           operator: str | None) -> None:
    """Combine several masters (each 党总支's) into an upper master; conflicts are shown, not overwritten."""
    from toolkit.commands.rollup import rollup as run_rollup
    from toolkit.render import render_rollup

    result = run_rollup(upper, list(lowers), prefer=list(prefer), operator=operator, dry_run=dry_run)
    obj.emit(result.to_json()) if obj.as_json else render_rollup(result, obj.say)
    sys.exit(EXIT_REJECTED if result.conflicts else EXIT_OK)


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
    from toolkit.render import next_after_intake, render_intake

    try:
        report = run_intake(list(sources), inbox, since=since.date() if since else None, subject=subject,
                            move_to=move_to, progress=obj.progress("收取"))
    except (IntakeError, MissingPassword) as exc:
        raise UsageProblem(str(exc)) from exc
    if obj.as_json:
        obj.emit(report.to_json())
    else:
        render_intake(report, inbox, obj.say)
        obj.say(next_after_intake(inbox))
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
    from toolkit.files.sandbox import MASTER_PRELOAD, warm_up

    warm_up(preload=MASTER_PRELOAD)  # the master's reader imports while this process does
    from toolkit.commands.stamp import render_stamp, stamp_day
    from toolkit.commands.stamp import stamp as run_stamp
    from toolkit.core.errors import UsageProblem

    day = date.date() if date else None
    if paper:
        from toolkit.commands.paper import stamp_paper

        if stage or status_ or quota_reason:
            raise UsageProblem("--paper 登记纸质版，不能同时使用 --stage、--status 或 --quota-reason")
        result = stamp_paper(master, branches, all_, by=operator, date=stamp_day(day), copies=copies, sealed=sealed)
    elif not (stage and status_):
        raise UsageProblem("请用 --stage 和 --status 指明要盖的阶段和状态（登记纸质版请用 --paper）")
    elif copies is not None or sealed is not None:
        raise UsageProblem("--copies 和 --sealed/--unsealed 只能与 --paper 一起使用")
    else:
        result = run_stamp(master, stage, status_, branches, all_, by=operator, note=note, date=day, force=force,
                           quota_reason=quota_reason)
    from toolkit.render import next_step, shell_arg

    if obj.as_json:
        obj.emit(result.to_json())
    else:
        obj.say(render_stamp(result))
        obj.say(next_step(f"brandkit status {shell_arg(master)} 查看各阶段进度"))
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_OK)


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--send", is_flag=True, help="Send the mails through SMTP (default: write drafts only).")
@click.option("--dry-run", is_flag=True, help="List the mails that would go; write and send nothing.")
@click.option("--again", is_flag=True, help="Send reminders (催报) again to branches reminded before.")
@click.option("--by", "by", type=click.DateTime(["%Y-%m-%d"]),
              help="Returned forms are due back by this day (default: five working days from today).")
@click.option("--only", "kinds", multiple=True, type=click.Choice([k.value for k in NoticeKind]),
              help="Only these kinds of mail (repeatable).")
@click.option("-o", "--output", "drafts_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the .eml files (default: 通知邮件/ beside the master).")
@click.option("--reports", "reports_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the 校验结果 reports (default: 校验结果/ beside the master).")
@click.option("--inbox", type=click.Path(file_okay=False, path_type=Path),
              help="Inbox folder whose inbox.jsonl says who sent each form (default: 收件箱/ beside the master).")
@click.option("--user", help="SMTP account (the mailbox address).")
@click.option("--smtp", "host", help="SMTP server (default: from the address, e.g. smtp.163.com).")
@click.option("--port", type=click.IntRange(1, 65535), help="SMTP port: 465 SSL, 587 STARTTLS (default: 465).")
@click.option("--tls", type=click.Choice(["ssl", "starttls"]), help="SSL or STARTTLS (default: SSL on 465, else STARTTLS).")
@click.option("--from", "sender", help="Sender address (default: --user).")
@click.option("--operator", help="Operator name for the log (default: login name).")
@click.pass_obj
def notify(obj: Context, master: Path, send: bool, dry_run: bool, again: bool, by, kinds: tuple[str, ...],
           drafts_dir: Path | None, reports_dir: Path | None, inbox: Path | None, user: str | None, host: str | None,
           port: int | None, tls: str | None, sender: str | None, operator: str | None) -> None:
    """Write (or --send) the mails to branches: receipts, returned forms with their reports, reminders."""
    from toolkit.commands.notify import SmtpOptions
    from toolkit.commands.notify import notify as run_notify
    from toolkit.core.errors import UsageProblem
    from toolkit.render import render_notify

    if send and not user:
        raise UsageProblem("--send 需要用 --user 指定发信邮箱（如 --user dangban@163.com）；密码从环境变量 "
                           "BRANDKIT_SMTP_PASSWORD、系统钥匙串或提示输入中取得，不要写在命令行上")
    result = run_notify(master, send=SmtpOptions(user, host, port, tls) if send and user else None, dry_run=dry_run,
                        again=again, by=by.date() if by else None, kinds=kinds, drafts_dir=drafts_dir,
                        reports_dir=reports_dir, inbox=inbox, sender=sender, operator=operator)
    obj.emit(result.to_json()) if obj.as_json else render_notify(result, obj.say)
    sys.exit(EXIT_REJECTED if result.failed else EXIT_OK)


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Count as of this day (default: today).")
@click.pass_obj
def status(obj: Context, master: Path, date) -> None:
    """Progress per 党总支 and stage: submitted, passed, returned, late, missing."""
    from toolkit.commands.status import render_status, status_json
    from toolkit.commands.status import status as run_status
    from toolkit.render import next_after_status

    progress = run_status(master, today=date.date() if date else None)
    if obj.as_json:
        obj.emit(status_json(progress))
    else:
        obj.say(render_status(progress))
        obj.say(next_after_status(len(progress.missing), master))


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--png", "png_dir", type=click.Path(file_okay=False, path_type=Path), help="Also write charts as PNG.")
@click.option("--as-of", "--date", "date", type=click.DateTime(["%Y-%m-%d"]),
              help="Count as of this day (default: today).")
@click.pass_obj
def summary(obj: Context, master: Path, output: Path, png_dir: Path | None, date) -> None:
    """Write the leaders' summary workbook (and PNG charts)."""
    from toolkit.commands.summary import summary as run_summary
    from toolkit.render import next_step, shell_arg

    result = run_summary(master, output, png_dir, today=date.date() if date else None)
    if obj.as_json:
        obj.emit(result.to_json())
        return
    obj.say(f"已生成汇总：{result.path}" + (f"；图表：{', '.join(map(str, result.charts))}" if result.charts else ""))
    obj.say(next_step(f"把 {shell_arg(result.path)} 发给领导；brandkit booklet {shell_arg(master)} -o 品牌汇编.docx "
                      "生成品牌汇编"))


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output file.")
@click.option("--stage", help="Take the branches at this stage (default: every accepted form).")
@click.option("--status", "status_", help="... with this status there, e.g. 入选.")
@click.option("--date", type=click.DateTime(["%Y-%m-%d"]), help="Date on the cover (default: today).")
@click.option("--pdf", is_flag=True, help="Also write a PDF through LibreOffice.")
@click.pass_obj
def booklet(obj: Context, master: Path, output: Path, stage: str | None, status_: str | None, date,
            pdf: bool) -> None:
    """Write a Word booklet of the brands: cover, contents, one section per brand."""
    from toolkit.commands.booklet import booklet as run_booklet
    from toolkit.render import render_booklet

    result = run_booklet(master, output, stage=stage, status=status_, date=date.date() if date else None, pdf=pdf)
    obj.emit(result.to_json()) if obj.as_json else render_booklet(result, obj.say)


@main.command()
@click.argument("master", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="A .csv, .xlsx or (with pyarrow) .parquet file.")
@click.option("--as-of", "--date", "date", type=click.DateTime(["%Y-%m-%d"]),
              help="Count as of this day (default: today).")
@click.pass_obj
def export(obj: Context, master: Path, output: Path, date) -> None:
    """Export the progress table (one row per branch, every stage) for other systems."""
    from toolkit.commands.export import export as run_export

    result = run_export(master, output, as_of=date.date() if date else None)
    obj.emit(result.to_json()) if obj.as_json else obj.say(f"已导出 {result.rows} 个支部的进展：{result.path}")


@main.command()
@click.argument("folder", required=False, default="brandkit-demo", type=click.Path(file_okay=False, path_type=Path))
@click.option("--profile", "profile_name", default="hospital-brand", show_default=True,
              help="Which campaign's samples to run.")
@click.pass_obj
def demo(obj: Context, folder: Path, profile_name: str) -> None:
    """Run the whole flow on the bundled samples."""
    from toolkit.commands.demo import run_demo
    from toolkit.render import next_after_merge, render_merge

    shown: list[MergeResult] = []

    def show_merge(merged: MergeResult) -> None:
        render_merge(merged, lambda line="", problem=False: obj.say("   " + line if line else ""), None)
        shown.append(merged)

    code = run_demo(folder, obj.say, show_merge, profile_name)
    for merged in shown:  # what the office would do next with the demo's master
        obj.say(next_after_merge(merged, merged.master, [folder / "收件箱"]))
    sys.exit(code)


@main.command()
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open the browser; only print the address.")
@click.pass_obj
def serve(obj: Context, folder: Path, port: int, no_browser: bool) -> None:
    """Open the campaign in FOLDER as a local web page (127.0.0.1 only)."""
    from toolkit.web.server import serve as run_serve

    run_serve(folder, lambda line: click.echo(printable_text(line)), port=port, open_browser=not no_browser)


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
    from toolkit.render import next_step, shell_arg, undo_lines

    undone = run_undo(master)
    if obj.as_json:
        obj.emit({"master": str(master), "restored": str(undone.restored), "kept": str(undone.kept),
                  "edited_by_hand": undone.edited})
        return
    for line in undo_lines(master, undone):
        obj.say(line, problem=undone.edited and line.startswith("注意"))
    obj.say(next_step(f"brandkit status {shell_arg(master)} 核对台账"))


if __name__ == "__main__":
    main()
