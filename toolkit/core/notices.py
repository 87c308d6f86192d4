"""Replies and reminders to branches (pure): who gets which mail, to which address, in what words.

One mail per branch that needs one, on the form's stage (`Profile.submission_stage`):
- 回执 when its form was accepted (a passed or late status there),
- 退回 when it was sent back, with its `<原文件名>_校验结果.xlsx` and a date to resend by (a 退回 the office
  stamped by hand has no report: the ledger's 退回原因, or a word that the office will explain),
- 催报 when nothing has arrived, listing what is missing and the deadline.

An event is (branch, kind, stage, the submission's sha256): the 操作记录 names every one mailed (操作
发邮件, 阶段 "申报：回执"), and a mailed event is never planned again; a 催报 (sha256 blank) repeats only
when asked (`again`). Addresses: for a reply, the address the form came from (the inbox manifest, by the
sha256 the log gives); then the roster's 邮箱; then the ledger's e-mail fields; then any address the
branch mailed from before.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from toolkit.core.datetext import official_date
from toolkit.core.logsheet import LogEntry
from toolkit.core.master import RETURN_REASON, MasterSnapshot
from toolkit.core.profile import StatusKinds
from toolkit.core.stages import branch_statuses, parse_stamp, stage_due
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import LogAction, NoticeKind

KIND_ORDER = (NoticeKind.RETURN, NoticeKind.REMINDER, NoticeKind.RECEIPT)
_ADDRESS = re.compile(r"[^@\s<>,;，；、]+@[^@\s<>,;，；、]+\.[A-Za-z0-9-]+")
_DISPLAY_NAME = re.compile(r"[^<>,;，；、]*<([^<>]*)>")  # "张三 <f@x.cn>": the address alone
_ADDRESS_SPLIT = re.compile(r"[\s,;，；、]+")  # what offices type between two addresses in one cell
_REASON_SPLIT = re.compile(r"[；;\n]+")



@dataclass(frozen=True)
class LogLine:
    """One row of the 操作记录, as far as notices need it."""

    action: str
    branch: str
    stage: str
    new: str
    source: str
    sha256: str


def log_lines(rows: Sequence[Sequence[Any]]) -> list[LogLine]:
    """The 操作记录 (header first) as LogLines, in order; [] when it is not brandkit's layout."""
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    names = ("操作", "党支部", "阶段", "新值", "来源文件", "SHA256")
    if any(n not in header for n in names):
        return []
    cols = [header.index(n) for n in names]
    out = []
    for row in rows[1:]:
        cells = [str(row[c]).strip() if c < len(row) and row[c] is not None else "" for c in cols]
        if cells[0]:
            out.append(LogLine(*cells))
    return out


def mailed_stage(stage: str, kind: str) -> str:
    """The 阶段 cell of a mailed notice's log row: "申报：回执"."""
    return f"{stage}：{kind}"


def mailed_events(lines: Sequence[LogLine]) -> set[tuple[str, str, str, str]]:
    """(normalised branch, kind, stage, sha256) of every notice the log says was mailed."""
    out = set()
    for line in lines:
        stage, _, kind = line.stage.rpartition("：")
        if line.action == LogAction.MAILED and stage and kind:
            out.add((normalize_branch(line.branch), kind, stage, line.sha256))
    return out


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    branch: str
    group: str
    stage: str
    sha256: str  # the submission's, as the log gives it ("" for a 催报)
    to: str  # the address ("" when none is known)
    subject: str
    body: str
    source: str = ""  # the file the branch sent (回执, 退回)
    report: str = ""  # 退回: the report to attach, as found ("" when missing)
    reasons: tuple[str, ...] = ()
    again: bool = False  # a 催报 mailed before, repeated on request
    bad_address: str = ""  # no address: what the roster (or ledger) holds instead, quoted to be corrected

    @property
    def recipients(self) -> list[str]:
        return self.to.split(", ") if self.to else []

    @property
    def event(self) -> tuple[str, str, str, str]:
        return normalize_branch(self.branch), self.kind.value, self.stage, self.sha256

    def log_entry(self, now: dt.datetime, operator: str) -> LogEntry:
        new = f"收件人 {self.to}；主题 {self.subject}" + (f"；附件 {self.report}" if self.report else "")
        return LogEntry(now, operator, LogAction.MAILED, self.branch, mailed_stage(self.stage, self.kind), "",
                        new, self.source, self.sha256)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "branch": self.branch, "group": self.group, "stage": self.stage,
                "sha256": self.sha256 or None, "to": self.to or None, "subject": self.subject,
                "source": self.source or None, "report": self.report or None, "reasons": list(self.reasons),
                "again": self.again, "bad_address": self.bad_address or None}


@dataclass
class NoticePlan:
    notices: list[Notice] = field(default_factory=list)  # to write (and send)
    no_address: list[Notice] = field(default_factory=list)  # no address known: drafts only, never sent
    no_report: list[Notice] = field(default_factory=list)  # 退回 whose report was not found: held
    already: list[Notice] = field(default_factory=list)  # mailed before (not again)
    by: dt.date | None = None  # the date 退回 forms are to be resent by
    office: str = ""  # who signs
    reply_to: str = ""  # the office's address, where forms go back to ("" when unknown)

    def to_json(self) -> dict[str, Any]:
        return {"notices": [n.to_json() for n in self.notices], "no_address": [n.to_json() for n in self.no_address],
                "no_report": [n.to_json() for n in self.no_report], "already": [n.to_json() for n in self.already],
                "by": self.by.isoformat() if self.by else None, "office": self.office}


@dataclass(frozen=True)
class Wording:
    """What every mail shares: the office that signs, where forms go back to, the dates."""

    office: str
    reply_to: str  # the office's address ("" when unknown: the office's name stands there)
    today: dt.date
    by: dt.date  # 退回: resend by


@dataclass(frozen=True)
class SentReport:
    """A 退回's report, found by the sha256 of the file it was made from: its name in the reports
    folder and the errors it lists (the reasons, one by one)."""

    name: str
    errors: tuple[str, ...] = ()


def plan_notices(snap: MasterSnapshot, log: Sequence[LogLine], senders: Sequence[tuple[str, str]],
                 reports: Mapping[str, SentReport], wording: Wording, *, again: bool = False,
                 kinds: Sequence[str] = tuple(KIND_ORDER)) -> NoticePlan:
    """The notices the master's ledger calls for. `senders`: (sha256, sender) of every file the inbox
    manifest lists; `reports`: a 退回's sha256 as the log gives it -> the report made from that file,
    for the reports found."""
    profile = snap.profile
    plan = NoticePlan(by=wording.by, office=wording.office, reply_to=wording.reply_to)
    if not profile.stages:
        return plan
    stage = profile.submission_stage
    rows = snap.ledger.by_branch() if snap.ledger else {}
    mailed = mailed_events(log)
    by_branch: dict[str, list[LogLine]] = {}
    for line in log:
        by_branch.setdefault(normalize_branch(line.branch), []).append(line)
    email_fields = [f.name for f in profile.fields if f.type == "email"]
    for branch in snap.roster:
        key = normalize_branch(branch)
        row = rows.get(key)
        values = row.values if row else {}
        status = branch_statuses(profile, values).get(stage.name)
        kind_of = profile.statuses.kind_of(status) if status else None
        lines = by_branch.get(key, [])
        by_hand = False
        if kind_of in ("passed", "late"):
            kind = NoticeKind.RECEIPT
            form = _last(lines, (LogAction.ADDED, LogAction.UPDATED))
        elif kind_of == "returned":
            kind = NoticeKind.RETURN
            by_hand = _returned_by_hand(lines, stage.name, profile.statuses)
            # a 退回 by hand concerns the form the office holds (it passed its checks), a merge's the file it refused
            form = _last(lines, (LogAction.ADDED, LogAction.UPDATED) if by_hand else (LogAction.RETURNED,))
        elif status is None:
            kind, form = NoticeKind.REMINDER, None
        else:
            continue
        if kind.value not in kinds:
            continue
        sha = form.sha256 if form else ""
        roster = snap.roster_entries.get(branch)
        own = [_sender(senders, form.sha256)] if form and form.sha256 else []
        earlier = [_sender(senders, line.sha256) for line in reversed(lines) if line.sha256]
        candidates = [*own, roster.contacts.get("邮箱", "") if roster else "",
                      *(str(values.get(f) or "") for f in email_fields), *earlier]
        to, bad = _recipients(candidates)
        repeat = (key, kind.value, stage.name, sha) in mailed
        if repeat and not (again and kind == NoticeKind.REMINDER):
            plan.already.append(_notice(snap, kind, branch, stage.name, form, to, reports, wording, values))
            continue
        notice = _notice(snap, kind, branch, stage.name, form, to, reports, wording, values, again=repeat,
                         bad_address=bad, by_hand=by_hand)
        if kind == NoticeKind.RETURN and not notice.report and not by_hand:
            plan.no_report.append(notice)
        elif not to:
            plan.no_address.append(notice)
        else:
            plan.notices.append(notice)
    order = {k: n for n, k in enumerate(KIND_ORDER)}
    for items in (plan.notices, plan.no_address, plan.no_report, plan.already):
        items.sort(key=lambda n: order[n.kind])
    return plan


def _last(lines: list[LogLine], actions: tuple[str, ...]) -> LogLine | None:
    return next((line for line in reversed(lines) if line.action in actions), None)


def _returned_by_hand(lines: list[LogLine], stage: str, kinds: StatusKinds) -> bool:
    """The branch's 退回 on `stage` is the office's own (stamp --status 退回, or typed into the cell), not
    a merge's: no validation report exists for it, and none is to be waited for."""
    last = next((line for line in reversed(lines) if line.action == LogAction.RETURNED or (
        line.action == LogAction.STAMPED and line.stage == stage
        and kinds.kind_of(parse_stamp(line.new) or "") == "returned")), None)
    return last is None or last.action == LogAction.STAMPED


def _sender(senders: Sequence[tuple[str, str]], sha: str) -> str:
    """The sender of the file whose sha256 starts with `sha` (the log keeps a prefix)."""
    return next((who for full, who in senders if sha and full.startswith(sha)), "")


def first_address(text: str) -> str:
    """The first e-mail address in `text` ("支部书记 <a@b.cn>", "a@b.cn；c@d.cn"), "" when none."""
    name, addr = parseaddr(text or "")
    if addr and _ADDRESS.fullmatch(addr):
        return addr
    found = _ADDRESS.search(text or "")
    return found.group(0) if found else ""


def addresses(text: str) -> tuple[list[str], list[str]]:
    """(the addresses in a cell, the parts of it that are not addresses but look meant as one) —
    "a@b.cn；c@d.cn", "b@x.cn, c@x.cn", "张三 <f@x.cn>", full-width "ｄ＠x.org" (NFKC), an IDN domain
    (as punycode). Beside an address, words without "@" (a name, "邮箱：") are not counted invalid."""
    found: list[str] = []
    invalid: list[str] = []
    text = _DISPLAY_NAME.sub(r" \1 ", unicodedata.normalize("NFKC", text or ""))
    for part in _ADDRESS_SPLIT.split(text.strip()):
        addr = _ascii_address(part.strip("\"'"))
        if addr and addr not in found:
            found.append(addr)
        elif not addr and part:
            invalid.append(part)
    return found, [p for p in invalid if "@" in p] if found else invalid


def _ascii_address(text: str) -> str:
    """`text` as an address SMTP takes (the domain as punycode), "" when it is none."""
    local, at, domain = text.rpartition("@")
    if not at or not local.isascii():
        return ""
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return ""
    addr = f"{local}@{domain}"
    return addr if _ADDRESS.fullmatch(addr) else ""


def _recipients(cells: Sequence[str]) -> tuple[str, str]:
    """(the addresses of the first cell that holds any, joined by ", "; the invalid text of the first
    cell that holds some, when no cell holds an address)."""
    bad = ""
    for cell in cells:
        found, invalid = addresses(cell)
        if found:
            return ", ".join(found), ""
        bad = bad or "、".join(invalid)
    return "", bad


def _notice(snap: MasterSnapshot, kind: NoticeKind, branch: str, stage: str, form: LogLine | None, to: str,
            reports: Mapping[str, SentReport], w: Wording, values: Mapping[str, Any], again: bool = False,
            bad_address: str = "", by_hand: bool = False) -> Notice:
    profile = snap.profile
    title = f"“{profile.title}”{profile.form_title}" if profile.title not in profile.form_title else profile.form_title
    source = form.source if form else ""
    group = snap.groups.get(branch, "")
    sign = [w.office, official_date(w.today)]
    back = f"{w.office}（{w.reply_to}）" if w.reply_to and w.office else w.reply_to or w.office
    if kind == NoticeKind.RECEIPT:
        late = profile.statuses.kind_of(branch_statuses(profile, values).get(stage) or "") == "late"
        lines = [f"{branch}：", "",
                 f"　　已收到你支部报送的《{title}》（{source or '申报表'}），经校验符合要求，已登记。"
                 + ("该表在截止日期后报送，已按逾期提交登记。" if late else ""),
                 "", "　　特此回执。"]
        subject = f"【回执】已收到{branch}的{profile.form_title}"
        return Notice(kind, branch, group, stage, form.sha256 if form else "", to, subject,
                      _body(lines, sign), source, bad_address=bad_address)
    if kind == NoticeKind.RETURN:
        said = str(values.get(RETURN_REASON) or "")  # the ledger's: the office may edit it
        if not by_hand and form:
            said = said or form.new  # a merge's 退回 row lists the findings
        found = reports.get(form.sha256) if form and not by_hand else None
        report = found.name if found else ""
        reasons = split_reasons(said, found.errors if found else ())
        named = f"《{title}》（{source}）" if source else f"《{title}》"
        intro = (f"　　你支部报送的{named}经审核，" + ("存在以下问题，现予退回：" if reasons else
                                              f"现予退回，具体修改意见由{w.office or '我们'}另行告知。")
                 if by_hand else f"　　你支部报送的{named}经校验，存在以下问题，现予退回：")
        lines = [f"{branch}：", "", intro,
                 *(f"　　{n}. {r}" for n, r in enumerate(reasons, start=1)),
                 *([f"　　各问题已在附件《{report}》中逐项标注（红色为必须修改的错误，黄色为需核实的警告）。"] if report else []),
                 f"　　请于{official_date(w.by)}前修改后重新报送至{back}。"]
        subject = f"【退回】{branch}的{profile.form_title}需修改后重新报送"
        return Notice(kind, branch, group, stage, form.sha256 if form else "", to, subject, _body(lines, sign),
                      source, report, reasons, bad_address=bad_address)
    due = stage_due(profile.submission_stage, snap.calendar)
    missing = [f"《{title}》电子版"]
    if profile.paper:
        missing.append(f"纸质版{profile.paper.copies}份" + ("（盖章）" if profile.paper.sealed else ""))
    notice_name = f"《{profile.notice_title}》" if profile.notice_title else "通知"
    if due is None:
        when = f"　　请尽快报送至{back}。"
    elif due < w.today:
        when = f"　　报送截止日期为{official_date(due)}，现已逾期{(w.today - due).days}天，请尽快报送至{back}。"
    else:
        when = f"　　报送截止日期为{official_date(due)}，请于截止日期前报送至{back}。"
    lines = [f"{branch}：", "", f"　　根据{notice_name}要求，各党支部应报送《{title}》。截至{official_date(w.today)}，"
             f"尚未收到你支部的以下材料：", *(f"　　{n}. {m}" for n, m in enumerate(missing, start=1)), when]
    subject = f"【催报】请{branch}报送{profile.form_title}"
    return Notice(kind, branch, group, stage, "", to, subject, _body(lines, sign), again=again,
                  bad_address=bad_address)


def split_reasons(text: str, known: Sequence[str] = ()) -> tuple[str, ...]:
    """The reasons in a 退回原因 cell: the `known` ones (a report's errors, which merge joined with "；")
    taken whole wherever they stand, however many "；" they hold; the rest (the office's own words) split
    at "；" and line ends."""
    out: list[str] = []
    rest = text.strip()
    whole = sorted({k.strip() for k in known if k.strip()}, key=len, reverse=True)
    while rest:
        piece = next((k for k in whole if rest.startswith(k) and _REASON_SPLIT.match(rest[len(k):] or "\n")),
                     _REASON_SPLIT.split(rest, maxsplit=1)[0])
        if piece.strip():
            out.append(piece.strip())
        rest = rest[len(piece):].lstrip("；;\n \t")
    return tuple(out)


def _body(lines: list[str], sign: list[str]) -> str:
    return "\n".join([*lines, "", "", *sign]) + "\n"
