"""Table-layout sections (台帐, multi-project sheets): a header row found by its labels, then rows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.grid import Grid
from toolkit.core.model import Value, cell_ref
from toolkit.core.profile import TableSpec
from toolkit.core.text import normalize_label
from toolkit.core.values import coerce
from toolkit.readers.form import NOTE_PREFIXES, label_lookup, lookup_label

_HEADER_SEARCH_ROWS = 60


@dataclass
class TableRows:
    header_row: int | None = None
    columns: dict[int, str] = field(default_factory=dict)  # column index -> field name
    rows: list[dict[str, Value]] = field(default_factory=list)
    end_row: int | None = None  # first row after the table's body (the form continues there)

    def body(self) -> range:
        """The rows the table owns below its header: no form label is looked for in them."""
        if self.header_row is None:
            return range(0)
        return range(self.header_row + 1, self.end_row if self.end_row is not None else self.header_row + 1)


def find_header(grid: Grid, spec: TableSpec) -> tuple[int, dict[int, str]] | None:
    lookup = label_lookup(spec.columns)
    for r, row in enumerate(grid.rows[:_HEADER_SEARCH_ROWS]):
        cols = _header_cells(row, lookup)
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
        values = {name: Value(name, coerce(by_name[name], grid.get(r, c)), grid.get(r, c),
                              cell_ref(grid.name, r, c))
                  for c, name in columns.items()}
        if all(v.raw in (None, "") for v in values.values()):
            continue  # only serial numbers or notes outside the table's columns
        result.rows.append(values)


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
