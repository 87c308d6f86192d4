"""Robust decoding of header text and attachment names as Chinese mail clients really write them.

stdlib `email` gets several real cases wrong (FACTS "Mail from Chinese clients"), so headers are read as
raw bytes and decoded here: RFC 2047 words are decoded to bytes first and adjacent words of one charset
joined before the text is decoded (a GBK character split across two words survives), every GB label is
read as GB18030 (a superset: "GB2312" words often carry GBK-only characters such as 玥, 堃), RFC 2231
parameters and their continuations are joined, and raw 8-bit text falls back UTF-8 -> GB18030.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from urllib.parse import unquote_to_bytes

from toolkit.files.filenames import safe_name
from toolkit.readers.kinds import missing_suffix

_GB_LABELS = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "cp936", "ms936", "euc-cn", "csgb2312",
              "chinese", "iso-ir-58", "windows-936", "gb18030"}

# the text may hold whitespace where a client folded the line inside the word; it is removed before decoding
_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")
_WHITESPACE = re.compile(rb"\s+")
_BLANK = re.compile(rb"^[ \t\r\n]*$")


def codec_for(label: str | None) -> str:
    """Python codec for a MIME charset label; GB labels map to GB18030, unknown labels to UTF-8."""
    name = (label or "").strip().strip('"').lower().split("*", 1)[0]  # RFC 2231 language suffix
    if name in _GB_LABELS:
        return "gb18030"
    try:
        return codecs.lookup(name).name if name else "utf-8"
    except LookupError:
        return "utf-8"


def decode_bytes(raw: bytes, charset: str | None = None) -> str:
    """Text from bytes: the declared charset if it decodes cleanly, else UTF-8, else GB18030 (lossy)."""
    tried = [codec_for(charset)] if charset else []
    for codec in [*tried, "utf-8", "gb18030"]:
        try:
            return raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("gb18030", errors="replace")


def _word_bytes(kind: bytes, payload: bytes) -> bytes:
    if kind.lower() == b"b":
        payload = payload + b"=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/]", b"", payload) + b"==", validate=False)
    return quopri.decodestring(payload.replace(b"_", b" "), header=False)


def decode_header_bytes(raw: bytes) -> str:
    """Decode a raw header value (or a parameter value) with encoded words anywhere, quoted or not.

    Adjacent encoded words in the same charset are joined as bytes before decoding; whitespace between
    encoded words is dropped (RFC 2047 §6.2); text outside them is raw 8-bit or ASCII.
    """
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for m in _ENCODED_WORD.finditer(raw):
        gap = raw[pos:m.start()]
        charset = codec_for(m.group(1).decode("ascii", "replace"))
        if gap and not (pending and _BLANK.match(gap)):
            flush()
            out.append(decode_bytes(gap))
        elif pending and charset != pending_charset:
            flush()
        pending.append(_word_bytes(m.group(2), _WHITESPACE.sub(b"", m.group(3))))
        pending_charset = charset
        pos = m.end()
    flush()
    if pos < len(raw):
        out.append(decode_bytes(raw[pos:]))
    return "".join(out)


def unfold(raw: bytes) -> bytes:
    """Header value on one line (RFC 5322 unfolding)."""
    return re.sub(rb"\r?\n(?=[ \t])", b"", raw).strip()


def _split_params(raw: bytes) -> list[bytes]:
    """Split `type; a=1; b="x;y"` on semicolons outside quotes."""
    parts, buf, quoted, escaped = [], bytearray(), False, False
    for byte in raw:
        ch = bytes([byte])
        if escaped:
            buf += ch
            escaped = False
        elif ch == b"\\" and quoted:
            buf += ch
            escaped = True
        elif ch == b'"':
            quoted = not quoted
            buf += ch
        elif ch == b";" and not quoted:
            parts.append(bytes(buf))
            buf = bytearray()
        else:
            buf += ch
    parts.append(bytes(buf))
    return [p.strip() for p in parts]


def _unquote(value: bytes) -> bytes:
    """A parameter value without its quotes. Only `\\"` and `\\\\` are taken as quoted pairs: clients put
    Windows paths (`C:\\Users\\…`) in quoted file names with bare backslashes."""
    value = value.strip()
    if len(value) >= 2 and value[:1] == b'"' and value[-1:] == b'"':
        return re.sub(rb'\\(["\\])', rb"\1", value[1:-1])
    return value


def header_params(raw: bytes) -> dict[str, str]:
    """Parameters of a structured header (Content-Type, Content-Disposition), names lower-cased.

    RFC 2231 (`name*=charset'lang'%xx`, `name*0*=`, `name*1=` …) is joined and decoded; plain values may
    hold encoded words (quoted or not) or raw 8-bit bytes.
    """
    plain: dict[str, bytes] = {}
    extended: dict[str, dict[int, tuple[bytes, bool]]] = {}
    for part in _split_params(unfold(raw))[1:]:
        key, eq, value = part.partition(b"=")
        if not eq:
            continue
        name = key.strip().decode("ascii", "replace").lower()
        m = re.fullmatch(r"([^*]+)(?:\*(\d+))?(\*)?", name)
        if not m or (m.group(2) is None and m.group(3) is None):
            plain[name] = _unquote(value)
            continue
        section = int(m.group(2) or 0)
        extended.setdefault(m.group(1), {})[section] = (_unquote(value), bool(m.group(3)))
    result = {name: decode_header_bytes(value) for name, value in plain.items()}
    for name, sections in extended.items():
        charset, data = None, b""
        for index in sorted(sections)[:256]:
            value, encoded = sections[index]
            if index == 0 and encoded and value.count(b"'") >= 2:
                cs, _lang, value = value.split(b"'", 2)
                charset = cs.decode("ascii", "replace")
            data += unquote_to_bytes(value) if encoded else value
        result[name] = decode_bytes(data, charset) if charset else decode_header_bytes(data)
    return result


def attachment_name(name: str, kind: str | None = None) -> str:
    """An attachment's (or archive member's) name as a file name: its last part (clients send
    `C:\\Users\\…\\表.xlsx`, archives `目录/表.xlsx`), made safe on every platform, with the suffix
    its `kind` needs when it lacks one (kinds.missing_suffix; counted in the limits)."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    plain = safe_name(last, "附件")
    suffix = missing_suffix(plain, kind) if kind else ""
    return safe_name(last, "附件", suffix=suffix) if suffix else plain
