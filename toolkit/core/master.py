"""The master as data: which sheet is the ledger, where its header is, which column is which, which
branches it lists. Adopt, don't impose: everything is found by label, nothing by position."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.campaign import apply_stage_dates, stage_dates_table
from toolkit.core.errors import UsageProblem
from toolkit.core.grid import Grid
from toolkit.core.logsheet import merged_files, returns_in_log
from toolkit.core.profile import (
    PROFILE_SHEET,
    RULES_SHEET,
    Profile,
    ProfileError,
    TableSpec,
    history_sheet,
    load_profile,
    profile_from_text,
)
from toolkit.core.profile_sheets import (
    OFFICE_LABEL,
    apply_rule_overrides,
    stored_profile_id,
    stored_profile_text,
)
from toolkit.core.roster import (
    HEADER_SEARCH_ROWS,
    ROSTER_SHEETS,
    RosterEntry,
    RosterSheet,
    read_roster,
    roster_entry,
    roster_header,
)
from toolkit.core.stages import Resend, days_late, stamp_date
from toolkit.core.text import normalize_branch, normalize_label
from toolkit.core.vocabulary import PAPER_COLUMNS, LogAction
from toolkit.core.workcal import HOLIDAY_SHEET, OFFICIAL, WorkCalendar, holiday_calendar

PROFILE_LABEL = "活动方案"
SUBMITTED_AT, SOURCE_FILE, REPLACED_AT = "提交时间", "来源文件", "替换时间"
SUBMITTED_FORMAT = "yyyy-mm-dd hh:mm"  # 提交时间 is a date cell (sorts and filters as a date), shown to the minute
# Why a form was returned, in a column beside the status: a cell comment neither prints nor filters.
RETURN_REASON = "退回原因"
# Which 党总支's master a rolled-up row came from (brandkit rollup), in the upper master's ledger.
SOURCE_MASTER = "来源台账"


@dataclass
class LedgerRow:
    row: int  # 0-based sheet row
    branch: str  # as written in the ledger
    values: dict[str, Any]  # canonical column -> value


@dataclass
class Ledger:
    sheet: str
    header_row: int
    columns: dict[str, int]  # canonical column name (profile column, stage status column) -> index
    rows: list[LedgerRow]
    last_row: int  # last used row (the header when empty)
    width: int  # columns used in the header row

    def by_branch(self) -> dict[str, LedgerRow]:
        return {normalize_branch(r.branch): r for r in self.rows}


def duplicate_rows(ledger: Ledger) -> list[str]:
    """What to tell the office of a branch listed in more than one ledger row: brandkit reads and writes
    only the last of them (Ledger.by_branch), never guessing which one the office means."""
    rows: dict[str, list[LedgerRow]] = {}
    for row in ledger.rows:
        rows.setdefault(normalize_branch(row.branch), []).append(row)
    return [f"台账“{ledger.sheet}”中“{same[0].branch}”有 {len(same)} 行（第 {'、'.join(str(r.row + 1) for r in same)} 行），"
            "brandkit 只读写其中最后一行：请在 Excel 中合并为一行" for same in rows.values() if len(same) > 1]


@dataclass
class TableRow:
    row: int  # 0-based sheet row
    branch: str  # as written
    values: dict[str, Any]  # canonical column -> value


@dataclass
class TableSheet:
    """A table's own sheet (or its 历史 sheet): one row per item, keyed by branch and item number.
    Shaped like a Ledger (sheet, header_row, columns, width) so the planner adds columns the same way."""

    sheet: str
    header_row: int
    columns: dict[str, int]  # canonical column name -> index
    rows: list[TableRow]
    blank_rows: list[int]  # empty rows between the header and the last used row (left by replacements)
    last_row: int  # last used row (the header when empty)
    width: int

    def of_branch(self, branch: str, number: str) -> list[TableRow]:
        """The branch's rows, by item number (`number` names that column), then by sheet row."""
        key = normalize_branch(branch)
        rows = [r for r in self.rows if normalize_branch(r.branch) == key]
        return sorted(rows, key=lambda r: (_number(r.values.get(number)), r.row))


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def table_header(profile: Profile, spec: TableSpec, history: bool = False) -> list[str]:
    """A table sheet's columns: branch, item number, the table's stored columns, time and source file
    (the 历史 sheet adds when the rows were replaced)."""
    cols = [c.name for c in spec.columns if c.store]
    return [profile.key, spec.item_column, *cols, SUBMITTED_AT, SOURCE_FILE, *([REPLACED_AT] if history else [])]


def read_table_sheet(grid: Grid, profile: Profile, spec: TableSpec, history: bool = False) -> TableSheet | None:
    """The table sheet's header (found by label in the first rows: the branch and item-number columns
    at least), its rows per branch and the blank rows between them; None without such a header."""
    lookup: dict[str, str] = {}
    for name in table_header(profile, spec, history):
        lookup.setdefault(normalize_label(name), name)
    for alias in profile.ledger.aliases.get(profile.key, ()):
        lookup.setdefault(normalize_label(alias), profile.key)
    for col in spec.columns:
        for label in col.all_labels:
            lookup.setdefault(normalize_label(label), col.name)
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        columns = header_columns(row, lookup)
        if profile.key in columns and spec.item_column in columns:
            return _table_sheet(grid, r, columns, profile.key)
    return None


def _table_sheet(grid: Grid, header_row: int, columns: dict[str, int], key: str) -> TableSheet:
    rows, used = [], []
    for r in range(header_row + 1, len(grid.rows)):
        row = grid.rows[r]
        if not any(v not in (None, "") for v in row):
            continue
        used.append(r)
        branch = row[columns[key]] if columns[key] < len(row) else None
        if isinstance(branch, str) and branch.strip():
            rows.append(TableRow(r, branch.strip(), {n: (row[c] if c < len(row) else None) for n, c in columns.items()}))
    last = used[-1] if used else header_row
    blank = sorted(set(range(header_row + 1, last)) - set(used))
    width = _width(grid, header_row, header_row)
    return TableSheet(grid.name, header_row, columns, rows, blank, last, width)


@dataclass
class MasterSnapshot:
    path: Path
    profile: Profile
    sheets: list[str]
    ledger: Ledger | None
    log_rows: int | None  # data rows in 操作记录 (None: no log sheet yet)
    roster: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # branch -> 党总支
    categories: dict[str, str] = field(default_factory=dict)  # branch -> 类别
    roster_entries: dict[str, RosterEntry] = field(default_factory=dict)  # branch -> the roster's row
    roster_sheet: RosterSheet | None = None
    has_rules_sheet: bool = False
    stored_profile: str | None = None  # the profile text the master carries (活动方案文件), None without one
    merged: set[tuple[str, str]] = field(default_factory=set)  # (normalised branch, sha256) already merged
    # ... and those the log already names as an older version (旧版本), so a re-merge does not log them again
    superseded: set[tuple[str, str]] = field(default_factory=set)
    # ... and those already returned (退回), so merging a rejected form again writes nothing
    rejected: set[tuple[str, str]] = field(default_factory=set)
    merged_in: set[str] = field(default_factory=set)  # branches (normalised) a merge added or returned
    # branch (normalised) -> the deadline the 退回 mail sent after its last 退回 on the form's stage gave
    resend_by: dict[str, dt.date] = field(default_factory=dict)
    # branch (normalised) -> the last receipt (已提交, 逾期提交) the log records on the form's stage
    receipts: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableSheet] = field(default_factory=dict)  # table name -> its sheet in the master
    histories: dict[str, TableSheet] = field(default_factory=dict)  # table name -> its 历史 sheet
    sha256: str = ""  # of the bytes the snapshot was taken from (the transaction re-plans when they changed)
    calendar: WorkCalendar = OFFICIAL  # working days: the official calendar and the 节假日 sheet's days
    calendar_problems: list[str] = field(default_factory=list)  # 节假日 rows that could not be read

    def named_branches(self) -> list[str] | None:
        """The branches a form must name (its own name checked against them), or None when the campaign
        has no list: no branch on a roster sheet, and every ledger branch came in through a merge (新增 or
        退回 in the log). Then any branch is taken, on every merge as on the first, and one returned on its first
        form can come back."""
        listed = self.roster_sheet is not None and bool(self.roster_sheet.branches)  # a template's is empty
        if listed or any(normalize_branch(b) not in self.merged_in for b in self.roster):
            return self.roster
        return None

    def resend(self, key: str, cell: Any, returned_copy: dt.date | None = None) -> Resend:
        """What the master says of the 退回 of branch `key` (normalised) whose form's stage cell holds
        `cell`, for `merge_receipt`: the deadline of the 退回 mail sent after it (`resend_by`), the day of
        the 退回 stamp, and whether the branch's form had already arrived late — as the last receipt the
        log records says, else as `returned_copy` (the day its earliest copy the log says was returned
        arrived, when the caller has that copy), else unknown."""
        stage = self.profile.submission_stage
        last = self.receipts.get(key)
        late: bool | None = None
        if last is not None:
            late = self.profile.statuses.kind_of(last) == "late"
        elif returned_copy is not None:
            late = days_late(stage, returned_copy, self.calendar) > 0
        return Resend(self.resend_by.get(key), stamp_date(cell), late)


def header_columns(row: list[Any], lookup: dict[str, str]) -> dict[str, int]:
    """A candidate header row's known columns: canonical name -> index (the first cell of each name)."""
    columns: dict[str, int] = {}
    for c, value in enumerate(row):
        name = lookup.get(normalize_label(value)) if isinstance(value, str) else None
        if name and name not in columns:
            columns[name] = c
    return columns


def canonical_columns(profile: Profile) -> dict[str, str]:
    """normalised header label -> canonical column name (profile columns, aliases, stage columns, and
    the parts of a split box, which a master made before the box was one column may have)."""
    lookup: dict[str, str] = {}
    parts = [part for f in profile.fields for part in f.parts]
    names = list(profile.ledger.columns) + [s.column for s in profile.stages] + [RETURN_REASON, SOURCE_MASTER] + parts
    names += [d.column for d in profile.deliverables]
    names += list(PAPER_COLUMNS) if profile.paper else []
    for name in names:
        lookup.setdefault(normalize_label(name), name)
    for name, aliases in profile.ledger.aliases.items():
        for alias in aliases:
            lookup.setdefault(normalize_label(alias), name)
    return lookup


def find_ledger(grids: dict[str, Grid], profile: Profile) -> Ledger | None:
    """The sheet whose header row (in the first rows, under merged titles) holds the key column and
    at least two other known columns. The profile's own ledger sheet name wins a tie."""
    lookup = canonical_columns(profile)
    best: tuple[int, Ledger] | None = None
    skipped = {RULES_SHEET, PROFILE_SHEET, HOLIDAY_SHEET, profile.ledger.log_sheet, *table_sheets(profile)}
    for grid in grids.values():
        if grid.name in skipped:
            continue
        for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
            columns = header_columns(row, lookup)
            if profile.key in columns and len(columns) >= 3:
                last = r + _second_header_row(grid, r, columns, lookup, profile.key)
                for name, c in header_columns(grid.rows[last], lookup).items() if last > r else ():
                    columns.setdefault(name, c)
                score = len(columns) * 2 + (grid.name == profile.ledger.sheet)
                if best is None or score > best[0]:
                    best = (score, _ledger(grid, r, last, columns, profile.key))
                break
    return best[1] if best else None


def _second_header_row(grid: Grid, r: int, columns: dict[str, int], lookup: dict[str, str], key: str) -> int:
    """1 when the header goes on in row r + 1 under group headings (品牌情况 over 品牌名称 and 党员总数,
    the key's cell merged down, so empty there), else 0."""
    if r + 1 >= len(grid.rows):
        return 0
    below = grid.rows[r + 1]
    if columns[key] < len(below) and below[columns[key]] not in (None, ""):
        return 0
    return int(any(name not in columns for name in header_columns(below, lookup)))


def table_sheets(profile: Profile) -> list[str]:
    """Sheets brandkit keeps for the profile's tables: each table's own and its 历史 sheet."""
    return [name for t in profile.tables for name in (t.sheet_name, history_sheet(t))]


def _ledger(grid: Grid, top: int, header_row: int, columns: dict[str, int], key: str) -> Ledger:
    """The ledger under its header, rows `top` to `header_row` (two under group headings)."""
    rows = []
    last = header_row
    for r in range(header_row + 1, len(grid.rows)):
        row = grid.rows[r]
        if any(v not in (None, "") for v in row):
            last = r
        branch = row[columns[key]] if columns[key] < len(row) else None
        if isinstance(branch, str) and branch.strip():
            values = {name: (row[c] if c < len(row) else None) for name, c in columns.items()}
            rows.append(LedgerRow(r, branch.strip(), values))
    width = _width(grid, top, header_row)
    return Ledger(grid.name, header_row, columns, rows, last, width)


def _width(grid: Grid, top: int, bottom: int) -> int:
    """Columns used in the header rows `top` to `bottom`."""
    return max((c for row in grid.rows[top:bottom + 1] for c, v in enumerate(row) if v not in (None, "")),
               default=-1) + 1


def profile_id_in(grids: dict[str, Grid]) -> str | None:
    return rules_value(grids, PROFILE_LABEL)


def rules_value(grids: dict[str, Grid], label: str) -> str | None:
    """The value beside `label` in the 填报规则 sheet's first rows (活动方案, 落款单位), None when blank."""
    grid = grids.get(RULES_SHEET)
    if grid is None:
        return None
    for row in grid.rows[:5]:
        for c, value in enumerate(row[:-1]):
            if isinstance(value, str) and normalize_label(value) == label and row[c + 1] not in (None, ""):
                return str(row[c + 1]).strip()
    return None


def rule_rows(grids: dict[str, Grid]) -> list[list[Any]]:
    """The 填报规则 table: from its header row (the one starting with 字段) down."""
    grid = grids.get(RULES_SHEET)
    if grid is None:
        return []
    for r, row in enumerate(grid.rows):
        if row and isinstance(row[0], str) and row[0].strip() == "字段":
            return grid.rows[r:]
    return []


def master_profile(path: Path, grids: dict[str, Grid], profile_name: str | None) -> Profile:
    """The campaign a master runs, before its 填报规则 overrides: the profile it stores (the text it was
    set up with, which wins over a built-in of the same id and needs no file), else the built-in its
    填报规则 names (a master from before profiles were stored). A profile named explicitly (validate
    --profile P --master M) wins unless it is the stored profile's own id."""
    text = stored_profile_text(grids)
    if profile_name and (text is None or stored_profile_id(text) != profile_name):
        return load_profile(profile_name)
    if text is not None:
        return profile_from_text(text, where=f"“{PROFILE_SHEET}”工作表")
    recorded = profile_id_in(grids)
    if not recorded:
        raise UsageProblem(f"台账 {path.name} 中没有“{RULES_SHEET}”工作表记录活动方案，请加 --profile 指定"
                           f"（或先运行 brandkit init {path.name} --profile …）")
    return load_profile(recorded)


def snapshot(path: Path, grids: dict[str, Grid], profile_name: str | None) -> MasterSnapshot:
    """Pure: the master's grids -> what brandkit needs to know about it."""
    try:
        profile = apply_rule_overrides(master_profile(path, grids, profile_name), rule_rows(grids))
        rules = grids.get(RULES_SHEET)
        profile = apply_stage_dates(profile, stage_dates_table(rules.rows if rules else []))
        profile = dataclasses.replace(profile, office=rules_value(grids, OFFICE_LABEL) or profile.office)
    except ProfileError as exc:
        raise UsageProblem(f"{path.name}：{exc}") from exc
    ledger = find_ledger(grids, profile)
    log = grids.get(profile.ledger.log_sheet)
    snap = MasterSnapshot(path, profile, list(grids), ledger,
                          log_rows=(max(len(log.rows) - 1, 0) if log else None),
                          has_rules_sheet=RULES_SHEET in grids, stored_profile=stored_profile_text(grids))
    snap.calendar, snap.calendar_problems = holiday_calendar(grids.get(HOLIDAY_SHEET))
    if log is not None:
        snap.merged = merged_files(log)
        snap.superseded = merged_files(log, (LogAction.SUPERSEDED,))
        snap.rejected = merged_files(log, (LogAction.RETURNED,))
        snap.merged_in = {branch for branch, _ in merged_files(log, (LogAction.ADDED, LogAction.RETURNED))}
        snap.resend_by, snap.receipts = returns_in_log(log, profile)
    for spec in profile.tables:
        for target, name, history in ((snap.tables, spec.sheet_name, False),
                                      (snap.histories, history_sheet(spec), True)):
            sheet = read_table_sheet(grids[name], profile, spec, history) if name in grids else None
            if sheet is not None:
                target[spec.name] = sheet
    seen: dict[str, str] = {}
    key_of = functools.cache(normalize_branch)  # the ledger and the roster name the same branches
    for row in ledger.rows if ledger else []:
        _add_branch(snap, seen, key_of, row.branch, row.values.get(profile.group))
    for grid in grids.values():
        own = (RULES_SHEET, PROFILE_SHEET, HOLIDAY_SHEET, profile.ledger.log_sheet, *table_sheets(profile))
        if ledger and grid.name == ledger.sheet or grid.name in own:
            continue
        if normalize_label(grid.name) in ROSTER_SHEETS and (header := roster_header(grid)) is not None:
            items = read_roster(grid)
            for item in items:
                _add_branch(snap, seen, key_of, item["党支部名称"], item.get("党总支"), item)
            if snap.roster_sheet is None:
                last = max((r for r, row in enumerate(grid.rows) if any(v not in (None, "") for v in row)),
                           default=header[0])
                snap.roster_sheet = RosterSheet(grid.name, header[0], header[1], max(last, header[0]),
                                                {key_of(str(i["党支部名称"])) for i in items})
    return snap


def _add_branch(snap: MasterSnapshot, seen: dict[str, str], key_of: Callable[[str], str], branch: str,
                group: Any, item: dict[str, Any] | None = None) -> None:
    """Add a branch once (by its normalised name, `key_of`); what any source says of it is kept under the
    name the master first lists it by, so the ledger row, the roster and a merge all find it."""
    branch = branch.strip()
    key = key_of(branch)
    if key not in seen:
        seen[key] = branch
        snap.roster.append(branch)
    name = seen[key]
    if group not in (None, ""):
        snap.groups.setdefault(name, str(group).strip())
    if item is not None:
        entry = snap.roster_entries.setdefault(name, roster_entry(item))
        if entry.category:
            snap.categories.setdefault(name, entry.category)


