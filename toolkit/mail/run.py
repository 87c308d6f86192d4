"""The intake run: every source -> parsed messages -> the inbox folder, one message at a time.

A broken message or source becomes an entry in `errors` and the batch goes on. IMAP messages are moved
(`move_to`) only at the end of their folder, after their files and ledger rows are on disk.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from .dates import china_day
from .imap import ImapSession, ImapSource, Meta, parse_imap_url
from .msg import parse_msg
from .names import decode_header_bytes, unfold
from .parse import message_key, parse_message
from .report import IntakeReport, MessageReport
from .secrets import MissingPassword, imap_password
from .sources import RawItem, SourceError, file_items
from .store import Inbox
from .types import MB, Limits, ParsedMessage

Progress = Callable[[int, int], None]


class IntakeError(Exception):
    """The run cannot start at all (exit code 2); the message is in Chinese."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _family(parsed: ParsedMessage) -> list[ParsedMessage]:
    """A mail and the mails attached to it (forwarded as attachments), at any depth."""
    return [parsed, *(m for inner in parsed.attached for m in _family(inner))]


def _wanted(family: list[ParsedMessage], since: date | None, subject: str | None) -> bool:
    """The filters of one mail, with the mails it forwards: the subject may be the forwarded mail's; the
    day is the one the outer mail arrived, counted in China time."""
    if subject and not any(_fold(subject) in _fold(m.subject) for m in family):
        return False
    received = family[0].received
    return not (since and received and china_day(received) < since)


def _too_big(size: int | None, limits: Limits) -> str | None:
    if size is not None and size > limits.message_bytes:
        return (f"邮件大小 {size / MB:.0f} MB，超过 {limits.message_bytes / MB:.0f} MB 上限，未处理；"
                "请对方压缩或拆分附件后重新发送")
    return None


class _Run:
    def __init__(self, inbox: Inbox, report: IntakeReport, limits: Limits, since: date | None,
                 subject: str | None, progress: Progress | None) -> None:
        self.inbox, self.report, self.limits = inbox, report, limits
        self.since, self.subject, self.progress = since, subject, progress
        self.done = self.total = 0

    def tick(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)

    def take(self, label: str, raw: bytes, fmt: str, source: str,
             uid: tuple[str, str, int, int] | None = None, received: datetime | None = None) -> bool:
        """Parse and store one message; True when it is handled (taken now or earlier)."""
        problem = _too_big(len(raw), self.limits)
        if problem:
            self.report.errors.append(f"{label}：{problem}")
            return False
        try:
            parsed = parse_msg(raw, self.limits) if fmt == "msg" else parse_message(raw, self.limits)
        except ValueError as exc:
            self.report.errors.append(f"{label}：{exc}")
            return False
        except Exception as exc:  # noqa: BLE001 - one broken message must never stop the batch
            self.report.errors.append(f"{label}：无法解析这封邮件（{type(exc).__name__}: {exc}），已跳过")
            return False
        if received is not None:
            parsed.received = received
        family = _family(parsed)
        if not _wanted(family, self.since, self.subject):
            return False
        for n, one in enumerate(family):
            self._store(f"{label} 所附邮件" if n else label, one, source, uid if one is parsed else None)
        return True

    def _store(self, label: str, parsed: ParsedMessage, source: str,
               uid: tuple[str, str, int, int] | None) -> None:
        """Save one message's files and record it, unless an earlier run took it."""
        key = message_key(parsed)
        if self.inbox.taken(key, parsed):
            self.report.already_taken += 1
            if uid:
                self.inbox.record_uid(uid, key)
            return
        where = f"{label}（{parsed.subject or '无主题'}）"
        self.report.errors += [f"{where}：{p}" for p in parsed.problems]
        entry = MessageReport.of(parsed)
        entry.attachments, duplicates = self.inbox.save(parsed, key)
        entry.skipped = parsed.skipped + duplicates
        self.inbox.record(parsed, key, source, uid)
        self.report.messages.append(entry)

    def files(self, source: str) -> None:
        notes: list[str] = []
        items: list[RawItem] = list(file_items(source, notes))
        self.report.warnings += notes
        self.total += len(items)
        for item in items:
            problem = _too_big(item.size, self.limits)
            if problem:
                self.report.errors.append(f"{item.label}：{problem}")
            else:
                try:
                    raw = item.load()
                except OSError as exc:
                    self.report.errors.append(f"{item.label}：无法读取（{exc}）")
                else:
                    self.take(item.label, raw, item.fmt, item.label)
            self.tick()

    def imap(self, src: ImapSource, password: str, move_to: str | None) -> None:
        with ImapSession(src, password, readonly=not move_to) as session:
            self.report.warnings += session.warnings
            key = (src.account, src.folder, session.uidvalidity)
            metas = session.metas(session.search(self.since))
            self.total += len(metas)
            handled: list[int] = []  # taken now or in an earlier run, and matching this run's filter
            for meta in metas:
                if self._imap_one(session, src, key, meta):
                    handled.append(meta.uid)
                self.tick()
            if move_to:
                warning = session.move(sorted(handled), move_to)
                if warning:
                    self.report.errors.append(f"{src.account}/{src.folder}：{warning}")
                else:
                    self.report.moved += len(handled)

    def _imap_one(self, session: ImapSession, src: ImapSource, key: tuple[str, str, int], meta: Meta) -> bool:
        subject = _header_of(meta.header, b"subject")
        if self.subject and _fold(self.subject) not in _fold(subject):
            return False
        if self.inbox.has_uid(*key, meta.uid):
            self.report.already_taken += 1
            return True
        # a Message-ID taken before through another route is no proof: clients reuse them, so the mail is
        # fetched and judged by its content (`take`)
        label = f"{src.account}/{src.folder} UID {meta.uid}"
        problem = _too_big(meta.size, self.limits)
        raw = None if problem else session.fetch(meta.uid)
        if problem or raw is None:
            self.report.errors.append(f"{label}（{subject}）：{problem or '服务器没有返回邮件内容'}")
            return False
        return self.take(label, raw, "mime", f"imap://{src.account}/{src.folder}", (*key, meta.uid),
                         meta.internaldate)


def _header_of(header: bytes, name: bytes) -> str:
    """One header's decoded value from a fetched header block."""
    for line in unfold(header).splitlines():
        field, colon, value = line.partition(b":")
        if colon and field.strip().lower() == name:
            return decode_header_bytes(value.strip())
    return ""


def intake(sources: list[str], out_dir: Path, *, since: date | None = None, subject: str | None = None,
           move_to: str | None = None, password: Callable[[str], str] | None = None,
           progress: Progress | None = None, limits: Limits | None = None) -> IntakeReport:
    """Take the attachments of every source's messages into `out_dir` (see the package docstring)."""
    from filelock import FileLock, Timeout

    out_dir.mkdir(parents=True, exist_ok=True)
    report = IntakeReport()
    try:
        with FileLock(str(out_dir / ".brandkit-intake.lock"), timeout=0):
            inbox = Inbox(out_dir)
            try:
                run = _Run(inbox, report, limits or Limits(), since, subject, progress)
                for source in sources:
                    _one_source(run, source, move_to, password or imap_password)
            finally:
                inbox.close()
    except Timeout:
        raise IntakeError(f"另一个 brandkit intake 正在写入 {out_dir}，请等它结束后再试") from None
    return report


def _one_source(run: _Run, source: str, move_to: str | None, password: Callable[[str], str]) -> None:
    try:
        src = parse_imap_url(source)
        if src is None:
            run.files(source)
        else:
            run.imap(src, password(src.account), move_to)
    except (SourceError, MissingPassword) as exc:
        run.report.errors.append(str(exc))
