"""The few operating-system calls that differ between Windows, macOS and Linux, each with what happens
where the call does not exist.

Every platform-specific call sits behind a `sys.platform` check that mypy understands, so `make lint`
(mypy `--platform win32`, `darwin`, `linux`) fails on a POSIX-only call without a guard. A module can
also be missing where the platform has it (a trimmed build; the Windows-like test tier hides `resource`
and `os.posix_fadvise` on Linux): then the call does nothing and the portable alternative holds.
"""

from __future__ import annotations

import ctypes
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path


def memory_cap_enforced() -> bool:
    """Whether `cap_memory` makes the OS refuse a process more memory than its cap. Only Linux enforces
    RLIMIT_AS; macOS accepts the call but ignores it, Windows has no rlimits (a job object is set there,
    best effort). Where this is False, whoever runs the process watches its memory instead."""
    if sys.platform != "linux":
        return False
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def resident_bytes(pid: int) -> int | None:
    """A process's resident memory in bytes; None when it is gone or cannot be measured. Linux reads
    /proc (psutil's Linux backend imports `resource`, which a trimmed build may lack); elsewhere psutil."""
    if sys.platform == "linux":
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None
    import psutil

    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return None


def cap_memory(max_bytes: int) -> None:
    """Cap this process's memory: RLIMIT_AS on Linux, a job object's process-memory limit on Windows."""
    if sys.platform == "linux":
        if memory_cap_enforced():
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    elif sys.platform == "win32":
        _join_capped_job(max_bytes)


# glibc's mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def reuse_freed_memory(block_bytes: int = 8 << 20) -> None:
    """Keep blocks up to `block_bytes` that this process frees in its heap for the next allocation,
    rather than handing them back to the OS and mapping fresh pages (each faulted in) for the next one:
    for a worker that handles one file after another, each with buffers of a few MB. Linux with glibc
    only (mallopt); elsewhere (Windows, macOS, musl) the allocator is left as it is."""
    if sys.platform != "linux":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, block_bytes)
    mallopt(_M_TRIM_THRESHOLD, 8 * block_bytes)


def file_size_cap(max_bytes: int) -> Callable[[], None] | None:
    """A `preexec_fn` that makes the OS stop a child process writing a file over `max_bytes`
    (RLIMIT_FSIZE); None where there is no such limit (Windows): the caller watches sizes instead."""
    if sys.platform == "win32":
        return None
    try:
        import resource
    except ImportError:
        return None

    def apply() -> None:  # pragma: no cover - runs in the child process
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def prefetch(path: Path) -> None:
    """Ask the OS to read a file into its cache ahead of use. Only a hint: Linux takes it; Windows and
    macOS have no such call (their own read-ahead has to do)."""
    if sys.platform == "win32" or sys.platform == "darwin":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except (AttributeError, OSError):  # AttributeError: a build without posix_fadvise
        pass
    finally:
        os.close(fd)


def drop_cached(fd: int) -> None:
    """Let the OS drop a just-written (and fsynced) file's pages from its cache. Only a hint, as above."""
    if sys.platform == "win32" or sys.platform == "darwin":
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):
        pass


def give_permissions(fd: int, like: os.stat_result) -> list[str]:
    """Give a new file (open as `fd`) the permission bits and, where allowed, the group of the file
    `like` describes (root also gives its owner), so replacing a shared master keeps it shared. Returns
    what could not be kept ("mode", "group"): a file system without owners, or a group this user is not
    in. Windows: nothing to do (a new file there takes its folder's ACL; the read-only flag is refused
    before writing)."""
    if sys.platform == "win32":
        return []
    lost = []
    try:
        os.fchown(fd, like.st_uid if os.geteuid() == 0 else -1, like.st_gid)
    except OSError:  # EPERM: not a member of the group; EINVAL/ENOTSUP: a share without owners
        if os.fstat(fd).st_gid != like.st_gid:
            lost.append("group")
    try:  # after chown, which may clear set-id bits
        os.fchmod(fd, stat.S_IMODE(like.st_mode))
    except OSError:
        if stat.S_IMODE(os.fstat(fd).st_mode) != stat.S_IMODE(like.st_mode):
            lost.append("mode")
    return lost


# -- Windows job objects (ctypes) --------------------------------------------------------------------------
# The structures are plain ctypes, defined everywhere so a test can check their layout against the Windows
# headers; only the kernel32 calls are Windows-only.

JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x100
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # the JOBOBJECTINFOCLASS value


class JobBasicLimits(ctypes.Structure):
    """JOBOBJECT_BASIC_LIMIT_INFORMATION."""

    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32), ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t), ("PriorityClass", ctypes.c_uint32),
                ("SchedulingClass", ctypes.c_uint32)]


class JobExtendedLimits(ctypes.Structure):
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION (IO_COUNTERS is six ULONGLONGs)."""

    _fields_ = [("BasicLimitInformation", JobBasicLimits), ("IoInfo", ctypes.c_uint64 * 6),
                ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]


def _join_capped_job(max_bytes: int) -> None:
    """Put this process in a new job whose process-memory limit (committed memory) is `max_bytes`, so an
    allocation over it fails as under RLIMIT_AS. Best effort: if Windows refuses, the parent's watchdog
    still holds. The job handle stays open for the life of the process."""
    if sys.platform != "win32":
        return
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = ctypes.c_void_p
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
    kernel32.SetInformationJobObject.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
    kernel32.GetCurrentProcess.restype = ctypes.c_void_p
    kernel32.AssignProcessToJobObject.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return
    limits = JobExtendedLimits()
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY
    limits.ProcessMemoryLimit = max_bytes
    if kernel32.SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(limits),
                                        ctypes.sizeof(limits)):
        kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess())
