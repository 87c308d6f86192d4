"""Sheets as plain grids of values: what every reader produces and the master is read into."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

Merge = tuple[int, int, int, int]  # first_row, first_col, last_row, last_col (0-based, inclusive)


@dataclass
class Grid:
    name: str
    rows: list[list[Any]]
    merged: list[Merge] = field(default_factory=list)
    hidden: bool = False

    def get(self, row: int, col: int) -> Any:
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def merged_below(self, first: int, cols: Collection[int] | None = None) -> dict[tuple[int, int], Any]:
        """(row, column) -> the value of the merged cell covering it, for every row of a merge below its
        own first, for merges starting at row `first` or below (one reaching up above it — into a header —
        is the header's) whose first column is in `cols` (every column when None): a 党总支 merged over its
        branches belongs to each of them."""
        out: dict[tuple[int, int], Any] = {}
        for r0, c0, r1, _ in self.merged:
            if r0 >= first and r1 > r0 and (cols is None or c0 in cols) and (value := self.get(r0, c0)) not in (None, ""):
                for r in range(r0 + 1, r1 + 1):
                    out[(r, c0)] = value
        return out

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)
