"""<sheetData> edited as text: rows are located with a scan, only the rows a change touches are
parsed, and every other row (and every untouched cell of a touched row) keeps its exact bytes.

A full parse and re-serialisation would rewrite entities, quotes and empty elements of rows nobody
changed, and costs far more on a 20k-row ledger; rows and cells never nest, so a scan is exact.
"""

from __future__ import annotations

import functools
import re

from toolkit.core.model import col_letter

from .refs import col_index
from .xmltools import StartTag

_ROW = re.compile(r"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
# A cell and the column letters of its r attribute ("" without one), in one pass over a row.
_CELL_COL = re.compile(r"""(<(?:\w+:)?c\b(?:(?=[^>]*?\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?\d+["']))?"""
                       r"[^>]*?(?:/>|>.*?</(?:\w+:)?c>))", re.S)
_R_ATTR = re.compile(r'\sr\s*=\s*["\'](\d+)["\']')
_START = re.compile(r"<[^>]*>")


@functools.lru_cache(maxsize=1024)
def _col_number(letters: str) -> int:
    return col_index(letters)


def _start(text: str) -> str:
    """The start tag `text` begins with (rows and cells found by the scan always begin with one)."""
    m = _START.match(text)
    if m is None:
        raise ValueError(f"no start tag: {text[:40]!r}")
    return m.group(0)


def style_of(tag: StartTag) -> int:
    """A cell's style index from its start tag (0 when absent or malformed)."""
    s = tag.get("s")
    return int(s) if s and s.isdigit() else 0


class Cell:
    """One <c> element; `text` is its exact XML until it is replaced."""

    __slots__ = ("col", "text")

    def __init__(self, col: int, text: str):
        self.col, self.text = col, text

    def start(self) -> StartTag:
        return StartTag(_start(self.text))

    @property
    def style(self) -> int:
        return style_of(self.start())

    @property
    def has_value(self) -> bool:
        return not self.text.endswith("/>") and ("<v" in self.text or "<is" in self.text or ":v" in self.text)

    def child(self, name: str) -> tuple[StartTag, str] | None:
        """(start tag, inner text) of the first child `name` (any prefix), or None."""
        m = re.search(rf"<(?:\w+:)?{name}\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?{name}>)", self.text, re.S)
        if not m:
            return None
        return StartTag(_start(m.group(0))), m.group(1) or ""


class Row:
    """A parsed row: its start tag, cells in column order, and any trailing content (extLst)."""

    def __init__(self, r: int, text: str | None, prefix: str):
        self.r, self.prefix = r, prefix
        if text is None:
            self.tag = StartTag(f'<{prefix}row r="{r}"/>')
            self.cells: list[Cell] = []
            self.tail = ""
            return
        start = _start(text)
        self.tag = StartTag(start)
        self.tag.set("r", str(r))
        body = "" if start.endswith("/>") else text[len(start):text.rindex("</")]
        self.cells, col = [], 0
        found = _CELL_COL.findall(body)
        for cell, letters in found:
            col = _col_number(letters) if letters else col + 1
            self.cells.append(Cell(col, cell))
        self.tail = body[body.rindex(found[-1][0]) + len(found[-1][0]):] if found else body

    def cell(self, col: int) -> Cell | None:
        for c in self.cells:
            if c.col == col:
                return c
        return None

    def put(self, col: int, text: str) -> None:
        """Insert or replace the cell at `col`, keeping column order."""
        for i, c in enumerate(self.cells):
            if c.col == col:
                c.text = text
                return
            if c.col > col:
                self.cells.insert(i, Cell(col, text))
                return
        self.cells.append(Cell(col, text))

    def ref(self, col: int) -> str:
        return f"{col_letter(col - 1)}{self.r}"

    def text(self) -> str:
        spans = self.tag.get("spans")
        if spans and self.cells and ":" in spans:
            lo, hi = (int(x) for x in spans.split(":")[:2])
            lo, hi = min(lo, self.cells[0].col), max(hi, self.cells[-1].col)
            self.tag.set("spans", f"{lo}:{hi}")
        body = "".join(c.text for c in self.cells) + self.tail
        if not body:
            return self.tag.text(empty=True)
        return f"{self.tag.text(empty=False)}{body}</{self.tag.name}>"


class SheetData:
    def __init__(self, inner: str, prefix: str):
        self.inner, self.prefix = inner, prefix
        self.spans: dict[int, tuple[int, int]] = {}
        self.order: list[int] = []
        last = 0
        for m in _ROW.finditer(inner):
            head = inner[m.start():inner.find(">", m.start())]
            rm = _R_ATTR.search(head)
            last = int(rm.group(1)) if rm else last + 1
            self.spans[last] = (m.start(), m.end())
            self.order.append(last)
        self.parsed: dict[int, Row] = {}
        self.changed: set[int] = set()

    def original(self, r: int) -> str | None:
        span = self.spans.get(r)
        return self.inner[span[0]:span[1]] if span else None

    def row(self, r: int) -> Row | None:
        """The row for reading (None when absent); does not mark it changed."""
        if r in self.parsed:
            return self.parsed[r]
        text = self.original(r)
        if text is None:
            return None
        self.parsed[r] = Row(r, text, self.prefix)
        return self.parsed[r]

    def touch(self, r: int) -> Row:
        """The row for editing, created when absent."""
        row = self.row(r)
        if row is None:
            row = self.parsed[r] = Row(r, None, self.prefix)
        self.changed.add(r)
        return row

    def row_numbers(self) -> list[int]:
        return sorted(set(self.order) | self.changed)

    def last_row(self) -> int:
        return max(self.row_numbers() or [0])

    def text(self) -> str:
        if not self.changed:
            return self.inner
        new = sorted(r for r in self.changed if r not in self.spans)
        out, pos, ni = [], 0, 0
        for r in self.order:
            start, end = self.spans[r]
            while ni < len(new) and new[ni] < r:
                out.append(self.parsed[new[ni]].text())
                ni += 1
            out.append(self.inner[pos:start])
            out.append(self.parsed[r].text() if r in self.changed else self.inner[start:end])
            pos = end
        out.extend(self.parsed[r].text() for r in new[ni:])
        out.append(self.inner[pos:])
        return "".join(out)
