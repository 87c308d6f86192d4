"""The inbox folder: saved files, the manifest merge reads, and the ledger that makes intake idempotent.

Layout: `INBOX/<received date>_<sender>/<name>`, `INBOX/inbox.jsonl` (one line per saved file) and
`INBOX/.brandkit-intake.sqlite` (messages taken, by a key on their content - parse.message_key; IMAP
UIDVALIDITY+UID seen, held back from moving with the reason, and moved or copied; file sha256 saved). Each file
is written to a temp name and renamed, then its manifest line appended, then the ledger committed: a crash
at any point leaves at worst a message that is taken again next time, never a half-written file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from toolkit.files.atomic import write_atomic
from toolkit.files.filenames import safe_name

from .dates import china_day
from .names import attachment_name
from .types import ParsedMessage, Skipped

MANIFEST = "inbox.jsonl"
LEDGER = ".brandkit-intake.sqlite"
# UTF-16 units of a sender folder's name: with an attachment's (at most filenames.MAX_UNITS) and " (2)",
# what intake adds under the inbox stays under 180 characters, leaving the inbox's own path room in
# Windows' 260 (and Excel's 218, which will not open a file at a longer path)
FOLDER_UNITS = 48

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (key TEXT PRIMARY KEY, message_id TEXT, sender TEXT, subject TEXT,
                                     received TEXT, source TEXT, taken_at TEXT);
CREATE TABLE IF NOT EXISTS imap (account TEXT, folder TEXT, uidvalidity INTEGER, uid INTEGER, key TEXT,
                                 PRIMARY KEY (account, folder, uidvalidity, uid));
CREATE TABLE IF NOT EXISTS files (sha256 TEXT PRIMARY KEY, path TEXT, key TEXT);
CREATE TABLE IF NOT EXISTS held (account TEXT, folder TEXT, uidvalidity INTEGER, uid INTEGER, reason TEXT,
                                 PRIMARY KEY (account, folder, uidvalidity, uid));
CREATE TABLE IF NOT EXISTS moved (account TEXT, folder TEXT, uidvalidity INTEGER, uid INTEGER, target TEXT,
                                  PRIMARY KEY (account, folder, uidvalidity, uid));
"""
_UID = "account=? AND folder=? AND uidvalidity=? AND uid=?"
Uid = tuple[str, str, int, int]  # IMAP account, folder, UIDVALIDITY, UID


def folder_name(parsed: ParsedMessage) -> str:
    day = china_day(parsed.received).isoformat() if parsed.received else "日期不明"
    who = parsed.sender.split("<", 1)[0].strip() or parsed.sender_address or "发件人不明"
    if parsed.sender_address and who != parsed.sender_address:
        who = f"{who}_{parsed.sender_address}"
    return safe_name(f"{day}_{who}", fallback=day, max_units=FOLDER_UNITS)


def _free_path(folder: Path, name: str) -> Path:
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 2
    while path.exists():
        path = folder / f"{stem} ({n}){suffix}"
        n += 1
    return path


class Inbox:
    """An inbox folder opened for intake (hold `lock` while using it)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(root / LEDGER)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def has_message(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE key = ?", (key,)).fetchone() is not None

    def taken(self, key: str, parsed: ParsedMessage) -> bool:
        """Whether this mail was taken before: its content key (parse.message_key) is in the ledger, or -
        in a ledger written before content keys, which were Message-IDs - its Message-ID is, and every
        file it carries is saved already."""
        if self.has_message(key):
            return True
        if not parsed.message_id or not self.has_message(parsed.message_id):
            return False
        return all(self.db.execute("SELECT 1 FROM files WHERE sha256 = ?", (f.sha256,)).fetchone()
                   for f in parsed.found)

    def has_uid(self, account: str, folder: str, uidvalidity: int, uid: int) -> bool:
        return self.db.execute(f"SELECT 1 FROM imap WHERE {_UID}", (account, folder, uidvalidity, uid)).fetchone() \
            is not None

    def hold(self, uid: Uid, reason: str) -> None:
        """An IMAP mail taken with files missing: it stays in its folder, and each run says why."""
        self.db.execute("INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?, ?)", (*uid, reason))
        self.db.commit()

    def held(self, uid: Uid) -> str | None:
        row = self.db.execute(f"SELECT reason FROM held WHERE {_UID}", uid).fetchone()
        return row[0] if row else None

    def record_moved(self, uids: list[Uid], target: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO moved VALUES (?, ?, ?, ?, ?)", [(*u, target) for u in uids])
        self.db.commit()

    def was_moved(self, uid: Uid) -> bool:
        return self.db.execute(f"SELECT 1 FROM moved WHERE {_UID}", uid).fetchone() is not None

    def save(self, parsed: ParsedMessage, key: str) -> tuple[list[dict[str, str]], list[Skipped]]:
        """Write the message's files (once per sha256 across the whole inbox) and their manifest lines."""
        saved: list[dict[str, str]] = []
        skipped: list[Skipped] = []
        folder = self.root / folder_name(parsed)
        for found in parsed.found:
            digest = found.sha256
            row = self.db.execute("SELECT path FROM files WHERE sha256 = ?", (digest,)).fetchone()
            if row and (self.root / row[0]).is_file():
                skipped.append(Skipped(found.name, f"与已收取的 {row[0]} 内容完全相同，不再重复保存", rejected=False))
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = _free_path(folder, attachment_name(found.name, found.kind))
            write_atomic(path, found.data)
            rel = path.relative_to(self.root).as_posix()
            self._append_manifest({
                "path": rel, "name": found.name, "sha256": digest, "sender": parsed.sender,
                "received": parsed.received.isoformat() if parsed.received else None,
                "message_id": parsed.message_id or None, "subject": parsed.subject})
            self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", (digest, rel, key))
            saved.append({"name": found.name, "path": str(path.resolve()), "sha256": digest})
        return saved, skipped

    def _append_manifest(self, record: dict[str, Any]) -> None:
        with open(self.root / MANIFEST, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def record(self, parsed: ParsedMessage, key: str, source: str, uid: Uid | None = None) -> None:
        """Mark a message as taken (and its IMAP UID as seen); commits."""
        self.db.execute("INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", (
            key, parsed.message_id, parsed.sender, parsed.subject,
            parsed.received.isoformat() if parsed.received else None, source,
            datetime.now().astimezone().isoformat(timespec="seconds")))
        if uid:
            self.db.execute("INSERT OR IGNORE INTO imap VALUES (?, ?, ?, ?, ?)", (*uid, key))
        self.db.commit()

    def record_uid(self, uid: Uid, key: str) -> None:
        """An IMAP message whose Message-ID was already taken through another route."""
        self.db.execute("INSERT OR IGNORE INTO imap VALUES (?, ?, ?, ?, ?)", (*uid, key))
        self.db.commit()


def read_manifest(inbox: Path) -> dict[str, dict[str, Any]]:
    """Saved file (absolute, resolved path) -> {sender, received, message_id, subject, sha256, name}
    (`name`: the attachment's name as sent).

    The last line for a path wins; lines that are not valid JSON (a crash mid-append) are ignored.
    """
    result: dict[str, dict[str, Any]] = {}
    manifest = inbox / MANIFEST
    if not manifest.is_file():
        return result
    root = inbox.resolve()
    with open(manifest, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
                path = str((root / rec["path"]).resolve())
            except (ValueError, KeyError, TypeError):
                continue
            result[path] = {k: rec.get(k) for k in ("sender", "received", "message_id", "subject", "sha256", "name")}
    return result
