"""What a workbook shows when it is opened, beyond its values: the sheet it opens on (the active tab)
and the rows hidden on each sheet. Read for a roster (名单), where several year sheets are common and the
one the office left open is the one it means; a hidden row is a branch the office hid, not one it deleted.

xlsx/xlsm (workbook.xml's activeTab, <row hidden="1">), xls and WPS .et (BIFF8 WINDOW1's itabCur, ROW's
fDyZero), ods (settings.xml's ActiveTable, table:visibility="collapsed"). Anything unreadable reads as
"nothing known" (None, no hidden rows): the values are read elsewhere, and say what is wrong there.
"""

from __future__ import annotations

import io
import posixpath
import struct
from dataclasses import dataclass, field
from typing import Any

from toolkit.readers.errors import Unreadable
from toolkit.readers.pictures_xlsx import attr, descendants, local, resolve
from toolkit.readers.xmlsafe import parse_xml
from toolkit.readers.zipparts import open_zip, read_member

_PART_LIMIT = 64 << 20  # a roster's sheet part is a few KB; a larger one is not read for this
_MAX_ROWS = 1 << 20
_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


@dataclass
class SheetView:
    active: str | None = None  # the sheet the file opens on
    hidden_rows: dict[str, set[int]] = field(default_factory=dict)  # sheet -> hidden rows (0-based)


def sheet_view(data: bytes, kind: str) -> SheetView:
    """The active sheet and hidden rows of a workbook of `kind` (sniff's); empty for other kinds."""
    try:
        if kind == "xlsx":
            return _xlsx_view(data)
        if kind == "xls":
            return _xls_view(data)
        if kind == "ods":
            return _ods_view(data)
    except (Unreadable, ValueError, KeyError, IndexError, struct.error, OSError):
        pass
    return SheetView()


def _xml(zf: Any, name: str) -> Any:
    raw = read_member(zf, name, _PART_LIMIT)
    return None if raw is None else parse_xml(raw)


def _rels(zf: Any, part: str) -> dict[str, str]:
    root = _xml(zf, posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels"))
    out: dict[str, str] = {}
    for rel in descendants(root, "Relationship") if root is not None else []:
        target = resolve(part, rel.get("Target") or "") if rel.get("TargetMode") != "External" else None
        if rel.get("Id") and target:
            out[rel.get("Id")] = target
    return out


def active_sheet(data: bytes) -> str | None:
    """The sheet an .xlsx/.xlsm opens on (its first book view's activeTab, else the first sheet), read from
    the workbook part alone; None when the package does not say or cannot be read."""
    try:
        zf = open_zip(data)
        if zf is None:
            return None
        with zf:
            found = _workbook(zf)
    except (Unreadable, ValueError, KeyError, IndexError, OSError):
        return None
    return found[2] if found else None


def _workbook(zf: Any) -> tuple[str, list[tuple[str, str]], str | None] | None:
    """(the workbook part, its sheets as (name, relationship id), the active sheet's name)."""
    workbook = next((t for t in _rels(zf, "").values() if t.endswith(".xml") and "workbook" in t.lower()),
                    "xl/workbook.xml")
    root = _xml(zf, workbook)
    if root is None:
        return None
    sheets = [(s.get("name") or "", attr(s, "id") or "") for s in descendants(root, "sheet")]
    view = next(iter(descendants(root, "workbookView")), None)
    tab = int(view.get("activeTab") or 0) if view is not None else 0
    return workbook, sheets, sheets[tab][0] if 0 <= tab < len(sheets) else None


def _xlsx_view(data: bytes) -> SheetView:
    zf = open_zip(data)
    if zf is None:
        return SheetView()
    with zf:
        found = _workbook(zf)
        if found is None:
            return SheetView()
        workbook, sheets, active = found
        out = SheetView(active)
        targets = _rels(zf, workbook)
        for name, rid in sheets:
            part = targets.get(rid)
            sheet = _xml(zf, part) if part else None
            if sheet is None:
                continue
            hidden = set()
            for row in descendants(sheet, "row"):
                if row.get("hidden") in ("1", "true") and (row.get("r") or "").isdigit():
                    hidden.add(int(row.get("r") or 0) - 1)
            if hidden:
                out.hidden_rows[name] = hidden
        return out


def _ods_view(data: bytes) -> SheetView:
    zf = open_zip(data)
    if zf is None:
        return SheetView()
    with zf:
        out = SheetView()
        settings = _xml(zf, "settings.xml")
        for item in descendants(settings, "config-item") if settings is not None else []:
            if attr(item, "name") == "ActiveTable" and item.text:
                out.active = item.text
                break
        content = _xml(zf, "content.xml")
        for table in descendants(content, "table") if content is not None else []:
            hidden: set[int] = set()
            r = 0
            for row in table.iter(f"{{{_TABLE_NS}}}table-row"):
                repeat = min(int(row.get(f"{{{_TABLE_NS}}}number-rows-repeated") or 1), _MAX_ROWS)
                if row.get(f"{{{_TABLE_NS}}}visibility") in ("collapse", "collapsed", "filter") and repeat < 1000:
                    hidden.update(range(r, r + repeat))
                r += repeat
            name = attr(table, "name")
            if hidden and name and local(table) == "table":
                out.hidden_rows[name] = hidden
        return out


def _records(stream: bytes, start: int) -> Any:
    """(type, body) of the BIFF records from `start` to the substream's EOF."""
    pos = start
    while pos + 4 <= len(stream):
        rtype, size = struct.unpack_from("<HH", stream, pos)
        yield rtype, stream[pos + 4:pos + 4 + size]
        pos += 4 + size
        if rtype == 0x000A:  # EOF
            return


def _xls_view(data: bytes) -> SheetView:
    import olefile

    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        name = "Workbook" if ole.exists("Workbook") else "Book"
        stream = ole.openstream(name).read()
    sheets: list[tuple[str, int]] = []  # (name, offset of its BOF)
    tab = 0
    for rtype, body in _records(stream, 0):
        if rtype == 0x0085 and len(body) >= 8:  # BOUNDSHEET8
            count, wide = body[6], body[7] & 1
            text = body[8:8 + count * 2].decode("utf-16-le") if wide else body[8:8 + count].decode("latin-1")
            sheets.append((text, struct.unpack_from("<I", body)[0]))
        elif rtype == 0x003D and len(body) >= 12:  # WINDOW1: itabCur
            tab = struct.unpack_from("<H", body, 10)[0]
    out = SheetView(sheets[tab][0] if 0 <= tab < len(sheets) else None)
    for sheet, offset in sheets:
        hidden = {struct.unpack_from("<H", body)[0] for rtype, body in _records(stream, offset)
                  if rtype == 0x0208 and len(body) >= 14 and struct.unpack_from("<H", body, 12)[0] & 0x20}
        if hidden:
            out.hidden_rows[sheet] = hidden
    return out
