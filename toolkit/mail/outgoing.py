"""Mail to branches as the Chinese clients read it: drafts (.eml) and the messages SMTP sends.

Built with the classic (compat32) `email.mime` classes so every header is written exactly as given:
- subject and display names as RFC 2047 encoded words in UTF-8;
- the text as UTF-8 in base64 (no line too long for any relay);
- an attachment's Chinese name three times over, because no one form is read by all: RFC 2231
  `filename*=UTF-8''…` (163 and QQ web mail, Thunderbird, Python), and the RFC 2047 encoded word in a quoted
  `filename="=?UTF-8?B?…?="` and Content-Type `name="…"` (Outlook and Foxmail, which ignore `filename*`).
A draft carries `X-Unsent: 1`: Outlook opens it as a message to send, not as one received.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote

from toolkit.files.atomic import write_atomic

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Outgoing:
    """One mail: who from (address and the office's name), to whom, what, and the file to attach."""

    sender: str  # the office's address ("" in a draft nobody's account sends yet)
    sender_name: str
    to: str  # one address, or several joined by ", "
    to_name: str
    subject: str
    body: str
    attachment: Path | None = None


def encoded_word(text: str, split: bool = True) -> str:
    """`text` as RFC 2047 encoded words (UTF-8, base64) on one line, separated by single spaces; `split`
    False: one word, however long (a name: parsers that join a subject's words keep a space between a
    display name's or a file name's)."""
    return " ".join(Header(text, "utf-8").encode(splitchars=" ", maxlinelen=76 if split else 10_000).split())


def rfc2231(text: str) -> str:
    return "UTF-8''" + quote(text, safe="")


def attachment_part(data: bytes, name: str) -> MIMEBase:
    """An attachment whose Chinese name every client shows (see the module's note)."""
    mime = XLSX if name.lower().endswith(".xlsx") else mimetypes.guess_type(name)[0] or "application/octet-stream"
    maintype, _, subtype = mime.partition("/")
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    word = encoded_word(name, split=False) if not name.isascii() else name
    del part["Content-Type"]
    part["Content-Type"] = f'{mime}; name="{word}"'
    part["Content-Disposition"] = f'attachment; filename="{word}"; filename*={rfc2231(name)}'
    return part


def build_message(mail: Outgoing, draft: bool = False) -> Message:
    """The message as sent (or, `draft`, as a draft to open and send from a mail client)."""
    msg = MIMEMultipart() if mail.attachment is not None else MIMEText(mail.body, "plain", "utf-8")
    if mail.sender:  # none: the mail client fills in its account when the draft is opened
        msg["From"] = formataddr((encoded_word(mail.sender_name, False), mail.sender))
    if mail.to:  # "a@x.cn, b@x.cn": a branch whose roster cell holds two addresses gets both
        msg["To"] = ", ".join(formataddr((encoded_word(mail.to_name, False), to)) for to in mail.to.split(", "))
    msg["Subject"] = encoded_word(mail.subject)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("brandkit", domain=mail.sender.rpartition("@")[2] or None)
    if draft:
        msg["X-Unsent"] = "1"
    if mail.attachment is not None:
        msg.attach(MIMEText(mail.body, "plain", "utf-8"))
        msg.attach(attachment_part(mail.attachment.read_bytes(), mail.attachment.name))
    return msg


def message_bytes(msg: Message) -> bytes:
    """The message as sent and as saved: CRLF line ends, each header on one line (a folded header would
    start the subject with a space in some readers), nothing but ASCII."""
    from email.generator import BytesGenerator
    from email.policy import compat32
    from io import BytesIO

    buf = BytesIO()
    BytesGenerator(buf, policy=compat32.clone(linesep="\r\n"), maxheaderlen=0).flatten(msg)
    return buf.getvalue()


def write_eml(msg: Message, path: Path) -> Path:
    """The message as a .eml file (Outlook and Foxmail open it, 163/QQ web mail import it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, message_bytes(msg))
    return path
