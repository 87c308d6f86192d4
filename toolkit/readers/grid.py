"""Sheets as plain grids of values, whatever the format.

python-calamine reads xlsx/xlsm/xlsb/xls/ods (25× faster than openpyxl); CSV, HTML tables and
SpreadsheetML 2003 are parsed here, Word forms in readers/docx.py. Calamine's drift is corrected at this
layer: error cells and empty strings become None, integral floats in numeric cells stay floats (typing is
the field's job), merged ranges are kept so readers can see a value over its whole block.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from typing import Any

from toolkit.core.grid import Grid
from toolkit.core.model import WORD_KINDS
from toolkit.readers.errors import Unreadable
from toolkit.readers.sniff import decode_text
from toolkit.readers.zipparts import without_media


def read_grids(data: bytes, kind: str, package: zipfile.ZipFile | None = None) -> dict[str, Grid]:
    """Every worksheet of the file, in order. Raises Unreadable for anything that cannot be read.
    `package`: an xlsx's zip, when the caller has opened it already: calamine is then handed the
    package without its pictures (zipparts.without_media), not a copy of the whole file."""
    if kind == "csv":
        return {"Sheet1": _csv_grid(data)}
    if kind == "html":
        return _html_grids(data)
    if kind == "xml2003":
        from toolkit.readers.xml2003 import read_xml2003

        return read_xml2003(data)
    if kind in WORD_KINDS:  # the tables of a Word form, laid out as a sheet
        from toolkit.readers.docx import read_word

        return read_word(data, kind).grids
    return _calamine_grids(data, kind, package)


def clean_value(value: Any) -> Any:
    """calamine's drift corrected: blank strings -> None, midnight datetimes -> dates."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _calamine_grids(data: bytes, kind: str, package: zipfile.ZipFile | None = None) -> dict[str, Grid]:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    values = without_media(data, package) if package is not None and kind == "xlsx" else data
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(values))
    except PasswordError:
        raise Unreadable("encrypted") from None
    except CalamineError as exc:
        if values is not data:  # never worse than the whole file
            return _calamine_grids(data, kind)
        if kind == "xlsx":  # e.g. Excel 4 macro sheets, which calamine refuses (FACTS)
            return _openpyxl_grids(data)
        raise Unreadable("corrupt", detail=str(exc)[:200]) from None
    grids: dict[str, Grid] = {}
    for meta in wb.sheets_metadata:
        if str(meta.typ).rsplit(".", 1)[-1] not in ("WorkSheet", "Worksheet"):
            continue
        try:
            sheet = wb.get_sheet_by_name(meta.name)
            rows = [[clean_value(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
        except CalamineError as exc:
            if values is not data:
                return _calamine_grids(data, kind)
            raise Unreadable("corrupt", detail=f"{meta.name}: {str(exc)[:200]}") from None
        hidden = str(meta.visible).rsplit(".", 1)[-1] != "Visible"
        grids[meta.name] = Grid(meta.name, rows, merged, hidden)
    return grids


def _openpyxl_grids(data: bytes) -> dict[str, Grid]:
    """Fallback for packages calamine refuses; read_only keeps memory flat."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to TypeError on bad packages
        raise Unreadable("corrupt", detail=str(exc)[:200]) from None
    grids = {}
    for ws in wb.worksheets:
        rows = [[clean_value(v) for v in row] for row in ws.iter_rows(values_only=True)]
        grids[ws.title] = Grid(ws.title, rows, [], ws.sheet_state != "visible")
    wb.close()
    return grids


def _csv_grid(data: bytes) -> Grid:
    text = decode_text(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel_tab if sample.count("\t") > sample.count(",") else csv.excel
    rows = [[clean_value(v) for v in row] for row in csv.reader(io.StringIO(text), dialect)]
    return Grid("Sheet1", rows)


def _html_grids(data: bytes) -> dict[str, Grid]:
    """HTML tables (the '.xls' many Chinese systems export), with colspan/rowspan kept as merges."""
    from lxml import html

    try:
        doc = html.document_fromstring(decode_text(data))
    except Exception as exc:  # lxml raises ParserError/ValueError on junk
        raise Unreadable("corrupt", detail=str(exc)[:200]) from None
    grids = {}
    for n, table in enumerate(doc.iter("table"), start=1):
        grid = Grid(f"表{n}" if n > 1 else "Sheet1", [])
        taken: set[tuple[int, int]] = set()
        for r, tr in enumerate(table.iter("tr")):
            c = 0
            row: list[Any] = []
            for cell in tr:
                if cell.tag not in ("td", "th"):
                    continue
                while (r, c) in taken:
                    c += 1
                span_c = _span(cell.get("colspan"))
                span_r = _span(cell.get("rowspan"))
                text = _html_text(cell)
                row.extend([None] * (c + 1 - len(row)))
                row[c] = text or None
                if span_c > 1 or span_r > 1:
                    grid.merged.append((r, c, r + span_r - 1, c + span_c - 1))
                    taken.update((r + i, c + j) for i in range(span_r) for j in range(span_c))
                c += span_c
            grid.rows.append(row)
        grids[grid.name] = grid
    if not grids:
        raise Unreadable("not_spreadsheet", what="HTML 文件（其中没有表格）")
    return grids


# Elements a browser shows on lines of their own; inline ones (span, font, b) run on in the line.
_BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
                     "table", "tr", "blockquote", "pre", "section", "article", "header", "footer", "hr"})
_HTML_SPACE = re.compile(r"\s+")


def _html_text(cell: Any) -> str:
    """An HTML cell's text as a browser shows it: the source's whitespace runs are one space (exports
    wrap long lines), <br> and block elements break lines, inline elements join their neighbours."""
    pieces: list[str] = []

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""  # comments and processing instructions: no text
        if tag == "br":
            pieces.append("\n")
        elif tag and tag not in ("script", "style"):
            block = tag in _BLOCKS
            pieces.append("\n" if block else "")
            pieces.append(_HTML_SPACE.sub(" ", el.text or ""))
            for child in el:
                walk(child)
            pieces.append("\n" if block else "")
        pieces.append(_HTML_SPACE.sub(" ", el.tail or ""))

    pieces.append(_HTML_SPACE.sub(" ", cell.text or ""))
    for child in cell:
        walk(child)
    lines = (line.strip() for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1
