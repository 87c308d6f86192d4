"""The master as data: its campaign (the stored profile and the 填报规则 overrides), its ledger (read in
toolkit.core.ledger), its roster, its log and its table sheets. Adopt, don't impose: everything is found
by label, nothing by position."""

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
from toolkit.core.ledger import (
    LEDGER_HEADER_ROWS,
    RETURN_REASON,
    SOURCE_MASTER,
    TOTAL_LABELS,
    Ledger,
    LedgerRow,
    canonical_columns,
    duplicate_rows,
    find_ledger,
    foot_problem,
    header_columns,
    label_columns,
    ledger_misses,
    table_sheets,
    used_width,
)
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
from toolkit.core.vocabulary import LogAction
from toolkit.core.workcal import HOLIDAY_SHEET, OFFICIAL, WorkCalendar, holiday_calendar

PROFILE_LABEL = "活动方案"
SUBMITTED_AT, SOURCE_FILE, REPLACED_AT = "提交时间", "来源文件", "替换时间"
SUBMITTED_FORMAT = "yyyy-mm-dd hh:mm"  # 提交时间 is a date cell (sorts and filters as a date), shown to the minute
# The ledger's names, read in toolkit.core.ledger and imported from here by much of brandkit.
__all__ = ["LEDGER_HEADER_ROWS", "RETURN_REASON", "SOURCE_MASTER", "TOTAL_LABELS", "Ledger", "LedgerRow",
           "MasterSnapshot", "TableRow", "TableSheet", "canonical_columns", "duplicate_rows", "find_ledger",
           "foot_problem", "header_columns", "label_columns", "ledger_misses", "master_profile", "read_table_sheet",
           "rule_rows", "rules_value", "snapshot", "table_header", "table_sheets", "unlisted_rows"]


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
    width = used_width(grid, header_row)
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
    # ledger rows whose branch the roster sheet (支部名单) does not list, when it lists any (`unlisted_rows`)
    unlisted: list[LedgerRow] = field(default_factory=list)
    tables: dict[str, TableSheet] = field(default_factory=dict)  # table name -> its sheet in the master
    histories: dict[str, TableSheet] = field(default_factory=dict)  # table name -> its 历史 sheet
    sha256: str = ""  # of the bytes the snapshot was taken from (the transaction re-plans when they changed)
    calendar: WorkCalendar = OFFICIAL  # working days: the official calendar and the 节假日 sheet's days
    calendar_problems: list[str] = field(default_factory=list)  # 节假日 rows that could not be read
    ledger_misses: list[str] = field(default_factory=list)  # without a ledger: sheets that nearly were one

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


def rule_rows(grids: dict[str, Grid]) -> tuple[list[list[Any]], int | None]:
    """The 填报规则 table, from its header row (the one starting with 字段) down, and that header's sheet
    row (1-based, as the officer sees it; None without the table)."""
    grid = grids.get(RULES_SHEET)
    if grid is None:
        return [], None
    for r, row in enumerate(grid.rows):
        if row and isinstance(row[0], str) and row[0].strip() == "字段":
            return grid.rows[r:], r + 1
    return [], None


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


def snapshot(path: Path, grids: dict[str, Grid], profile_name: str | None,
             prefer: str | None = None) -> MasterSnapshot:
    """Pure: the master's grids -> what brandkit needs to know about it; `prefer`: the sheet that wins
    a tie between sheets that look like ledgers (init passes the workbook's active sheet)."""
    try:
        rules_table, first_row = rule_rows(grids)
        profile = apply_rule_overrides(master_profile(path, grids, profile_name), rules_table, first_row)
        rules = grids.get(RULES_SHEET)
        profile = apply_stage_dates(profile, stage_dates_table(rules.rows if rules else []))
        profile = dataclasses.replace(profile, office=rules_value(grids, OFFICE_LABEL) or profile.office)
    except ProfileError as exc:
        raise UsageProblem(f"{path.name}：{exc}") from exc
    ledger = find_ledger(grids, profile, prefer)
    log = grids.get(profile.ledger.log_sheet)
    snap = MasterSnapshot(path, profile, list(grids), ledger,
                          log_rows=(max(len(log.rows) - 1, 0) if log else None),
                          has_rules_sheet=RULES_SHEET in grids, stored_profile=stored_profile_text(grids))
    snap.calendar, snap.calendar_problems = holiday_calendar(grids.get(HOLIDAY_SHEET))
    if ledger is None:
        snap.ledger_misses = ledger_misses(grids, profile)
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
    key_of = functools.cache(normalize_branch)  # the ledger and the roster name the same branches
    own = (RULES_SHEET, PROFILE_SHEET, HOLIDAY_SHEET, profile.ledger.log_sheet, *table_sheets(profile))
    rosters = [(grid, header, read_roster(grid)) for grid in grids.values()
               if not (ledger and grid.name == ledger.sheet or grid.name in own)
               and normalize_label(grid.name) in ROSTER_SHEETS and (header := roster_header(grid)) is not None]
    if rosters:
        grid, header, items = rosters[0]
        last = max((r for r, row in enumerate(grid.rows) if any(v not in (None, "") for v in row)), default=header[0])
        snap.roster_sheet = RosterSheet(grid.name, header[0], header[1], max(last, header[0]),
                                        {key_of(str(i["党支部名称"])) for i in items})
    listed = snap.roster_sheet.branches if snap.roster_sheet is not None else set()
    if ledger is not None and listed:
        # a line that reads like a section heading ("机关党委") is a branch after all when the roster lists it
        back = [row for row in ledger.notes if key_of(row.branch) in listed]
        if back:
            ledger.rows = sorted([*ledger.rows, *back], key=lambda row: row.row)
            ledger.notes = [row for row in ledger.notes if row not in back]
        snap.unlisted = [row for row in ledger.rows if key_of(row.branch) not in listed]
    seen: dict[str, str] = {}
    for row in ledger.rows if ledger else []:
        _add_branch(snap, seen, key_of, row.branch, row.values.get(profile.group))
    for _, _, items in rosters:
        for item in items:
            _add_branch(snap, seen, key_of, item["党支部名称"], item.get("党总支"), item)
    return snap


def unlisted_rows(snap: MasterSnapshot) -> list[str]:
    """What to tell the office of each ledger row whose name its 支部名单 does not list: a branch missing
    from the roster, or a line the office typed in the branch column that brandkit cannot tell from one.
    `stamp --all` leaves these rows alone."""
    if snap.ledger is None or snap.roster_sheet is None:
        return []
    roster = snap.roster_sheet.name
    return [f"台账“{snap.ledger.sheet}”第 {row.row + 1} 行“{row.branch}”不在“{roster}”工作表中：如是支部，请把它加入"
            f"“{roster}”；如是说明或合计行，请移到支部行下方或写在别的列。在此之前 stamp --all 不给这一行盖章"
            for row in snap.unlisted]


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


