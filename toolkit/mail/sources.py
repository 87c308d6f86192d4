"""Saved mail on disk -> a stream of raw messages: .eml, Outlook .msg, mbox, Maildir, Apple Mail .emlx,
or folders of them.

In a folder, files without a known suffix are sniffed (Thunderbird keeps mbox files named `Inbox`, clients
save mails as .txt); mail-client bookkeeping files (Thunderbird `.msf` …) are passed over, and any other
file is counted and reported once per source. Messages are loaded one at a time (a big mbox is never held
whole), and sizes are checked before a file is read where the size is known up front.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .repair import strip_lead

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILES = 100_000  # a folder walk stops here (a mistyped `/` must not run for hours)
SNIFF_BYTES = 4096
_MAIL_SUFFIXES = (".eml", ".msg", ".mbox", ".mbx", ".emlx")
# indexes, settings and caches that mail clients keep beside the mail (Thunderbird, Apple Mail, Foxmail)
_CLIENT_FILES = (".msf", ".dat", ".plist", ".sqlite", ".sqlite-wal", ".sqlite-shm", ".db", ".json", ".ini",
                 ".log", ".lock", ".idx", ".ind")
_HEADER_LINE = re.compile(rb"[!-9;-~]+:")
_MAIL_FIELD = re.compile(rb"^(from|to|subject|date|received|return-path|message-id|mime-version|delivered-to):",
                         re.I | re.M)


@dataclass(frozen=True)
class RawItem:
    """One message found on disk; `load` reads its bytes. `fmt` is 'mime' or 'msg'."""

    label: str
    fmt: str
    size: int | None
    load: Callable[[], bytes]


class SourceError(Exception):
    """A source that cannot be read at all (message in Chinese)."""


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


def _looks_like_mail(head: bytes) -> bool:
    """Whether a file starts as an RFC 5322 message: a header line first, two common mail fields near."""
    head = strip_lead(head)
    fields = {m.group(1).lower() for m in _MAIL_FIELD.finditer(head)}
    return bool(_HEADER_LINE.match(head)) and len(fields) >= 2


def _emlx(path: Path) -> bytes:
    """The message in an Apple Mail .emlx: a line with its byte count, the message, then a plist."""
    data = path.read_bytes()
    first, _, rest = data.partition(b"\n")
    return rest[:int(first)] if first.strip().isdigit() else data


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _file_items(path: Path, head: bytes | None = None) -> Iterator[RawItem]:
    head = _head(path) if head is None else head
    if path.suffix.lower() == ".msg" or head.startswith(_OLE):
        yield RawItem(str(path), "msg", path.stat().st_size, path.read_bytes)
    elif path.suffix.lower() == ".mbox" or head.startswith(b"From "):
        yield from _mbox_items(path)
    elif path.suffix.lower() == ".emlx":
        yield RawItem(str(path), "mime", path.stat().st_size, partial(_emlx, path))
    else:
        yield RawItem(str(path), "mime", path.stat().st_size, path.read_bytes)


def _unknown_file_items(path: Path) -> Iterator[RawItem] | None:
    """A file without a mail suffix, by its content: an mbox, an Outlook .msg or a mail; else None."""
    head = _head(path)
    if head.startswith((b"From ", _OLE)) or _looks_like_mail(head):
        return _file_items(path, head)
    return None


def _size(box: mailbox.Mailbox, key: str) -> int:
    """A message's size before reading it, so a huge one is refused unread."""
    with box.get_file(key) as fh:
        fh.seek(0, 2)
        return fh.tell()


def _mbox_items(path: Path) -> Iterator[RawItem]:
    box = mailbox.mbox(path, create=False)  # stays open while its items are loaded; closed when collected
    for n, key in enumerate(box.iterkeys(), start=1):
        yield RawItem(f"{path} 第 {n} 封", "mime", _size(box, key), partial(box.get_bytes, key))


def _maildir_items(path: Path) -> Iterator[RawItem]:
    box = mailbox.Maildir(path, factory=None, create=False)
    for n, key in enumerate(sorted(box.iterkeys()), start=1):
        yield RawItem(f"{path} 第 {n} 封", "mime", _size(box, key), partial(box.get_bytes, key))


def _folder_items(root: Path, notes: list[str]) -> Iterator[RawItem]:
    count = 0
    others: list[Path] = []  # files that are no mail
    stack = [root]
    while stack:
        folder = stack.pop()
        if _is_maildir(folder):
            yield from _maildir_items(folder)
            continue
        subfolders = []
        for child in sorted(folder.iterdir()):
            count += 1
            if count > MAX_FILES:
                raise SourceError(f"{root} 下文件超过 {MAX_FILES} 个，请指定具体的邮件文件夹")
            if child.is_symlink() or child.name.startswith("."):
                continue
            if child.is_dir():
                subfolders.append(child)
            elif child.name.lower().endswith(_MAIL_SUFFIXES) or child.name == "mbox":
                yield from _file_items(child)
            elif not child.name.lower().endswith(_CLIENT_FILES):
                items = _unknown_file_items(child)
                if items is None:
                    others.append(child)
                else:
                    yield from items
        stack.extend(reversed(subfolders))
    if others:
        notes.append(f"{root} 中有 {len(others)} 个文件不是邮件（如 {others[0].name}），已跳过；"
                     "请确认选择的是邮件文件夹（.eml/.msg/mbox/Maildir）")


def file_items(source: str, notes: list[str] | None = None) -> Iterator[RawItem]:
    """Raw messages of one on-disk source, in a stable order; SourceError when it cannot be read. What a
    folder holds besides mail is said in `notes` (in Chinese)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(f"找不到邮件来源 {source}：请检查路径")
    try:
        if path.is_dir():
            yield from (_maildir_items(path) if _is_maildir(path) else _folder_items(path, [] if notes is None else notes))
        else:
            yield from _file_items(path)
    except (OSError, mailbox.Error) as exc:
        raise SourceError(f"无法读取邮件来源 {source}：{exc}") from exc
