"""Plain data passed between the mail intake layers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps that keep one hostile mail from exhausting the machine (real forms are far below them)."""

    message_bytes: int = 100 * MB  # whole raw message; larger ones are refused before parsing
    attachment_bytes: int = 50 * MB  # one decoded attachment or archive member
    archive_members: int = 500
    archive_total_bytes: int = 200 * MB  # all members of one archive, uncompressed
    archive_ratio: int = 100  # uncompressed/compressed per member; real forms are ≤ 9 (FACTS)
    archive_depth: int = 2  # a zip inside a zip is unpacked, one deeper is not
    mail_depth: int = 3  # mails attached to mails (forwarded as attachments) read this many levels deep
    tool_timeout: float = 60.0  # unar/bsdtar
    message_parts: int = 1000  # MIME leaf parts read in one .eml; the attachments past it are named
    msg_attachments: int = 500  # attachments read in one Outlook .msg; likewise
    named_past_cap: int = 1000  # of those past a cap, how many are named one by one (then one count)


@dataclass(frozen=True)
class Found:
    """A file worth keeping: its decoded display name, bytes and sniffed kind."""

    name: str
    data: bytes = field(repr=False)
    kind: str

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Skipped:
    """A file not taken. `rejected` is False for harmless skips (a duplicate, a signature icon)."""

    name: str
    reason: str
    rejected: bool = True

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


def past_cap(names: list[str], cap: int, limits: Limits) -> list[Skipped]:
    """Skipped entries for the attachments past a cap on how many one mail may carry: each named, up to
    `limits.named_past_cap`, then one entry counting the rest."""
    reason = f"这封邮件的附件超过 {cap} 个上限，此附件未收取；请对方分几封邮件重新发送"
    shown = names[: limits.named_past_cap]
    rest = len(names) - len(shown)
    more = [Skipped(f"其余 {rest} 个附件", reason)] if rest else []
    return [Skipped(name, reason) for name in shown] + more


@dataclass
class ParsedMessage:
    """One mail reduced to what intake needs. `problems` are Chinese messages about the message itself
    (truncated, unreadable header …); they are reported, and the message is still taken in as far as
    it could be read."""

    message_id: str
    sender: str  # '张三 <zhangsan@qq.com>' or the bare address
    sender_address: str
    subject: str
    received: datetime | None
    found: list[Found] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # mails attached to this one (forwarded as attachments): each is a message of its own, from its own sender
    attached: list[ParsedMessage] = field(default_factory=list)
