"""Sheets as plain grids of values: what every reader produces and the master is read into."""

from __future__ import annotations

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

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)
