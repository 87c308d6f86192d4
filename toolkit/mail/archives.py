"""Judge one attached file: keep it (a form, a picture, a report, any material), unpack it (zip, rar) or
skip it with a reason (an empty file, a 7z, an Office lock file); macOS/Windows folder metadata
(`__MACOSX/`, `._*`, `.DS_Store`, `Thumbs.db`, `desktop.ini`) is dropped without a word.

Archives from Chinese Windows tools carry GBK member names without the UTF-8 flag (or, from some tools,
with it); names are recovered from the raw bytes (UTF-8 if valid, else GB18030). Limits on member count,
sizes and compression ratio are checked on the central directory first and again while reading, since
headers can lie. A zip that zipfile cannot open goes to unar/bsdtar, as rar does.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from toolkit.files.portable import file_size_cap
from toolkit.readers.kinds import UNSAFE, skip_reason, sniff

from .names import decode_bytes
from .types import MB, Found, Limits, Skipped

Collected = tuple[list[Found], list[Skipped]]


_SYSTEM_FILES = {".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini"}
_OWNER_FILE_BYTES = 512  # Office's `~$name` lock files are 162-165 bytes; a real form is far larger


def _system_junk(name: str) -> bool:
    """Folder metadata macOS and Windows add to zips (AppleDouble `__MACOSX/._x`, `.DS_Store`, thumbnails)."""
    parts = name.replace("\\", "/").split("/")
    last = parts[-1].lower()
    return "__MACOSX" in parts or last.startswith("._") or last in _SYSTEM_FILES


def collect(name: str, data: bytes, limits: Limits, depth: int = 0) -> Collected:
    """What to take from one file: every file kept, archives unpacked, empty files and 7z skipped."""
    if _system_junk(name):
        return [], []
    if len(data) > limits.attachment_bytes:
        return [], [Skipped(name, f"文件大小 {len(data) / MB:.1f} MB，超过 {limits.attachment_bytes / MB:.0f} MB "
                                  "上限，未收取；请对方压缩图片或拆分后重新发送")]
    if name.replace("\\", "/").rsplit("/", 1)[-1].startswith("~$") and len(data) <= _OWNER_FILE_BYTES:
        return [], [Skipped(name, "这是 Office 打开表格时生成的临时锁定文件（~$ 开头），不是表格本身，未收取；"
                                  "如缺少申报表，请对方关闭表格后把原文件发来", rejected=False)]
    kind = sniff(data, name)
    if kind in ("zip", "rar") or (kind == "corrupt_zip" and name.lower().endswith(".zip")):
        if depth >= limits.archive_depth:
            return [], [Skipped(name, "压缩包内又嵌套了多层压缩包，未解开；请对方把表格直接作为附件发送")]
        return _unzip(name, data, limits, depth) if kind != "rar" else _unpack(name, data, limits, depth, "rar")
    if kind == "7z":
        return [], [Skipped(name, "7z 压缩包暂不支持，请对方改用 zip 重新发送")]
    if kind == "empty" or kind in UNSAFE:  # UNSAFE: a program, whatever its name says
        return [], [Skipped(name, skip_reason(kind))]
    return [Found(name, data, kind)], []  # forms, pictures and every other material (reports, PDF, text)


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """Member name as the sender saw it: UTF-8 when flagged or valid, else GBK (read as GB18030)."""
    if info.flag_bits & 0x800:
        return info.filename
    return decode_bytes(info.filename.encode("cp437"))


def _utf8_flag_cleared(data: bytes) -> bytes | None:
    """A copy of a zip with the UTF-8 name flag (0x800) cleared in every central and local header, for
    tools that set it over GBK names; None when the central directory cannot be walked."""
    buf = bytearray(data)
    end = buf.rfind(b"PK\x05\x06")
    if end < 0:
        return None
    try:
        count, _size, pos = struct.unpack_from("<HII", buf, end + 10)
        for _ in range(count):
            if buf[pos:pos + 4] != b"PK\x01\x02":
                return None
            buf[pos + 9] &= ~0x08
            lengths = struct.unpack_from("<HHH", buf, pos + 28)
            (local,) = struct.unpack_from("<I", buf, pos + 42)
            if buf[local:local + 4] == b"PK\x03\x04":
                buf[local + 7] &= ~0x08
            pos += 46 + sum(lengths)
    except (struct.error, IndexError):
        return None
    return bytes(buf)


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except UnicodeDecodeError:  # flagged UTF-8, names in GBK: read them as unflagged (GBK) names
        fixed = _utf8_flag_cleared(data)
        if fixed is None:
            raise
        return zipfile.ZipFile(io.BytesIO(fixed))


def _unzip(name: str, data: bytes, limits: Limits, depth: int) -> Collected:
    try:
        zf = _open_zip(data)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return _unpack(name, data, limits, depth, "zip")  # damaged: the tools may still read its members
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) > limits.archive_members:
            return [], [Skipped(name, f"压缩包内有 {len(members)} 个文件，超过 {limits.archive_members} 个上限，"
                                      "未解开；请对方只压缩申报材料")]
        total = sum(i.file_size for i in members)
        if total > limits.archive_total_bytes:
            return [], [Skipped(name, f"压缩包解开后共 {total / MB:.0f} MB，超过 "
                                      f"{limits.archive_total_bytes / MB:.0f} MB 上限（疑似压缩炸弹），未解开")]
        found: list[Found] = []
        skipped: list[Skipped] = []
        budget = limits.archive_total_bytes
        for info in members:
            label = f"{name}/{zip_member_name(info)}"
            if info.flag_bits & 0x1:
                skipped.append(Skipped(label, "压缩包成员已加密，无法读取；请对方去掉密码后重新发送"))
                continue
            if info.file_size > limits.archive_ratio * max(info.compress_size, 1) and info.file_size > MB:
                skipped.append(Skipped(label, f"压缩比 {info.file_size // max(info.compress_size, 1)} 倍，"
                                              "疑似压缩炸弹，未解开"))
                continue
            cap = min(limits.attachment_bytes, budget)
            try:
                with zf.open(info) as fh:
                    content = fh.read(cap + 1)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                skipped.append(Skipped(label, f"压缩包成员损坏，无法解开（{type(exc).__name__}）"))
                continue
            if len(content) > cap:
                skipped.append(Skipped(label, "解开后超过大小上限（实际大小与压缩包记录不符，疑似压缩炸弹），未收取"))
                continue
            budget -= len(content)
            more, less = collect(label, content, limits, depth + 1)
            found += more
            skipped += less
    return found, skipped


UNPACKERS = [("unar", "-q", "-f", "-D", "-o", "{out}", "{src}"), ("bsdtar", "-x", "-f", "{src}", "-C", "{out}")]
if sys.platform == "win32":  # Windows 10 and later ship bsdtar as tar.exe
    UNPACKERS.append(("tar", "-x", "-f", "{src}", "-C", "{out}"))
WATCH_INTERVAL_S = 0.1


_CANNOT_UNPACK = {
    "zip": ("zip 压缩包已损坏，无法解开；请对方重新压缩后发送",) * 2,
    "rar": ("收到 rar 压缩包，但本机未安装 unar 或 bsdtar，无法解开；请对方改用 zip 重新发送",
            "无法解开此 rar 压缩包（可能是 RAR5 或已加密）；请对方改用 zip 重新发送"),
}


def _unpack(name: str, data: bytes, limits: Limits, depth: int, fmt: str) -> Collected:
    """Unpack a rar, or a zip zipfile cannot open, with unar/bsdtar; `fmt` is "rar" or "zip"."""
    no_tool, failed = _CANNOT_UNPACK[fmt]
    tools = [t for t in UNPACKERS if shutil.which(t[0])]
    if not tools:
        return [], [Skipped(name, no_tool)]
    partial: Collected | None = None  # what a tool that stopped on some member did unpack
    with tempfile.TemporaryDirectory(prefix="brandkit-unpack-") as tmp:
        src = Path(tmp, f"a.{fmt}")
        src.write_bytes(data)
        for tool in tools:
            out = Path(tmp, tool[0])
            out.mkdir()
            outcome = run_unpacker([a.format(out=out, src=src) for a in tool], out, limits)
            if outcome == "too_large":
                return [], [Skipped(name, f"解开后超过 {limits.archive_total_bytes / MB:.0f} MB 或单个文件超过 "
                                          f"{limits.attachment_bytes / MB:.0f} MB 上限（疑似压缩炸弹），未解开")]
            files = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink()]
            if outcome == "ok" and files:
                return _collect_files(name, out, files, limits, depth)
            if files and (partial is None or len(files) > len(partial[0]) + len(partial[1])):
                partial = _collect_files(name, out, files, limits, depth)
    if partial is not None:  # e.g. a member whose name is longer than the file system allows
        found, skipped = partial
        return found, [*skipped, Skipped(name, f"压缩包中有文件未能解开（文件名过长、已加密或已损坏），已收取能解开的 "
                                               f"{len(found)} 个；请对方缩短文件名或重新压缩为 zip 后发送")]
    return [], [Skipped(name, failed)]


def run_unpacker(argv: list[str], out: Path, limits: Limits) -> str:
    """Run an unpacking tool into `out`: "ok", "failed" (its exit status, or over `limits.tool_timeout`)
    or "too_large". What it writes is bounded on every platform: the folder is watched while it runs and
    the tool killed once a file reaches `limits.attachment_bytes` or all pass `limits.archive_total_bytes`;
    where the OS has RLIMIT_FSIZE it also stops the tool at that size, before the watch sees it."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=file_size_cap(limits.attachment_bytes))
    deadline = time.monotonic() + limits.tool_timeout
    try:
        while True:
            try:
                status = proc.wait(timeout=WATCH_INTERVAL_S)
            except subprocess.TimeoutExpired:
                status = None
            largest, total = _sizes(out)
            if largest >= limits.attachment_bytes or total > limits.archive_total_bytes:
                return "too_large"
            if status is not None:
                return "ok" if status == 0 else "failed"
            if time.monotonic() >= deadline:
                return "failed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _sizes(folder: Path) -> tuple[int, int]:
    """(largest file, all files) in bytes under `folder`, symlinks not followed."""
    largest = total = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            try:
                size = os.lstat(os.path.join(root, f)).st_size
            except OSError:  # removed or renamed by the tool meanwhile
                continue
            largest, total = max(largest, size), total + size
    return largest, total


def _collect_files(name: str, root: Path, files: list[Path], limits: Limits, depth: int) -> Collected:
    if len(files) > limits.archive_members:
        return [], [Skipped(name, f"压缩包内有 {len(files)} 个文件，超过 {limits.archive_members} 个上限，未解开")]
    found: list[Found] = []
    skipped: list[Skipped] = []
    budget = limits.archive_total_bytes
    for path in sorted(files):
        label = f"{name}/{decode_bytes(os.fsencode(path.relative_to(root).as_posix()))}"
        size = path.stat().st_size
        if size > min(limits.attachment_bytes, budget):
            skipped.append(Skipped(label, f"解开后 {size / MB:.1f} MB，超过大小上限，未收取"))
            continue
        budget -= size
        more, less = collect(label, path.read_bytes(), limits, depth + 1)
        found += more
        skipped += less
    return found, skipped
