"""The intake run: every source -> parsed messages -> the inbox folder, one message at a time.

A broken message or source becomes an entry in `errors` and the batch goes on. IMAP messages are moved
(`move_to`) only at the end of their folder, after their files and ledger rows are on disk, and only when
every file they carry was saved: a mail with a file refused, or with no file at all (a form forgotten, a
link-only 超大附件), stays where it is and is named on every run, so the folder left behind is the
office's to-do list.
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
from .store import Inbox, Uid
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
    return not _before(family[0].received, since)


def _before(received: datetime | None, since: date | None) -> bool:
    """Whether a mail arrived before the `--since` day, counted in China time."""
    return bool(since and received and china_day(received) < since)


def _unsaved(family: list[ParsedMessage]) -> str | None:
    """Why a mail is not done with: a file refused, or none at all; None when every file was saved."""
    refused = [s for m in family for s in m.skipped if s.rejected]
    if refused:
        more = f"等 {len(refused)} 个附件" if len(refused) > 1 else ""
        return f"“{refused[0].name}”{more}未能保存（{refused[0].reason}）"
    return None if any(m.found for m in family) else "邮件中没有可保存的附件"


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

    def settle(self) -> None:
        """After a source, done is the total: one that stopped early must not leave the bar running."""
        if self.total != self.done:
            self.total = self.done
            if self.progress:
                self.progress(self.done, self.total)

    def take(self, label: str, raw: bytes, fmt: str, source: str,
             uid: Uid | None = None, received: datetime | None = None) -> list[ParsedMessage] | None:
        """Parse and store one message; the mail with those it forwards when it is handled (taken now
        or earlier), None when it is refused or filtered out."""
        problem = _too_big(len(raw), self.limits)
        if problem:
            self.report.errors.append(f"{label}：{problem}")
            return None
        try:
            parsed = parse_msg(raw, self.limits) if fmt == "msg" else parse_message(raw, self.limits)
        except ValueError as exc:
            self.report.errors.append(f"{label}：{exc}")
            return None
        except Exception as exc:  # noqa: BLE001 - one broken message must never stop the batch
            self.report.errors.append(f"{label}：无法解析这封邮件（{type(exc).__name__}: {exc}），已跳过")
            return None
        if received is not None:
            parsed.received = received
        family = _family(parsed)
        if not _wanted(family, self.since, self.subject):
            return None
        for n, one in enumerate(family):
            self._store(f"{label} 所附邮件" if n else label, one, source, uid if one is parsed else None)
        return family

    def _store(self, label: str, parsed: ParsedMessage, source: str, uid: Uid | None) -> None:
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
            try:
                self._folder(session, move_to)
            finally:  # what was learnt before a lost connection is said too
                self.report.warnings += session.warnings
                self.report.errors += [
                    f"{src.account}/{src.folder} UID {uid}：服务器读取这封邮件时出错并断开了连接（{said}），已跳过，"
                    "其余邮件照常收取；请在网页邮箱中查看这封邮件，必要时请对方重新发送" for uid, said in session.broken]

    def _folder(self, session: ImapSession, move_to: str | None) -> None:
        src = session.src
        key = (src.account, session.folder, session.uidvalidity)
        metas = session.metas(session.search(self.since))
        self.total += len(metas)
        done: list[int] = []  # every file saved, now or in an earlier run, and matching this run's filter
        for meta in metas:
            if self._imap_one(session, key, meta):
                done.append(meta.uid)
            self.tick()
        # a server without MOVE and UID EXPUNGE keeps the copied originals: never copy them twice
        uids = [u for u in done if not self.inbox.was_moved((*key, u))] if move_to else []
        if not move_to or not uids:
            return
        error = session.move(uids, move_to)
        if error:
            self.report.errors.append(f"{src.account}/{src.folder}：{error}")
            return
        self.inbox.record_moved([(*key, u) for u in uids], move_to)
        self.report.moved += len(uids)
        self.report.moved_to = move_to

    def _imap_one(self, session: ImapSession, key: tuple[str, str, int], meta: Meta) -> bool:
        """Take one mail; True when it is done with (every file it carries saved) and may be moved."""
        src = session.src
        subject = _header_of(meta.header, b"subject")
        if self.subject and _fold(self.subject) not in _fold(subject):
            return False
        if _before(meta.internaldate, self.since):  # the search reaches a day back (server days)
            return False
        label = f"{src.account}/{src.folder} UID {meta.uid}"
        uid = (*key, meta.uid)
        if self.inbox.has_uid(*uid):
            self.report.already_taken += 1
            return self._done(label, subject, self.inbox.held(uid))
        # a Message-ID taken before through another route is no proof: clients reuse them, so the mail is
        # fetched and judged by its content (`take`)
        problem = _too_big(meta.size, self.limits)
        raw = None if problem else session.fetch(meta.uid)
        if raw is None and not problem and not session.exists(meta.uid):
            self.report.warnings.append(f"{label}（{subject}）：已被其他客户端删除或移走，未收取")
            return False
        if problem or raw is None:
            self.report.errors.append(f"{label}（{subject}）：{problem or '服务器没有返回邮件内容'}")
            return False
        family = self.take(label, raw, "mime", f"imap://{src.account}/{src.folder}", uid, meta.internaldate)
        if family is None:
            return False
        reason = _unsaved(family)
        if reason:
            self.inbox.hold(uid, reason)
        return self._done(label, subject, reason)

    def _done(self, label: str, subject: str, unsaved: str | None) -> bool:
        if unsaved:  # said on every run, until someone deals with the mail
            self.report.warnings.append(f"{label}（{subject or '无主题'}）：{unsaved}；这封邮件留在原邮件夹，"
                                        "不移动，以后每次收取都会提示。请对方补发后，在邮件客户端中手动移走或删除它")
        return unsaved is None


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
    finally:
        run.settle()
