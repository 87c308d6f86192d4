"""Every apply to a master goes through here: lock, refuse while Excel/WPS has it open, back up, write
a temp file in the same folder, verify it re-opens, then os.replace. A process killed at any point
leaves the master as it was or as intended; `undo` restores the newest backup."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from toolkit.atomic import held_message, write_atomic
from toolkit.changeset import ChangeSet
from toolkit.errors import UsageProblem

KEEP_BACKUPS = 10
BACKUP_DIR = ".brandkit-备份"


def owner_file(master: Path) -> Path:
    """Excel and WPS create '~$name.xlsx' beside a workbook they have open."""
    return master.with_name("~$" + master.name)


def backup_dir(master: Path) -> Path:
    return master.parent / BACKUP_DIR


def _lock(master: Path):  # -> filelock.FileLock (imported lazily)
    from filelock import FileLock, Timeout

    lock = FileLock(str(master.with_name(f".{master.name}.lock")), timeout=5)
    try:
        lock.acquire()
    except Timeout:
        raise UsageProblem(f"{master.name} 正被另一个 brandkit 进程使用，请等它结束后再试") from None
    return lock


def _read_master(master: Path) -> bytes:
    """The master's bytes; Windows may refuse them while Excel/WPS holds the file: said in Chinese."""
    try:
        return master.read_bytes()
    except PermissionError as exc:
        raise UsageProblem(held_message(master, "读取")) from exc


def refuse_if_open(master: Path) -> None:
    if owner_file(master).exists():
        raise UsageProblem(f"{master.name} 正在 Excel/WPS 中打开（发现 {owner_file(master).name}）。"
                           "请先保存并关闭它，再运行；或使用台账里的按钮")


def verify_package(data: bytes) -> None:
    """The bytes must be a zip whose every member inflates and whose workbook part parses."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        bad = zf.testzip()
        if bad:
            raise UsageProblem(f"写出的文件校验失败（{bad} 损坏），台账未改动")
        etree.fromstring(zf.read("xl/workbook.xml"))


def back_up(master: Path, data: bytes) -> Path:
    folder = backup_dir(master)
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"{master.stem}.{stamp}{master.suffix}"
    write_atomic(path, data)
    backups = backups_of(master)
    for old in backups[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    return path


def backups_of(master: Path) -> list[Path]:
    folder = backup_dir(master)
    if not folder.exists():
        return []
    return sorted(p for p in folder.glob(f"{master.stem}.*{master.suffix}") if p.name.count(".") >= 2)


def apply_changes(master: Path, changes: ChangeSet) -> Path | None:
    """Apply `changes` to the master file. Returns the backup's path, or None when nothing changed."""
    from toolkit.ooxml import PackageError, apply_changeset

    if not changes:
        return None
    refuse_if_open(master)
    lock = _lock(master)
    try:
        original = _read_master(master)
        try:
            updated = apply_changeset(original, changes)
        except PackageError as exc:
            raise UsageProblem(f"{master.name}：{exc}") from exc
        if updated == original:
            return None
        verify_package(updated)
        backup = back_up(master, original)
        try:
            write_atomic(master, updated)
        except UsageProblem:  # held open by Excel/WPS (Windows): nothing applied, so no backup of it
            backup.unlink(missing_ok=True)
            raise
        return backup
    finally:
        lock.release()


def undo(master: Path) -> Path:
    """Restore the newest backup; the state being undone is kept as a backup of its own."""
    refuse_if_open(master)
    lock = _lock(master)
    try:
        backups = backups_of(master)
        if not backups:
            raise UsageProblem(f"没有 {master.name} 的备份，无法撤销")
        newest = backups[-1]
        current = _read_master(master)
        write_atomic(master, newest.read_bytes())
        undone = backup_dir(master) / "已撤销" / newest.name
        undone.parent.mkdir(exist_ok=True)
        write_atomic(undone, current)
        newest.unlink()
        return newest
    finally:
        lock.release()
