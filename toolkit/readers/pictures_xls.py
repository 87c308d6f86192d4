"""Pictures in BIFF8 .xls files (and WPS .et, the same OLE2 format) from the OfficeArt drawing records.

The workbook globals carry MSODRAWINGGROUP (with CONTINUE records): an OfficeArtDggContainer whose
BStore holds one FBSE per picture, each embedding its BLIP (PNG/JPEG/DIB/EMF/WMF bytes). Each sheet
substream carries MSODRAWING records that concatenate into an OfficeArtDgContainer: shapes with an FOPT
`pib` property (1-based index into the BStore) and an OfficeArtClientAnchorSheet giving the top-left cell.
Specs: [MS-XLS] 2.4.21/2.4.188/2.4.189, [MS-ODRAW] 2.2.x. Encrypted or XOR-obfuscated files (FILEPASS)
return nothing: the caller reports encryption separately.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import olefile

from toolkit.core.model import Picture
from toolkit.readers.pictures import MediaBudget, make_picture

_BOF, _EOF, _BOUNDSHEET, _FILEPASS, _CONTINUE = 0x0809, 0x000A, 0x0085, 0x002F, 0x003C
_MSODRAWINGGROUP, _MSODRAWING = 0x00EB, 0x00EC
_BIFF8 = 0x0600
# OfficeArt record types
_DGG_CONTAINER, _BSTORE, _FBSE = 0xF000, 0xF001, 0xF007
_SPGR_CONTAINER, _SP_CONTAINER, _FSP, _FOPT, _TERTIARY_FOPT, _CLIENT_ANCHOR = (
    0xF003, 0xF004, 0xF00A, 0xF00B, 0xF122, 0xF010)
_BLIP_EMF, _BLIP_WMF, _BLIP_PICT, _BLIP_DIB = 0xF01A, 0xF01B, 0xF01C, 0xF01F
_BLIP_FIRST, _BLIP_LAST = 0xF018, 0xF117
_PROP_PIB, _PROP_NAME = 0x0104, 0x0380
_MAX_DEPTH = 32  # OfficeArt nesting in real files is a few levels; a hostile file could recurse forever
_OLE_ERRORS = (OSError, ValueError, struct.error, IndexError, KeyError, EOFError, TypeError)


@dataclass(frozen=True)
class _Shape:
    pib: int
    row: int
    col: int
    name: str


def find_xls_pictures(data: bytes) -> list[Picture]:
    stream = _workbook_stream(data)
    if stream is None:
        return []
    try:
        return _pictures(stream)
    except (struct.error, IndexError, ValueError, RecursionError):
        return []  # a malformed stream past what the readers guard; the caller reports readability


def _workbook_stream(data: bytes) -> bytes | None:
    try:
        if not olefile.isOleFile(data):
            return None
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return ole.openstream("Workbook").read() if ole.exists("Workbook") else None
    except _OLE_ERRORS:
        return None


def _records(stream: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(offset, type, payload) of each BIFF record; stops at a truncated record."""
    pos = 0
    while pos + 4 <= len(stream):
        rtype, length = struct.unpack_from("<HH", stream, pos)
        if pos + 4 + length > len(stream):
            return
        yield pos, rtype, stream[pos + 4:pos + 4 + length]
        pos += 4 + length


def _pictures(stream: bytes) -> list[Picture]:
    records = list(_records(stream))
    if not records or records[0][1] != _BOF or struct.unpack_from("<H", records[0][2])[0] != _BIFF8:
        return []  # BIFF5 and older have no OfficeArt pictures
    sheets: list[tuple[str, int]] = []
    group: list[bytes] = []
    last = None
    for _, rtype, payload in records:
        if rtype == _EOF:
            break
        if rtype == _FILEPASS:
            return []
        if rtype == _BOUNDSHEET:
            sheets.append((_sheet_name(payload), struct.unpack_from("<I", payload)[0]))
        elif rtype == _MSODRAWINGGROUP or (rtype == _CONTINUE and last == _MSODRAWINGGROUP):
            group.append(payload)
        last = rtype if rtype != _CONTINUE else last
    store = _bstore(b"".join(group))
    index = {offset: i for i, (offset, _, _) in enumerate(records)}
    budget = MediaBudget()
    blips: dict[int, bytes | None] = {}
    found: list[Picture] = []
    for name, offset in sheets:
        start = index.get(offset)
        if start is None:
            continue
        for shape in _shapes(_sheet_drawing(records, start)):
            if shape.pib not in blips:
                located = store[shape.pib - 1] if 1 <= shape.pib <= len(store) else None
                blips[shape.pib] = _blip_or_none(located, budget)
            data = blips[shape.pib]
            if data is not None:
                found.append(make_picture(name, shape.row, shape.col, "xls_blip", data, shape.name))
    return found


def _sheet_name(payload: bytes) -> str:
    """BOUNDSHEET8: lbPlyPos(4) hsState(1) dt(1), then a ShortXLUnicodeString."""
    cch, high = payload[6], payload[7] & 1
    raw = payload[8:8 + cch * (2 if high else 1)]
    return raw.decode("utf-16-le" if high else "latin-1", errors="replace")


def _sheet_drawing(records: list[tuple[int, int, bytes]], start: int) -> bytes:
    """Concatenated MSODRAWING payloads of one sheet substream (excluding embedded chart substreams)."""
    parts: list[bytes] = []
    depth, last = 0, None
    for _, rtype, payload in records[start:]:
        if rtype == _BOF:
            depth += 1
        elif rtype == _EOF:
            depth -= 1
            if depth <= 0:
                break
        elif depth == 1 and (rtype == _MSODRAWING or (rtype == _CONTINUE and last == _MSODRAWING)):
            parts.append(payload)
        if rtype != _CONTINUE:
            last = rtype
    return b"".join(parts)


def _art(buf: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """OfficeArt records in buf[start:end]: (recVer, recInstance, recType, body start, body end)."""
    pos = start
    while pos + 8 <= end:
        ver_inst, rtype, length = struct.unpack_from("<HHI", buf, pos)
        body = pos + 8
        yield ver_inst & 0xF, ver_inst >> 4, rtype, body, min(body + length, end)
        pos = body + length


def _bstore(buf: bytes) -> list[tuple[bytes, int, int] | None]:
    """BStore entries in order (pib 1 is the first): where each entry's BLIP record lies, or None."""
    entries: list[tuple[bytes, int, int] | None] = []
    for _, _, rtype, body, end in _art(buf, 0, len(buf)):
        if rtype != _DGG_CONTAINER:
            continue
        for _, _, stype, sbody, send in _art(buf, body, end):
            if stype != _BSTORE:
                continue
            for _, _, ftype, fbody, fend in _art(buf, sbody, send):
                if ftype == _FBSE:
                    blip = fbody + 36 + buf[fbody + 33] if fbody + 36 <= fend else fend  # + cbName
                    entries.append((buf, blip, fend) if blip + 8 <= fend else None)
                elif _BLIP_FIRST <= ftype <= _BLIP_LAST:
                    entries.append((buf, fbody - 8, fend))
                else:
                    entries.append(None)
    return entries


def _blip_or_none(located: tuple[bytes, int, int] | None, budget: MediaBudget) -> bytes | None:
    """One BLIP's bytes; a damaged BLIP costs only its own picture."""
    if located is None:
        return None
    try:
        return _blip(*located, budget)
    except (struct.error, IndexError, ValueError, StopIteration):
        return None


def _blip(buf: bytes, pos: int, end: int, budget: MediaBudget) -> bytes | None:
    """The picture bytes of one OfficeArtBlip record, as a file of its format."""
    _, inst, rtype, body, stop = next(_art(buf, pos, end))
    uids = 32 if inst & 1 else 16  # an odd instance means a second 16-byte UID follows the first
    if rtype in (_BLIP_EMF, _BLIP_WMF, _BLIP_PICT):
        header = body + uids  # OfficeArtMetafileHeader: cbSize, rcBounds, ptSize, cbSave, compression
        size, = struct.unpack_from("<I", buf, header)
        pt_x, pt_y = struct.unpack_from("<ii", buf, header + 20)
        compressed = buf[header + 32] == 0
        raw = buf[header + 34:stop]
        data = _inflate(raw, min(size, budget.left)) if compressed else raw
        if data is not None and rtype == _BLIP_WMF:
            data = _placeable_wmf(data, pt_x, pt_y)
    elif _BLIP_FIRST <= rtype <= _BLIP_LAST:
        data = buf[body + uids + 1:stop]  # + the 1-byte tag
        if rtype == _BLIP_DIB:
            data = _dib_to_bmp(data)
    else:
        return None
    return data if data and budget.take(len(data)) else None


def _inflate(raw: bytes, limit: int) -> bytes | None:
    try:
        inflater = zlib.decompressobj()
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        return None
    return out if len(out) <= limit else None


def _placeable_wmf(data: bytes, pt_x: int, pt_y: int) -> bytes:
    """Office stores WMF without its placeable header; restore it (size in twips from ptSize in EMU) so
    the bytes are a .wmf file any viewer opens."""
    if data[:4] == b"\xd7\xcd\xc6\x9a":
        return data
    right, bottom = min(max(pt_x // 635, 0), 0x7FFF), min(max(pt_y // 635, 0), 0x7FFF)
    words = struct.pack("<IHhhhhHI", 0x9AC6CDD7, 0, 0, 0, right, bottom, 1440, 0)
    checksum = 0
    for (word,) in struct.iter_unpack("<H", words):
        checksum ^= word
    return words + struct.pack("<H", checksum) + data


def _dib_to_bmp(dib: bytes) -> bytes:
    """A DIB (BITMAPINFOHEADER + palette + bits) becomes a .bmp by prepending a BITMAPFILEHEADER whose
    offset skips the header, the bit masks and the palette."""
    header_size, = struct.unpack_from("<I", dib)
    if header_size == 12:  # BITMAPCOREHEADER: RGB triples
        bits, = struct.unpack_from("<H", dib, 10)
        palette = (1 << bits) * 3 if bits <= 8 else 0
        masks = 0
    else:
        bits, compression = struct.unpack_from("<HI", dib, 14)
        used, = struct.unpack_from("<I", dib, 32)
        palette = (used or ((1 << bits) if bits <= 8 else 0)) * 4
        masks = 12 if header_size == 40 and compression in (3, 6) else 0  # BI_BITFIELDS
    offset = 14 + header_size + masks + palette
    return b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, offset) + dib


def _shapes(buf: bytes) -> list[_Shape]:
    out: list[_Shape] = []
    _walk(buf, 0, len(buf), None, out, 0)
    return out


def _walk(buf: bytes, start: int, end: int, inherited: tuple[int, int] | None, out: list[_Shape],
          depth: int) -> None:
    """Collect picture shapes; a group's own shape (first in its SpgrContainer) lends its anchor to its
    children, whose ChildAnchor is relative to the group rather than to cells."""
    if depth > _MAX_DEPTH:
        return
    group_anchor = inherited
    for ver, _, rtype, body, stop in _art(buf, start, end):
        if rtype == _SP_CONTAINER:
            pib, anchor, name, is_group = _shape(buf, body, stop)
            if is_group:
                group_anchor = anchor or inherited
            elif pib and (at := anchor or group_anchor):
                row, col = at
                out.append(_Shape(pib, row, col, name))
        elif ver == 0xF:
            _walk(buf, body, stop, group_anchor if rtype == _SPGR_CONTAINER else inherited, out, depth + 1)


def _shape(buf: bytes, start: int, end: int) -> tuple[int, tuple[int, int] | None, str, bool]:
    """(pib, (row, col) of the client anchor, shape name, is a group shape) of one SpContainer."""
    pib, anchor, name, is_group = 0, None, "", False
    for _, inst, rtype, body, stop in _art(buf, start, end):
        if rtype == _FSP and stop - body >= 8:
            is_group = bool(struct.unpack_from("<I", buf, body + 4)[0] & 1)  # fGroup
        elif rtype in (_FOPT, _TERTIARY_FOPT):
            props = _properties(buf, body, stop, inst)
            pib = props.get(_PROP_PIB, (pib, b""))[0]
            if _PROP_NAME in props:
                name = props[_PROP_NAME][1].decode("utf-16-le", errors="replace").split("\x00")[0]
        elif rtype == _CLIENT_ANCHOR and stop - body >= 8:
            # OfficeArtClientAnchorSheet: flags(2) col1(2) dx1(2) row1(2) dy1(2) col2 dx2 row2 dy2
            col, _, row = struct.unpack_from("<HHH", buf, body + 2)
            anchor = (row, col)
    return pib, anchor, name, is_group


def _properties(buf: bytes, start: int, end: int, count: int) -> dict[int, tuple[int, bytes]]:
    """{property id: (value, complex data)}; complex data follows the property table in table order."""
    props: dict[int, tuple[int, bytes]] = {}
    extra = start + 6 * count
    for i in range(count):
        if start + 6 * i + 6 > end:
            break
        opid, value = struct.unpack_from("<HI", buf, start + 6 * i)
        blob = b""
        if opid & 0x8000:  # fComplex: `value` is the byte length of data in the trailing area
            blob = buf[extra:min(extra + value, end)]
            extra += value
        props[opid & 0x3FFF] = (value, blob)
    return props
