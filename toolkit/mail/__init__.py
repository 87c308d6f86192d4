"""Mail intake: saved messages, mailboxes and IMAP -> a clean inbox folder that merge can trust.

`intake(sources, out_dir)` takes every message of every source once (a SQLite ledger in the inbox folder
keys on IMAP UIDVALIDITY+UID, on each message's content - Message-ID with its attachments' sha256, never
the Message-ID alone - and on each saved file's sha256), decodes attachment names the way
Chinese mail clients really write them, keeps spreadsheets and pictures (zip/rar unpacked), skips the
rest with a reason, and writes `INBOX/<received date>_<sender>/<name>` plus `INBOX/inbox.jsonl`.
`read_manifest(inbox)` gives merge each saved file's sender and received time.
"""

from __future__ import annotations

from .report import IntakeReport, MessageReport
from .run import IntakeError, intake
from .secrets import MissingPassword, imap_password
from .store import read_manifest
from .types import Limits

__all__ = ["IntakeError", "IntakeReport", "Limits", "MessageReport", "MissingPassword", "imap_password",
           "intake", "read_manifest"]
