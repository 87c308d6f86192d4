"""Outlook .msg (an OLE2 compound file, [MS-OXMSG]) read with olefile: sender, subject, time, attachments.

extract-msg does this too but is GPL-3.0; these few properties are all intake needs.
"""

from __future__ import annotations

import email
import struct
from datetime import UTC, datetime, timedelta

from .names import decode_bytes
from .parse import RAW, big_attachment_links, header_text, received_time, sender_of, take_file, too_deep
from .types import Limits, ParsedMessage, Skipped, past_cap

_SUBJECT, _SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP = "0037", "0C1A", "0C1F", "5D01"
_HEADERS, _MESSAGE_ID, _BODY = "007D", "1035", "1000"
_LONG_NAME, _SHORT_NAME, _DISPLAY_NAME, _DATA = "3707", "3704", "3001", "3701"
_DELIVERY_TIME, _SUBMIT_TIME = 0x0E06, 0x0039


def _string(ole, storage: str, prop: str) -> str:
    """A string property: Unicode (001F, UTF-16LE) or 8-bit (001E, codepage unknown: UTF-8/GB18030)."""
    for suffix, decode in (("001F", lambda b: b.decode("utf-16-le", "replace")), ("001E", decode_bytes)):
        path = f"{storage}__substg1.0_{prop}{suffix}"
        if ole.exists(path):
            return decode(ole.openstream(path).read()).rstrip("\x00").strip()
    return ""


def _filetime(ole, storage: str, header: int, prop_id: int) -> datetime | None:
    """A PT_SYSTIME property from the fixed-size `__properties_version1.0` stream."""
    path = f"{storage}__properties_version1.0"
    if not ole.exists(path):
        return None
    data = ole.openstream(path).read()
    for offset in range(header, len(data) - 15, 16):
        tag, value = struct.unpack_from("<I4xQ", data, offset)
        if tag == (prop_id << 16) | 0x0040 and value:
            return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=value // 10)
    return None


def _attachment_label(ole, storage: str, index: int) -> str:
    prefix = storage + "/"
    return (_string(ole, prefix, _LONG_NAME) or _string(ole, prefix, _DISPLAY_NAME)
            or _string(ole, prefix, _SHORT_NAME) or f"附件{index}")


def parse_msg(data: bytes, limits: Limits | None = None, depth: int = 0) -> ParsedMessage:
    """ParsedMessage from the bytes of an Outlook .msg; raises ValueError when it is not one. `depth`
    counts the mails it is attached to."""
    import olefile

    limits = limits or Limits()
    try:
        ole = olefile.OleFileIO(data)
    except (OSError, ValueError) as exc:
        raise ValueError("不是有效的 Outlook .msg 文件") from exc
    with ole:
        return _message(ole, "", 32, limits, depth)


def _message(ole, prefix: str, header: int, limits: Limits, depth: int) -> ParsedMessage:
    """The message stored under `prefix` ("" for the file's own, else an embedded message's storage and
    "/"); `header` is its property stream's header size ([MS-OXMSG] 2.4.1: 32 top level, 24 embedded)."""
    # as bytes, so that raw non-ASCII header text is kept as surrogate escapes like a parsed .eml's
    headers = email.message_from_bytes(_string(ole, prefix, _HEADERS).encode("utf-8"), policy=RAW)
    name = _string(ole, prefix, _SENDER_NAME)
    address = _string(ole, prefix, _SENDER_SMTP) or _string(ole, prefix, _SENDER_EMAIL)
    if "@" not in address:  # Exchange-internal X.500 address; the transport headers know the SMTP one
        address = sender_of(header_text(headers, "From"))[1]
    sender, address = sender_of(f'"{name}" <{address}>' if address else name or header_text(headers, "From"))
    parsed = ParsedMessage(
        message_id=_string(ole, prefix, _MESSAGE_ID) or header_text(headers, "Message-ID"),
        sender=sender, sender_address=address, subject=_string(ole, prefix, _SUBJECT),
        received=(_filetime(ole, prefix, header, _DELIVERY_TIME) or received_time(headers)
                  or _filetime(ole, prefix, header, _SUBMIT_TIME)))
    parsed.skipped += big_attachment_links(_string(ole, prefix, _BODY))
    base = [part for part in prefix.split("/") if part]
    storages = sorted({"/".join(e[:len(base) + 1]) for e in ole.listdir(streams=True, storages=True)
                       if e[:len(base)] == base and len(e) > len(base)
                       and e[len(base)].startswith("__attach_version1.0_#")})
    cap = limits.msg_attachments
    parsed.skipped += past_cap([_attachment_label(ole, storage, index) for index, storage in
                                enumerate(storages[cap:], start=cap + 1)], cap, limits)
    for index, storage in enumerate(storages[:cap], start=1):
        label = _attachment_label(ole, storage, index)
        stream = f"{storage}/__substg1.0_{_DATA}0102"
        embedded = f"{storage}/__substg1.0_{_DATA}000D"
        if ole.exists(embedded):  # a mail forwarded as an attachment: a message of its own
            if depth >= limits.mail_depth:
                parsed.skipped.append(too_deep(label))
                continue
            inner = _message(ole, embedded + "/", 24, limits, depth + 1)
            inner.received = inner.received or parsed.received
            parsed.attached.append(inner)
            continue
        if not ole.exists(stream):
            parsed.skipped.append(Skipped(label, "嵌入的对象，不是普通附件，未收取；请对方把表格直接作为附件发送"))
            continue
        if ole.get_size(stream) > limits.attachment_bytes:
            parsed.skipped.append(Skipped(label, f"附件超过 {limits.attachment_bytes // 2**20} MB 上限，未收取"))
            continue
        take_file(parsed, label, ole.openstream(stream).read(), limits, depth)
    return parsed
