"""Saved mail on disk -> a stream of raw messages: .eml, Outlook .msg, mbox, Maildir, or folders of them.

Messages are loaded one at a time (a big mbox is never held whole), and sizes are checked before a file
is read where the size is known up front.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILES = 100_000  # a folder walk stops here (a mistyped `/` must not run for hours)


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
        return fh.read(8)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _file_items(path: Path) -> Iterator[RawItem]:
    head = _head(path)
    if path.suffix.lower() == ".msg" or head == _OLE:
        yield RawItem(str(path), "msg", path.stat().st_size, path.read_bytes)
    elif path.suffix.lower() == ".mbox" or head.startswith(b"From "):
        yield from _mbox_items(path)
    else:
        yield RawItem(str(path), "mime", path.stat().st_size, path.read_bytes)


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


def _folder_items(root: Path) -> Iterator[RawItem]:
    count = 0
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
            elif child.suffix.lower() in (".eml", ".msg", ".mbox", ".mbx") or child.name == "mbox":
                yield from _file_items(child)
        stack.extend(reversed(subfolders))


def file_items(source: str) -> Iterator[RawItem]:
    """Raw messages of one on-disk source, in a stable order; SourceError when it cannot be read."""
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(f"找不到邮件来源 {source}：请检查路径")
    try:
        if path.is_dir():
            yield from (_maildir_items(path) if _is_maildir(path) else _folder_items(path))
        else:
            yield from _file_items(path)
    except (OSError, mailbox.Error) as exc:
        raise SourceError(f"无法读取邮件来源 {source}：{exc}") from exc
