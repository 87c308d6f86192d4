"""A1 references: shift relative references in formulas, grow ranges (sqref, defined names).

Rows and columns here are 1-based, as written in the XML."""

from __future__ import annotations

import functools
import re

from toolkit.core.model import col_letter

MAX_ROW, MAX_COL = 1048576, 16384

# Strings and quoted sheet names are matched first so that nothing inside them is taken for a ref;
# [..] skips structured references and external-book indices.
_TOKENS = re.compile(r"""
    "(?:[^"]|"")*"
  | '(?:[^']|'')*'!
  | \[[^\]]*\]
  | (?<![A-Za-z0-9_.$])(?P<cabs>\$?)(?P<col>[A-Za-z]{1,3})(?P<rabs>\$?)(?P<row>\d{1,7})(?![A-Za-z0-9_(!.])
""", re.X)
_CELL = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)(\d+)$")


@functools.lru_cache(maxsize=1024)
def column_letters(col: int) -> str:
    """1 -> 'A' (remembered: a big change names the same columns over and over)."""
    return col_letter(col - 1)


def col_index(letters: str) -> int:
    """'A' -> 1."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def shift_formula(formula: str, drow: int, dcol: int = 0) -> str:
    """Shift every relative A1 reference in `formula` by (drow, dcol); $-anchored parts stay."""

    def repl(m: re.Match) -> str:
        if not m.group("col"):
            return m.group(0)
        col, row = col_index(m.group("col")), int(m.group("row"))
        if col > MAX_COL or row > MAX_ROW:
            return m.group(0)  # a name like ABCD1 or LOG10 is not a reference
        if not m.group("rabs"):
            row += drow
        if not m.group("cabs"):
            col += dcol
        if row < 1 or col < 1:
            return "#REF!"
        return f"{m.group('cabs')}{col_letter(col - 1)}{m.group('rabs')}{row}"

    return _TOKENS.sub(repl, formula)


def parse_cell(ref: str) -> tuple[int, int]:
    """'$B$3' -> (3, 2)."""
    m = _CELL.match(ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(4)), col_index(m.group(2))


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """'A2:D10' -> (r1, c1, r2, c2); a single cell is a 1x1 range."""
    a, _, b = ref.partition(":")
    r1, c1 = parse_cell(a)
    r2, c2 = parse_cell(b) if b else (r1, c1)
    return r1, c1, r2, c2


def format_range(r1: int, c1: int, r2: int, c2: int) -> str:
    a = f"{col_letter(c1 - 1)}{r1}"
    return a if (r1, c1) == (r2, c2) else f"{a}:{col_letter(c2 - 1)}{r2}"


def _with_row(ref: str, row: int) -> str:
    m = _CELL.match(ref)
    if not m:
        raise ValueError(ref)
    return f"{m.group(1)}{m.group(2)}{m.group(3)}{row}"


def grow_range_rows(ref: str, like: int, new: int) -> str:
    """Extend a range whose last row is `like` or `new - 1` down to `new` (keeping $ signs)."""
    a, sep, b = ref.partition(":")
    try:
        r1, _ = parse_cell(a)
        r2, _ = parse_cell(b or a)
    except ValueError:
        return ref
    if r2 in (like, new - 1) and r1 <= like and new > r2:
        return f"{a}:{_with_row(b or a, new)}"
    return ref


def grow_sqref(sqref: str, like: int, new: int) -> str:
    return " ".join(grow_range_rows(p, like, new) for p in sqref.split())


def grow_range_cols(ref: str, header_row: int, col: int) -> str | None:
    """Extend a range whose first row is `header_row` and last column `col - 1` to `col`; None if not."""
    try:
        r1, c1, r2, c2 = parse_range(ref)
    except ValueError:
        return None
    if r1 == header_row and c2 == col - 1:
        return format_range(r1, c1, r2, col)
    return None


_SHEET_REF = re.compile(r"""(?:'((?:[^']|'')+)'|([^\s'!:,()=+\-*/&^<>"]+))!(\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)""")


def grow_defined_name(text: str, sheet: str, like: int, new: int) -> str:
    """Grow every range of `sheet` in a defined name's formula whose last row is `like`/`new - 1`."""

    def repl(m: re.Match) -> str:
        name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        if name != sheet:
            return m.group(0)
        return m.group(0)[: m.start(3) - m.start(0)] + grow_range_rows(m.group(3), like, new)

    return _SHEET_REF.sub(repl, text)
