"""Paper copies (纸质版): where a notice asks for them (`Profile.paper`), `stamp --paper` records their
arrival in the ledger's 纸质版 columns (收到日期, 份数, 盖章), and `status` lists the branches whose e-copy
is in but whose paper is not, or whose paper falls short of the notice (份数, 盖章).

A notice that asks for the paper form only (`PaperSpec.only`, 002) has no e-copy: the office types the
form in, and the paper's arrival is the branch's receipt (已提交, or 逾期提交 after the due date).
Planning and reading are pure; `stamp_paper` applies through the transaction like any stamp.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.commands.stamp import (
    StampPlan,
    StampResult,
    default_operator,
    merged_reason,
    requested_rows,
    unknown_branch,
)
from toolkit.core.changeset import CellWrite, ChangeSet
from toolkit.core.datetext import date_in, parse_date
from toolkit.core.errors import UsageProblem
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.core.master import MasterSnapshot, unlisted_rows
from toolkit.core.model import china_today
from toolkit.core.profile import PaperSpec, Profile
from toolkit.core.stages import campaign_year, late_variant, parse_stamp, stamp_text, status_fill
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import (
    PAPER,
    PAPER_COLUMNS,
    PAPER_MISSING,
    PAPER_SHORT,
    SEALED,
    LogAction,
    Mark,
    Receipt,
)

if TYPE_CHECKING:
    from toolkit.commands.status import BranchRecord

RECEIVED, COPIES, SEAL = PAPER_COLUMNS
COLUMN_WIDTH = 14.0


@dataclass(frozen=True)
class PaperCopy:
    """What a ledger row says of a branch's paper copy (all None: not received). `said`: the word the
    office typed for a copy received on a day it did not write ("已收到", "√"), else None."""

    received: dt.date | None = None
    copies: int | None = None
    sealed: bool | None = None
    said: str | None = None

    @property
    def arrived(self) -> bool:
        """The paper copy is in: dated, or marked received without a date."""
        return self.received is not None or self.said is not None

    def text(self) -> str:
        if not self.arrived:
            return ""
        seal = "" if self.sealed is None else f"，盖章：{SEALED[self.sealed]}"
        if self.received is None:  # the office's own word for it: 已收到, √
            return f"收到 {self.copies or '?'} 份（日期不明：“{self.said}”）{seal}"
        return f"{self.received.isoformat()} 收到 {self.copies or '?'} 份{seal}"


# What an officer types in 纸质版收到日期 for a copy received on a day not written down (compared after
# NFKC, with spaces and end punctuation removed). Anything else that is not a date ("未收到", "未交",
# "待补") leaves the copy unreceived.
RECEIVED_WORDS = frozenset({  # 已交 and 已提交 are the vocabulary's (a deliverable's mark, a receipt)
    "已收到", "收到", "已收", Mark.DONE.value, "已上交", Receipt.SUBMITTED.value, "已报送", "报送", "已报", "已送达",
    "送达", "已送", "已交来", "已递交", "已收齐", "收齐", "√", "✓", "✔", "☑", "✅", "是", "有"})
_COPIES = re.compile(r"(\d+)\s*[份本册套]?")


def received_word(raw: Any) -> str | None:
    """The word of a 纸质版收到日期 cell that says the copy is in without a date ("已收到", "√"), as
    typed (trimmed); None for anything else."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return text if re.sub(r"[\s。.,，!！;；]", "", unicodedata.normalize("NFKC", text)) in RECEIVED_WORDS else None


def read_paper(values: Mapping[str, Any], year: int | None = None) -> PaperCopy:
    """A ledger row's 纸质版 columns as data (a hand-typed date or count is read like a form's): the date
    as `toolkit.core.datetext` reads it ("2024.8.12", "8月9日", "8月9日收到"), a date without its year in
    `year` (the campaign's, `campaign_year`; unknown: received, date unknown), a word meaning received
    (`RECEIVED_WORDS`: "已收到", "√") as received on a day not written down; copies "1", "１", "1份"."""
    raw = values.get(RECEIVED)
    received = parse_date(raw)
    said = None
    if received is None and isinstance(raw, str) and raw.strip():
        text = raw.strip()
        found = date_in(text)
        rest = unicodedata.normalize("NFKC", text).replace(found[0], "", 1).strip() if found else text
        if found is not None and (not rest or received_word(rest)):
            received = _on(found[1] if found[1] is not None else year, found[2], found[3])
            said = None if received is not None else text
        else:
            said = received_word(text)
    copies = values.get(COPIES)
    count: int | None
    if isinstance(copies, str):
        number = _COPIES.fullmatch(unicodedata.normalize("NFKC", copies).strip())
        count = int(number[1]) if number else None
    else:
        try:
            count = int(float(copies)) if copies is not None else None
        except (TypeError, ValueError):
            count = None
    seal = str(values.get(SEAL) or "").strip()
    sealed = next((flag for flag, word in SEALED.items() if word == seal), None)
    return PaperCopy(received, count, sealed, said)


def _on(year: int | None, month: int, day: int) -> dt.date | None:
    if year is None:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:  # 2月29日 in a year without one
        return None


def shortfall(spec: PaperSpec, copy: PaperCopy) -> str | None:
    """How a received paper copy falls short of the notice (份数, 盖章); None when it does not."""
    problems = []
    if copy.copies is not None and copy.copies < spec.copies:
        problems.append(f"通知要求一式 {spec.copies} 份，收到 {copy.copies} 份")
    if spec.sealed and copy.sealed is False:
        problems.append("通知要求盖章，收到的未盖章")
    return "；".join(problems) or None


def _require_paper(profile: Profile) -> PaperSpec:
    if profile.paper is None:
        raise UsageProblem(f"活动方案“{profile.title}”的通知没有要求报送纸质版，无需登记纸质版")
    return profile.paper


def plan_paper(snap: MasterSnapshot, branches: Sequence[str] | None, *, by: str, date: dt.date,
               copies: int | None = None, sealed: bool | None = None,
               now: dt.datetime | None = None) -> StampPlan:
    """Plan recording the paper copies of `branches` (None: every branch in the ledger) received on
    `date`: `copies` and `sealed` default to what the notice asks. A branch on the roster but not yet in
    the ledger gets its row. Under a paper-only notice the paper is also the branch's receipt."""
    from toolkit.core.plan import _Columns, new_branch_row, roster_values

    profile = snap.profile
    spec = _require_paper(profile)
    ledger = snap.ledger
    if ledger is None:
        raise UsageProblem(f"台账 {snap.path.name} 中找不到“{profile.ledger.sheet}”工作表（含“{profile.key}”列的表头）")
    copy = PaperCopy(date, spec.copies if copies is None else copies, spec.sealed if sealed is None else sealed)
    if copy.copies is not None and copy.copies < 1:
        raise UsageProblem(f"纸质版份数应为正整数（收到 {copy.copies} 份）")
    plan = StampPlan(ChangeSet(), notes=unlisted_rows(snap) if branches is None else [])
    cols = _Columns(ledger, plan.changes)  # right of every cell the office uses
    for name in (*PAPER_COLUMNS, *([profile.submission_stage.column] if spec.only else [])):
        cols.get(name, COLUMN_WIDTH)
    columns = cols.positions
    roster = {normalize_branch(b): b for b in snap.roster}
    next_row = ledger.last_row + 1
    now = now or dt.datetime.now().replace(microsecond=0)
    entries: list[LogEntry] = []
    for name, row in requested_rows(ledger, branches, skip=snap.unlisted):
        values: dict[str, Any] = dict(row.values) if row is not None else {}
        if row is None:
            branch = roster.get(normalize_branch(name))
            if branch is None:
                plan.refused.append((name, unknown_branch(name, snap)))
                continue
            number = next_row
            next_row += 1
            new_branch_row(plan.changes, ledger, number)  # refused under the office's 合计/注 rows; numbers 序号
            new = {profile.key: branch, **roster_values(snap, branch)}
            plan.changes.writes += [CellWrite(ledger.sheet, number, columns[k], v) for k, v in new.items()
                                    if k in columns]
        else:
            branch, number = row.branch, row.row
            stamped = [*PAPER_COLUMNS, *([profile.submission_stage.column] if spec.only else [])]
            if reason := merged_reason(ledger, row, stamped):
                plan.refused.append((branch, reason))
                continue
        old = read_paper(values, campaign_year(profile))
        if old == copy:
            plan.unchanged.append(branch)
            continue
        plan.changes.writes += [
            CellWrite(ledger.sheet, number, columns[RECEIVED], date, number_format="yyyy-mm-dd"),
            CellWrite(ledger.sheet, number, columns[COPIES], copy.copies),
            CellWrite(ledger.sheet, number, columns[SEAL], None if copy.sealed is None else SEALED[copy.sealed])]
        entries.append(LogEntry(now, by, LogAction.STAMPED, branch, PAPER, _old_text(values, old), copy.text()))
        if spec.only:
            entries += _paper_receipt(snap, plan, branch, number, columns, values, date, by, now)
        if problem := shortfall(spec, copy):
            plan.notes.append(f"{branch}：{problem}")
        plan.stamped.append(branch)
    append_log(plan.changes, profile.ledger.log_sheet, snap.log_rows, entries)
    return plan


def _old_text(values: Mapping[str, Any], old: PaperCopy) -> str:
    """What the 纸质版 cells held, for the log's 原值: the copy as read when each cell was read whole,
    else the cells as the office typed them ("纸质版收到日期：待补"), so nothing replaced is lost."""
    raw = {name: values.get(name) for name in PAPER_COLUMNS if values.get(name) not in (None, "")}
    whole = old.arrived and (COPIES not in raw or old.copies is not None) and (SEAL not in raw or old.sealed is not None)
    if whole or not raw:
        return old.text()
    return "；".join(f"{name}：{value.isoformat() if isinstance(value, dt.date) else value}" for name, value in raw.items())


def _paper_receipt(snap: MasterSnapshot, plan: StampPlan, branch: str, row: int, columns: dict[str, int],
                   values: Mapping[str, Any], date: dt.date, by: str, now: dt.datetime) -> list[LogEntry]:
    """Under a paper-only notice the paper's date settles the receipt (a typed-in copy's date means
    nothing): 已提交, or the late receipt after the due date. A decision already stamped stays."""
    profile = snap.profile
    kinds, stage = profile.statuses, profile.submission_stage
    cell = values.get(stage.column)
    current = parse_stamp(cell)
    if current is not None and current not in kinds.receipts and kinds.kind_of(current) not in ("late", "returned"):
        return []
    receipt = late_variant(kinds, stage, Receipt.SUBMITTED, date)
    text = stamp_text(receipt, date, by)
    plan.changes.writes.append(CellWrite(profile.ledger.sheet, row, columns[stage.column], text,
                                         fill=status_fill(kinds, receipt)))
    return [LogEntry(now, by, LogAction.STAMPED, branch, stage.name, "" if cell is None else str(cell), text)]


def stamp_paper(master: Path, branches: Sequence[str] = (), all_: bool = False, *, by: str | None = None,
                date: dt.date | None = None, copies: int | None = None, sealed: bool | None = None,
                profile_name: str | None = None) -> StampResult:
    """`brandkit stamp --paper`: plan on the master under the transaction's lock, then apply."""
    from toolkit.files.transaction import update

    if bool(branches) == all_:
        raise UsageProblem("请用 --branch 指定收到纸质版的支部（可写多次），或用 --all 表示台账中全部支部（二者选一）")
    by, date = by or default_operator(), date or china_today()

    def plan(snap: MasterSnapshot) -> StampPlan:
        return plan_paper(snap, None if all_ else list(branches), by=by, date=date, copies=copies, sealed=sealed)

    planned, backup = update(master, plan, lambda p: p.changes, profile_name=profile_name)
    return StampResult(master, backup, planned)


# -- what status says ------------------------------------------------------------------------------

def paper_followups(profile: Profile, records: Sequence[BranchRecord]) -> list[tuple[BranchRecord, str]]:
    """Branches the office must chase for paper: e-copy in but no paper (电子版已交，纸质版未交), and paper
    that falls short of the notice. Empty when the notice asks for no paper; under a paper-only notice
    only the shortfalls (there is no e-copy to compare with)."""
    spec = profile.paper
    if spec is None:
        return []
    out = []
    year = campaign_year(profile)
    for rec in records:
        copy = read_paper(rec.values, year)
        if not copy.arrived:
            if rec.submitted and not spec.only:
                out.append((rec, PAPER_MISSING))
        elif problem := shortfall(spec, copy):
            out.append((rec, problem))
    return out


def paper_lines(followups: Sequence[tuple[BranchRecord, str]]) -> list[str]:
    """The terminal view: branches without paper in one line, each shortfall on its own."""
    missing = [rec.branch for rec, why in followups if why == PAPER_MISSING]
    lines = [f"{PAPER_MISSING} {len(missing)} 个支部：{'、'.join(missing)}"] if missing else []
    return lines + [f"{PAPER_SHORT}  {rec.group}  {rec.branch}：{why}" for rec, why in followups if why != PAPER_MISSING]
