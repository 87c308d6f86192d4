"""Table-layout sections (台帐, multi-project sheets): a header row found by its labels, then rows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from toolkit.core.grid import Grid
from toolkit.core.model import Value, cell_ref
from toolkit.core.profile import TableSpec
from toolkit.core.values import coerce
from toolkit.readers.form import NOTE_PREFIXES, label_lookup, lookup_label

_HEADER_SEARCH_ROWS = 60


@dataclass
class TableRows:
    header_row: int | None = None
    columns: dict[int, str] = field(default_factory=dict)  # column index -> field name
    rows: list[dict[str, Value]] = field(default_factory=list)


def find_header(grid: Grid, spec: TableSpec) -> tuple[int, dict[int, str]] | None:
    lookup = label_lookup(spec.columns)
    need = max(2, math.ceil(len(spec.columns) * 0.5))
    for r, row in enumerate(grid.rows[:_HEADER_SEARCH_ROWS]):
        cols = {c: name for c, v in enumerate(row)
                if isinstance(v, str) and len(v) <= 60 and (name := lookup_label(v, lookup))}
        if len(set(cols.values())) >= min(need, len(spec.columns)):
            return r, cols
    return None


def extract_table(grid: Grid, spec: TableSpec, stop_labels: Mapping[str, str]) -> TableRows:
    """Rows under the header until the first row holding a form label (e.g. 党支部意见)."""
    header = find_header(grid, spec)
    if header is None:
        return TableRows()
    header_row, columns = header
    by_name = {c.name: c for c in spec.columns}
    result = TableRows(header_row, columns)
    for r in range(header_row + 1, len(grid.rows)):
        row = grid.rows[r]
        texts = [v for v in row if v not in (None, "")]
        if not texts:
            continue
        if any(isinstance(v, str) and len(v) <= 60 and lookup_label(v, stop_labels) for v in texts):
            break
        if len(texts) == 1 and isinstance(texts[0], str) and texts[0].lstrip().startswith(NOTE_PREFIXES):
            continue
        values = {name: Value(name, coerce(by_name[name], grid.get(r, c)), grid.get(r, c),
                              cell_ref(grid.name, r, c))
                  for c, name in columns.items()}
        if all(v.raw in (None, "") for v in values.values()):
            continue  # only serial numbers or notes outside the table's columns
        result.rows.append(values)
    return result
