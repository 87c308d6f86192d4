"""Members of an untrusted zip package (xlsx, ods): open, read whole, or read the head.

Deflated members are inflated straight from the package bytes with ISA-L, about twice zlib's speed
(every logo is a ~1 MB member), checking length and CRC as zipfile does; a package opened from bytes
is inflated from a view of those bytes, never a copy. Never more than a member's declared size is
inflated, so checking the declared size caps the work.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, cast

try:  # ISA-L's inflate; zlib where no wheel exists
    from isal import isal_zlib as fast_zlib
except ImportError:  # pragma: no cover
    import zlib as fast_zlib  # type: ignore[no-redef]

# isal's stub declares `error` as an Exception instance; at run time it is the exception class.
ZIP_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, zlib.error, cast("type[Exception]", fast_zlib.error), EOFError, OSError,
    NotImplementedError, RuntimeError, ValueError, KeyError)


def open_zip(data: bytes) -> zipfile.ZipFile | None:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS:
        return None


@contextmanager
def package_zip(data: bytes, package: zipfile.ZipFile | None) -> Iterator[zipfile.ZipFile | None]:
    """`package` when the caller has opened the file's zip already (left open: the caller owns it), else
    the zip opened from `data` (None if it is no zip) and closed afterwards: a package's directory is
    parsed once however many readers look at it."""
    if package is not None:
        yield package
        return
    zf = open_zip(data)
    try:
        yield zf
    finally:
        if zf is not None:
            zf.close()


def read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes | None:
    """A member's bytes, or None when missing, larger than `limit` or corrupt."""
    try:
        info = zf.getinfo(name)
        if info.file_size > limit:
            return None
        if _plain_deflate(info):
            out = _inflate(zf, info, info.compress_size, info.file_size)
            return out if len(out) == info.file_size and fast_zlib.crc32(out) == info.CRC else None
        with zf.open(info) as fh:
            return fh.read(info.file_size)
    except ZIP_ERRORS:
        return None


def member_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes:
    """The first `size` bytes of a member (fewer if it is shorter); raises one of ZIP_ERRORS if corrupt."""
    if _plain_deflate(info):
        # Real writers spend well under 2 bytes per output byte; a crafted stream only yields a shorter head.
        return _inflate(zf, info, min(info.compress_size, 2 * size + 1024), size)
    with zf.open(info) as fh:
        return fh.read(size)


def _plain_deflate(info: zipfile.ZipInfo) -> bool:
    return info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 0x1


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, raw_size: int, size: int) -> bytes:
    fp = zf.fp
    if fp is None:
        raise ValueError("zip is closed")
    if info.header_offset < 0:
        raise zipfile.BadZipFile(f"bad offset for {info.filename}")
    header = _span(fp, info.header_offset, 30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    raw = _span(fp, info.header_offset + 30 + name_len + extra_len, raw_size)
    return fast_zlib.decompressobj(-15).decompress(raw, size)


def _span(fp: IO[bytes], start: int, size: int) -> bytes | memoryview:
    """`size` bytes of the package from `start` (fewer at its end): of a package opened from bytes
    (open_zip), a view of those bytes - BytesIO.getvalue() returns them, not a copy."""
    if isinstance(fp, io.BytesIO):
        return memoryview(fp.getvalue())[start:start + size]
    fp.seek(start)
    return fp.read(size)


MEDIA_FOLDERS = ("xl/media/", "xl/embeddings/", "docProps/thumbnail")  # pictures, OLE objects, WPS's preview
MIN_MEDIA_BYTES = 64 * 1024  # below this, a package is handed on whole
_CENTRAL = struct.Struct("<4s6H3I5H2I")  # a central directory record's fixed part (46 bytes)
_END = struct.Struct("<4s4H2IH")  # the end of central directory record (22 bytes)
_ZIP64 = 0xFFFFFFFF


def without_media(data: bytes, zf: zipfile.ZipFile, folders: tuple[str, ...] = MEDIA_FOLDERS) -> bytes:
    """The package with its members under `folders` left out, every other member's bytes (local header,
    data, data descriptor) and central directory record copied as they are: what a value reader needs,
    without copying a form's ~1 MB logo into it. `data` itself when little would be left out or the
    package is anything but a plain zip (prefixed, zip64, members sharing or overlapping bytes)."""
    infos = zf.infolist()
    if sum(i.compress_size for i in infos if i.filename.startswith(folders)) < MIN_MEDIA_BYTES:
        return data
    try:
        return _repacked(data, zf, infos, folders)
    except (struct.error, KeyError, ValueError):
        return data


def _repacked(data: bytes, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], folders: tuple[str, ...]) -> bytes:
    starts = sorted(i.header_offset for i in infos)
    if len(set(starts)) != len(starts) or (starts and starts[0] != 0):
        raise ValueError("members share bytes, or the package is prefixed")
    ends = dict(zip(starts, [*starts[1:], zf.start_dir], strict=True))
    members: list[bytes | memoryview] = []
    directory: list[bytes] = []
    at, offset = zf.start_dir, 0
    view = memoryview(data)
    for info in infos:  # in directory order, which zipfile keeps
        record = _CENTRAL.unpack_from(data, at)
        size = _CENTRAL.size + record[10] + record[11] + record[12]
        start = record[16]
        if record[0] != b"PK\x01\x02":
            raise ValueError("not a central directory record")
        if start != info.header_offset or _ZIP64 in (record[8], record[9], start):
            raise ValueError("zip64, or a record zipfile read otherwise")
        if not info.filename.startswith(folders):
            if data[start:start + 4] != b"PK\x03\x04":
                raise ValueError("no local header")
            members.append(view[start:ends[start]])
            # the record as it is, but for where its member now starts (the last 4 bytes of the fixed part)
            directory.append(data[at:at + _CENTRAL.size - 4] + struct.pack("<I", offset) + data[at + _CENTRAL.size:at + size])
            offset += ends[start] - start
        at += size
    central = b"".join(directory)
    end = _END.pack(b"PK\x05\x06", 0, 0, len(directory), len(directory), len(central), offset, 0)
    return b"".join([*members, central, end])
