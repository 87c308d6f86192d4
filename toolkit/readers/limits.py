"""Limits checked before any parser sees an untrusted file.

The checks read only zip directories and a streamed scan of cell references, so a 5 KB file that
declares cell XFD1048576 is refused before calamine would try to allocate the whole grid.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from toolkit.readers.errors import Unreadable
from toolkit.readers.imageinfo import image_info
from toolkit.readers.zipparts import ZIP_ERRORS, member_head, open_zip, read_member


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 1024 * 1024
    max_members: int = 5000
    max_unzipped_bytes: int = 400 * 1024 * 1024
    max_ratio: float = 100.0  # per member, for members over 1 MiB; real forms stay under 10
    max_cells: int = 5_000_000  # rows × columns of a sheet's used area (or of a Word form's tables)
    max_document_bytes: int = 16 * 1024 * 1024  # a Word body part, parsed whole; real forms stay under 2 MB
    max_picture_pixels: int = 60_000_000
    max_picture_bytes: int = 64 * 1024 * 1024  # one picture member, inflated (a 4000×3000 BMP is 36 MB)
    timeout_s: float = 60.0
    memory_bytes: int = 1024 * 1024 * 1024


DEFAULT_LIMITS = Limits()
WHOLE_SHEET_BYTES = 1 << 20  # a sheet XML up to this size is inflated in one go for the area scan
# where packages keep their pictures: xlsx/xlsb, docx, ods, and the preview WPS saves
PICTURE_FOLDERS = ("xl/media/", "word/media/", "Pictures/", "docProps/thumbnail")
_PICTURE_HEAD = 64 * 1024  # a picture's size is declared within its first bytes (a JPEG's after its EXIF)
# an attribute's value may be in double or single quotes (r='XFD1048576' is as valid XML as r="…")
_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br=["\']([A-Z]{1,3})([0-9]{1,7})["\']')
_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br=["\']([0-9]{1,7})["\']')


def check_size(size: int, limits: Limits = DEFAULT_LIMITS) -> None:
    if size > limits.max_file_bytes:
        raise Unreadable("too_large", size_mb=round(size / 1048576, 1),
                         limit_mb=limits.max_file_bytes // 1048576)


def check_zip(package: bytes | zipfile.ZipFile, limits: Limits = DEFAULT_LIMITS) -> None:
    """Member count, total and per-member expansion (a picture member by its size and pixel count,
    _plain_picture), then the used area of every worksheet.
    `package`: the file's bytes, or its zip when the caller has opened it already."""
    zf = package if isinstance(package, zipfile.ZipFile) else open_zip(package)
    if zf is None:
        raise Unreadable("corrupt")
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise Unreadable("zip_bomb", ratio=f"{len(infos)} 个部件", limit=f"{limits.max_members} 个部件")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise Unreadable("zip_bomb", ratio=f"解压后 {total // 1048576} MB",
                         limit=f"{limits.max_unzipped_bytes // 1048576} MB")
    for info in infos:
        if info.file_size > 1048576 and info.file_size > limits.max_ratio * max(info.compress_size, 1) \
                and not _plain_picture(zf, info, limits):
            ratio = info.file_size // max(info.compress_size, 1)
            raise Unreadable("zip_bomb", ratio=f"{ratio}:1", limit=f"{limits.max_ratio:.0f}:1")
    for info in infos:
        if info.filename.endswith((".xml", ".rels")):
            _check_no_dtd(zf, info)
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            _check_sheet_area(zf, info, limits)
        if info.filename.startswith("word/") and info.filename.endswith(".xml") \
                and info.file_size > limits.max_document_bytes:  # parsed whole, unlike a sheet
            raise Unreadable("zip_bomb", ratio=f"{info.filename} 解压后 {info.file_size // 1048576} MB",
                             limit=f"{limits.max_document_bytes // 1048576} MB")


def _plain_picture(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bool:
    """A picture member that deflates well because it is stored uncompressed (a BMP from 画图, a plain
    TIFF): judged by its size and its header's pixel count, not its ratio. Its header must declare a
    size within the pixel limit, and the member be no larger than those pixels can fill (8 bytes a pixel:
    16-bit RGBA) plus 1 MiB of headers, palette and metadata; a bomb dressed as a picture is neither."""
    if not info.filename.startswith(PICTURE_FOLDERS) or info.file_size > limits.max_picture_bytes:
        return False
    try:
        head = member_head(zf, info, _PICTURE_HEAD)
    except ZIP_ERRORS:
        return False
    _, width, height = image_info(head)
    if not width or not height or width * height > limits.max_picture_pixels:
        return False
    return info.file_size <= width * height * 8 + 1048576


def check_area(name: str, rows: int, cols: int, limits: Limits = DEFAULT_LIMITS) -> None:
    """A sheet's (or a Word form's) used area against the cell limit."""
    if rows * cols > limits.max_cells:
        raise Unreadable("too_many_cells", sheet=name, rows=rows, cols=cols, cells=rows * cols,
                         limit=limits.max_cells)


def _check_no_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Office never writes a DTD; one in a part means entity expansion or XXE is being tried."""
    try:
        head = member_head(zf, info, 2048)
    except ZIP_ERRORS:
        raise Unreadable("corrupt") from None
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise Unreadable("xml_attack")


def _letters_to_col(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


def _check_sheet_area(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Scan the sheet XML (streamed when large) and track the largest row and column any cell names."""
    max_row = max_col = 0
    tail = b""
    try:
        for chunk in _sheet_chunks(zf, info):
            buf = tail + chunk
            refs = _REF.findall(buf)
            if refs:  # distinct letters and row numbers only: a row's cells share theirs
                max_col = max(max_col, *map(_letters_to_col, {letters for letters, _ in refs}))
                max_row = max(max_row, *map(int, {digits for _, digits in refs}))
            max_row = max(max_row, 0, *map(int, _ROW.findall(buf)))
            tail = buf[-256:]
            if max_row * max(max_col, 1) > limits.max_cells:
                break
    except ZIP_ERRORS:
        raise Unreadable("corrupt") from None
    check_area(info.filename.rsplit("/", 1)[-1], max_row, max(max_col, 1), limits)


def _sheet_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A sheet's XML: whole (one inflate) when it declares at most WHOLE_SHEET_BYTES, else in 1 MiB
    chunks. Raises one of ZIP_ERRORS if the member is corrupt."""
    if info.file_size <= WHOLE_SHEET_BYTES:
        whole = read_member(zf, info.filename, WHOLE_SHEET_BYTES)
        if whole is None:
            raise zipfile.BadZipFile(f"corrupt member {info.filename}")
        yield whole
        return
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            yield chunk
