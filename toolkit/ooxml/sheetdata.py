"""<sheetData> edited as text: rows are located with a scan, only the rows a change touches are
parsed, and every other row (and every untouched cell of a touched row) keeps its exact bytes.

A full parse and re-serialisation would rewrite entities, quotes and empty elements of rows nobody
changed, and costs far more on a 20k-row ledger; rows and cells never nest, so a scan is exact.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from .refs import col_index, column_letters
from .xmltools import StartTag

_ROW = re.compile(r"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", re.S)
_ROW_START = re.compile(r"<((?:\w+:)?row)\b")
# A cell and the column letters of its r attribute ("" without one), in one pass over a row.
_CELL_COL = re.compile(r"""(<(?:\w+:)?c\b(?:(?=[^>]*?\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?\d+["']))?"""
                       r"[^>]*?(?:/>|>.*?</(?:\w+:)?c>))", re.S)
_CELL_OPEN = re.compile(r"<(?:\w+:)?c\s")
_R_ATTR = re.compile(r'\sr\s*=\s*["\'](\d+)["\']')
_SPANS = re.compile(r'\sspans\s*=\s*["\'](\d+):(\d+)["\']')
_NAME = re.compile(r"<([^\s/>]+)")
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

    __slots__ = ("col", "text", "_tag")

    def __init__(self, col: int, text: str, tag: StartTag | None = None):
        self.col, self.text = col, text
        self._tag = (text, tag) if tag is not None else None  # the start tag parsed from that text

    def start(self) -> StartTag:
        """The cell's start tag, the caller's own to change."""
        if self._tag is None or self._tag[0] is not self.text:
            self._tag = (self.text, StartTag(_start(self.text)))
        return self._tag[1].copy()

    @property
    def style(self) -> int:
        return style_of(self.start())

    @property
    def has_children(self) -> bool:
        return not self.text.endswith("/>")

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
    """A row being edited: its start tag, its cells in column order, and any trailing content (extLst).

    The cells are split out only when something needs them all. A cell looked up by column is first
    sought by its reference (` r="V7"`, as every writer spells it) and edited in place, so writing one
    cell of a 20-cell row costs a search, not a parse; anything else (a cell that is absent, a row
    whose cells carry no reference) splits the row, keeping the cells found so far and their edits."""

    __slots__ = ("r", "prefix", "_start", "_fresh", "_tag", "_body", "_cells", "_tail", "_found")

    def __init__(self, r: int, text: str | None, prefix: str):
        self.r, self.prefix = r, prefix
        self._found: dict[int, tuple[int, int, Cell]] = {}  # col -> (start, end) in _body, the cell
        self._tail = ""
        self._body: str | None = None  # the original content, while the cells are not split out
        self._cells: list[Cell] | None = []
        self._tag: StartTag | None = None  # parsed when read or changed; until then _start is kept as is
        self._fresh = text is None
        if text is None:
            self._start = f'<{prefix}row r="{r}"/>'
            return
        self._start = start = _start(text)
        self._body = "" if start.endswith("/>") else text[len(start):text.rindex("</")]
        self._cells = None

    @property
    def tag(self) -> StartTag:
        if self._tag is None:
            self._tag = StartTag(self._start)
            self._tag.set("r", str(self.r))
        return self._tag

    @property
    def cells(self) -> list[Cell]:
        if self._cells is None:
            return self._split()
        return self._cells

    def _split(self) -> list[Cell]:
        body = self._body or ""
        found = {start: cell for start, _, cell in self._found.values()}
        cells: list[Cell] = []
        col = end = 0
        for m in _CELL_COL.finditer(body):
            letters = m.group(2)
            col = _col_number(letters) if letters else col + 1
            cell = found.get(m.start())
            if cell is None:
                cell = Cell(col, m.group(1))
            cells.append(cell)
            end = m.end()
        self._cells, self._tail = cells, body[end:]
        self._body, self._found = None, {}
        return cells

    def _locate(self, col: int) -> Cell | None:
        """The cell at `col` found by its reference without splitting the row (None: not found so)."""
        if col in self._found:
            return self._found[col][2]
        body = self._body or ""
        ref = self.ref(col)
        at = body.find(f' r="{ref}"')
        if at < 0:
            return None
        lt = body.rfind("<", 0, at)
        gt = body.find(">", at)
        if lt < 0 or gt < 0 or not _CELL_OPEN.match(body, lt) or ">" in body[lt:at]:
            return None  # the text is not inside a cell's start tag
        tag = StartTag(body[lt:gt + 1])
        if tag.get("r") != ref:  # inside another attribute's value
            return None
        if tag.empty:
            end = gt + 1
        else:
            close = body.find(f"</{tag.name}>", gt)
            if close < 0:
                return None
            end = close + len(tag.name) + 3
        cell = Cell(col, body[lt:end], tag)
        self._found[col] = (lt, end, cell)
        return cell

    def cell(self, col: int) -> Cell | None:
        if self._cells is None:
            hit = self._locate(col)
            if hit is not None:
                return hit
        for c in self.cells:
            if c.col == col:
                return c
        return None

    def put(self, col: int, text: str) -> None:
        """Insert or replace the cell at `col`, keeping column order."""
        if self._cells is None:
            hit = self._locate(col)
            if hit is not None:
                hit.text = text
                return
        cells = self.cells
        if not cells or cells[-1].col < col:
            cells.append(Cell(col, text))
            return
        for i, c in enumerate(cells):
            if c.col == col:
                c.text = text
                return
            if c.col > col:
                cells.insert(i, Cell(col, text))
                return

    def ref(self, col: int) -> str:
        return f"{column_letters(col)}{self.r}"

    def text(self) -> str:
        if self._cells is None:  # only cells found by reference were edited: spliced into the original
            body = self._body or ""
            pieces: list[str] = []
            pos = 0
            for at, end, cell in sorted(self._found.values(), key=lambda f: f[0]) if len(self._found) > 1 \
                    else self._found.values():
                pieces += (body[pos:at], cell.text)
                pos = end
            pieces.append(body[pos:])
            body = "".join(pieces)
            edges = (min(self._found), max(self._found)) if self._found else None
        else:
            body = "".join(c.text for c in self._cells) + self._tail
            edges = (self._cells[0].col, self._cells[-1].col) if self._cells else None
        if self._tag is None and self._fresh:  # a new row nobody gave attributes
            name = f"{self.prefix}row"
            return f'<{name} r="{self.r}">{body}</{name}>' if body else f'<{name} r="{self.r}"/>'
        if self._tag is None and self._unchanged_start(edges, bool(body)):
            head = self._start
            if head.endswith("/>"):
                return head
            return f"{head}{body}</{_NAME.match(head).group(1)}>"  # type: ignore[union-attr]
        spans = self.tag.get("spans")
        if spans and edges and ":" in spans:
            lo, hi = (int(x) for x in spans.split(":")[:2])
            lo, hi = min(lo, edges[0]), max(hi, edges[1])
            self.tag.set("spans", f"{lo}:{hi}")
        if not body:
            return self.tag.text(empty=True)
        return f"{self.tag.text(empty=False)}{body}</{self.tag.name}>"

    def _unchanged_start(self, edges: tuple[int, int] | None, has_body: bool) -> bool:
        """Whether the original start tag still holds: it names this row, its spans (if any) cover the
        cells written, and it is not an empty <row/> that now has cells."""
        start = self._start
        if start.endswith("/>") and has_body:
            return False
        r = _R_ATTR.search(start)
        if r is None or int(r.group(1)) != self.r:
            return False
        spans = _SPANS.search(start)
        return spans is None or edges is None or int(spans.group(1)) <= edges[0] and edges[1] <= int(spans.group(2))


def _rows(inner: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each <row> element: a row's start tag is matched, then its end tag is found by a
    plain search (rows never nest), so the scan does not walk the cells; an end tag spelled with another
    prefix falls back to _ROW."""
    pos, find = 0, inner.find
    while (m := _ROW_START.search(inner, pos)) is not None:
        start = m.start()
        gt = find(">", m.end())
        if gt < 0:
            return
        if inner[gt - 1] == "/":
            end = gt + 1
        elif (close := find(f"</{m.group(1)}>", gt)) >= 0:
            end = close + len(m.group(1)) + 3
        elif (whole := _ROW.match(inner, start)) is not None:
            end = whole.end()
        else:
            pos = start + 1
            continue
        yield start, end
        pos = end


class SheetData:
    def __init__(self, inner: str, prefix: str):
        self.inner, self.prefix = inner, prefix
        self.spans: dict[int, tuple[int, int]] = {}
        self.order: list[int] = []
        last = 0
        for start, end in _rows(inner):
            rm = _R_ATTR.search(inner, start, inner.find(">", start))
            last = int(rm.group(1)) if rm else last + 1
            self.spans[last] = (start, end)
            self.order.append(last)
        self.parsed: dict[int, Row] = {}
        self.settled: dict[int, str] = {}  # changed rows kept as their new text (settle)
        self.changed: set[int] = set()

    def original(self, r: int) -> str | None:
        span = self.spans.get(r)
        return self.inner[span[0]:span[1]] if span else None

    def row(self, r: int) -> Row | None:
        """The row for reading (None when absent); does not mark it changed."""
        if r in self.parsed:
            return self.parsed[r]
        text = self.settled.get(r) or self.original(r)
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

    def add(self, r: int, cells: list[str]) -> None:
        """Row `r`, which the sheet does not have, made of these cells' texts (in column order), kept as
        its text."""
        name = f"{self.prefix}row"
        self.settled[r] = f'<{name} r="{r}">{"".join(cells)}</{name}>' if cells else f'<{name} r="{r}"/>'
        self.changed.add(r)

    def settle(self, r: int) -> None:
        """Keep changed row `r` as its text, not its parts, until it is touched again: a big change holds
        one string per row."""
        if r in self.changed and (row := self.parsed.pop(r, None)) is not None:
            self.settled[r] = row.text()

    def size(self) -> int:
        """About how many characters the rows make now, at most: the original's and the settled rows' own."""
        return len(self.inner) + sum(map(len, self.settled.values()))

    def row_numbers(self) -> list[int]:
        return sorted(set(self.order) | self.changed)

    def last_row(self) -> int:
        return max(self.row_numbers() or [0])

    def _changed(self, r: int) -> str:
        return self.parsed[r].text() if r in self.parsed else self.settled[r]

    def pieces(self) -> Iterator[str]:
        """The content of <sheetData>, in pieces: every row as it is now, unchanged ones as they were."""
        if not self.changed:
            yield self.inner
            return
        new = sorted(r for r in self.changed if r not in self.spans)
        pos, ni = 0, 0
        for r in self.order:
            start, end = self.spans[r]
            while ni < len(new) and new[ni] < r:
                yield self._changed(new[ni])
                ni += 1
            if pos < start:
                yield self.inner[pos:start]
            yield self._changed(r) if r in self.changed else self.inner[start:end]
            pos = end
        for r in new[ni:]:
            yield self._changed(r)
        yield self.inner[pos:]

    def text(self) -> str:
        return "".join(self.pieces())
