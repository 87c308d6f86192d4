"""Plan a merge: (master snapshot, checked submissions with their logos) -> ChangeSet + outcomes. Pure.

Per branch the newest submission wins (received time from the intake manifest, else file time); the
older ones, and any older than what the ledger already holds, are only recorded. A submission whose
sha256 the log says was already merged is unchanged, and one it already returned (退回) is not returned
again, so merging the same inbox twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.changeset import CellWrite, ChangeSet, NewColumn, NewRow, PicturePlacement, RowHeight
from toolkit.core.display import wrapped_height
from toolkit.core.errors import UsageProblem
from toolkit.core.ledger import ambiguous_problem, merged_over
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.core.master import (
    RETURN_REASON,
    SOURCE_FILE,
    SUBMITTED_AT,
    SUBMITTED_FORMAT,
    Ledger,
    LedgerRow,
    MasterSnapshot,
    TableSheet,
    foot_problem,
)
from toolkit.core.model import CHINA_TZ, ROW_HEIGHT_PT, Checked, Logo, Submission, oldest_first, parse_instant
from toolkit.core.profile import Profile, Stage
from toolkit.core.roster import CATEGORY_LABELS
from toolkit.core.stages import DONE_KINDS, merge_receipt, parse_stamp, stamp_text, status_fill
from toolkit.core.text import normalize_branch, normalize_label
from toolkit.core.values import cell_text
from toolkit.core.vocabulary import LogAction, Outcome, Receipt

SERIAL = "序号"
LOGO_COLUMN_WIDTH = 14.0
REASON_COLUMN_WIDTH = 22.0


@dataclass
class Incoming:
    checked: Checked
    logo: Logo | None = None


@dataclass
class BranchOutcome:
    branch: str
    action: str  # added | updated | unchanged | rejected | held | superseded
    path: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, before, after)
    reasons: list[str] = field(default_factory=list)


@dataclass
class MergePlan:
    changes: ChangeSet
    outcomes: list[BranchOutcome]
    logos: dict[str, Logo]  # branch -> logo placed (its original is kept beside the master)


def reason_rows(sheet: str, row: int, reason: str) -> list[RowHeight]:
    """The ledger row grown when its 退回原因 needs more lines than an even row gives: a reason is read
    whole, on screen and on paper (at the width brandkit gives the column)."""
    need = wrapped_height([(reason, REASON_COLUMN_WIDTH)])
    return [RowHeight(sheet, row, need)] if need > ROW_HEIGHT_PT else []


@dataclass
class _Columns:
    """Column positions of the ledger (or a table's sheet), growing as the plan adds missing columns:
    each right of every cell the office uses (`Ledger.width`: a note typed under no header counts), so a
    new column's cells are empty and no write into them replaces anything. A stage column the office's
    headers leave ambiguous (推荐情况 and 推荐结果) is refused, never added a third time."""

    ledger: Ledger | TableSheet
    changes: ChangeSet
    positions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = dict(self.ledger.columns)
        self.next = self.ledger.width

    def get(self, name: str, width: float | None = None) -> int:
        if name not in self.positions:
            if isinstance(self.ledger, Ledger) and name in self.ledger.ambiguous:
                raise UsageProblem(f"{ambiguous_problem(self.ledger, name)}；台账未改动")
            self.positions[name] = self.next
            self.changes.new_columns.append(NewColumn(self.ledger.sheet, self.next, self.ledger.header_row,
                                                      name, width))
            self.next += 1
        return self.positions[name]


def _received(item: Incoming, now: dt.datetime) -> dt.datetime:
    """When it came, as an instant (a submission without a received time counts as arriving now)."""
    return item.checked.submission.provenance.received_at or (now if now.tzinfo else now.replace(tzinfo=CHINA_TZ))


def _branch(c: Checked, profile: Profile) -> str:
    return c.branch or str(c.submission.value(profile.key) or "")


def _newest_first(incoming: list[Incoming], profile: Profile, now: dt.datetime) -> list[Incoming]:
    """Newest first by received time, a later one in the list first among equal times; a branch's own
    copies in the order validation gives them (toolkit.core.model.oldest_first, which goes by the list when
    one has no time), so the copy validation calls the newest is the one merged."""
    def key(item: Incoming) -> str:
        return normalize_branch(_branch(item.checked, profile))

    copies: dict[str, list[Incoming]] = {}
    for item in incoming:
        copies.setdefault(key(item), []).append(item)
    newest = {k: iter([items[i] for i in reversed(oldest_first([i.checked.submission.provenance for i in items]))])
              for k, items in copies.items()}
    by_time = sorted(range(len(incoming)), key=lambda n: (_received(incoming[n], now), n), reverse=True)
    return [next(newest[key(incoming[n])]) for n in by_time]


def provenance_values(sub: Submission) -> dict[str, Any]:
    """When the submission came (Beijing time, to the minute, as a date cell) and from which file:
    written beside its values."""
    when = sub.provenance.received_at
    local = when.astimezone(CHINA_TZ).replace(tzinfo=None, second=0, microsecond=0) if when else None
    return {SUBMITTED_AT: local, SOURCE_FILE: Path(sub.provenance.path).name}


def value_write(sheet: str, row: int, col: int, name: str, value: Any) -> CellWrite:
    """A ledger or table value; 提交时间 with its date format."""
    return CellWrite(sheet, row, col, value, number_format=SUBMITTED_FORMAT if name == SUBMITTED_AT else None)


def _same(before: Any, after: Any) -> bool:
    if before in (None, "") and after in (None, ""):
        return True
    if isinstance(before, int | float) and isinstance(after, int | float):
        return float(before) == float(after)
    if isinstance(before, dt.datetime) and isinstance(after, dt.date) and not isinstance(after, dt.datetime):
        before = before.date()
    return str(before).strip() == str(after).strip()


def carries(sub: Submission, table: str) -> bool:
    """The form has the table (its header was found): only then do its rows replace the branch's."""
    return table in sub.tables and not any(f.rule == "template_mismatch" and f.field == table for f in sub.findings)


def ledger_values(profile: Profile, c: Checked) -> dict[str, Any]:
    """What the submission puts in each ledger column (fields by name, plus time and source)."""
    sub = c.submission
    values = {name: sub.value(name) for name in profile.ledger.columns
              if (spec := profile.field(name)) and spec.type != "image"}
    values[profile.key] = c.branch
    values.update(provenance_values(sub))
    for table in profile.tables:
        if table.count_column and carries(sub, table.name):
            values[table.count_column] = len(sub.tables[table.name])
    return {k: v for k, v in values.items() if k in profile.ledger.columns or k == profile.key}


def part_values(profile: Profile, c: Checked, ledger: Ledger) -> dict[str, Any]:
    """A master adopted with separate 创建计划/创建举措/预期成效 columns keeps them filled beside the
    one combined column: each part's text goes to its own column where the ledger has one."""
    out: dict[str, Any] = {}
    for spec in profile.fields:
        v = c.submission.fields.get(spec.name)
        texts = {name: text for name, text, _ in v.parts} if v is not None else {}
        out.update({part: texts.get(part) for part in spec.parts if part in ledger.columns})
    return out


def roster_values(snap: MasterSnapshot, branch: str) -> dict[str, Any]:
    """What the roster knows of a branch, by ledger column: its group (党总支, 所属基层党委, …) and its 类别
    under the column the profile gives it (college-feature's 支部类型, which its printed form lacks)."""
    profile = snap.profile
    known = {profile.group: snap.groups.get(branch)}
    category = snap.categories.get(branch)
    for spec in profile.fields:
        if category and normalize_label(spec.name) in CATEGORY_LABELS:
            known[spec.name] = category
    return {k: v for k, v in known.items() if v and k in profile.ledger.columns}


def holds_form(row: LedgerRow, profile: Profile) -> bool:
    """The ledger row holds a form's values already, not only what the roster put there (the branch, its
    group and category): a branch's first form fills a roster row, it does not update it."""
    if row.values.get(SUBMITTED_AT) not in (None, "") or row.values.get(SOURCE_FILE) not in (None, ""):
        return True
    return any(row.values.get(name) not in (None, "") for spec in profile.fields
               if spec.name not in (profile.key, profile.group) and normalize_label(spec.name) not in CATEGORY_LABELS
               for name in (spec.name, *spec.parts))  # an older master's 创建计划 column holds a form's part


@dataclass(frozen=True)
class Decision:
    """What becomes of one submission, decided before anything is written."""

    item: Incoming
    branch: str  # as the ledger writes it (else as the form does)
    action: str  # an Outcome
    received: dt.datetime
    existing: LedgerRow | None
    reasons: tuple[str, ...] = ()
    record: bool = False  # a superseded or returned copy the log does not name yet
    receipt: str | None = None  # merged: what its stage's cell becomes (None: left as it is)


def decide(snap: MasterSnapshot, incoming: list[Incoming], *, accept_warnings: bool,
           now: dt.datetime) -> list[Decision]:
    """Each submission's outcome, newest first. The newest copy of a branch claims it whatever becomes of
    it (merged, returned or held), so every older copy, and any copy older than the ledger's, is
    superseded; a file the log already names is unchanged, and not logged again."""
    profile, ledger = snap.profile, snap.ledger
    if ledger is None:
        raise ValueError("master has no ledger")
    rows = ledger.by_branch()
    listless = snap.named_branches() is None  # a branch returned on its first form gets its row then
    taken: set[str] = set()
    out: list[Decision] = []
    returned_copy: dict[str, dt.date] = {}  # branch -> the day its earliest copy the log says was returned came
    for item in incoming:
        k = normalize_branch(_branch(item.checked, profile))
        if (k, item.checked.submission.provenance.sha256) in snap.rejected:
            day = _received(item, now).astimezone(CHINA_TZ).date()
            returned_copy[k] = min(day, returned_copy.get(k, day))
    for item in _newest_first(incoming, profile, now):
        c = item.checked
        received, branch = _received(item, now), _branch(c, profile)
        key = normalize_branch(branch)
        existing = rows.get(key)
        sha = c.submission.provenance.sha256
        ledger_time = parse_instant(existing.values.get(SUBMITTED_AT)) if existing else None

        reasons: list[str] = []
        record = False
        if key in taken or (ledger_time and ledger_time > received.replace(second=0, microsecond=0)):
            action, record = Outcome.SUPERSEDED, (key, sha) not in snap.merged | snap.superseded
        else:
            if key:
                taken.add(key)
            blocking = c.errors + ([] if accept_warnings else
                                   [f for f in c.warnings if f.rule in profile.confirm_rules])
            if c.status == "unreadable" or c.errors or not branch:
                action, reasons = Outcome.REJECTED, [f.message for f in c.errors]
                record = (existing is not None or listless) and bool(branch) and (key, sha) not in snap.rejected
            elif blocking:
                action, reasons = Outcome.HELD, [f.message for f in blocking]
            elif (key, sha) in snap.merged:
                action = Outcome.UNCHANGED
            elif existing is not None and holds_form(existing, profile):
                action = Outcome.UPDATED
                if not accept_warnings and (decided := _decided_later(existing, profile)):
                    action, reasons = Outcome.HELD, [f"该支部已有后续阶段的结果（{decided}），这份申报表会改动已审定的内容；"
                                                     "核对无误后加 --accept-warnings 合并（已盖的阶段状态保留）"]
            else:
                action = Outcome.ADDED
        receipt = None
        if action in (Outcome.ADDED, Outcome.UPDATED):
            stage = profile.submission_stage
            cell = existing.values.get(stage.column) if existing else None
            receipt = merge_receipt(profile.statuses, stage, parse_stamp(cell), received.astimezone(CHINA_TZ).date(),
                                    snap.resend(key, cell, returned_copy.get(key)), snap.calendar)  # 退回: its deadline
        out.append(Decision(item, branch, action, received, existing, tuple(reasons), record, receipt))
    return out


def _decided_later(row: LedgerRow, profile: Profile) -> str:
    """The stages past the form's own that the row holds a decision for ("党总支审批：已通过；评选：入选"):
    a new form then changes what was approved, so it waits for the office's word."""
    submission = profile.submission_stage
    return "；".join(f"{s.name}：{status}" for s in profile.stages if s is not submission
                    and (status := parse_stamp(row.values.get(s.column)))
                    and profile.statuses.kind_of(status) in DONE_KINDS)


def plan_merge(snap: MasterSnapshot, incoming: list[Incoming], *, accept_warnings: bool, operator: str,
               now: dt.datetime) -> MergePlan:
    """The merge as a ChangeSet: `decide`, then write what each decision needs."""
    decisions = decide(snap, incoming, accept_warnings=accept_warnings, now=now)  # refuses a master without ledger
    writer = _MergeWriter(snap, operator, now)
    outcomes = [writer.write(d) for d in decisions]
    append_log(writer.changes, snap.profile.ledger.log_sheet, snap.log_rows, writer.log)
    return MergePlan(writer.changes, outcomes, writer.logos)


class _MergeWriter:
    """Turns decisions into cell writes, new rows, pictures, table rows and log entries."""

    def __init__(self, snap: MasterSnapshot, operator: str, now: dt.datetime) -> None:
        from toolkit.core.plan_tables import TablePlanner  # it builds on this module's helpers

        assert snap.ledger is not None
        self.snap, self.profile, self.ledger = snap, snap.profile, snap.ledger
        self.operator, self.now = operator, now
        self.changes = ChangeSet()
        self.cols = _Columns(self.ledger, self.changes)
        self.log: list[LogEntry] = []
        self.logos: dict[str, Logo] = {}
        self.next_row = self.ledger.last_row + 1
        self.stage = self.profile.submission_stage
        self.tables = TablePlanner(snap, self.changes, now)

    def entry(self, action: str, d: Decision, old: str = "", new: str = "", stage: str = "") -> None:
        prov = d.item.checked.submission.provenance
        self.log.append(LogEntry(self.now, self.operator, action, d.branch, stage, old, new,
                                 Path(prov.path).name, prov.sha256))

    def write(self, d: Decision) -> BranchOutcome:
        path = d.item.checked.submission.provenance.path
        if d.action == Outcome.SUPERSEDED and d.record:
            self.entry(LogAction.SUPERSEDED, d, new="已有更新的提交，本文件未合并")
        elif d.action == Outcome.REJECTED and d.record:
            if d.existing is not None:
                row = d.existing.row
            else:  # a branch of a campaign without a list, returned on its first form: its row now
                row = self._new_row()
                self.changes.writes.append(value_write(self.ledger.sheet, row, self.cols.get(self.profile.key),
                                                       self.profile.key, d.branch))
            cell = (row, self.cols.get(self.stage.column))
            self.changes.writes.append(CellWrite(self.ledger.sheet, *cell,
                                                 stamp_text(Receipt.RETURNED, self.now.date(), self.operator),
                                                 fill=status_fill(self.profile.statuses, Receipt.RETURNED)))
            self.changes.writes.append(CellWrite(self.ledger.sheet, row,
                                                 self.cols.get(RETURN_REASON, REASON_COLUMN_WIDTH),
                                                 "；".join(d.reasons)))
            self.changes.row_heights += reason_rows(self.ledger.sheet, row, "；".join(d.reasons))
            self.entry(LogAction.RETURNED, d, new="；".join(d.reasons), stage=self.stage.name)
        elif d.action in (Outcome.ADDED, Outcome.UPDATED):
            return self.merge(d)
        return BranchOutcome(d.branch, d.action, path, reasons=list(d.reasons))

    def _new_row(self) -> int:
        """The next new row of the ledger (made like the rows above it)."""
        row = self.next_row
        self.next_row += 1
        new_branch_row(self.changes, self.ledger, row)
        return row

    def merge(self, d: Decision) -> BranchOutcome:
        profile, ledger, c = self.profile, self.ledger, d.item.checked
        path = c.submission.provenance.path
        values = ledger_values(profile, c)
        values.update(part_values(profile, c, ledger))
        for name, known in roster_values(self.snap, d.branch).items():  # the form left it blank
            if values.get(name) in (None, "") and (d.existing is None or profile.field(name)):
                values[name] = known
        row = self.next_row if d.existing is None else d.existing.row
        covered = merged_columns(ledger, row)  # the office's merged areas (党总支 over its branches) stay as they are
        values = {k: v for k, v in values.items() if k not in covered}
        if d.existing is None:
            row = self._new_row()
            values[profile.key] = d.branch
            diffs = [(k, None, v) for k, v in values.items() if v not in (None, "")]
            writes = diffs
        else:
            diffs = [(k, d.existing.values.get(k), v) for k, v in values.items()
                     if k not in (SUBMITTED_AT, SOURCE_FILE) and not _same(d.existing.values.get(k), v)]
            writes = diffs + [(k, None, values[k]) for k in (SUBMITTED_AT, SOURCE_FILE) if k in values]
        for name, _before, after in writes:
            self.changes.writes.append(value_write(ledger.sheet, row, self.cols.get(name), name, after))
        if d.existing is not None and d.existing.values.get(RETURN_REASON) not in (None, "") \
                and RETURN_REASON not in covered:
            self.changes.writes.append(CellWrite(ledger.sheet, row, ledger.columns[RETURN_REASON], None))
            if reason_rows(ledger.sheet, row, str(d.existing.values[RETURN_REASON])):  # even again
                self.changes.row_heights.append(RowHeight(ledger.sheet, row, ROW_HEIGHT_PT))
        if d.receipt is not None and self.stage.column not in covered:
            self.changes.writes.append(CellWrite(ledger.sheet, row, self.cols.get(self.stage.column),
                                                 stamp_text(d.receipt, d.received.astimezone(CHINA_TZ).date(),
                                                            self.operator),
                                                 fill=status_fill(profile.statuses, d.receipt)))
        logo = d.item.logo
        if logo is not None and profile.ledger.logo_column:
            self.logos[d.branch] = logo
            place_logo(self.changes, self.cols, profile.ledger.logo_column, row, d.branch, logo)
            diffs.append((profile.ledger.logo_column, None, f"图片（{Path(path).name}）"))
        outcome = BranchOutcome(d.branch, d.action, path, diffs)
        self.entry(LogAction.ADDED if d.action == Outcome.ADDED else LogAction.UPDATED, d,
                   old="；".join(f"{k}：{cell_text(b)}" for k, b, _ in diffs if b not in (None, "")),
                   new="；".join(f"{k}：{a}" for k, _, a in diffs),
                   stage=f"{self.stage.name}：{d.receipt}" if d.receipt else self.stage.name)
        for t in self.tables.plan(d.branch, c.submission):  # one log row per table whose items were replaced
            outcome.changes.append((t.table, f"{t.before} 项" if t.before else None, f"{t.after} 项"))
            self.entry(LogAction.UPDATED if t.before else LogAction.ADDED, d,
                       old=f"{t.table}：{t.before} 项" if t.before else "",
                       new=f"{t.table}：{t.after} 项" + (f"（原 {t.before} 项移至“{t.history}”）" if t.before else ""),
                       stage=self.stage.name)
        return outcome


def merged_columns(ledger: Ledger, row: int) -> set[str]:
    """The ledger's columns whose cell in `row` lies in a merged area brandkit must not write
    (`merged_over`: hidden under the merge, or the top of one spanning several rows)."""
    return {name for name, c in ledger.columns.items() if merged_over(ledger, row, c)}


def new_branch_row(changes: ChangeSet, ledger: Ledger, row: int) -> None:
    """A new branch's `row` below the ledger's last: formatted like the last row (the ledger's first
    row keeps its own), its formulas filled down and the tables, filters and names around it grown
    (NewRow), its 序号 numbered unless the office's column holds a formula there. Refused (UsageProblem,
    nothing written) when the office's total or note rows stand under the data (Ledger.foot): the file
    backend cannot insert a row above them, and one below would fall outside the 合计 and the filter."""
    if ledger.foot is not None:
        raise UsageProblem(foot_problem(ledger))
    serial = len(ledger.rows) + (row - ledger.last_row) if SERIAL in ledger.columns else None
    like = ledger.last_row if ledger.last_row > ledger.header_row else row
    changes.new_rows.append(NewRow(ledger.sheet, row, like, None if serial is None else (ledger.columns[SERIAL], serial)))


def place_logo(changes: ChangeSet, cols: _Columns, column: str, row: int, branch: str, logo: Logo) -> None:
    """The branch's logo inside its cell of the ledger's logo `column` (replacing the one brandkit placed
    there before), the row tall enough to show it."""
    sheet = cols.ledger.sheet
    changes.pictures.append(PicturePlacement(sheet, row, cols.get(column, LOGO_COLUMN_WIDTH), logo.data, logo.format,
                                             logo.width, logo.height, f"brandkit:{branch}", alt=f"{branch}的{column}"))
    changes.row_heights.append(RowHeight(sheet, row, ROW_HEIGHT_PT))


def submission_stage(profile: Profile) -> Stage:
    """The stage a merge stamps (see `Profile.submission_stage`)."""
    return profile.submission_stage

