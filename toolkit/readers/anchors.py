"""The cell a drawing's picture stands for: the column it mostly covers near its corner, not merely the
one the corner is in.

A branch drags its logo into the value cell and drops it a little left: the anchor is then the label
cell plus an offset, while most of the picture covers the value cell. Column widths come from the
sheet's <cols> (in the part's head, which precedes <sheetData>: the rows are never parsed for this),
else its default width; they are read only for an anchor with an offset. Rows keep the anchor's row:
row heights are spread over every <row>.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable

from lxml import etree

from toolkit.readers.pictures_xlsx import children, local
from toolkit.readers.zipparts import ZIP_ERRORS, member_head

EMU_PER_PX = 9525
# absoluteAnchor has no cell: place it with Excel's default sizes (64 px columns, 20 px rows at 96 dpi).
_DEFAULT_COL_PX = 64
_DEFAULT_ROW_EMU = 20 * EMU_PER_PX
_DIGIT_PX = 7  # Calibri 11's digit width: Excel's unit of column width
_HEAD_BYTES = 256 * 1024  # <cols> of even a heavily formatted sheet fits well within
_COL = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_FORMAT = re.compile(rb"<(?:\w+:)?sheetFormatPr\b([^>]*)>")
_ATTR = re.compile(rb'(\w+)\s*=\s*"([^"]*)"')

Widths = Callable[[int], int]  # 0-based column -> its width in EMU


def anchor_cell(anchor: etree._Element, widths: Callable[[], Widths]) -> tuple[int, int]:
    """(row, column) a picture's anchor stands for; `widths` is called only when columns must be
    measured (an anchor offset into its first column)."""
    start = children(anchor, "from")
    if start:
        col = _number(start[0], "col")
        return _number(start[0], "row"), _covered(anchor, col, _number(start[0], "colOff"), widths)
    pos = children(anchor, "pos")
    if pos:
        try:
            x, y = int(pos[0].get("x", "0")), int(pos[0].get("y", "0"))
        except ValueError:
            return 0, 0
        return y // _DEFAULT_ROW_EMU, x // (_DEFAULT_COL_PX * EMU_PER_PX)
    return 0, 0


def _covered(anchor: etree._Element, col: int, offset: int, widths: Callable[[], Widths]) -> int:
    """`col`, or the next column when the picture starts in the right half of `col` (`offset` EMU in)
    and covers more of the next one: a logo dropped a little left of its cell, over the label's edge."""
    if offset <= 0:
        return col
    to, ext = children(anchor, "to"), children(anchor, "ext")
    last = _number(to[0], "col") if local(anchor) == "twoCellAnchor" and to else None
    if last is not None and last == col + 1 and (size := _picture_width(anchor)):
        into = _number(to[0], "colOff")  # both parts are known exactly: no widths are estimated
        return col + 1 if into > size - into else col
    if last is None and not (local(anchor) == "oneCellAnchor" and ext):
        return col
    width = widths()
    w = width(col)
    if offset * 2 <= w:
        return col
    if last is not None:
        reach = 0 if last <= col else _number(to[0], "colOff") if last == col + 1 else width(col + 1)
    else:
        reach = offset + _int(ext[0].get("cx")) - w  # how far into the next column it goes
    return col + 1 if min(reach, width(col + 1)) > w - offset else col


def _picture_width(anchor: etree._Element) -> int:
    """The width (EMU) a twoCellAnchor's shape declares in its a:xfrm, 0 when it declares none."""
    for el in anchor.iter():
        if local(el) == "xfrm":
            return next((_int(e.get("cx")) for e in children(el, "ext")), 0)
    return 0


def sheet_widths(zf: zipfile.ZipFile, part: str) -> Widths:
    """The sheet's column widths in EMU, by 0-based column."""
    try:  # an .xlsb's sheet is binary: its columns are taken at the default width
        head = b"" if part.endswith(".bin") else member_head(zf, zf.getinfo(part), _HEAD_BYTES)
    except ZIP_ERRORS:
        head = b""
    head = head.split(b"<sheetData", 1)[0]
    fmt = _FORMAT.search(head)
    default = _px(_attrs(fmt.group(1)).get(b"defaultColWidth") if fmt else None, _DEFAULT_COL_PX)
    spans: list[tuple[int, int, int]] = []
    for m in _COL.finditer(head):
        found = _attrs(m.group(1))
        px = 0 if found.get(b"hidden") in (b"1", b"true") else _px(found.get(b"width"), default)
        spans.append((_int(found.get(b"min")) - 1, _int(found.get(b"max")) - 1, px))

    def width(col: int) -> int:
        return EMU_PER_PX * next((px for first, last, px in spans if first <= col <= last), default)

    return width


def _attrs(text: bytes) -> dict[bytes, bytes]:
    return dict(_ATTR.findall(text))


def _px(chars: bytes | None, fallback: int) -> int:
    try:
        return round(float(chars) * _DIGIT_PX) if chars else fallback
    except ValueError:
        return fallback


def _int(text: str | bytes | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _number(parent: etree._Element, name: str) -> int:
    found = children(parent, name)
    return _int((found[0].text or "").strip()) if found else 0
