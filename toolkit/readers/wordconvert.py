"""Old Word-like files (.doc, WPS 文字 .wps, Works .wps, RTF) converted to .docx by LibreOffice.

LibreOffice is a separate program parsing an untrusted file, so it is run as a sandboxed child: from a
private temporary folder holding only the file, with a throw-away user profile (no settings, macro trust
or recent files shared between submissions), a time limit below the reader's own, the reader's memory
limit (Linux), and, on Linux where unprivileged user namespaces work, no network at all, so a linked
picture, template or OLE link in the file is never fetched. Its whole process group is killed when it
overruns, and again when it is done, so no stray soffice.bin survives. Without LibreOffice the file
gets a clear message asking for .docx or .xlsx. (tests/libreoffice.py drives soffice the same way for
the tests; production code never imports tests.)
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from toolkit.readers.errors import Unreadable
from toolkit.readers.limits import Limits
from toolkit.readers.sniff import WORD_NAMES

_SUFFIX = {"doc": ".doc", "wps": ".wps", "rtf": ".rtf"}
_SHARE_OF_TIMEOUT = 0.6  # of the reader's whole time limit: the .docx must still be read afterwards


def find_soffice() -> str | None:
    """LibreOffice's command-line program, or None when it is not installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    candidates: list[Path] = []
    if sys.platform == "win32":
        for base in {os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)")} - {None}:
            candidates.append(Path(str(base), "LibreOffice", "program", "soffice.com"))
    elif sys.platform == "darwin":
        candidates.append(Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"))
    return next((str(p) for p in candidates if p.is_file()), None)


def convert_to_docx(data: bytes, kind: str, limits: Limits) -> bytes:
    """The .docx LibreOffice makes of `data`; Unreadable("needs_office" | "convert_failed") otherwise."""
    what = WORD_NAMES.get(kind, kind)
    soffice = find_soffice()
    if soffice is None:
        raise Unreadable("needs_office", what=what)
    timeout = max(10.0, limits.timeout_s * _SHARE_OF_TIMEOUT)
    with tempfile.TemporaryDirectory(prefix="brandkit-word-") as tmp:
        work = Path(tmp)
        source = work / f"form{_SUFFIX.get(kind, '.doc')}"
        source.write_bytes(data)
        profile, out = work / "profile", work / "out"
        out.mkdir()
        command = _convert_command(soffice, profile, "docx:MS Word 2007 XML", out, source)
        if _run(_offline(command), work, timeout, limits.memory_bytes) is None:
            raise Unreadable("convert_failed", what=what, why=f"超过 {int(timeout)} 秒")
        result = out / "form.docx"
        if not result.is_file() or result.stat().st_size == 0:
            raise Unreadable("convert_failed", what=what)
        if result.stat().st_size > limits.max_file_bytes:
            raise Unreadable("too_large", size_mb=round(result.stat().st_size / 1048576, 1),
                             limit_mb=limits.max_file_bytes // 1048576)
        return result.read_bytes()


def _convert_command(soffice: str, profile: Path, fmt: str, out: Path, source: Path) -> list[str]:
    return [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
            "--nologo", "--nodefault", "--nolockcheck", "--convert-to", fmt, "--outdir", str(out), str(source)]


def convert_own_file(soffice: str, source: Path, fmt: str, timeout: float) -> bytes | None:
    """What LibreOffice makes of a file brandkit wrote (`fmt`: "pdf"), run as `convert_to_docx` runs it: a
    throw-away profile in a private folder, offline, its process group killed when done. None when it
    failed or overran."""
    with tempfile.TemporaryDirectory(prefix="brandkit-convert-") as tmp:
        work = Path(tmp)
        copy, out = work / f"document{source.suffix}", work / "out"
        out.mkdir()
        shutil.copyfile(source, copy)
        if _run(_offline(_convert_command(soffice, work / "profile", fmt, out, copy)), work, timeout, 0) is None:
            return None
        result = out / f"document.{fmt.split(':')[0]}"
        return result.read_bytes() if result.is_file() and result.stat().st_size else None


def _environment(work: Path) -> dict[str, str]:
    if sys.platform == "win32":  # soffice needs the system's variables there; the profile is on the command
        return {**os.environ, "TEMP": str(work), "TMP": str(work)}
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "LC_CTYPE")}
    return {**keep, "HOME": str(work / "profile"), "TMPDIR": str(work), "SAL_USE_VCLPLUGIN": "svp"}


def _run(command: list[str], work: Path, timeout: float, memory_bytes: int) -> int | None:
    """Run to completion: its exit code, or None when it overran (its process group is then killed)."""
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
        proc = subprocess.Popen(command, cwd=work, env=_environment(work), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, creationflags=flags)
    else:
        proc = subprocess.Popen(command, cwd=work, env=_environment(work), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _limit_memory(proc.pid, memory_bytes)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        _kill_tree(proc)


def _limit_memory(pid: int, memory_bytes: int) -> None:
    """The reader's address-space limit for the converter too (it inherits it inside the sandbox)."""
    if sys.platform == "linux" and memory_bytes:
        import resource

        try:
            soft, hard = resource.prlimit(pid, resource.RLIMIT_AS)
            limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
            resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
        except (OSError, ValueError):  # already gone, or a lower limit inherited: keep that one
            pass


def _kill_tree(proc: subprocess.Popen) -> None:
    if sys.platform == "win32":
        if proc.poll() is None:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False)
    else:
        import signal

        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the session: soffice's own children (soffice.bin) too
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


def _offline(command: list[str]) -> list[str]:
    """The command inside a fresh network namespace where that works (Linux), else unchanged."""
    if sys.platform == "linux" and _can_unshare():
        return ["unshare", "--user", "--map-root-user", "--net", *command]
    return command


@functools.cache
def _can_unshare() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--net", "true"], capture_output=True,
                              timeout=5, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
