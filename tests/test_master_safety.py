"""The master is the office's own file (issue 14, items 1, 2, 3 and 6): undo and backups of one master
only; no lost updates when runs overlap; a merge that changes nothing writes nothing; the master's
mode, group, link and locks respected; every failure to read or write it a clear Chinese message
(exit 2) with the master unchanged."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form
from tests.paths import ROOT

STAMP = ("--stage", "党总支审批", "--force", "--branch")


def rows_of(master: Path, sheet: str) -> list[list[Any]]:
    from toolkit.readers.grid import read_grids

    return read_grids(master.read_bytes(), "xlsx")[sheet].rows


def log_rows(master: Path) -> list[list[Any]]:
    """The 操作记录 data rows, blank ones included (a blank row is a lost or overwritten entry)."""
    return rows_of(master, "操作记录")[1:]


def ledger(master: Path) -> dict[str, dict[str, Any]]:
    rows = rows_of(master, "品牌台账")
    header = [str(h) for h in rows[0]]
    key = header.index("党支部名称")
    return {r[key]: dict(zip(header, r, strict=False)) for r in rows[1:] if len(r) > key and r[key]}


def form(folder: Path, n: int, name: str | None = None, **values: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    branch, brand, topic = BRANDS[n]
    return write_filled_form(folder / (name or f"{branch}.xlsx"), {**form_values(branch, brand, topic, n), **values},
                             logo=logo_bytes((300 + 20 * n, 200)))


def brandkit(*args: str | Path, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m toolkit ARGS` in a process of its own."""
    return subprocess.run([sys.executable, "-m", "toolkit", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def clean_failure(result: Any, *words: str) -> None:
    """Exit 2, a Chinese message with `words`, no traceback, no internal error."""
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "内部错误" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


BRANCHES = [b for b, _, _ in BRANDS] + ["放射科党支部"]


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    """A roster listing BRANCHES (a master whose ledger lists branches takes only those)."""
    import openpyxl

    path = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["党总支", "党支部名称"])
    for branch in BRANCHES:
        wb.active.append(["第一党总支", branch])
    wb.save(path)
    return path


@pytest.fixture
def merged(new_master: Callable[..., Path], cli: Callable[..., Any], tmp_path: Path, roster: Path) -> Path:
    """A master listing BRANCHES with BRANDS[1] merged (so it can be stamped)."""
    master = new_master(roster)
    assert cli("merge", master, form(tmp_path / "first", 1)).returncode == 0
    return master


# -- 1. undo and backups of one master only ----------------------------------------------------------------

@pytest.mark.parametrize("sibling", ["台账.2025.xlsx", "台账.v2.xlsx", "台账[终版].xlsx"])
def test_undo_and_pruning_touch_only_their_own_master(new_master: Callable[..., Path], cli: Callable[..., Any],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      sibling: str) -> None:
    """Two masters in one folder whose names glob into each other: the other's backups are never
    undone into this one, never pruned by this one's stamps, and a name with brackets finds its own.
    (Three backups kept instead of ten: the same pruning, in fewer stamps.)"""
    import toolkit.files.transaction

    keep = 3
    monkeypatch.setattr(toolkit.files.transaction, "KEEP_BACKUPS", keep)
    master, other = new_master(), new_master(name=sibling)
    fresh, other_fresh = master.read_bytes(), other.read_bytes()
    assert cli("merge", other, form(tmp_path / "in0", 0)).returncode == 0
    other_merged = other.read_bytes()
    # this master has no backup yet: undo must not take the other's
    result = cli("undo", master)
    assert result.returncode == 2 and "没有" in result.stderr and master.read_bytes() == fresh
    assert cli("merge", master, form(tmp_path / "in1", 1)).returncode == 0
    states = [master.read_bytes()]
    for n in range(keep + 2):  # more stamps than backups kept: this master's oldest are pruned
        assert cli("stamp", master, *STAMP, BRANDS[1][0], "--status", ("已通过", "退回")[n % 2]).returncode == 0
        states.append(master.read_bytes())
    assert len(toolkit.files.transaction.backups_of(master)) == keep
    assert cli("undo", master).returncode == 0 and master.read_bytes() == states[-2]
    assert other.read_bytes() == other_merged
    assert cli("undo", other).returncode == 0 and other.read_bytes() == other_fresh  # its backup survived
    assert master.read_bytes() == states[-2]


def test_backups_in_the_old_layout_still_undo(new_master: Callable[..., Path], cli: Callable[..., Any]) -> None:
    """Backups written before a backup folder per master (`.brandkit-备份/<stem>.<time><suffix>`) are
    found exactly: its own, not a sibling's whose stem starts alike."""
    master = new_master()
    folder = master.parent / ".brandkit-备份"
    folder.mkdir()
    older, newest, sibling = (workbook_bytes(n) for n in ("own, older", "own, newest", "the sibling's"))
    (folder / "台账.20240101-101010-000001.xlsx").write_bytes(older)
    (folder / "台账.20240102-101010-000001.xlsx").write_bytes(newest)
    (folder / "台账.2025.20240103-101010-000001.xlsx").write_bytes(sibling)
    (folder / "台账.v2.20240104-101010-000001.xlsx").write_bytes(sibling)
    assert cli("undo", master).returncode == 0 and master.read_bytes() == newest
    assert cli("undo", master).returncode == 0 and master.read_bytes() == older
    assert cli("undo", master).returncode == 2


def workbook_bytes(marker: str) -> bytes:
    """The smallest package undo takes for a workbook (its workbook part parses), told apart by `marker`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("marker.txt", marker)
    return out.getvalue()


@pytest.mark.parametrize("damage", [lambda b: b[:3000], lambda _: b"garbage"], ids=["truncated", "garbage"])
def test_undo_refuses_a_damaged_backup_and_leaves_the_master(new_master: Callable[..., Path], cli: Callable[..., Any],
                                                             make_form: Callable[..., Path],
                                                             damage: Callable[[bytes], bytes]) -> None:
    from toolkit.files.transaction import backups_of

    master = new_master()
    assert cli("merge", master, make_form(0, folder=master.parent / "收件箱")).returncode == 0
    (backup,) = backups_of(master)
    backup.write_bytes(damage(backup.read_bytes()))
    before = master.read_bytes()
    run = cli("undo", master)
    assert run.returncode == 2 and "已损坏" in run.stderr and str(backup) in run.stderr
    assert master.read_bytes() == before and backup.exists()  # nothing restored, the backup still there


def test_undo_says_when_the_master_was_saved_by_hand_since_the_last_command(new_master: Callable[..., Path],
                                                                            cli: Callable[..., Any],
                                                                            make_form: Callable[..., Path]) -> None:
    import openpyxl

    master = new_master()
    form = make_form(0, folder=master.parent / "收件箱")
    assert cli("merge", master, form).returncode == 0
    quiet = cli("undo", master)
    assert quiet.returncode == 0 and "手工修改" not in quiet.stdout
    assert cli("merge", master, form).returncode == 0
    wb = openpyxl.load_workbook(master)  # the officer types a note and saves, as in Excel
    wb["品牌台账"].cell(1, 40, "办公室备注")
    wb.save(master)
    edited = master.read_bytes()
    run = cli("undo", master)
    assert run.returncode == 0 and "又被手工修改并保存过" in run.stdout
    kept = next(p for p in (master.parent / ".brandkit-备份").rglob("已撤销/*") if p.read_bytes() == edited)
    assert str(kept) in run.stdout


# -- 2. no lost updates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("meanwhile", ["stamp", "undo"])
def test_a_change_made_while_a_merge_reads_its_inbox_is_kept(merged: Path, cli: Callable[..., Any],
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            meanwhile: str) -> None:
    """Another command changes the master after the merge took its snapshot: the merge plans again
    against the master as it is under the lock, so neither change is lost and no log row is blank."""
    import toolkit.files.masterfile

    master = merged
    assert cli("stamp", master, *STAMP, BRANDS[1][0], "--status", "已通过").returncode == 0
    real = toolkit.files.masterfile.load_master
    done: list[str] = []

    def load_then_interfere(path: Path, *args: Any, **kw: Any) -> Any:
        snap = real(path, *args, **kw)
        if not done:
            done.append(meanwhile)
            other = cli("stamp", master, *STAMP, BRANDS[1][0], "--status", "退回") if meanwhile == "stamp" \
                else cli("undo", master)
            assert other.returncode == 0, other.stderr
        return snap

    monkeypatch.setattr(toolkit.files.masterfile, "load_master", load_then_interfere)
    assert cli("merge", master, form(tmp_path / "in", 0)).returncode == 0
    assert done
    log = log_rows(master)
    assert all(row and row[0] for row in log), log  # no blank row
    actions = [row[2] for row in log]
    assert actions.count("新增") == 2  # both merges: each branch's first form (the roster listed the branches)
    assert actions.count("盖章") == (2 if meanwhile == "stamp" else 0)
    rows = ledger(master)
    assert set(rows) >= {BRANDS[0][0], BRANDS[1][0]}
    status = rows[BRANDS[1][0]]["党总支审批状态"]
    assert str(status).startswith("退回") if meanwhile == "stamp" else status in (None, "")


def test_a_second_run_waits_for_the_lock_then_gives_up(merged: Path, cli: Callable[..., Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from filelock import FileLock

    import toolkit.files.transaction

    assert toolkit.files.transaction.LOCK_WAIT_S == 60
    monkeypatch.setattr(toolkit.files.transaction, "LOCK_WAIT_S", 1.0)
    before = merged.read_bytes()
    with FileLock(str(toolkit.files.transaction.lock_path(merged))):
        started = time.monotonic()
        result = cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过")
        waited = time.monotonic() - started
    clean_failure(result, "台账正被另一个操作使用，等待中…", merged.name)
    assert waited >= 1.0 and merged.read_bytes() == before
    assert cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过").returncode == 0  # released


def test_two_merges_keep_their_own_staged_originals(new_master: Callable[..., Path], tmp_path: Path) -> None:
    """Staged logo originals are per run: one run finishing (and clearing its staging) never takes
    another's."""
    from toolkit.commands.merge import finish, logo_dir, plan_inbox
    from toolkit.files.masterfile import load_master

    master = new_master()
    snap = load_master(master)
    first = plan_inbox(snap, [form(tmp_path / "a", 0)])
    second = plan_inbox(snap, [form(tmp_path / "b", 1)])
    finish(first, lambda: None)
    finish(second, lambda: None)
    assert first.missing_originals == [] and second.missing_originals == []
    assert sorted(p.name for p in logo_dir(master).iterdir() if not p.name.startswith(".")) == \
        sorted(f"{BRANDS[n][0]}.png" for n in (0, 1))


@pytest.mark.slow
def test_two_merges_and_a_stamp_at_once_lose_nothing(new_master: Callable[..., Path], cli: Callable[..., Any],
                                                     tmp_path: Path, roster: Path) -> None:
    """Two merges (two branches each) and a stamp started together on one master, five rounds: every
    row and log line each should write is there afterwards."""
    branches = BRANCHES
    template = new_master(roster)
    assert cli("merge", template, form(tmp_path / "seed", 0)).returncode == 0  # so it can be stamped
    inboxes = [tmp_path / "one", tmp_path / "two"]
    for n in (1, 2):
        form(inboxes[0], n)
    form(inboxes[1], 3)
    write_filled_form(inboxes[1] / "放射科党支部.xlsx", form_values("放射科党支部", "影像先锋", "放射", 7),
                      logo=logo_bytes((310, 200), (10, 10, 200)))
    for round_ in range(5):
        master = tmp_path / f"round{round_}" / "台账.xlsx"
        master.parent.mkdir()
        shutil.copyfile(template, master)
        runs = [subprocess.Popen([sys.executable, "-m", "toolkit", *args], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for args in (["merge", str(master), str(inboxes[0])], ["merge", str(master), str(inboxes[1])],
                             ["stamp", str(master), *STAMP, BRANDS[0][0], "--status", "已通过"])]
        for run in runs:
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, (round_, out[-1000:], err[-2000:])
        rows = ledger(master)
        assert set(rows) == set(branches) and all(rows[b]["品牌名称"] for b in branches), round_
        assert str(rows[BRANDS[0][0]]["党总支审批状态"]).startswith("已通过")
        log = log_rows(master)
        assert all(row and row[0] for row in log), (round_, log)
        assert sorted(row[3] for row in log if row[2] in ("新增", "更新")) == sorted(branches), round_
        assert [row[3] for row in log if row[2] == "盖章"] == [BRANDS[0][0]]


# -- 3. a merge that changes nothing writes nothing ----------------------------------------------------------

def test_a_rejected_form_merged_again_writes_nothing(merged: Path, cli: Callable[..., Any], tmp_path: Path) -> None:
    from toolkit.files.transaction import backups_of

    master = merged
    before_rejection = master.read_bytes()
    bad = form(tmp_path / "bad", 1, name="退回的.xlsx", 联系方式="abc")
    first = json.loads(cli("--json", "merge", master, bad).stdout)
    assert first["rejected"] and first["backup"]
    rejected, backups = master.read_bytes(), backups_of(master)
    assert [r[2] for r in log_rows(master)].count("退回") == 1
    again = json.loads(cli("--json", "merge", master, bad).stdout)
    assert again["rejected"] and again["backup"] is None
    assert master.read_bytes() == rejected and backups_of(master) == backups
    assert cli("undo", master).returncode == 0 and master.read_bytes() == before_rejection  # the real change


def _beijing(text: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(text).timestamp()


@pytest.mark.parametrize("case", ["ordered", "tie"])
def test_validate_and_merge_agree_on_the_newest_copy(new_master: Callable[..., Path], cli: Callable[..., Any],
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     case: str) -> None:
    """A .msg stamped in UTC, an .eml with +08:00 and a file known only by its mtime (on a PC whose
    clock is not Beijing's): validate's newest copy is the one merge takes. In "tie" the .msg and the
    .eml came at the same instant."""
    monkeypatch.setenv("TZ", "America/New_York")  # the workers are spawned: they take it too
    time.tzset()
    try:
        master = new_master()
        inbox = tmp_path / "收件箱"
        inbox.mkdir()
        times = {"a_msg.xlsx": "2026-05-01T02:00:00+00:00",  # 10:00 in Beijing
                 "b_eml.xlsx": "2026-05-01T09:30:00+08:00" if case == "ordered" else "2026-05-01T10:00:00+08:00"}
        for n, name in enumerate([*times, "c_file.xlsx"]):
            write_filled_form(inbox / name, {**form_values(*BRANDS[0], n), "品牌名称": f"品牌{n}"}, logo=logo_bytes())
        # the file came last when the .msg and .eml differ, first when they tie
        mtime = _beijing("2026-05-01T10:15:00+08:00" if case == "ordered" else "2026-05-01T09:00:00+08:00")
        os.utime(inbox / "c_file.xlsx", (mtime, mtime))
        (inbox / "inbox.jsonl").write_text("".join(
            json.dumps({"path": name, "sender": "x@example.cn", "received": when}) + "\n"
            for name, when in times.items()), encoding="utf-8")
        doc = json.loads(cli("--json", "validate", inbox, "--profile", "hospital-brand").stdout)
        newest = [Path(f["path"]).name for f in doc["files"]
                  if "duplicate_submission" not in {x["rule"] for x in f["findings"]}]
        assert len(newest) == 1
        if case == "ordered":
            assert newest == ["c_file.xlsx"]
        cli("merge", master, inbox)
        assert ledger(master)[BRANDS[0][0]]["来源文件"] == newest[0]
    finally:
        monkeypatch.undo()
        time.tzset()


# -- 6. the master's own file --------------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes (Windows: a new file takes its folder's ACL)")
def test_a_new_master_and_what_brandkit_writes_beside_it_are_readable_by_colleagues(
        tmp_path: Path, cli: Callable[..., Any], make_form: Callable[..., Path]) -> None:
    """A new file gets the mode any program's new file gets (0644 under umask 022), not mkstemp's 0600:
    a master made on a shared folder is one the colleagues can open."""
    umask = os.umask(0o022)
    os.umask(umask)
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    assert cli("merge", master, make_form(0, folder=tmp_path / "收件箱")).returncode == 0
    assert cli("export", master, "-o", tmp_path / "进展.csv").returncode == 0
    for path in (master, tmp_path / "进展.csv", *(tmp_path / "台账_标识").iterdir()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_the_masters_mode_and_group_are_kept(merged: Path, cli: Callable[..., Any]) -> None:
    if sys.platform == "win32" or os.geteuid() != 0:
        pytest.skip("needs POSIX modes and root (to give the master another group)")
    os.chmod(merged, 0o664)
    os.chown(merged, -1, 100)
    result = cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过")
    assert result.returncode == 0 and "注意" not in result.stderr, result.stderr
    st = merged.stat()
    assert stat.S_IMODE(st.st_mode) == 0o664 and st.st_gid == 100


def test_a_group_that_cannot_be_kept_is_a_warning(merged: Path, cli: Callable[..., Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform == "win32" or os.geteuid() != 0:
        pytest.skip("needs POSIX groups and root")
    os.chown(merged, -1, 100)

    def refuse(*args: Any, **kw: Any) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chown", refuse)
    monkeypatch.setattr(os, "fchown", refuse)
    result = cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过")
    assert result.returncode == 0 and "注意" in result.stderr and "组" in result.stderr, result.stderr


def test_a_read_only_master_is_refused(merged: Path, cli: Callable[..., Any]) -> None:
    os.chmod(merged, 0o444)
    before = merged.read_bytes()
    clean_failure(cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过"), "只读", merged.name)
    assert merged.read_bytes() == before and stat.S_IMODE(merged.stat().st_mode) == 0o444


@pytest.mark.parametrize("owner", ["~${}", ".~lock.{}#", ".~{}"])
def test_an_open_master_is_refused_whatever_program_has_it(merged: Path, cli: Callable[..., Any],
                                                           owner: str) -> None:
    """Excel and WPS on Windows (`~$name`), LibreOffice (`.~lock.name#`), WPS on Linux (`.~name`)."""
    lock = merged.with_name(owner.format(merged.name))
    lock.write_text("someone", encoding="utf-8")
    before = merged.read_bytes()
    clean_failure(cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过"), lock.name)
    assert merged.read_bytes() == before


def test_a_symlinked_master_is_written_through_its_link(merged: Path, cli: Callable[..., Any], tmp_path: Path) -> None:
    link = tmp_path / "桌面" / "台账快捷方式.xlsx"
    link.parent.mkdir()
    try:
        link.symlink_to(merged)
    except OSError:
        pytest.skip("no symlinks here")
    before = merged.read_bytes()
    assert cli("stamp", link, *STAMP, BRANDS[1][0], "--status", "已通过").returncode == 0
    assert link.is_symlink() and link.resolve() == merged.resolve() and merged.read_bytes() != before
    assert cli("undo", link).returncode == 0 and merged.read_bytes() == before and link.is_symlink()


def _rezip(master: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Rewrite the master's members through `change(name, data)`."""
    src = zipfile.ZipFile(io.BytesIO(master.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, change(info.filename, src.read(info)))
    master.write_bytes(out.getvalue())


FAR_ROWS = {
    # a cell declared at the sheet's last cell, its attribute in single quotes
    "single_quotes": b"<row r='1048576'><c r='XFD1048576' t='inlineStr'><is><t>x</t></is></c></row>",
    # cells with no reference at all, which the scan cannot see: the reader places them one after
    # another, 16,384 columns wide, on row 200,000
    "no_references": b'<row r="200000">' + b"<c><v>1</v></c>" * 16384 + b"</row>",
}


@pytest.mark.parametrize("trick", sorted(FAR_ROWS))
def test_a_far_cell_is_a_clear_message(merged: Path, trick: str) -> None:
    """A sheet whose used area reaches XFD1048576 would make the reader allocate the whole sheet. The
    pre-parse scan catches what it can; the rest is read in a child process under the master's
    limits, so a reader that dies or runs out of memory is a message, not the end of brandkit."""

    def far(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        return data.replace(b"</sheetData>", FAR_ROWS[trick] + b"</sheetData>")

    _rezip(merged, far)
    before = merged.read_bytes()
    result = brandkit("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过")
    clean_failure(result, merged.name, "台账")
    assert "重新提交" not in result.stderr  # the master's own wording, not a branch form's
    assert "backtrace" not in result.stderr and "memory allocation" not in result.stderr  # the reader's own words
    assert merged.read_bytes() == before


def test_a_style_heavy_master_is_read(merged: Path, cli: Callable[..., Any]) -> None:
    """Fifty thousand cell formats inflate far beyond a form's 100:1: a master's limits allow it."""

    def heavy(name: str, data: bytes) -> bytes:
        if name != "xl/styles.xml":
            return data
        count = int(re.search(rb'<cellXfs count="(\d+)"', data).group(1))
        xf = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        data = re.sub(rb'<cellXfs count="\d+">', b'<cellXfs count="%d">' % (count + 50000), data)
        return data.replace(b"</cellXfs>", xf * 50000 + b"</cellXfs>")

    _rezip(merged, heavy)
    with zipfile.ZipFile(merged) as zf:
        info = zf.getinfo("xl/styles.xml")
        assert info.file_size > 100 * info.compress_size
    result = cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("code", "where", "words"), [
    (errno.ENOSPC, "master", "空间不足"), (errno.ENOSPC, "backup", "空间不足"),
    (errno.EFBIG, "master", "过大"), (errno.EACCES, "master", "权限"), (errno.EROFS, "backup", "只读")])
def test_write_failures_are_clear_and_leave_the_master(merged: Path, cli: Callable[..., Any],
                                                        monkeypatch: pytest.MonkeyPatch, code: int, where: str,
                                                        words: str) -> None:
    """The disk refuses the backup or the new master (simulated at fsync, where a full disk shows on
    delayed allocation): a clear message, exit 2, the master as it was and no backup of it left."""
    from toolkit.files.transaction import backups_of

    before, backups = merged.read_bytes(), backups_of(merged)
    real = os.fsync

    def failing(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else ""
        in_backups = ".brandkit-备份" in name
        if name.endswith(".brandkit-tmp") and in_backups == (where == "backup"):
            raise OSError(code, os.strerror(code))
        real(fd)

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to tell the files apart")
    monkeypatch.setattr(os, "fsync", failing)
    clean_failure(cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过"), words)
    monkeypatch.undo()
    assert merged.read_bytes() == before and backups_of(merged) == backups
    assert not [p for p in merged.parent.rglob("*.brandkit-tmp")]


def test_a_folder_without_write_permission_is_a_clear_message(merged: Path, cli: Callable[..., Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared folder this user may read but not write (root passes permission bits, so the refusal is
    simulated where files are created): nothing can be locked or written there."""
    real = os.open
    folder = str(merged.parent)

    def refuse(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if flags & os.O_CREAT and os.path.dirname(os.path.abspath(path)) == folder:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real(path, flags, *args, **kw)

    before = merged.read_bytes()
    monkeypatch.setattr(os, "open", refuse)
    clean_failure(cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过"), "权限")
    monkeypatch.undo()
    assert merged.read_bytes() == before


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only), unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root on Linux to mount a tmpfs")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    if made.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace')}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_or_read_only_disk_is_a_clear_message(merged: Path, cli: Callable[..., Any], tiny_disk: Path) -> None:
    """A real full file system (ENOSPC), then the same one mounted read-only (EROFS)."""
    from toolkit.files.transaction import backups_of

    master = tiny_disk / merged.name
    shutil.copyfile(merged, master)
    before = master.read_bytes()
    free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
    (tiny_disk / "填满.bin").write_bytes(b"\0" * (free - len(before) - 2048))  # room for the backup only
    clean_failure(cli("stamp", master, *STAMP, BRANDS[1][0], "--status", "已通过"), "空间不足")
    assert master.read_bytes() == before and backups_of(master) == []
    assert not [p for p in tiny_disk.rglob("*.brandkit-tmp")]
    (tiny_disk / "填满.bin").unlink()
    assert subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)]).returncode == 0
    clean_failure(cli("stamp", master, *STAMP, BRANDS[1][0], "--status", "已通过"), "只读")
    assert master.read_bytes() == before


def test_an_unwritable_backup_folder_is_a_clear_message(merged: Path, cli: Callable[..., Any]) -> None:
    """A file where the backup folder should be (root ignores permission bits; a file stops everyone)."""
    folder = merged.parent / ".brandkit-备份"
    shutil.rmtree(folder)
    folder.write_text("not a folder", encoding="utf-8")
    before = merged.read_bytes()
    clean_failure(cli("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过"), "备份")
    assert merged.read_bytes() == before


@pytest.mark.parametrize("lie", ["name", "size", "method"])
def test_a_zip_whose_directory_disagrees_with_its_headers_is_refused(merged: Path, lie: str) -> None:
    """The central directory and a local header tell different stories about one member: readers
    would disagree on what the master holds, so brandkit refuses it (in a process of its own, as a
    reader may also just die)."""
    data = bytearray(merged.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/styles.xml")
    at = info.header_offset
    assert data[at:at + 4] == b"PK\x03\x04"
    if lie == "name":
        start = at + 30
        data[start:start + len(b"xl/styles.xml")] = b"xl/stylez.xml"
    elif lie == "size":
        data[at + 18:at + 22] = (info.compress_size - 7).to_bytes(4, "little")
    else:
        data[at + 8:at + 10] = (0).to_bytes(2, "little")  # stored, while the directory says deflated
    merged.write_bytes(bytes(data))
    before = merged.read_bytes()
    result = brandkit("stamp", merged, *STAMP, BRANDS[1][0], "--status", "已通过")
    clean_failure(result, merged.name)
    assert merged.read_bytes() == before
