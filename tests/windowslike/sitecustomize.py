"""Put this folder on PYTHONPATH and Python behaves as Windows would where brandkit's code differs by
platform (tests/test_windows.py): no `resource` (rlimits), no `fcntl`, no `os.posix_fadvise`, a folder
cannot be opened (so not fsynced), and `os.replace` onto a file that another program holds open fails with
PermissionError, as Windows refuses to replace a workbook Excel or WPS has open.

BRANDKIT_SIM_HELD: paths (os.pathsep-separated) held open by "Excel".
BRANDKIT_SIM_PYTHONW=1: sys.stdout and sys.stderr are None, as under pythonw.exe (xlwings' interpreter);
inherited by every process started from this one, as the workers of a button click are.
"""

from __future__ import annotations

import os
import sys

import psutil  # noqa: E402,F401  # first: its Linux backend needs `resource`, its Windows one does not

sys.modules["resource"] = None  # type: ignore[assignment]  # import raises ImportError
sys.modules["fcntl"] = None  # type: ignore[assignment]
del os.posix_fadvise

_open = os.open
_replace = os.replace
_HELD = {os.path.realpath(p) for p in os.environ.get("BRANDKIT_SIM_HELD", "").split(os.pathsep) if p}


def _open_no_folders(path, flags, mode=0o777, *, dir_fd=None):
    if dir_fd is None and os.path.isdir(path):
        raise PermissionError(13, "拒绝访问。", path)
    return _open(path, flags, mode, dir_fd=dir_fd)


def _replace_unless_held(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
    if os.path.realpath(dst) in _HELD:
        raise PermissionError(13, "另一个程序正在使用此文件，进程无法访问。", os.fspath(src), None, os.fspath(dst))
    return _replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


os.open = _open_no_folders
os.replace = _replace_unless_held

if os.environ.get("BRANDKIT_SIM_PYTHONW"):
    sys.stdout = sys.stderr = None  # type: ignore[assignment]
