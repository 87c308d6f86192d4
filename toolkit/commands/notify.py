"""`brandkit notify`: the mails a merge calls for — 回执, 退回 with its report, 催报 — as drafts, or sent.

Drafts (.eml) go into a folder for the officer to open in Foxmail or Outlook (or import into 163/QQ web
mail) and send. With `send`, they go through SMTP under the master's lock, and each one sent is logged in
the 操作记录 (one transaction after the last), so a second run sends nothing; a 催报 repeats only with
`again`. The password comes from the environment, the keyring or a prompt (toolkit.mail.secrets).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.commands.status import read_log
from toolkit.core.datetext import official_date
from toolkit.core.errors import UsageProblem
from toolkit.core.logsheet import RESEND_BY, LogEntry, append_log
from toolkit.core.master import MasterSnapshot
from toolkit.core.model import china_today
from toolkit.core.notices import (
    KIND_ORDER,
    LogLine,
    Notice,
    NoticePlan,
    SentReport,
    Wording,
    first_address,
    log_lines,
    plan_notices,
)
from toolkit.core.stages import RESEND_WORKDAYS, add_workdays
from toolkit.core.vocabulary import LogAction, NoticeKind
from toolkit.files.filenames import safe_name
from toolkit.files.report_source import FoundReport

DRAFTS = "通知邮件"  # beside the master, as the demo and the web page lay a campaign folder out
INBOX, REPORTS = "收件箱", "校验结果"
REPORT_END = "_校验结果.xlsx"
# RESEND_WORKDAYS (toolkit.core.stages): a 退回 form is due back this many working days from today, unless
# --by says otherwise; a merge reads the deadline back from the mail's 操作记录 row (`sent_entry`).


@dataclass
class NotifyResult:
    master: Path
    plan: NoticePlan
    drafts_dir: Path
    send: bool = False
    dry_run: bool = False
    written: list[Path] = field(default_factory=list)  # drafts (or copies of the mails sent)
    sent: list[Notice] = field(default_factory=list)
    failed: list[tuple[Notice, str]] = field(default_factory=list)
    reports_dir: Path | None = None
    backup: Path | None = None
    taken: set[str] = field(default_factory=set)  # draft names this run wrote, casefolded: none overwritten

    def to_json(self) -> dict[str, Any]:
        return {"master": str(self.master), **self.plan.to_json(), "drafts_dir": str(self.drafts_dir),
                "send": self.send, "dry_run": self.dry_run, "written": [str(p) for p in self.written],
                "sent": [n.to_json() for n in self.sent],
                "failed": [{**n.to_json(), "error": e} for n, e in self.failed],
                "reports_dir": str(self.reports_dir) if self.reports_dir else None,
                "backup": str(self.backup) if self.backup else None}


@dataclass(frozen=True)
class SmtpOptions:
    user: str
    host: str | None = None
    port: int | None = None
    tls: str | None = None  # "ssl" | "starttls" (default: by port)


def notify(master: Path, *, send: SmtpOptions | None = None, dry_run: bool = False, again: bool = False,
           by: dt.date | None = None, kinds: Sequence[str] = (), drafts_dir: Path | None = None,
           reports_dir: Path | None = None, inbox: Path | None = None, sender: str | None = None,
           operator: str | None = None, today: dt.date | None = None, profile_name: str | None = None) -> NotifyResult:
    from toolkit.files.masterfile import load_master
    from toolkit.mail import read_manifest

    if not master.is_file():
        raise UsageProblem(f"找不到台账文件：{master}")
    today = today or china_today()
    inbox = inbox if inbox is not None else master.parent / INBOX
    reports_dir = reports_dir if reports_dir is not None else master.parent / REPORTS
    drafts_dir = drafts_dir if drafts_dir is not None else master.parent / DRAFTS
    address = first_address(sender or (send.user if send else ""))
    if sender and not address:
        raise UsageProblem(f"--from {sender} 不是邮箱地址")
    if by is not None and by < today:
        raise UsageProblem(f"--by {by.isoformat()}（{official_date(by)}）早于今天（{official_date(today)}）：退回邮件会要求"
                           f"支部在已经过去的日期前重新报送。请给今天或以后的日期，或不加 --by（默认 {RESEND_WORKDAYS} 个工作日后）")
    senders = [(str(v.get("sha256") or ""), str(v.get("sender") or "")) for v in read_manifest(inbox).values()]
    reports = found_reports(reports_dir)
    wanted = [k.value for k in KIND_ORDER if not kinds or k.value in kinds]

    def plan(snap: MasterSnapshot) -> NoticePlan:
        office_address = address or first_address(snap.profile.submit_to)  # where forms go back to
        wording = Wording(snap.profile.office or snap.profile.issuer or snap.profile.ledger.sheet, office_address,
                          today, by or add_workdays(today, RESEND_WORKDAYS, calendar=snap.calendar))
        lines = log_lines(read_log(snap))
        return plan_notices(snap, lines, senders, returned_reports(lines, reports), wording,
                            again=again, kinds=wanted)

    if send is None or dry_run:
        planned = plan(load_master(master, profile_name))
        result = NotifyResult(master, planned, drafts_dir, send=send is not None, dry_run=dry_run, reports_dir=reports_dir)
        if not dry_run:
            result.written = [_write(n, result, reports_dir, address or planned.reply_to, draft=True)
                              for n in [*planned.notices, *planned.no_address]]
        return result
    return _send(master, plan, send, address, operator or getpass.getuser(), drafts_dir, reports_dir, profile_name)


def _send(master: Path, plan: Any, options: SmtpOptions, address: str, operator: str, drafts_dir: Path,
          reports_dir: Path, profile_name: str | None) -> NotifyResult:
    from toolkit.core.changeset import ChangeSet
    from toolkit.files.transaction import update
    from toolkit.mail.secrets import MissingPassword, smtp_password
    from toolkit.mail.smtp import SmtpError, smtp_account, smtp_session

    if not address:
        raise UsageProblem(f"--user {options.user} 不是邮箱地址：请用 --from 写明发件地址")
    try:
        account = smtp_account(options.user, options.host, options.port, options.tls)
        password = smtp_password(account.account)
    except (SmtpError, MissingPassword) as exc:
        raise UsageProblem(str(exc)) from exc
    holder: dict[str, NotifyResult] = {}

    def send_all(snap: MasterSnapshot) -> ChangeSet:
        planned = plan(snap)
        result = holder["result"] = NotifyResult(master, planned, drafts_dir, send=True, reports_dir=reports_dir)
        changes = ChangeSet()
        if planned.notices:
            try:
                with smtp_session(account, password) as session:
                    for notice in planned.notices:
                        msg = _message(notice, result, reports_dir, address, draft=False)
                        try:
                            session.send(msg, address, notice.recipients)
                        except SmtpError as exc:
                            result.failed.append((notice, str(exc)))
                            continue
                        result.sent.append(notice)
                        result.written.append(_save(msg, notice, result))
            except SmtpError as exc:
                if not result.sent:
                    raise UsageProblem(str(exc)) from exc
                result.failed += [(n, str(exc)) for n in planned.notices if n not in result.sent
                                  and all(n is not f for f, _ in result.failed)]
        result.written += [_write(n, result, reports_dir, address, draft=True) for n in planned.no_address]
        now = dt.datetime.now().replace(microsecond=0)
        append_log(changes, snap.profile.ledger.log_sheet, snap.log_rows,
                   [sent_entry(n, now, operator, planned.by) for n in result.sent])
        return changes

    _, backup = update(master, send_all, lambda changes: changes, profile_name=profile_name)
    result = holder["result"]
    result.backup = backup
    return result


def sent_entry(notice: Notice, now: dt.datetime, operator: str, by: dt.date | None) -> LogEntry:
    """The 操作记录 row of a mail sent. A 退回's 新值 starts with the deadline the mail gave
    ("重新报送期限 2024-08-19；收件人 …", never clipped away), which a merge reads back to stamp a form
    sent again by then 已提交 (toolkit.core.logsheet.returns_in_log)."""
    entry = notice.log_entry(now, operator)
    if notice.kind != NoticeKind.RETURN or by is None:
        return entry
    return dataclasses.replace(entry, new=f"{RESEND_BY} {by.isoformat()}；{entry.new}")


def found_reports(folder: Path) -> list[FoundReport]:
    """The `<原文件名>_校验结果.xlsx` in `folder` (what validate --report-dir wrote), each with the sha256
    of the file it was made from."""
    from toolkit.files.report_source import reports_in

    return reports_in(folder, REPORT_END)


def returned_reports(lines: list[LogLine], reports: list[FoundReport]) -> dict[str, SentReport]:
    """Each 退回's sha256 (as the log gives it) -> the report made from that very file, with its errors.
    Never by name: two branches' files are often both 申报表.xlsx."""
    from toolkit.files.report_source import report_errors, report_for

    out = {}
    for line in lines:
        if line.action == LogAction.RETURNED and line.sha256 not in out:
            found = report_for(reports, line.sha256)
            if found is not None:
                out[line.sha256] = SentReport(found.path.name, tuple(report_errors(found.path)))
    return out


def _message(notice: Notice, result: NotifyResult, reports_dir: Path, address: str, draft: bool) -> Any:
    from toolkit.mail.outgoing import Outgoing, build_message

    attachment = reports_dir / notice.report if notice.report else None
    return build_message(Outgoing(address, result.plan.office, notice.to, notice.branch, notice.subject, notice.body,
                                  attachment), draft=draft)


def _write(notice: Notice, result: NotifyResult, reports_dir: Path, address: str, draft: bool) -> Path:
    return _save(_message(notice, result, reports_dir, address, draft), notice, result)


def _save(msg: Any, notice: Notice, result: NotifyResult) -> Path:
    """`<kind>_<branch>.eml`; ` (2)` … when this run wrote that name already (内科/外科党支部 and
    内科:外科党支部 are both 内科_外科党支部 on disk)."""
    from toolkit.mail.outgoing import write_eml

    stem = f"{notice.kind.value}_{notice.branch}"
    name, n = safe_name(stem, suffix=".eml"), 2
    while name.casefold() in result.taken:
        name, n = safe_name(f"{stem} ({n})", suffix=".eml"), n + 1
    result.taken.add(name.casefold())
    return write_eml(msg, result.drafts_dir / name)


