"""Every apply to a master goes through here: lock, refuse while Excel/WPS/LibreOffice has it open,
plan against the master as it is under the lock, back up, write a temp file in the same folder, verify
it re-opens, then os.replace. A process killed at any point leaves the master as it was or as intended;
`undo` restores the newest backup.

One master, one lock, one backup folder:
- The lock (`.<name>.lock` beside the master) is held from the snapshot a change is planned on to the
  replace (`update`): two runs never both plan on the same bytes. A command that read its inputs
  meanwhile (a merge reading its inbox) brings the snapshot it took then; it is planned on again when
  the master changed since (its sha256 differs). A second run waits up to LOCK_WAIT_S, saying so.
- Backups live in `.brandkit-备份/<name>/`, a folder of the master's own, named by a sequence number
  (so a clock set back never reorders them) and the time. Nothing is found by glob: a sibling master
  (`台账.2025.xlsx`, `台账[终版].xlsx`) has a folder of its own. Backups from before the folders
  (`.brandkit-备份/<stem>.<time><suffix>`) are still found, by exact name, older than any new one.
- A symlinked master is resolved: its target is locked, backed up and written; the link stays.
- The new file takes the master's mode and group (a warning when the group cannot be kept); a
  read-only master is refused; any failure to write is a Chinese UsageProblem, the master unchanged.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import io
import os
import re
import stat
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from toolkit.core.changeset import ChangeSet
from toolkit.core.errors import UsageProblem
from toolkit.files.atomic import write_atomic, write_problem
from toolkit.files.filenames import safe_name
from toolkit.files.masterfile import digest, master_bytes
from toolkit.files.phases import phase

if TYPE_CHECKING:
    from toolkit.core.master import MasterSnapshot

KEEP_BACKUPS = 10
BACKUP_DIR = ".brandkit-备份"
UNDONE_DIR = "已撤销"
LAST_WRITTEN = "最近写入.sha256"  # the master as brandkit last wrote it (undo tells a hand edit since)
LOCK_WAIT_S = 60.0  # how long a second run waits for the first before giving up
WAITING = "台账正被另一个操作使用，等待中…"

_TIME = r"\d{8}-\d{6}-\d{6}"
_BACKUP = re.compile(rf"(\d{{6,}})-({_TIME})(\.[^.]+)")  # <sequence>-<time><suffix>
P = TypeVar("P")


def master_path(master: Path) -> Path:
    """The file to lock, back up and write: a symlinked master's target (the link is never replaced)."""
    master = Path(master)
    return Path(os.path.realpath(master)) if master.is_symlink() else master


def owner_files(master: Path) -> list[Path]:
    """The files a program that has the workbook open creates beside it: Excel and WPS on Windows
    ('~$name'), LibreOffice ('.~lock.name#'), WPS on Linux ('.~name')."""
    return [master.with_name(name) for name in (f"~${master.name}", f".~lock.{master.name}#", f".~{master.name}")]


def refuse_if_open(master: Path) -> None:
    for owner in owner_files(master_path(master)):
        if owner.exists():
            raise UsageProblem(f"{master.name} 正在 Excel/WPS/LibreOffice 中打开（发现 {owner.name}）。请先保存并"
                               f"关闭它，再运行；或使用台账里的按钮。若它确已关闭（程序曾异常退出），删除 {owner.name} 后重试")


def lock_path(master: Path) -> Path:
    return master.with_name(f".{master.name}.lock")


def notify(text: str) -> None:
    """A line for the person waiting, on stderr (none under pythonw)."""
    if sys.stderr is not None:
        print(text, file=sys.stderr, flush=True)


@contextmanager
def locked(master: Path, like: os.stat_result) -> Iterator[None]:
    """Hold the master's lock; a second run waits up to LOCK_WAIT_S (saying so), then gives up. The
    lock file takes the master's permission bits: whoever may write the master may take its lock."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path(master)), mode=stat.S_IMODE(like.st_mode))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            notify(WAITING)
            lock.acquire(timeout=LOCK_WAIT_S)
    except Timeout:
        raise UsageProblem(f"{master.name} 正被另一个操作使用，等了 {LOCK_WAIT_S:.0f} 秒仍未结束。请等它完成后再试；"
                           "台账未改动") from None
    except OSError as exc:
        raise UsageProblem(f"无法锁定台账（{write_problem(lock_path(master), exc)}）。台账未改动") from exc
    try:
        yield
    finally:
        lock.release()


def writable(master: Path) -> os.stat_result:
    """The master's status, refusing a master marked read-only or that this user may not write."""
    try:
        st = master.stat()
    except FileNotFoundError:
        raise UsageProblem(f"找不到台账文件：{master}") from None
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(master, os.W_OK):
        raise UsageProblem(f"台账 {master.name} 是只读文件（或您没有修改它的权限），brandkit 不会改动它。请在文件"
                           "属性中取消“只读”（或请管理员给予写权限）后再试")
    return st


def verify_package(data: bytes) -> None:
    """The bytes must be a zip whose every member inflates and whose workbook part parses."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        bad = zf.testzip()
        if bad:
            raise UsageProblem(f"写出的文件校验失败（{bad} 损坏），台账未改动")
        etree.fromstring(zf.read("xl/workbook.xml"))


# -- backups ---------------------------------------------------------------------------------------------

def backup_dir(master: Path) -> Path:
    """The master's own backup folder: its file name (made safe, with a hash of the exact name when
    that changed it, so two masters never share one)."""
    name = master.name
    folder = safe_name(name)
    if folder != name:
        folder = safe_name(name, suffix="~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8])
    return master.parent / BACKUP_DIR / folder


def backups_of(master: Path) -> list[Path]:
    """The master's backups, oldest first: those of the old shared layout, then its own folder's."""
    master = master_path(master)
    shared = master.parent / BACKUP_DIR
    old = re.compile(rf"{re.escape(master.stem)}\.({_TIME}){re.escape(master.suffix)}")
    legacy = sorted((m.group(1), p) for p in _files(shared) if (m := old.fullmatch(p.name)))
    own = sorted((int(m.group(1)), p) for p in _files(backup_dir(master)) if (m := _BACKUP.fullmatch(p.name)))
    return [p for _, p in legacy] + [p for _, p in own]


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_file()]
    except OSError:  # no such folder yet (or a file in its place: said when writing)
        return []


def back_up(master: Path, data: bytes, *, like: os.stat_result | None = None, prune: bool = True) -> Path:
    """Keep `data` (the master as it was) as its newest backup; then, unless `prune` is False, only the
    KEEP_BACKUPS newest. A backup that cannot be written is a UsageProblem (nothing else is touched)."""
    folder = backup_dir(master)
    own = [m for p in _files(folder) if (m := _BACKUP.fullmatch(p.name))]
    number = max((int(m.group(1)) for m in own), default=0) + 1
    path = folder / f"{number:06d}-{dt.datetime.now():%Y%m%d-%H%M%S-%f}{master.suffix}"
    _write(path, data, like, "备份")
    if prune:
        prune_backups(master)
    return path


def prune_backups(master: Path) -> None:
    """Only the KEEP_BACKUPS newest backups stay (and as many undone states)."""
    for old in backups_of(master)[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    undone = sorted(_files(backup_dir(master) / UNDONE_DIR), key=lambda p: p.stat().st_mtime)
    for old in undone[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)


def _write(path: Path, data: bytes, like: os.stat_result | None, what: str) -> None:
    """write_atomic with the permissions of `like` (the master's), every failure said in Chinese."""
    from toolkit.files.portable import give_permissions

    lost: list[str] = []

    def permissions(fd: int) -> None:
        if like is not None:
            lost.extend(give_permissions(fd, like))
        if what == "台账":
            _phase("temp-written")

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data, prepare=permissions)
    except OSError as exc:
        where = path.parent if isinstance(exc, FileExistsError | NotADirectoryError) else path
        raise UsageProblem(f"{what}写入失败（{write_problem(where, exc)}）。台账未改动") from exc
    if lost and like is not None and what == "台账":
        kept = "、".join({"group": f"所属用户组（{like.st_gid}）", "mode": f"权限（{stat.S_IMODE(like.st_mode):o}）"}[k]
                         for k in lost)
        notify(f"注意：台账 {path.name} 已保存，但无法保持它原来的{kept}（您不在该组中，或该磁盘不支持）；"
               "同事若无法再修改它，请让管理员恢复")


# -- applying --------------------------------------------------------------------------------------------

PAUSE_AT = "BRANDKIT_PAUSE_AT"
PHASES = ("locked", "patched", "backed-up", "temp-written", "replaced")  # in the order a change passes them


def _phase(name: str) -> None:
    """Test hook: with BRANDKIT_PAUSE_AT=<name> the process says the phase on stderr and waits there, so a
    test can kill it at exactly that point of the transaction (tests/test_merge.py, every phase)."""
    if os.environ.get(PAUSE_AT) == name:
        sys.stderr.write(f"BRANDKIT_PHASE {name}\n")
        sys.stderr.flush()
        threading.Event().wait()


def update(master: Path, plan: Callable[[MasterSnapshot], P], changes_of: Callable[[P], ChangeSet], *,
           snap: MasterSnapshot | None = None, profile_name: str | None = None,
           then: Callable[[P], None] | None = None) -> tuple[P, Path | None]:
    """Plan a change on the master as it is now and apply it, holding the lock from the snapshot the
    plan is made on to the replace. `snap`: one taken earlier without the lock (a merge reads its inbox
    meanwhile), used when the master's bytes are still those it was taken from, else taken again (the
    plan is then made on the new one). `then(plan)` runs once it is applied, still under the lock.
    Returns the plan and the backup (None when nothing changed)."""
    from toolkit.files.masterfile import load_master

    with _held(master) as (target, like), no_cycle_collection():
        _phase("locked")
        with phase("apply: re-read under the lock"):
            original = master_bytes(target)
            same = snap is not None and snap.sha256 == digest(original)
        if snap is None or not same:
            snap = load_master(target, profile_name, data=original)
        with phase("plan"):
            planned = plan(snap)
        del snap  # planned: the master's rows as values are not kept through the patch
        backup = _apply(target, original, changes_of(planned), like)
        if then is not None:
            with phase("apply: then (keep originals)"):
                then(planned)
        return planned, backup


# What `update` imports to lock, patch and verify (~50 ms): kept out of start-up, which must stay light.
APPLY_MODULES = ("filelock", "lxml.etree", "toolkit.ooxml")


def import_for_apply() -> None:
    """Import APPLY_MODULES in a background thread: for a command that will apply once it has read its
    inputs (a merge), called where it would only wait (on its master's reader), so they are not
    imported on the tail of every run, after the last form is read."""
    import importlib

    def run() -> None:
        for module in APPLY_MODULES:
            try:
                importlib.import_module(module)
            except ImportError:  # `update` meets it again and says so; no traceback from a thread
                return

    threading.Thread(target=run, daemon=True, name="brandkit-imports").start()


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Snapshot, plan and patch make millions of small objects (grid values, cell writes, rows, XML
    strings) that reference counting frees and that form no cycles; the cycle collector would walk them
    all, again and again as they pile up, for nothing (a third of the patch of a 20,000-row stamp). It
    is paused meanwhile (those objects are freed as usual) and resumes at the end."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def _held(master: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """The master's own file (a link's target) and its status, locked, open in no program, writable."""
    target = master_path(master)
    refuse_if_open(target)
    with locked(target, writable(target)):
        refuse_if_open(target)
        yield target, writable(target)


def _apply(master: Path, original: bytes, changes: ChangeSet, like: os.stat_result) -> Path | None:
    """Under the lock: patch, verify, back up, replace; the backup removed again if the replace fails."""
    from toolkit.ooxml import PackageError, apply_changeset

    if not changes:
        return None
    try:
        with phase("apply: patch"):
            updated = apply_changeset(original, changes)
    except PackageError as exc:
        raise UsageProblem(f"{master.name}：{exc}") from exc
    if updated == original:
        return None
    with phase("apply: verify"):
        verify_package(updated)
    _phase("patched")
    with phase("apply: backup"):
        backup = back_up(master, original, like=like, prune=False)
    _phase("backed-up")
    try:
        with phase("apply: write master"):
            _write(master, updated, like, "台账")
    except BaseException:  # held open (Windows), a full disk …: nothing applied, so no backup of it
        backup.unlink(missing_ok=True)
        raise
    _phase("replaced")
    _note_written(master, updated)
    prune_backups(master)
    return backup


@dataclass(frozen=True)
class Undone:
    restored: Path  # the backup the master now holds again
    kept: Path  # the state undone, in the backup folder's 已撤销
    edited: bool  # that state was saved by hand after brandkit last wrote the master (Excel, WPS)


def undo(master: Path) -> Undone:
    """Restore the newest backup, once it is checked whole; the state being undone is kept in the backup
    folder's 已撤销, and said to be a hand edit when the master was saved after brandkit last wrote it."""
    with _held(master) as (target, like):
        backups = backups_of(target)
        if not backups:
            raise UsageProblem(f"没有 {master.name} 的备份，无法撤销")
        newest = backups[-1]
        restored = newest.read_bytes()
        try:
            verify_package(restored)
        except Exception as exc:  # noqa: BLE001 - whatever keeps it from being a workbook: not restored
            raise UsageProblem(f"备份 {newest} 已损坏（{type(exc).__name__}），不能用它撤销，台账未改动。"
                               f"更早的备份在 {newest.parent}：可在 Excel 中打开核对，确认后手动替换台账") from None
        current = master_bytes(target)
        undone = backup_dir(target) / UNDONE_DIR / newest.name
        _write(undone, current, like, "备份")
        try:
            _write(target, restored, like, "台账")
        except BaseException:
            undone.unlink(missing_ok=True)
            raise
        edited = _edited_since(target, current)
        newest.unlink()
        _note_written(target, restored)
        prune_backups(target)
        return Undone(newest, undone, edited)


def _note_written(master: Path, data: bytes) -> None:
    """Remember what brandkit left the master as (its sha256 in the backup folder), so undo can tell a
    hand edit saved since. Best effort: without the note undo only cannot say so."""
    try:
        write_atomic(backup_dir(master) / LAST_WRITTEN, digest(data).encode("ascii"), sync_folder=False)
    except OSError:
        pass


def _edited_since(master: Path, current: bytes) -> bool:
    try:
        noted = (backup_dir(master) / LAST_WRITTEN).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return False  # a master brandkit wrote before it kept the note
    return noted != digest(current)
