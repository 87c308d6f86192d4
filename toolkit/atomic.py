"""Write a file so that a crash leaves either the old file or the new one, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, keep_cached: bool = True, sync_folder: bool = True) -> Path:
    """Temp file in the same folder, fsync, os.replace, then fsync the folder (best effort).
    `keep_cached=False` drops the written pages from the OS cache: for files nobody reads soon (a
    thousand 1 MB logo originals would otherwise push the inbox out of a small page cache).
    `sync_folder=False` skips the folder fsync, for scratch files whose names need not survive a crash."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".brandkit-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if not keep_cached and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if sync_folder:
        sync_dir(path.parent)
    return path


def sync_dir(folder: Path) -> None:
    """fsync a folder so the names just made in it survive a crash (best effort; not on Windows)."""
    try:
        dirfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    except OSError:
        pass
