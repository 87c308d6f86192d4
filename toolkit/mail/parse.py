"""One raw RFC 5322 message -> ParsedMessage (sender, subject, received time, files worth keeping).

Headers are fetched raw (see `_RawPolicy`) and decoded by `names`, never by stdlib's guesses. A broken
message is read as far as it goes; what went wrong becomes a Chinese problem text, never an exception.
"""

from __future__ import annotations

import email
import email.errors
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from email.message import Message
from email.policy import Compat32
from email.utils import parseaddr

from toolkit.readers.kinds import sniff

from .archives import collect
from .dates import mail_date
from .names import decode_bytes, decode_header_bytes, header_params, unfold
from .repair import repair_headers, strip_lead
from .types import MB, Limits, ParsedMessage, Skipped, past_cap


class _RawPolicy(Compat32):
    """Compat32 that hands header values back untouched (8-bit bytes kept as surrogate escapes)."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW = _RawPolicy()


def raw_header(msg: Message, name: str) -> bytes:
    value = msg.get(name)
    if value is None:
        return b""
    return unfold(str(value).encode("ascii", "surrogateescape"))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def header_text(msg: Message, name: str) -> str:
    return _CONTROL.sub("", decode_header_bytes(raw_header(msg, name))).strip()


def received_time(msg: Message) -> datetime | None:
    """When the mail arrived: the newest Received: stamp, else the sender's Date:."""
    stamps = [unfold(str(v).encode("ascii", "surrogateescape")) for v in msg.get_all("Received") or []]
    candidates = [s.rsplit(b";", 1)[-1] for s in stamps[:1] if b";" in s] + [raw_header(msg, "Date")]
    for raw in candidates:
        moment = mail_date(decode_bytes(raw))
        if moment is not None:
            return moment
    return None


def sender_of(text: str) -> tuple[str, str]:
    """('张三 <zhangsan@qq.com>', 'zhangsan@qq.com') from a decoded From: value."""
    name, address = parseaddr(text)
    name = name.strip().strip('"').strip()
    address = address.strip()
    if not address:
        return text.strip(), ""
    return (f"{name} <{address}>" if name and name != address else address), address


_BIG_LINK = re.compile(r"https?://[^\s\"'<>]*(?:ftn|large-attachment|bigfile|fs\.163|dfs\.mail|attach\.qq)[^\s\"'<>]*",
                       re.I)
_BIG_NAME = re.compile(r"[^\s<>\"'/\\|:*?]+\.(?:xlsx|xlsm|xls|et|ods|csv|zip|rar|7z|png|jpe?g)\b", re.I)
_BASE64_DEFECTS = (email.errors.InvalidBase64PaddingDefect, email.errors.InvalidBase64LengthDefect)
_TRUNCATED = (email.errors.StartBoundaryNotFoundDefect, email.errors.CloseBoundaryNotFoundDefect,
              email.errors.MultipartInvariantViolationDefect)


def big_attachment_links(body: str) -> list[Skipped]:
    """QQ/163 '超大附件': expiring download links in the body instead of attachments."""
    if "超大附件" not in body:
        return []
    links = list(dict.fromkeys(m.group(0) for m in _BIG_LINK.finditer(body)))[:20]
    text = re.sub(r"<[^>]+>", " ", body)
    names = list(dict.fromkeys(m.group(0) for m in _BIG_NAME.finditer(text)))[:20] or ["超大附件"]
    where = f"；链接：{links[0]}" if links else ""
    reason = ("超大附件只是正文里的下载链接（会过期），不随邮件发送，未收取；请下载后放入收件箱文件夹，"
              f"或请对方改为普通附件重新发送{where}")
    return [Skipped(name, reason) for name in names]


def _decoded(part: Message) -> bytes:
    """A leaf part's payload with its transfer encoding undone (b"" when it has none)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _payload(part: Message, name: str, limits: Limits) -> tuple[bytes | None, Skipped | None]:
    encoded = part.get_payload(decode=False)
    if isinstance(encoded, str) and len(encoded) * 3 // 4 > limits.attachment_bytes:
        size = len(encoded) * 3 / 4 / MB
        return None, Skipped(name, f"附件约 {size:.0f} MB，超过 {limits.attachment_bytes / MB:.0f} MB 上限，"
                                   "未收取；请对方压缩或拆分后重新发送")
    before = len(part.defects)
    data = _decoded(part)
    if any(isinstance(d, _BASE64_DEFECTS) for d in part.defects[before:]):
        return None, Skipped(name, "附件数据不完整（邮件可能在传输中被截断），未收取；请对方重新发送")
    return data, None


def _filename(part: Message) -> str | None:
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        raw = raw_header(part, header)
        if raw:
            name = header_params(raw).get(param, "").strip()
            if name:
                return name
    return None


def _disposition(part: Message) -> bytes:
    return raw_header(part, "Content-Disposition").split(b";", 1)[0].strip().lower()


def _attachment_like(part: Message) -> bool:
    """A part without a file name that would still have been taken as an attachment."""
    return _disposition(part) == b"attachment" or part.get_content_maintype() == "application"


def _tree(msg: Message, top: bool = True) -> Iterator[Message]:
    """Every part of a mail, not descending into attached mails (message/rfc822): those are read as
    mails of their own (`take_file`)."""
    yield msg
    if msg.is_multipart() and (top or msg.get_content_maintype() != "message"):
        for sub in msg.get_payload():
            if isinstance(sub, Message):
                yield from _tree(sub, False)


def _read(data: bytes) -> Message:
    """Parse raw bytes; when a header block ended at a malformed line, repair the blocks and parse again."""
    msg = email.message_from_bytes(strip_lead(data), policy=RAW)
    if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for p in _tree(msg) for d in p.defects):
        msg = email.message_from_bytes(repair_headers(strip_lead(data)), policy=RAW)
    return msg


def _attached_mail_bytes(part: Message) -> bytes:
    """The raw bytes of an attached message/rfc822 part, its transfer encoding undone."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _decoded(part)
    inner = payload[0] if payload and isinstance(payload[0], Message) else Message()
    if inner.keys() or str(part.get("Content-Transfer-Encoding", "")).strip().lower() not in ("base64",
                                                                                             "quoted-printable"):
        return inner.as_bytes(policy=RAW)
    # the parser read the still-encoded text as a mail without headers: decode that text
    encoded = Message()
    encoded["Content-Transfer-Encoding"] = str(part["Content-Transfer-Encoding"])
    encoded.set_payload(inner.get_payload())
    return _decoded(encoded)


_CID = re.compile(r"""cid:([^"'\s>)]+)""", re.I)


def _content_id(part: Message) -> str:
    return raw_header(part, "Content-ID").decode("ascii", "replace").strip().strip("<>").lower()


def _shown_in_body(parts: list[Message]) -> set[str]:
    """The Content-IDs the mail's HTML body shows as pictures (`<img src="cid:…">`): those parts are the
    body's own pictures (QQ and Foxmail name them), not attachments."""
    return {m.group(1).lower() for p in parts if p.get_content_type() == "text/html" and not _filename(p)
            for m in _CID.finditer(decode_bytes(_decoded(p), p.get_content_charset()))}


def too_deep(label: str) -> Skipped:
    """A mail attached past `Limits.mail_depth`."""
    return Skipped(label, "邮件内又多层嵌套了作为附件转发的邮件，未读取；请对方把表格直接作为附件发送")


def take_file(parsed: ParsedMessage, label: str, data: bytes, limits: Limits, depth: int,
              is_mail: bool = False) -> None:
    """Add one attached file to `parsed`. A mail attached to it (forwarded as an attachment: message/rfc822,
    an .eml or an Outlook .msg) becomes a message of its own in `parsed.attached`, with its own sender, so
    the reply about its forms goes to the one who sent them; anything else goes through `collect`."""
    outlook = data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") and sniff(data, label) == "msg"
    if is_mail or outlook or label.lower().endswith(".eml"):
        if depth >= limits.mail_depth:
            parsed.skipped.append(too_deep(label))
            return
        from .msg import parse_msg  # msg.py imports this module

        try:
            inner = parse_msg(data, limits, depth + 1) if outlook else parse_message(data, limits, depth + 1)
        except ValueError:
            inner = None  # named .eml but not a mail: kept as a file below
        if inner is not None:
            inner.received = inner.received or parsed.received
            parsed.attached.append(inner)
            return
    found, skipped = collect(label, data, limits)
    parsed.skipped += skipped
    for one in found:  # a mail saved into a zip is read as a mail too
        if one.name != label and (one.kind == "msg" or one.name.lower().endswith(".eml")):
            take_file(parsed, one.name, one.data, limits, depth)
        else:
            parsed.found.append(one)


def parse_message(data: bytes, limits: Limits | None = None, depth: int = 0) -> ParsedMessage:
    """Everything intake needs from one raw message; raises ValueError only when it is not a mail.
    `depth` counts the mails it is attached to."""
    limits = limits or Limits()
    msg = _read(data)
    sender, address = sender_of(header_text(msg, "From"))
    parsed = ParsedMessage(
        message_id=raw_header(msg, "Message-ID").decode("ascii", "replace").strip(),
        sender=sender, sender_address=address, subject=header_text(msg, "Subject"),
        received=received_time(msg))
    if not msg.keys() or not (raw_header(msg, "From") or raw_header(msg, "Subject") or msg.is_multipart()):
        raise ValueError("不是有效的邮件（没有发件人、主题等邮件头），已跳过")
    parts = [p for p in _tree(msg) if not p.is_multipart() or (p is not msg and p.get_content_maintype() == "message")]
    if any(isinstance(d, _TRUNCATED) for p in _tree(msg) for d in p.defects):
        parsed.problems.append("邮件结构不完整（可能被截断），已尽量读取其中的附件；如缺少附件请对方重新发送")
    cap = limits.message_parts
    shown = _shown_in_body(parts)
    for index, part in enumerate(parts[:cap], start=1):
        name = _filename(part)
        ctype = part.get_content_type()
        disposition = _disposition(part)
        if ctype in ("message/rfc822", "message/global"):
            take_file(parsed, name or f"附件{index}.eml", _attached_mail_bytes(part), limits, depth, is_mail=True)
            continue
        if name is None and ctype in ("text/plain", "text/html") and disposition != b"attachment":
            body = decode_bytes(_decoded(part), part.get_content_charset())
            parsed.skipped += big_attachment_links(body)
            continue
        if ctype == "application/ms-tnef" or (name or "").lower() == "winmail.dat":
            parsed.skipped.append(Skipped(name or "winmail.dat", "Outlook RTF 格式的 winmail.dat，无法读取其中附件；"
                                          "请对方在 Outlook 中改用 HTML 或纯文本格式重新发送"))
            continue
        inline = part.get_content_maintype() == "image" and _content_id(part) in shown
        if inline and disposition != b"attachment" or (name is None and disposition != b"attachment"
                                                       and part.get_content_maintype() not in ("application",)):
            if part.get_content_maintype() == "image":  # a signature icon, never a branch's logo by accident
                parsed.skipped.append(Skipped(name or f"正文图片{index}", "正文中的内嵌图片（多为签名图标），未收取；"
                                                                         "品牌标识请作为附件发送", rejected=False))
            continue
        label = name or f"附件{index}"
        data_, problem = _payload(part, label, limits)
        if problem:
            parsed.skipped.append(problem)
            continue
        take_file(parsed, label, data_ or b"", limits, depth)
    beyond = [(_filename(p), p) for p in parts[cap:]]
    parsed.skipped += past_cap([name or f"附件{cap + n}" for n, (name, p) in enumerate(beyond, start=1)
                                if name or _attachment_like(p)], cap, limits)
    garbled = [t for t in (parsed.sender, parsed.subject, *(f.name for f in parsed.found)) if "\ufffd" in t]
    if garbled:
        parsed.problems.append(f"邮件头含无法识别的字节（如“{garbled[0]}”），已尽量解读；名称若是乱码，请与发件人核对")
    return parsed


def message_key(parsed: ParsedMessage) -> str:
    """Identity for the idempotency ledger, by content: the Message-ID, sender and subject with the
    sha256 of every file kept and the names of those skipped. Clients reuse Message-IDs (a template, a
    broken client), so two mails sharing one are both taken unless they carry the same files; the same
    mail through another route (an .eml export, IMAP) has the same key whatever its transport headers."""
    digest = hashlib.sha256()
    for text in (parsed.message_id, parsed.sender, parsed.subject, *sorted(f.sha256 for f in parsed.found),
                 *sorted(s.name for s in parsed.skipped), *sorted(message_key(a) for a in parsed.attached)):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    return "content:" + digest.hexdigest()

