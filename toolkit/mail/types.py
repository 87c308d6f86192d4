"""Plain data passed between the mail intake layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    tool_timeout: float = 60.0  # unar/bsdtar


@dataclass(frozen=True)
class Found:
    """A file worth keeping: its decoded display name, bytes and sniffed kind."""

    name: str
    data: bytes = field(repr=False)
    kind: str


@dataclass(frozen=True)
class Skipped:
    """A file not taken. `rejected` is False for harmless skips (a duplicate, a signature icon)."""

    name: str
    reason: str
    rejected: bool = True

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


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
