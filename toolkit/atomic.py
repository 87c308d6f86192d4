"""Write a file so that a crash leaves either the old file or the new one, never half of it."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from toolkit.errors import UsageProblem
from toolkit.portable import drop_cached


def write_atomic(path: Path, data: bytes, *, keep_cached: bool = True, sync_folder: bool = True) -> Path:
    """Temp file in the same folder, fsync, replace, then fsync the folder (where there is one to sync).
    `keep_cached=False` drops the written pages from the OS cache: for files nobody reads soon (a
    thousand 1 MB logo originals would otherwise push the inbox out of a small page cache).
    `sync_folder=False` skips the folder fsync, for scratch files whose names need not survive a crash.
    A target held open by another program (Excel or WPS, on Windows) is a UsageProblem, left untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".brandkit-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if not keep_cached:
                drop_cached(fh.fileno())
        replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_folder:
        sync_dir(path.parent)
    return path


def replace(src: str | Path, target: Path) -> None:
    """os.replace, with Windows' refusal to replace a file another program holds open (Excel and WPS
    hold the workbooks they show) said in Chinese: a UsageProblem, the target unchanged. On Windows a
    virus scanner or the search indexer may hold a new file for a moment, so it is tried a few times."""
    tries = 5 if sys.platform == "win32" else 1
    for attempt in range(tries):
        try:
            os.replace(src, target)
            return
        except PermissionError as exc:
            if attempt + 1 == tries:
                raise UsageProblem(held_message(target, "写入")) from exc
            time.sleep(0.2)


def held_message(path: Path, action: str) -> str:
    """Chinese: `action` ("读取", "写入") failed because another program holds the file."""
    return (f"无法{action} {path}：该文件正在 Excel/WPS 等程序中打开（或被设为只读）。"
            "请保存并关闭它后重试；该文件未改动")


def sync_dir(folder: Path) -> None:
    """fsync a folder so the names just made in it survive a crash. Not on Windows: a folder cannot be
    opened there, and none needs to be: NTFS journals its metadata, so after a crash the name points at
    the old file or the new one, whose data was fsynced before os.replace (MoveFileEx) - never at half a
    file. Elsewhere, a file system that cannot sync a folder (some network shares) is skipped."""
    if sys.platform == "win32":
        return
    try:
        dirfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    except OSError:
        pass
