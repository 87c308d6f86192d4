"""Find a form's fields by their labels, wherever the branch put them.

Labels are matched after `normalize_label` (full/half width, spaces and line breaks, hints in brackets,
trailing colons). A field's value is, in order: the text after the colon in the label's own cell; the
nearest non-label cell to the right (over merged ranges); the cell below (vertical forms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from toolkit.model import Value, cell_ref
from toolkit.profile import FieldSpec
from toolkit.readers.grid import Grid, Merge
from toolkit.rules import coerce
from toolkit.text import normalize_label

_COLON = re.compile(r"[:：]")
_SIGNATURE_PLACEHOLDER = re.compile(r"[\s　（）()：:_\-—.．/]|签字|签名|盖章|负责人|书记|[年月日]")
_MAX_RIGHT_GAP = 3  # empty cells a value may sit behind (labels padded with blank columns)
NOTE_PREFIXES = ("注", "说明", "备注", "填表说明", "填报说明")


@dataclass
class FormFields:
    """What one sheet yielded: values by field name, each value's area (for pictures), labels found."""

    values: dict[str, Value] = field(default_factory=dict)
    areas: dict[str, Merge] = field(default_factory=dict)
    labels: dict[str, tuple[int, int]] = field(default_factory=dict)

    def filled(self) -> int:
        return sum(1 for v in self.values.values() if v.value not in (None, ""))


class SheetIndex:
    """A grid with merged ranges resolved and every label cell recognised."""

    def __init__(self, grid: Grid, lookup: dict[str, str]) -> None:
        self.grid = grid
        self.master: dict[tuple[int, int], tuple[int, int]] = {}
        self.extent: dict[tuple[int, int], tuple[int, int]] = {}
        for r1, c1, r2, c2 in grid.merged:
            self.extent[(r1, c1)] = (r2, c2)
            for r in range(r1, min(r2, r1 + 500) + 1):
                for c in range(c1, min(c2, c1 + 100) + 1):
                    self.master[(r, c)] = (r1, c1)
        # label cell -> (field name, inline value after a colon or None)
        # calamine trims empty trailing columns; merged value blocks still count as the form's width
        self.width = max([grid.width] + [c2 + 1 for _, _, _, c2 in grid.merged])
        self.labels: dict[tuple[int, int], tuple[str, str | None]] = {}
        for r, row in enumerate(grid.rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and len(value) <= 60:
                    hit = _match_label(value, lookup)
                    if hit:
                        self.labels[(r, c)] = hit

    def resolve(self, r: int, c: int) -> tuple[int, int]:
        return self.master.get((r, c), (r, c))

    def area(self, r: int, c: int) -> Merge:
        r2, c2 = self.extent.get((r, c), (r, c))
        return r, c, r2, c2

    def is_label(self, r: int, c: int) -> bool:
        return self.resolve(r, c) in self.labels


def label_lookup(specs: tuple[FieldSpec, ...] | list[FieldSpec]) -> dict[str, str]:
    """normalised label -> field name; a field's own name wins over another field's alias."""
    lookup: dict[str, str] = {}
    for spec in specs:
        lookup.setdefault(normalize_label(spec.name), spec.name)
    for spec in specs:
        for label in spec.labels:
            lookup.setdefault(normalize_label(label), spec.name)
    lookup.pop("", None)
    return lookup


def _match_label(text: str, lookup: dict[str, str]) -> tuple[str, str | None] | None:
    name = lookup.get(normalize_label(text))
    if name:
        return name, None
    parts = _COLON.split(text, maxsplit=1)
    if len(parts) == 2:
        name = lookup.get(normalize_label(parts[0]))
        if name:
            return name, parts[1].strip() or None
    return None


def extract_form(grid: Grid, specs: tuple[FieldSpec, ...]) -> FormFields:
    index = SheetIndex(grid, label_lookup(specs))
    by_name = {s.name: s for s in specs}
    found = FormFields()
    # Reading order; the first label of a field that carries a value wins.
    for (r, c), (name, inline) in sorted(index.labels.items()):
        if name in found.values and found.values[name].value not in (None, ""):
            continue
        spec = by_name[name]
        if inline is not None:
            raw, at = inline, (r, c)
            area = index.area(r, c)
        else:
            raw, at, area = _value_near(index, r, c)
        if spec.type == "signature" and isinstance(raw, str) and not _SIGNATURE_PLACEHOLDER.sub("", raw):
            raw = None
        if spec.type == "image" and isinstance(raw, str) and "DISPIMG" in raw.upper():
            raw = None  # a WPS cell image's cached formula text: the picture itself is the value
        if name in found.values and raw in (None, ""):
            continue
        cell = cell_ref(grid.name, *at) if at else None
        found.values[name] = Value(name, coerce(spec, raw), raw, cell)
        found.labels[name] = (r, c)
        if area:
            found.areas[name] = area
    return found


def _value_near(index: SheetIndex, r: int, c: int) -> tuple[object, tuple[int, int] | None, Merge | None]:
    """(raw value, its cell, its merged area) right of the label, else below; blank gives the cell where
    the value belongs, so findings can point at it."""
    grid = index.grid
    r_end, c_end = index.extent.get((r, c), (r, c))
    first: tuple[int, int] | None = None
    gap = 0
    col = c_end + 1
    while col < index.width and gap <= _MAX_RIGHT_GAP:
        m = index.resolve(r, col)
        if m in index.labels:
            break
        first = first or m
        value = grid.get(*m)
        if value not in (None, ""):
            return value, m, index.area(*m)
        gap += 1
        col = index.area(*m)[3] + 1
    if first is None or _label_row(index, r):
        below = index.resolve(r_end + 1, c)
        value = grid.get(*below)
        if below not in index.labels and not _is_note(value) and (value not in (None, "") or first is None):
            return value, below, index.area(*below)
    return None, first, index.area(*first) if first else None


def _label_row(index: SheetIndex, r: int) -> bool:
    """A row of labels with no values beside them: a vertical form's header, values below."""
    cells = {index.resolve(r, c) for c, v in enumerate(index.grid.rows[r]) if v not in (None, "")}
    return len(cells) >= 2 and all(cell in index.labels for cell in cells)


def _is_note(value: object) -> bool:
    return isinstance(value, str) and value.lstrip().startswith(NOTE_PREFIXES)
