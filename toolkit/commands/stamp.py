"""Stamping a stage's status on branches: a pure plan (`plan_stamps`) and the command (`stamp`).

The plan is a ChangeSet like a merge's: one CellWrite (text + fill) per stamped branch on the stage's
status column of the ledger, a NewColumn when the master has no such column yet, and one 操作记录 row per
stamp. Refusals never stop the batch; each carries its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.changeset import CellWrite, ChangeSet
from toolkit.core.errors import UsageProblem
from toolkit.core.ledger import merged_over
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.core.master import (
    RETURN_REASON,
    Ledger,
    LedgerRow,
    MasterSnapshot,
    duplicate_rows,
    unlisted_rows,
)
from toolkit.core.model import a1, china_today
from toolkit.core.plan import REASON_COLUMN_WIDTH, _Columns, reason_rows
from toolkit.core.profile import Stage
from toolkit.core.stages import (
    below_min,
    branch_statuses,
    check_constraint,
    check_transition,
    dependents,
    late_variant,
    parse_stamp,
    resend_deadline,
    resent_receipt,
    resolve_stage,
    stage_due,
    stamp_text,
    status_fill,
)
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import LogAction, Receipt

STATUS_COLUMN_WIDTH = 26.0


@dataclass
class StampPlan:
    changes: ChangeSet
    stamped: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (branch, reason)
    unchanged: list[str] = field(default_factory=list)  # already held this status
    notes: list[str] = field(default_factory=list)  # said to the user (e.g. 已提交 became 逾期提交)


def plan_stamps(snap: MasterSnapshot, stage: str, status: str, branches: Sequence[str] | None, *,
                by: str, date: dt.date, note: str | None = None, force: bool = False,
                quota_reason: str | None = None, now: dt.datetime | None = None) -> StampPlan:
    """Plan stamping `status` on `stage` for `branches` (None: every branch in the ledger).

    Branches are taken in the order given; a per-党总支 quota is filled first come, first served.
    A branch that already holds the status is left alone unless `force` (then re-stamped).
    `quota_reason` lets a stamp leave a 党总支 below a quota's minimum; the reason goes into the log.
    A receipt (已提交) stamped after the stage's due date is the late one (逾期提交), except on the form's
    stage for a returned (退回) branch within the deadline its 退回 gave: the merge's rule (`stamped_status`).
    """
    profile = snap.profile
    target = resolve_stage(profile, stage, status)
    ledger = snap.ledger
    if ledger is None:
        raise UsageProblem(f"台账 {snap.path.name} 中找不到“{profile.ledger.sheet}”工作表（含“{profile.key}”列的表头）")
    rows = requested_rows(ledger, branches, skip=snap.unlisted)
    state = {row.branch: branch_statuses(profile, row.values) for row in ledger.rows}
    group_of = {row.branch: snap.groups.get(row.branch) for row in ledger.rows}
    members: dict[str | None, list[str]] = {}
    for branch, group in group_of.items():
        members.setdefault(group, []).append(branch)
    late = late_variant(profile.statuses, target, status, date)  # what a branch not returned gets
    stamped_as = {row.branch: stamped_status(snap, target, status, row, date, late) for _, row in rows
                  if row is not None}
    plan = StampPlan(ChangeSet(), notes=duplicate_rows(ledger) + (unlisted_rows(snap) if branches is None else []))
    if late != status and (not rows or any(row is None or stamped_as[row.branch] == late for _, row in rows)):
        due = stage_due(target)
        plan.notes.append(f"{date.isoformat()} 已过“{target.name}”截止日期 {due}，按“{late}”盖章")
    cols = _Columns(ledger, plan.changes)
    returned = profile.statuses.kind_of(late) == "returned"  # a receipt is never returned: the same for all
    reason_text = (note or "").strip()
    entries: list[LogEntry] = []
    now = now or dt.datetime.now().replace(microsecond=0)
    quota_reason = (quota_reason or "").strip() or None
    later = dependents(profile, target)  # the same for every branch
    column: int | None = None  # the status column, found (or added) when the first branch is stamped
    for name, row in rows:
        if row is None:
            plan.refused.append((name, unknown_branch(name, snap)))
            continue
        current, new_status = state[row.branch], stamped_as[row.branch]
        reason = check_transition(profile, target, new_status, current, force, later=later)
        group = group_of[row.branch]
        after = ({b: (new_status if b == row.branch else state[b][target.name])  # only constraints look
                  for b in (members[group] if group is not None else [])} if target.constraints else {})
        if reason is None and target.constraints:
            category = snap.categories.get(row.branch)
            reason = next((r for c in target.constraints
                           if (r := check_constraint(c, target, new_status, row.branch, group, after,
                                                     _category(c, row, category), profile.statuses,
                                                     allow_below_min=quota_reason is not None))), None)
        if reason is None:
            reason = merged_reason(ledger, row, [target.column, *([RETURN_REASON] if returned and reason_text else [])])
        if reason:
            plan.refused.append((row.branch, reason))
            continue
        if current[target.name] == new_status and not force:
            plan.unchanged.append(row.branch)
            continue
        if column is None:
            column = cols.get(target.column, STATUS_COLUMN_WIDTH)
        text, fill = stamp_text(new_status, date, by, note), status_fill(profile.statuses, new_status)
        if new_status != late:  # on time only by the deadline its 退回 gave
            deadline = resend_deadline(snap.resend(normalize_branch(row.branch), row.values.get(target.column)),
                                       snap.calendar)
            plan.notes.append(f"{date.isoformat()} 已过“{target.name}”截止日期 {stage_due(target)}，但“{row.branch}”"
                              f"被退回后在重新报送期限 {deadline} 内补交，按“{new_status}”盖章")
        plan.changes.writes.append(CellWrite(ledger.sheet, row.row, column, text, fill=fill))
        old = row.values.get(target.column)
        entries.append(LogEntry(now, by, LogAction.STAMPED, row.branch, target.name, "" if old is None else str(old), text))
        if returned and reason_text:  # where it prints and filters, beside the status
            plan.changes.writes.append(CellWrite(ledger.sheet, row.row, cols.get(RETURN_REASON, REASON_COLUMN_WIDTH),
                                                 reason_text))
            plan.changes.row_heights += reason_rows(ledger.sheet, row.row, reason_text)
            entries += replaced_reason(row, target, reason_text, now, by)
        for c in target.constraints:
            if c.kind == "per_group" and quota_reason and below_min(c, after):
                chosen = sum(s == c.status for s in after.values())
                exception = f"党总支“{group}”有 {chosen} 个“{c.status}”，少于每个党总支至少 {c.min} 个。理由：{quota_reason}"
                entries.append(LogEntry(now, by, LogAction.QUOTA_EXCEPTION, row.branch, target.name, "", exception))
                plan.notes.append(exception)
        current[target.name] = new_status
        plan.stamped.append(row.branch)
    append_log(plan.changes, profile.ledger.log_sheet, snap.log_rows, entries)
    return plan


def replaced_reason(row: LedgerRow, stage: Stage, reason: str, now: dt.datetime, by: str) -> list[LogEntry]:
    """The 操作记录 row for a 退回原因 cell a 退回 stamp's note replaces, with the reason it held (the
    office may have typed it there, or an earlier 退回 wrote it): nothing is lost. 阶段 reads
    "申报：退回原因", so what reads the log for stamps (`toolkit.core.logsheet`, notices) passes it by."""
    before = row.values.get(RETURN_REASON)
    old = "" if before is None else str(before).strip()
    if not old or old == reason:
        return []
    return [LogEntry(now, by, LogAction.STAMPED, row.branch, f"{stage.name}：{RETURN_REASON}", old, reason)]


def stamped_status(snap: MasterSnapshot, stage: Stage, status: str, row: LedgerRow, day: dt.date,
                   usual: str) -> str:
    """What stamping `status` on `stage` on `day` writes for the branch of `row`: `usual` (what
    `late_variant` makes of it: a receipt (已提交) after the stage's due date is the late one), except on the form's stage for a branch whose
    cell there says 退回 (its corrected form handed in on paper, or sent outside the inbox): then the rule
    a merge follows for a form sent again (`resent_receipt`, over what the master's 操作记录 says of that
    退回, `MasterSnapshot.resend`) — on time until the deadline the 退回 gave, late when the form was.
    Unlike a merge, a stamp has no returned copy at hand: when the log records no receipt before the
    退回 (a merge's 退回 of a first form), one stamped after the due date counts as late."""
    kinds = snap.profile.statuses
    cell = row.values.get(stage.column)
    current = parse_stamp(cell)
    if (status == Receipt.SUBMITTED and stage.name == snap.profile.submission_stage.name
            and current is not None and kinds.kind_of(current) == "returned"):
        return resent_receipt(kinds, stage, day, snap.resend(normalize_branch(row.branch), cell), snap.calendar)
    return usual


def merged_reason(ledger: Ledger, row: LedgerRow, columns: Sequence[str]) -> str | None:
    """Why the row's cell of one of `columns` cannot be stamped: it lies in a merged area (`merged_over`),
    whose value shows on other rows or is hidden; None when every cell can be written."""
    for name in columns:
        if name in ledger.columns and (m := merged_over(ledger, row.row, ledger.columns[name])):
            area = f"{a1(m[0], m[1])}:{a1(m[2], m[3])}"
            return (f"“{row.branch}”的“{name}”单元格在合并单元格 {area} 中，写入会改动或藏在别的行下面：请在 Excel 中"
                    f"取消合并（开始 → 合并后居中 → 取消单元格合并）后再盖章")
    return None


def requested_rows(ledger: Ledger, branches: Sequence[str] | None,
                   skip: Sequence[LedgerRow] = ()) -> list[tuple[str, LedgerRow | None]]:
    """The ledger rows of `branches` (as asked, each once; None for a name the ledger lacks), or every
    branch row but those in `skip` (rows the roster does not list: `--all` leaves them alone)."""
    if branches is None:
        left = {id(row) for row in skip}
        return [(row.branch, row) for row in ledger.rows if id(row) not in left]
    index = ledger.by_branch()
    seen: set[str] = set()
    out = []
    for name in branches:
        key = normalize_branch(name)
        if key not in seen:
            seen.add(key)
            out.append((name, index.get(key)))
    return out


def _category(c: Any, row: LedgerRow, roster_category: str | None) -> str | None:
    """A branch's 类别 for a must_join constraint: the roster's, else the ledger column the constraint names."""
    value = roster_category or (row.values.get(c.field) if c.field else None)
    return str(value).strip() if value not in (None, "") else None


def unknown_branch(name: str, snap: MasterSnapshot) -> str:
    from toolkit.validation.rules import suggest_branches

    close = suggest_branches(name, [r.branch for r in snap.ledger.rows] if snap.ledger else [])
    hint = f"您是否指的是 {'、'.join(close)}？" if close else "请核对名称，或先合并该支部的申报表"
    return f"台账“{snap.ledger.sheet if snap.ledger else ''}”中没有“{name}”。{hint}"


# -- the command -----------------------------------------------------------------------------------

@dataclass
class StampResult:
    master: Path
    backup: Path | None
    plan: StampPlan

    @property
    def rejected(self) -> bool:
        return bool(self.plan.refused)

    def to_json(self) -> dict[str, Any]:
        return {"master": str(self.master), "backup": str(self.backup) if self.backup else None,
                "stamped": self.plan.stamped, "unchanged": self.plan.unchanged,
                "refused": [{"branch": b, "reason": r} for b, r in self.plan.refused]}


def stamp_day(day: dt.date | None, today: dt.date | None = None) -> dt.date:
    """The date a stamp carries: `day`, or today. A day still to come is refused: 已通过 2027-01-15 stamped
    now would count as done in every status and summary as of today, and a late form dated ahead could
    escape 逾期."""
    today = today or china_today()
    if day is not None and day > today:
        raise UsageProblem(f"--date {day.isoformat()} 还没到（今天是 {today.isoformat()}）：盖章日期应是审批实际发生的日期。"
                           "请在那天再盖章，或改用今天或以前的日期")
    return day or today


def stamp(master: Path, stage: str, status: str, branches: Sequence[str] = (), all_: bool = False, *,
          by: str | None = None, note: str | None = None, date: dt.date | None = None, force: bool = False,
          quota_reason: str | None = None, profile_name: str | None = None) -> StampResult:
    """`brandkit stamp`: plan on the master as it is under the transaction's lock, then apply (backup,
    atomic replace) before the lock is let go."""
    from toolkit.files.transaction import update

    if bool(branches) == all_:
        raise UsageProblem("请用 --branch 指定要盖章的支部（可写多次），或用 --all 表示台账中全部支部（二者选一）")
    by, date = by or default_operator(), stamp_day(date)

    def plan(snap: MasterSnapshot) -> StampPlan:
        return plan_stamps(snap, stage, status, None if all_ else list(branches), by=by, note=note, date=date,
                           force=force, quota_reason=quota_reason)

    planned, backup = update(master, plan, lambda p: p.changes, profile_name=profile_name)
    return StampResult(master, backup, planned)


def default_operator() -> str:
    """Who is stamping when --by is not given: BRANDKIT_OPERATOR, else the login name."""
    import getpass
    import os

    return os.environ.get("BRANDKIT_OPERATOR") or getpass.getuser()


def render_stamp(result: StampResult) -> str:
    plan = result.plan
    lines = [f"说明  {n}" for n in plan.notes]
    lines += [f"已盖章  {b}" for b in plan.stamped]
    lines += [f"未变化  {b}（已是该状态）" for b in plan.unchanged]
    lines += [f"未盖章  {b}：{r}" for b, r in plan.refused]
    lines.append(f"\n共盖章 {len(plan.stamped)} 个支部，拒绝 {len(plan.refused)} 个，未变化 {len(plan.unchanged)} 个。")
    if result.backup:
        lines.append(f"台账：{result.master}\n备份：{result.backup}")
    return "\n".join(lines)
