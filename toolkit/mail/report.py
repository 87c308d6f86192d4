"""What one intake run did, in the JSON shape of DESIGN §4."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .types import ParsedMessage, Skipped


@dataclass
class MessageReport:
    message_id: str | None
    sender: str
    subject: str
    date: str | None  # ISO 8601 received time
    attachments: list[dict[str, str]] = field(default_factory=list)  # name, path (absolute), sha256
    skipped: list[Skipped] = field(default_factory=list)

    @classmethod
    def of(cls, parsed: ParsedMessage) -> MessageReport:
        return cls(parsed.message_id or None, parsed.sender, parsed.subject,
                   parsed.received.isoformat() if parsed.received else None)

    def to_json(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "from": self.sender, "subject": self.subject, "date": self.date,
                "attachments": list(self.attachments), "skipped": [s.to_json() for s in self.skipped]}


@dataclass
class IntakeReport:
    messages: list[MessageReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # per source / per message, in Chinese
    warnings: list[str] = field(default_factory=list)  # nothing failed, but the user should know (no TLS)
    already_taken: int = 0  # messages seen in an earlier run and left alone
    moved: int = 0
    moved_to: str | None = None  # the --move-to folder, once something went there

    @property
    def has_rejections(self) -> bool:
        """True when some input was refused or could not be read (exit code 1)."""
        return bool(self.errors) or any(s.rejected for m in self.messages for s in m.skipped)

    def to_json(self) -> dict[str, Any]:
        return {"messages": [m.to_json() for m in self.messages], "errors": list(self.errors),
                "warnings": list(self.warnings)}
