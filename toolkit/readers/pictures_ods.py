"""Pictures in .ods: draw:frame/draw:image in content.xml, pointing at a zip member (Pictures/...).

content.xml is streamed. A frame inside a table:table-cell is anchored at that cell, whose position comes
from counting rows and cells (with their -repeated attributes and covered cells). A frame in table:shapes
is anchored to the page: its cell is computed from svg:x/svg:y over the declared column widths and row
heights (LibreOffice's default sizes where a column or row declares none); without svg:x/svg:y it is
placed at A1.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from toolkit.core.model import Picture
from toolkit.readers.pictures import MediaBudget, make_picture
from toolkit.readers.pictures_xlsx import iter_xml, local
from toolkit.readers.zipparts import package_zip, read_member

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_SVG = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
_XLINK = "http://www.w3.org/1999/xlink"
_DEFAULT_COL_CM = 2.258  # LibreOffice's default column width (0.889 in)
_DEFAULT_ROW_CM = 0.452  # and default row height (0.178 in)
_CM_PER = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72, "pc": 2.54 / 6, "px": 2.54 / 96}
_LENGTH = re.compile(r"^\s*(-?[0-9.]+)\s*([a-z]*)\s*$")
_TAGS = (f"{{{_TABLE}}}*", f"{{{_STYLE}}}table-column-properties", f"{{{_STYLE}}}table-row-properties",
         f"{{{_DRAW}}}frame", f"{{{_DRAW}}}image")
_MAX_REPEAT = 1 << 20  # a sheet has at most 1,048,576 rows; larger repeats are hostile


@dataclass
class _Table:
    name: str
    row: int = -1
    col: int = -1
    in_shapes: bool = False
    columns: list[tuple[int, float]] = field(default_factory=list)  # (repeat, width cm)
    rows: list[tuple[int, float]] = field(default_factory=list)  # kept only while page frames wait
    pending: list[tuple[float | None, float | None, str, str]] = field(default_factory=list)


def find_ods_pictures(data: bytes, package: zipfile.ZipFile | None = None) -> list[Picture]:
    with package_zip(data, package) as zf:
        if zf is None:
            return []
        budget = MediaBudget()
        media: dict[str, bytes | None] = {}

        def picture(sheet: str, row: int, col: int, href: str, name: str) -> Picture | None:
            path = _member(href)
            if path is not None and path not in media:
                blob = read_member(zf, path, budget.left)
                media[path] = blob if blob is not None and budget.take(len(blob)) else None
            blob = media.get(path) if path is not None else None
            return None if blob is None else make_picture(sheet, row, col, "ods_frame", blob, name)

        found: list[Picture] = []
        for sheet, row, col, href, name in _frames(zf):
            pic = picture(sheet, row, col, href, name)
            if pic is not None:
                found.append(pic)
        return found


def _member(href: str) -> str | None:
    """Zip member named by an xlink:href; None for external links and paths leaving the package."""
    if not href or ":" in href.split("/")[0]:
        return None
    path = posixpath.normpath(href.lstrip("/"))
    return None if path.startswith("..") or path == "." else path


def _frames(zf) -> list[tuple[str, int, int, str, str]]:
    """(sheet, row, col, href, frame name) of every image frame in content.xml, in document order."""
    styles: dict[str, float] = {}
    found: list[tuple[str, int, int, str, str]] = []
    table: _Table | None = None
    frame: tuple[str, int, int, float | None, float | None] | None = None  # name, row, col, x, y
    frame_has_image = False
    for event, el in iter_xml(zf, "content.xml", ("start", "end"), _TAGS):
        name = local(el)
        if name in ("table-column-properties", "table-row-properties") and event == "start":
            size = el.get(f"{{{_STYLE}}}column-width") or el.get(f"{{{_STYLE}}}row-height")
            style = el.getparent().get(f"{{{_STYLE}}}name") if el.getparent() is not None else None
            if style and (cm := _cm(size)) is not None:
                styles[style] = cm
        elif name == "table" and el.tag == f"{{{_TABLE}}}table":
            if event == "start":
                table = _Table(el.get(f"{{{_TABLE}}}name") or "")
            elif table is not None:
                found.extend(_resolve_page_frames(table))
                table = None
        elif table is None:
            continue
        elif name == "shapes":
            table.in_shapes = event == "start"
        elif name == "table-column" and event == "start":
            width = styles.get(el.get(f"{{{_TABLE}}}style-name") or "", _DEFAULT_COL_CM)
            table.columns.append((_repeat(el, "number-columns-repeated"), width))
        elif name == "table-row":
            if event == "start":
                table.row, table.col = table.row + 1, -1
            else:
                repeat = _repeat(el, "number-rows-repeated")
                if table.pending:
                    table.rows.append((repeat, styles.get(el.get(f"{{{_TABLE}}}style-name") or "",
                                                          _DEFAULT_ROW_CM)))
                table.row += repeat - 1
                _free(el)
        elif name in ("table-cell", "covered-table-cell"):
            if event == "start":
                table.col += 1
            else:
                table.col += _repeat(el, "number-columns-repeated") - 1
        elif name == "frame":
            if event == "start":
                frame = (el.get(f"{{{_DRAW}}}name") or "", table.row, table.col,
                         _cm(el.get(f"{{{_SVG}}}x")), _cm(el.get(f"{{{_SVG}}}y")))
                frame_has_image = False
            else:
                frame = None
        elif name == "image" and event == "start" and frame is not None and not frame_has_image:
            href = el.get(f"{{{_XLINK}}}href") or ""
            frame_has_image = True  # the first image; others are alternative renderings of it
            if table.in_shapes or frame[1] < 0 or frame[2] < 0:
                table.pending.append((frame[3], frame[4], href, frame[0]))
            else:
                found.append((table.name, frame[1], frame[2], href, frame[0]))
    return found


def _resolve_page_frames(table: _Table) -> list[tuple[str, int, int, str, str]]:
    return [(table.name, _index(table.rows, y, _DEFAULT_ROW_CM), _index(table.columns, x, _DEFAULT_COL_CM),
             href, name) for x, y, href, name in table.pending]


def _index(runs: list[tuple[int, float]], offset: float | None, default: float) -> int:
    """0-based index of the row/column containing `offset` cm, over (repeat, size) runs; sizes past the
    declared runs are the default. No offset (or a nonsensical one) means A1."""
    if offset is None or offset < 0 or default <= 0:
        return 0
    start, index = 0.0, 0
    for repeat, size in runs:
        if size <= 0:
            index += repeat
            continue
        if offset < start + repeat * size:
            return index + int((offset - start) // size)
        start += repeat * size
        index += repeat
    return index + int((offset - start) // default)


def _repeat(el, attr: str) -> int:
    value = el.get(f"{{{_TABLE}}}{attr}") or "1"
    return min(int(value), _MAX_REPEAT) if value.isdigit() and int(value) > 0 else 1


def _cm(length: str | None) -> float | None:
    m = _LENGTH.match(length or "")
    if not m or m.group(2) not in _CM_PER:
        return None
    try:
        return float(m.group(1)) * _CM_PER[m.group(2)]
    except ValueError:
        return None


def _free(el) -> None:
    """Drop a finished row (and earlier siblings) so a long sheet streams in constant memory."""
    el.clear()
    parent = el.getparent()
    while parent is not None and el.getprevious() is not None:
        del parent[0]
