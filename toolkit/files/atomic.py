"""Write a file so that a crash leaves either the old file or the new one, never half of it."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from toolkit.core.errors import UsageProblem
from toolkit.files.portable import drop_cached


def _umask() -> int:
    """The process's umask (read once, at import, before any thread: setting it is process-wide)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# A file brandkit creates gets the mode any program's new file gets (0644 under the usual umask), not
# mkstemp's 0600: a master made on a shared folder is one colleagues can open.
NEW_FILE_MODE = 0o666 & ~_umask()


def write_atomic(path: Path, data: bytes, *, keep_cached: bool = True, sync_folder: bool = True,
                 prepare: Callable[[int], None] | None = None) -> Path:
    """Temp file in the same folder, fsync, replace, then fsync the folder (where there is one to sync).
    `keep_cached=False` drops the written pages from the OS cache: for files nobody reads soon (a
    thousand 1 MB logo originals would otherwise push the inbox out of a small page cache).
    `sync_folder=False` skips the folder fsync, for scratch files whose names need not survive a crash.
    `prepare(fd)` runs on the written temp file before it replaces `path` (e.g. to give it the
    permissions of the file it replaces). A target held open by another program (Excel or WPS, on
    Windows) is a UsageProblem, left untouched; any other OSError (a full disk: see `write_problem`)
    leaves the target untouched and no temp file behind."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".brandkit-tmp", dir=path.parent)
    try:
        if sys.platform != "win32" and not path.exists():  # Windows: a new file takes its folder's ACL
            os.chmod(tmp, NEW_FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if prepare is not None:
                prepare(fh.fileno())
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


# What the OS said, in words an office can act on; anything else is said as the OS said it.
_WRITE_PROBLEMS = {
    errno.ENOSPC: "磁盘空间不足，请清理该磁盘（或换一个有空间的文件夹）后重试",
    getattr(errno, "EDQUOT", errno.ENOSPC): "磁盘配额已用完，请清理后重试或联系管理员",
    errno.EFBIG: "文件过大，超出该磁盘（文件系统）允许的单个文件大小",
    errno.EROFS: "该磁盘是只读的（如只读挂载的共享、写保护的 U 盘）",
    errno.EACCES: "没有在该文件夹中写入的权限，请联系管理员",
    errno.EPERM: "没有在该文件夹中写入的权限，请联系管理员",
    errno.ENOTDIR: "路径上有一个同名的文件占住了文件夹的位置，请移走它后重试",
    errno.EEXIST: "路径上有一个同名的文件占住了文件夹的位置，请移走它后重试",
}


def write_problem(path: Path, exc: OSError) -> str:
    """Chinese: writing `path` failed with `exc` (a full disk, a file too large for its file system, a
    read-only disk, no permission …), and what to do."""
    why = _WRITE_PROBLEMS.get(exc.errno or 0) or exc.strerror or str(exc)
    return f"无法写入 {path}：{why}"


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
