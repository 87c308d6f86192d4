"""Image format and pixel size from header bytes alone.

Pictures in submissions are untrusted: a 240-megapixel "logo" must be refused before Pillow decodes it,
so this module reads only the few header bytes that declare the size, in pure Python, and answers
("unknown", None, None) for anything truncated or unrecognised instead of raising. HEIC and AVIF (phone
photos) are named, without their size, so a branch is told which format it sent.
"""

from __future__ import annotations

import struct

ImageInfo = tuple[str, int | None, int | None]

_UNKNOWN: ImageInfo = ("unknown", None, None)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_info(data: bytes) -> ImageInfo:
    """(format, width, height) from the header; width/height are None when the header does not say."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:4] in _TIFF_MAGIC:
            return _tiff(data)
        if _is_svg(data):
            return "svg", None, None  # sizes in SVG are lengths with units, not pixels
        return _sniff(bytes(data[:64])) or _UNKNOWN
    except (struct.error, ValueError, IndexError):
        return _UNKNOWN


def _sniff(head: bytes) -> ImageInfo | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        w, h = struct.unpack_from(">II", head, 16)
        return "png", w, h
    if head[:6] in (b"GIF87a", b"GIF89a"):
        w, h = struct.unpack_from("<HH", head, 6)
        return "gif", w, h
    if head.startswith(b"BM") and len(head) >= 26:
        return _bmp(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    if head[:4] == b"\x01\x00\x00\x00" and head[40:44] == b" EMF":
        left, top, right, bottom = struct.unpack_from("<iiii", head, 8)
        return "emf", right - left + 1, bottom - top + 1
    if head[:4] == b"\xd7\xcd\xc6\x9a":
        left, top, right, bottom, inch = struct.unpack_from("<hhhhH", head, 6)
        if inch <= 0:
            return "wmf", None, None
        return "wmf", abs(right - left) * 96 // inch, abs(bottom - top) * 96 // inch
    if head[:2] in (b"\x01\x00", b"\x02\x00") and head[2:6] == b"\x09\x00\x00\x03":
        return "wmf", None, None  # a bare WMF (no placeable header) declares no size
    if head[4:8] == b"ftyp":
        return _heif(head)
    return None


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


def _heif(head: bytes) -> ImageInfo | None:
    """HEIC (iPhone photos) and AVIF: an ISO media file whose brands say it holds pictures. Named so that
    a branch is told the format it sent; their sizes sit deep in the file and are not read."""
    size = int.from_bytes(head[:4], "big")
    brands = [head[i:i + 4] for i in range(8, min(max(size, 16), len(head)), 4) if i != 12]  # 12: minor version
    if b"avif" in brands or b"avis" in brands:
        return "avif", None, None
    if any(b in _HEIF_BRANDS for b in brands):
        return "heic", None, None
    return None


def _is_svg(data: bytes) -> bool:
    text = bytes(data[:2048]).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!--")) and b"<svg" in text)


def _bmp(head: bytes) -> ImageInfo:
    header_size = struct.unpack_from("<I", head, 14)[0]
    if header_size == 12:  # BITMAPCOREHEADER: 16-bit sizes
        w, h = struct.unpack_from("<HH", head, 18)
    else:
        w, h = struct.unpack_from("<ii", head, 18)
    return "bmp", abs(w), abs(h)  # a negative height means top-down rows, not a negative size


def _webp(head: bytes) -> ImageInfo:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack_from("<HH", head, 26)
        return "webp", w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = struct.unpack_from("<I", head, 21)[0]
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return "webp", w, h
    return "webp", None, None


def _jpeg(data: bytes) -> ImageInfo:
    """Walk the marker segments (skipping EXIF and other APPn blocks) to the first start-of-frame."""
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return "jpeg", None, None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan: no frame header came before
            return "jpeg", None, None
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _JPEG_SOF:
            h, w = struct.unpack_from(">HH", data, pos + 5)
            return "jpeg", w, h
        if length < 2:
            return "jpeg", None, None
        pos += 2 + length
    return "jpeg", None, None


def _tiff(data: bytes) -> ImageInfo:
    """Width and height from the first IFD, which may lie anywhere in the file."""
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, ifd)
    size: dict[int, int] = {}
    for i in range(min(count, 512)):
        tag, typ = struct.unpack_from(order + "HH", data, ifd + 2 + 12 * i)
        if tag in (256, 257):
            fmt = "H" if typ == 3 else "I"
            (size[tag],) = struct.unpack_from(order + fmt, data, ifd + 2 + 12 * i + 8)
    return "tiff", size.get(256), size.get(257)

