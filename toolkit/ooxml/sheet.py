"""One worksheet part being patched: the skeleton (everything but the rows) is parsed with lxml,
the rows stay text (sheetdata.py) and are spliced back in on save."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .errors import PackageError
from .refs import format_range, grow_range_cols, grow_sqref, parse_range
from .sheetdata import SheetData
from .xmltools import MAIN, XM, insert_in_order, parse, serialize

if TYPE_CHECKING:
    from lxml import etree

ORDER = ["sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
         "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
         "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
         "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
         "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing",
         "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
         "tableParts", "extLst"]
_SHEETDATA = re.compile(r"<((?:\w+:)?sheetData)\b([^>]*?)(/?)>")
_EMPTY_SHEETDATA = re.compile(r"<((?:\w+:)?sheetData)\b([^>]*?)/>")
_CHUNK = 1 << 20  # characters of rows encoded (and deflated) at a time


class Sheet:
    def __init__(self, part: str, data: bytes):
        self.part = part
        text = data.decode("utf-8")
        m = _SHEETDATA.search(text)
        if not m:
            raise PackageError(f"工作表部件 {part} 缺少 sheetData：文件已损坏，请用 Excel 或 WPS 打开后另存再试")
        name = m.group(1)
        self.prefix = name[: -len("sheetData")]
        if m.group(3):
            inner, skeleton = "", text
        else:
            close = f"</{name}>"
            end = text.index(close, m.end())
            inner = text[m.end():end]
            skeleton = text[:m.start()] + f"<{name}{m.group(2)}/>" + text[end + len(close):]
        self.rows = SheetData(inner, self.prefix)
        self.prolog, self.root = parse(skeleton.encode("utf-8"), part)
        self.bounds: tuple[int, int, int, int] | None = None  # cells written: r1, c1, r2, c2
        self._col_styles: dict[int, int] = {}  # column_style's answers, until set_col changes <cols>

    # skeleton helpers -----------------------------------------------------------------------------
    def find(self, name: str) -> etree._Element | None:
        return self.root.find(f"{{{MAIN}}}{name}")

    def ensure(self, name: str) -> etree._Element:
        from lxml import etree

        el = self.find(name)
        if el is None:
            el = etree.Element(f"{{{MAIN}}}{name}")
            insert_in_order(self.root, el, ORDER)
        return el

    def note_cell(self, r: int, c: int, last: int | None = None) -> None:
        """Cell (r, c) was written (and those of row r up to column `last`): the dimension covers them."""
        b, last = self.bounds, last or c
        self.bounds = (r, c, r, last) if b is None else (min(b[0], r), min(b[1], c), max(b[2], r), max(b[3], last))

    # sizes ------------------------------------------------------------------------------------------
    def col_width(self, c: int) -> float:
        """Width of 1-based column `c` in character units."""
        cols = self.find("cols")
        for col in cols if cols is not None else []:
            if int(col.get("min", 0)) <= c <= int(col.get("max", 0)) and col.get("width"):
                return float(col.get("width"))
        fmt = self.find("sheetFormatPr")
        if fmt is not None and fmt.get("defaultColWidth"):
            return float(fmt.get("defaultColWidth"))
        base = float(fmt.get("baseColWidth", 8)) if fmt is not None else 8.0
        return base + 0.43 if base == 8 else base + 5 / 7

    def row_height(self, r: int) -> float:
        """Height of 1-based row `r` in points."""
        row = self.rows.row(r)
        if row is not None and (ht := row.tag.get("ht")):
            return float(ht)
        fmt = self.find("sheetFormatPr")
        return float(fmt.get("defaultRowHeight", 15)) if fmt is not None else 15.0

    def column_style(self, c: int) -> int:
        """Style of 1-based column `c` (0 when it has none); remembered: a stamp asks once per row."""
        if (known := self._col_styles.get(c)) is not None:
            return known
        cols = self.find("cols")
        style = next((int(col.get("style", 0)) for col in (cols if cols is not None else [])
                      if int(col.get("min", 0)) <= c <= int(col.get("max", 0))), 0)
        self._col_styles[c] = style
        return style

    def set_col(self, c: int, width: float | None, like: int | None,
                restyle: Callable[[int], int] | None = None) -> None:
        """Give column `c` its own <col>: `width` if given, else a copy of column `like`'s entry, its
        style passed through `restyle` when given."""
        import copy

        from lxml import etree

        self._col_styles.clear()
        cols = self.find("cols")
        covering = [col for col in (cols if cols is not None else [])
                    if int(col.get("min", 0)) <= c <= int(col.get("max", 0))]
        if covering and width is None:
            return
        template = None
        if like is not None and cols is not None:
            template = next((col for col in cols if int(col.get("min", 0)) <= like <= int(col.get("max", 0))), None)
        if template is None and width is None:
            return
        cols = self.ensure("cols")
        for col in covering:  # split a range that covers c so c can have its own width
            lo, hi = int(col.get("min")), int(col.get("max"))
            idx = list(cols).index(col)
            cols.remove(col)
            for a, b in ((lo, c - 1), (c + 1, hi)):
                if a <= b:
                    part = copy.deepcopy(col)
                    part.set("min", str(a))
                    part.set("max", str(b))
                    cols.insert(idx, part)
                    idx += 1
        new = copy.deepcopy(template) if template is not None else etree.Element(f"{{{MAIN}}}col")
        new.set("min", str(c))
        new.set("max", str(c))
        if restyle is not None and (style := new.get("style") or "").isdigit():
            new.set("style", str(restyle(int(style))))
        if width is not None:
            new.set("width", f"{width:g}")
            new.set("customWidth", "1")
        pos = next((i for i, col in enumerate(cols) if int(col.get("min", 0)) > c), len(cols))
        cols.insert(pos, new)

    # ranges ------------------------------------------------------------------------------------------
    def grow_rows(self, like: int, new: int) -> None:
        """Extend the sheet's auto-filter, validations and conditional formats that end at `like`."""
        af = self.find("autoFilter")
        if af is not None and af.get("ref"):
            af.set("ref", grow_sqref(af.get("ref"), like, new))
        for el in self.root.iter(f"{{{MAIN}}}dataValidation", f"{{{MAIN}}}conditionalFormatting"):
            if el.get("sqref"):
                el.set("sqref", grow_sqref(el.get("sqref"), like, new))
        for el in self.root.iter(f"{{{XM}}}sqref"):
            el.text = grow_sqref(el.text or "", like, new)
        merges = self.find("mergeCells")
        if merges is not None:  # a merge inside the template row is repeated in the new row
            from lxml import etree

            for m in list(merges):
                try:
                    r1, c1, r2, c2 = parse_range(m.get("ref", ""))
                except ValueError:
                    continue
                if r1 == r2 == like:
                    etree.SubElement(merges, f"{{{MAIN}}}mergeCell", ref=format_range(new, c1, new, c2))
            merges.set("count", str(len(merges)))

    def grow_cols(self, header_row: int, col: int) -> None:
        af = self.find("autoFilter")
        if af is not None and af.get("ref"):
            grown = grow_range_cols(af.get("ref"), header_row, col)
            if grown:
                af.set("ref", grown)

    # output ------------------------------------------------------------------------------------------
    def _update_dimension(self) -> None:
        if self.bounds is None:
            return
        dim = self.ensure("dimension")
        box = self.bounds
        try:
            a = parse_range(dim.get("ref", ""))
            if self.rows.order:  # an empty sheet says "A1", which holds nothing
                box = (min(a[0], box[0]), min(a[1], box[1]), max(a[2], box[2]), max(a[3], box[3]))
        except ValueError:
            pass
        dim.set("ref", format_range(*box))

    def chunks(self) -> Iterator[bytes]:
        """The part's bytes, in pieces of about a megabyte: its rows are never all joined in memory."""
        self._update_dimension()
        out = serialize(self.prolog, self.root).decode("utf-8")
        pieces = (piece for piece in self.rows.pieces() if piece)
        first = next(pieces, None)
        if first is None:
            yield out.encode("utf-8")
            return
        m = _EMPTY_SHEETDATA.search(out)
        if m is None:  # the rows live in self.rows; the tree always keeps an empty <sheetData/>
            raise ValueError("worksheet without an empty <sheetData/>")
        yield f"{out[:m.start()]}<{m.group(1)}{m.group(2)}>".encode()
        batch, size = [first], len(first)
        for piece in pieces:
            batch.append(piece)
            size += len(piece)
            if size >= _CHUNK:
                yield "".join(batch).encode("utf-8")
                batch, size = [], 0
        batch.append(f"</{m.group(1)}>{out[m.end():]}")
        yield "".join(batch).encode("utf-8")
