"""Table-layout sections (台帐, multi-project sheets): a header row found by its labels, then rows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.grid import Grid
from toolkit.core.model import Finding, Value, cell_ref
from toolkit.core.profile import TableSpec
from toolkit.core.text import normalize_label
from toolkit.core.values import cell_text, coerce, read_choice
from toolkit.readers.form import NOTE_PREFIXES, label_lookup, lookup_label, ticked_many

_HEADER_SEARCH_ROWS = 60
_TOTALS = frozenset({"合计", "总计", "小计", "共计", "总数"})


@dataclass
class TableRows:
    header_row: int | None = None
    columns: dict[int, str] = field(default_factory=dict)  # column index -> field name
    rows: list[dict[str, Value]] = field(default_factory=list)
    end_row: int | None = None  # first row after the table's body (the form continues there)
    notes: list[str] = field(default_factory=list)  # rows read but kept out of the items, and why
    findings: list[Finding] = field(default_factory=list)  # what reading a cell found wrong in it

    def body(self) -> range:
        """The rows the table owns below its header: no form label is looked for in them."""
        if self.header_row is None:
            return range(0)
        return range(self.header_row + 1, self.end_row if self.end_row is not None else self.header_row + 1)


def find_header(grid: Grid, spec: TableSpec) -> tuple[int, dict[int, str]] | None:
    """(the header's last row, column index -> field name). A header may take two rows: a group heading
    merged across columns ("活动情况" over 活动名称 and 参与人数) has its columns in the row below."""
    lookup = label_lookup(spec.columns)
    groups: dict[int, list[tuple[int, int]]] = {}  # row -> column spans merged across in that row only
    for r1, c1, r2, c2 in grid.merged:
        if r1 == r2 and c2 > c1 and r1 < _HEADER_SEARCH_ROWS:
            groups.setdefault(r1, []).append((c1, c2))
    for r, row in enumerate(grid.rows[:_HEADER_SEARCH_ROWS]):
        cols = _header_cells(row, lookup)
        under = {c: name for c, name in _header_cells(grid.rows[r + 1], lookup).items()
                 if any(c1 <= c <= c2 for c1, c2 in groups.get(r, ()))} if r + 1 < len(grid.rows) else {}
        beside = {c: name for c, name in cols.items()
                  if not any(c1 <= c <= c2 for c1, c2 in groups.get(r, ())) and name not in under.values()}
        # a title merged over the whole table has no column of its own beside it: no group heading
        if beside and set(under.values()) - set(cols.values()):
            cols = beside | under
            if len(set(cols.values())) >= _header_need(spec):
                return r + 1, dict(sorted(cols.items()))
        if len(set(cols.values())) >= _header_need(spec):
            return r, cols
    return None


def _header_need(spec: TableSpec) -> int:
    return min(max(2, math.ceil(len(spec.columns) * 0.5)), len(spec.columns))


def _header_cells(row: list[Any], lookup: Mapping[str, str]) -> dict[int, str]:
    return {c: name for c, v in enumerate(row)
            if isinstance(v, str) and len(v) <= 60 and (name := lookup_label(v, lookup))}


def extract_table(grid: Grid, spec: TableSpec, stop_labels: Mapping[str, str]) -> TableRows:
    """Rows under the header until the form continues below it (e.g. a 党支部意见 row). A row that
    repeats the header or the table's title (a table continued on the next page) is skipped."""
    header = find_header(grid, spec)
    if header is None:
        return TableRows()
    header_row, columns = header
    result = TableRows(header_row, columns, end_row=len(grid.rows))
    _read_rows(grid, spec, stop_labels, result, header_row + 1)
    return result


def continued_rows(grid: Grid, spec: TableSpec, stop_labels: Mapping[str, str],
                   columns: dict[int, str]) -> list[dict[str, Value]] | None:
    """The rows of a sheet that holds only the rest of a table whose header is elsewhere (a 续表 sheet
    without the header repeated), read on the header's `columns`; None when the sheet does not read as
    that table's rows: a form label, a row filling too few of its columns, a cell that does not fit its
    column's type (an instructions sheet is no table)."""
    result = TableRows(None, columns, end_row=len(grid.rows))
    _read_rows(grid, spec, stop_labels, result, 0)
    typed = [c.name for c in spec.columns if c.type in ("date", "integer", "number")]

    def fits(row: dict[str, Value]) -> bool:
        filled = [name for name, v in row.items() if v.raw not in (None, "")]
        return len(filled) >= _header_need(spec) and not any(
            isinstance(row[name].value, str) for name in filled if name in typed)  # unparsed stays text

    whole = result.end_row == len(grid.rows)
    return result.rows if result.rows and whole and all(fits(row) for row in result.rows) else None


def _read_rows(grid: Grid, spec: TableSpec, stop_labels: Mapping[str, str], result: TableRows, start: int) -> None:
    by_name = {c.name: c for c in spec.columns}
    header_lookup = label_lookup(spec.columns)
    columns = result.columns
    shared = _merged_down(grid, columns, start)
    for r in range(start, len(grid.rows)):
        row = grid.rows[r]
        cells = [(c, v) for c, v in enumerate(row) if v not in (None, "")]
        if not cells:
            continue
        if _continues_form(cells, columns, stop_labels):
            result.end_row = r
            break
        if len(cells) == 1 and isinstance(cells[0][1], str) and (
                cells[0][1].lstrip().startswith(NOTE_PREFIXES) or _is_title(cells[0][1], spec)):
            continue
        if len(set(_header_cells(row, header_lookup).values())) >= _header_need(spec):
            continue
        total = _total_cell(cells)
        if total is not None:  # the branch's own sum, not an item: said when it holds figures
            figures = "、".join(cell_text(v) for _, v in cells if isinstance(v, int | float) and not isinstance(v, bool))
            if figures:
                result.notes.append(f"{cell_ref(grid.name, r, total)} 所在的第 {r + 1} 行是“{spec.name}”的"
                                    f"{normalize_label(str(grid.get(r, total)))}行（{figures}），不是一项，未作为一项读入")
            continue
        values = {}
        for c, name in columns.items():
            raw, many = read_choice(by_name[name], grid.get(*shared.get((r, c), (r, c))))
            values[name] = Value(name, coerce(by_name[name], raw), raw, cell_ref(grid.name, r, c))
            if many:
                result.findings.append(ticked_many(f"{spec.name}第{len(result.rows) + 1}项·{name}", many,
                                                   values[name].cell))
        if all(v.raw in (None, "") for v in values.values()):
            continue  # only serial numbers or notes outside the table's columns
        result.rows.append(values)


def _merged_down(grid: Grid, columns: dict[int, str], start: int) -> dict[tuple[int, int], tuple[int, int]]:
    """Table cells under the top of a block merged down a column (one 负责人 or date for two rows) ->
    the block's top cell, which holds the value every row it covers shares."""
    shared: dict[tuple[int, int], tuple[int, int]] = {}
    for r1, c1, r2, c2 in grid.merged:
        if r2 > r1 >= start:
            for c in range(c1, c2 + 1):
                if c in columns:
                    shared.update(((r, c), (r1, c1)) for r in range(r1 + 1, min(r2, len(grid.rows) - 1) + 1))
    return shared


def _total_cell(cells: list[tuple[int, Any]]) -> int | None:
    """The column of the 合计/总计/小计 cell that makes a row the table's totals, not an item."""
    return next((c for c, v in cells if isinstance(v, str) and normalize_label(v) in _TOTALS), None)


def _continues_form(cells: list[tuple[int, Any]], columns: dict[int, str], stop: Mapping[str, str]) -> bool:
    """A row led by a form label and laid out as a form row: the label alone (value below), with one
    value (merged across the table's columns or not), or beside another label. A table row whose first
    cell happens to read like a label ("调查摸底" as an activity) fills the table's other columns."""
    labels = {c for c, v in cells if isinstance(v, str) and len(v) <= 60 and lookup_label(v, stop)}
    if cells[0][0] not in labels:
        return False
    data = [c for c, _ in cells[1:] if c in columns and c not in labels]
    return len(labels) >= 2 or len(data) < 2


def _is_title(text: str, spec: TableSpec) -> bool:
    return normalize_label(text) in {normalize_label(t) for t in (spec.name, *spec.labels)}
