"""Paper copies (纸质版): where a notice asks for them (`Profile.paper`), `stamp --paper` records their
arrival in the ledger's 纸质版 columns (收到日期, 份数, 盖章), and `status` lists the branches whose e-copy
is in but whose paper is not, or whose paper falls short of the notice (份数, 盖章).

A notice that asks for the paper form only (`PaperSpec.only`, 002) has no e-copy: the office types the
form in, and the paper's arrival is the branch's receipt (已提交, or 逾期提交 after the due date).
Planning and reading are pure; `stamp_paper` applies through the transaction like any stamp.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.commands.stamp import StampPlan, StampResult, default_operator, requested_rows, unknown_branch
from toolkit.core.changeset import CellWrite, ChangeSet, NewColumn, NewRow
from toolkit.core.datetext import parse_date
from toolkit.core.errors import UsageProblem
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.core.master import MasterSnapshot
from toolkit.core.profile import PaperSpec, Profile
from toolkit.core.stages import late_variant, parse_stamp, stamp_text, status_fill
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import (
    PAPER,
    PAPER_COLUMNS,
    PAPER_MISSING,
    PAPER_SHORT,
    SEALED,
    LogAction,
    Receipt,
)

if TYPE_CHECKING:
    from toolkit.commands.status import BranchRecord

RECEIVED, COPIES, SEAL = PAPER_COLUMNS
COLUMN_WIDTH = 14.0


@dataclass(frozen=True)
class PaperCopy:
    """What a ledger row says of a branch's paper copy (all None: not received)."""

    received: dt.date | None = None
    copies: int | None = None
    sealed: bool | None = None

    def text(self) -> str:
        if self.received is None:
            return ""
        seal = "" if self.sealed is None else f"，盖章：{SEALED[self.sealed]}"
        return f"{self.received.isoformat()} 收到 {self.copies or '?'} 份{seal}"


def read_paper(values: Mapping[str, Any]) -> PaperCopy:
    """A ledger row's 纸质版 columns as data (a hand-typed date or count is read like a form's)."""
    copies = values.get(COPIES)
    try:
        count = int(float(copies)) if copies not in (None, "") else None
    except (TypeError, ValueError):
        count = None
    seal = str(values.get(SEAL) or "").strip()
    sealed = next((flag for flag, word in SEALED.items() if word == seal), None)
    return PaperCopy(parse_date(values.get(RECEIVED)), count, sealed)


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
    from toolkit.core.plan import SERIAL, roster_values

    profile = snap.profile
    spec = _require_paper(profile)
    ledger = snap.ledger
    if ledger is None:
        raise UsageProblem(f"台账 {snap.path.name} 中找不到“{profile.ledger.sheet}”工作表（含“{profile.key}”列的表头）")
    copy = PaperCopy(date, spec.copies if copies is None else copies, spec.sealed if sealed is None else sealed)
    if copy.copies is not None and copy.copies < 1:
        raise UsageProblem(f"纸质版份数应为正整数（收到 {copy.copies} 份）")
    plan = StampPlan(ChangeSet())
    columns = dict(ledger.columns)
    for name in (*PAPER_COLUMNS, *([profile.submission_stage.column] if spec.only else [])):
        if name not in columns:
            columns[name] = ledger.width + len(plan.changes.new_columns)
            plan.changes.new_columns.append(NewColumn(ledger.sheet, columns[name], ledger.header_row, name,
                                                      width=COLUMN_WIDTH))
    roster = {normalize_branch(b): b for b in snap.roster}
    next_row = ledger.last_row + 1
    now = now or dt.datetime.now().replace(microsecond=0)
    entries: list[LogEntry] = []
    for name, row in requested_rows(ledger, branches):
        values: dict[str, Any] = dict(row.values) if row is not None else {}
        if row is None:
            branch = roster.get(normalize_branch(name))
            if branch is None:
                plan.refused.append((name, unknown_branch(name, snap)))
                continue
            number = next_row
            next_row += 1
            if ledger.last_row > ledger.header_row:
                plan.changes.new_rows.append(NewRow(ledger.sheet, number, ledger.last_row))
            new = {profile.key: branch, **roster_values(snap, branch)}
            if SERIAL in columns:
                new[SERIAL] = len(ledger.rows) + (number - ledger.last_row)
            plan.changes.writes += [CellWrite(ledger.sheet, number, columns[k], v) for k, v in new.items()
                                    if k in columns]
        else:
            branch, number = row.branch, row.row
        old = read_paper(values)
        if old == copy:
            plan.unchanged.append(branch)
            continue
        plan.changes.writes += [
            CellWrite(ledger.sheet, number, columns[RECEIVED], date, number_format="yyyy-mm-dd"),
            CellWrite(ledger.sheet, number, columns[COPIES], copy.copies),
            CellWrite(ledger.sheet, number, columns[SEAL], None if copy.sealed is None else SEALED[copy.sealed])]
        entries.append(LogEntry(now, by, LogAction.STAMPED, branch, PAPER, old.text(), copy.text()))
        if spec.only:
            entries += _paper_receipt(snap, plan, branch, number, columns, values, date, by, now)
        if problem := shortfall(spec, copy):
            plan.notes.append(f"{branch}：{problem}")
        plan.stamped.append(branch)
    append_log(plan.changes, profile.ledger.log_sheet, snap.log_rows, entries)
    return plan


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
    by, date = by or default_operator(), date or dt.date.today()

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
    for rec in records:
        copy = read_paper(rec.values)
        if copy.received is None:
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
