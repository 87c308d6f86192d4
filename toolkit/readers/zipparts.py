"""Members of an untrusted zip package (xlsx, ods): open, read whole, or read the head.

Deflated members are inflated straight from the package bytes with ISA-L, about twice zlib's speed
(every logo is a ~1 MB member), checking length and CRC as zipfile does. Never more than a member's
declared size is inflated, so checking the declared size caps the work.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import cast

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
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    return fast_zlib.decompressobj(-15).decompress(fp.read(raw_size), size)
