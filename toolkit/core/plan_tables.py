"""Plan a branch's tables (hospital-annual 申报工程, dangjian-plus 活动台帐) into their own sheets. Pure.

Each table has a sheet in the master with one row per item, keyed by branch and item number. When a
branch resubmits, its rows are replaced without deleting any sheet row (a row delete would have to
shift formulas, merges, validations and drawings): the old rows are first copied to the table's
`<表名>历史` sheet with the time they were replaced, then overwritten in place by the new items in order;
surplus new items take the blank rows earlier replacements left (first fit), else new rows at the end;
surplus old rows are cleared. A resubmission with the same items writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.changeset import CellWrite, ChangeSet, NewRow, NewSheet
from toolkit.core.errors import UsageProblem
from toolkit.core.master import (
    REPLACED_AT,
    SOURCE_FILE,
    SUBMITTED_AT,
    MasterSnapshot,
    TableRow,
    TableSheet,
    table_header,
)
from toolkit.core.model import Submission, Value
from toolkit.core.plan import _Columns, _same, carries, provenance_values, value_write
from toolkit.core.profile import Profile, TableSpec, history_sheet
from toolkit.core.text import normalize_branch
from toolkit.core.values import cell_number

WIDTHS = {SUBMITTED_AT: 17.0, SOURCE_FILE: 30.0, REPLACED_AT: 17.0}


@dataclass(frozen=True)
class TableChange:
    table: str
    before: int  # items the branch had in the master
    after: int  # items it has now
    history: str  # the sheet the old items went to


def new_table_sheet(profile: Profile, spec: TableSpec, history: bool = False) -> NewSheet:
    """A table's sheet (or its 历史 sheet) as `init` and `merge` create it: the header and widths."""
    specs = {c.name: c for c in spec.columns}
    widths = []
    for name in table_header(profile, spec, history):
        col = specs.get(name)
        widths.append(24.0 if name == profile.key else 8.0 if name == spec.item_column else
                      WIDTHS[name] if name in WIDTHS else 40.0 if col and col.long else
                      12.0 if col and col.type in ("date", "integer", "number") else 20.0)
    name = history_sheet(spec) if history else spec.sheet_name
    return NewSheet(name, [table_header(profile, spec, history)], widths)


def no_header_problem(profile: Profile, spec: TableSpec, sheet: str) -> UsageProblem:
    return UsageProblem(f"台账中已有工作表“{sheet}”，但其表头中没有“{profile.key}”和“{spec.item_column}”两列，"
                        f"无法存放{spec.name}：请补上这两列表头，或把该工作表改名后再试")


def adopt_tables(snap: MasterSnapshot, changes: ChangeSet) -> tuple[list[str], list[str]]:
    """What adopting a workbook adds for the tables: a sheet per table that has none, the missing
    columns of those it has. Returns (sheets added, columns added as '表名·列名')."""
    sheets, columns = [], []
    for spec in snap.profile.tables:
        sheet = snap.tables.get(spec.name)
        if sheet is None:
            if spec.sheet_name in snap.sheets:
                raise no_header_problem(snap.profile, spec, spec.sheet_name)
            changes.new_sheets.append(new_table_sheet(snap.profile, spec))
            sheets.append(spec.sheet_name)
            continue
        cols = _Columns(sheet, changes)
        for name in table_header(snap.profile, spec):
            if name not in sheet.columns:
                cols.get(name)
                columns.append(f"{spec.sheet_name}·{name}")
    return sheets, columns


@dataclass
class _Area:
    """A table sheet being planned: its columns (growing as needed) and where the next rows go."""

    sheet: TableSheet
    cols: _Columns
    free: list[int]  # blank rows to fill first
    next_row: int
    like: int | None  # the row new rows are formatted like

    def take(self, changes: ChangeSet) -> int:
        if self.free:
            return self.free.pop(0)
        row, self.next_row = self.next_row, self.next_row + 1
        if self.like is not None:
            changes.new_rows.append(NewRow(self.sheet.sheet, row, self.like))
        return row


@dataclass
class TablePlanner:
    snap: MasterSnapshot
    changes: ChangeSet
    now: dt.datetime
    _areas: dict[tuple[str, bool], _Area] = field(default_factory=dict)

    def plan(self, branch: str, sub: Submission) -> list[TableChange]:
        """Replace `branch`'s rows of every table the form carries; returns what changed."""
        profile = self.snap.profile
        provenance = provenance_values(sub)
        out = []
        for spec in profile.tables:
            if not carries(sub, spec.name):
                continue
            items = [{c.name: item_value(row.get(c.name)) for c in spec.columns if c.store}
                     for row in sub.tables[spec.name]]
            current = self.snap.tables.get(spec.name)
            old = current.of_branch(branch, spec.item_column) if current else []
            if len(old) == len(items) and all(_same(o.values.get(k), v) for o, item in zip(old, items, strict=True)
                                              for k, v in item.items()):
                continue
            if old:
                self._keep_history(spec, old)
            self._write(spec, branch, old, [{profile.key: branch, spec.item_column: n, **item, **provenance}
                                            for n, item in enumerate(items, start=1)])
            out.append(TableChange(spec.name, len(old), len(items), history_sheet(spec)))
        return out

    def _area(self, spec: TableSpec, history: bool) -> _Area:
        key = (spec.name, history)
        if key not in self._areas:
            profile = self.snap.profile
            sheet = (self.snap.histories if history else self.snap.tables).get(spec.name)
            name = history_sheet(spec) if history else spec.sheet_name
            if sheet is None:
                if name in self.snap.sheets:
                    raise no_header_problem(profile, spec, name)
                self.changes.new_sheets.append(new_table_sheet(profile, spec, history))
                header = table_header(profile, spec, history)
                sheet = TableSheet(name, 0, {n: c for c, n in enumerate(header)}, [], [], 0, len(header))
            like = sheet.last_row if sheet.last_row > sheet.header_row and not history else None
            self._areas[key] = _Area(sheet, _Columns(sheet, self.changes),
                                     [] if history else list(sheet.blank_rows), sheet.last_row + 1, like)
        return self._areas[key]

    def _keep_history(self, spec: TableSpec, old: list[TableRow]) -> None:
        area = self._area(spec, history=True)
        replaced = self.now.strftime("%Y-%m-%d %H:%M:%S")
        for item in old:
            row = area.take(self.changes)
            for name in table_header(self.snap.profile, spec, history=True):
                value = replaced if name == REPLACED_AT else read_back(item.values.get(name))
                if value not in (None, ""):
                    self.changes.writes.append(value_write(area.sheet.sheet, row, area.cols.get(name), name, value))

    def _write(self, spec: TableSpec, branch: str, old: list[TableRow], items: list[dict[str, Any]]) -> None:
        area = self._area(spec, history=False)
        sheet = area.sheet.sheet
        slots = sorted(old, key=lambda r: r.row)
        key = self.snap.profile.key
        for n, values in enumerate(items):
            before = slots[n].values if n < len(slots) else {}
            row = slots[n].row if n < len(slots) else area.take(self.changes)
            for name, value in values.items():
                if before:  # an old item's row: only the cells that differ
                    was = before.get(name)
                    if (normalize_branch(str(was or "")) == normalize_branch(branch) if name == key
                            else _same(was, value)):
                        continue
                elif value in (None, ""):
                    continue
                self.changes.writes.append(value_write(sheet, row, area.cols.get(name), name, value))
        for surplus in slots[len(items):]:
            for name, col in area.sheet.columns.items():
                if surplus.values.get(name) not in (None, ""):
                    self.changes.writes.append(CellWrite(sheet, surplus.row, col, None))


def read_back(value: Any) -> Any:
    """A table cell as the master gave it back, to copy: the reader returns every number as a float, and
    1.0 in the history where the branch wrote 1 reads as a different figure."""
    return cell_number(value) if isinstance(value, float) else value


def item_value(v: Value | None) -> Any:
    """What one table cell stores: the typed value, else the text as written."""
    if v is None:
        return None
    if v.value not in (None, ""):
        return v.value
    return v.raw if isinstance(v.raw, str) and v.raw.strip() else None
