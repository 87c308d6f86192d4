"""The buttons as an officer really meets them: the stamp button on the ledger, an inbox that is the
master's own folder, selections as Excel and its VBA client write them, a never-saved master, a summary
named like the master, an unexpected error. Driven through xlwings' remote engine as tests/test_xl.py."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.test_merge import cli
from tests.test_xl import LEDGER, ROOT, _console, _master
from tests.xlremote import Replay, payload_from_file, remote_book, remote_engine
from toolkit.excel.master_template import (
    BUTTONS,
    INBOX,
    OPERATOR,
    STAGE,
    STATUS,
    SUMMARY_FILE,
    committed_profile,
)

STAMP = {STAGE: "党总支审批", STATUS: "已通过", OPERATOR: "李四"}


def _stamped(master: Path, selection: str | None) -> tuple[Replay, str]:
    """Click the stamp button on the ledger with `selection` (None: a picture is selected)."""
    import toolkit.xl

    book = remote_book(master, STAMP, selection=selection, active=LEDGER)
    toolkit.xl.stamp_selection()
    replay = Replay.of(master).play(book.json()["actions"])
    return replay, str(_console(replay)["result"])


def _stamped_branches(replay: Replay) -> set[str]:
    header = replay.rows(LEDGER)[0]
    col, name = header.index("党总支审批状态"), header.index("党支部名称")
    return {row[name] for row in replay.rows(LEDGER)[1:] if len(row) > col and row[col]}


@pytest.mark.parametrize("campaign", sorted(p.name for p in (ROOT / "workbook_templates").iterdir()))
def test_the_committed_ledger_carries_the_stamp_button(campaign: str) -> None:
    """Excel's selection is the active sheet's: the officer selects rows on the ledger and clicks there."""
    ledger = committed_profile(campaign).ledger.sheet
    with zipfile.ZipFile(ROOT / "workbook_templates" / campaign / "台账.xlsm") as zf:
        sheets = dict(re.findall(r'<sheet name="([^"]+)" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"',
                                 zf.read("xl/workbook.xml").decode()))
        targets = dict(re.findall(r'Id="(rId\d+)" Type="[^"]+" Target="worksheets/([^"]+)"',
                                  zf.read("xl/_rels/workbook.xml.rels").decode()))
        rels = zf.read(f"xl/worksheets/_rels/{targets[sheets[ledger]]}.rels").decode()
        drawing = zf.read("xl/" + re.search(r'Target="\.\./(drawings/drawing\d+\.xml)"', rels).group(1)).decode()
    shapes = re.findall(r'<xdr:sp macro="\[0\]!(\w+)".*?</xdr:sp>', drawing, re.S)
    captions = re.findall(r"<a:t>([^<]*)</a:t>", drawing)
    stamp = next(b for b in BUTTONS if b.entry == "stamp_selection")
    assert shapes == [stamp.sub] and captions == [stamp.caption]


def test_an_inbox_that_is_the_masters_folder_holds_only_the_forms(tmp_path: Path) -> None:
    import toolkit.xl
    from toolkit.commands.batch import collect_paths

    master, inbox = _master(tmp_path)
    cli("merge", str(master), str(inbox))  # backups and 台账_标识 beside the master
    cli("summary", str(master), "-o", str(tmp_path / "台账_汇总.xlsx"))
    cli("summary", str(master), "-o", str(tmp_path / "领导汇总.xlsx"))  # the 汇总文件 named on 控制台
    (tmp_path / "台账_校验结果.xlsx").write_bytes(b"report")
    forms = sorted(inbox.iterdir())
    for form in forms:
        shutil.move(form, tmp_path / form.name)
    inbox.rmdir()

    assert [p.name for p in collect_paths([tmp_path])] == sorted(f.name for f in forms) + ["领导汇总.xlsx"]
    settings = {INBOX: ".", SUMMARY_FILE: "领导汇总.xlsx"}
    book = remote_book(master, settings)
    toolkit.xl.validate_inbox()
    console = _console(Replay.of(master).play(book.json()["actions"]))
    assert "校验完成：共 2 份，有警告 2 份。" in str(console["result"])
    assert sorted(where for where, _ in console["details"] if where) == sorted(f"{f.name}（申报表）" for f in forms)

    book = remote_book(master, {**settings, INBOX: str(tmp_path)})
    toolkit.xl.merge_inbox()
    console = _console(Replay.of(master).play(book.json()["actions"]))
    assert "合并完成：未变 2 个。" in str(console["result"])
    assert all(line == "未变" for _, line in console["details"])


@pytest.mark.parametrize("selection", ["C:C", "$C:$C", "$A:$A,$3:$3", "1:1048576", "$A$2:$C$1048576"])
def test_a_whole_column_is_refused_not_stamped_everywhere(tmp_path: Path, selection: str) -> None:
    master, inbox = _master(tmp_path)
    cli("merge", str(master), str(inbox))
    replay, result = _stamped(master, selection)
    assert "未完成：选中的是整列或到表底的区域" in result and "全部 2 个支部" in result
    assert "请只选中要盖章的支部所在的行" in result
    assert not replay.saved and not _stamped_branches(replay)


@pytest.mark.parametrize(("selection", "rows"), [
    ("A2,A3", (2, 3)), ("$A$2,$A$3", (2, 3)), ("A2:C2,A3:C3", (2, 3)), ("$A$3:$C$3,$A$2", (2, 3)),
])
def test_every_area_of_a_selection_is_stamped(tmp_path: Path, selection: str, rows: tuple[int, ...]) -> None:
    master, inbox = _master(tmp_path)
    cli("merge", str(master), str(inbox))
    names = {r + 1: row[2] for r, row in enumerate(Replay.of(master).rows(LEDGER)[1:], start=1)}
    replay, result = _stamped(master, selection)
    assert f"盖章完成：已盖章 {len(rows)} 个" in result and replay.saved
    assert _stamped_branches(replay) == {names[r] for r in rows}


@pytest.mark.parametrize("selection", [None, ""])
def test_no_cells_selected_says_what_to_do(tmp_path: Path, selection: str | None) -> None:
    master, inbox = _master(tmp_path)
    cli("merge", str(master), str(inbox))
    replay, result = _stamped(master, selection)
    assert "未完成：没有选中单元格（选中的可能是图片或图形）。请在“品牌台账”中选中要盖章的支部所在的行" in result
    assert not replay.saved


@pytest.mark.parametrize("inbox_setting", ["收件箱", "absolute"])
def test_a_never_saved_master_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         inbox_setting: str) -> None:
    import toolkit.xl

    master, inbox = _master(tmp_path)
    monkeypatch.chdir(tmp_path)  # where a never-saved book's relative paths used to land
    payload = payload_from_file(master)
    payload["book"]["name"] = "工作簿1"
    for row in next(s for s in payload["sheets"] if s["name"] == "控制台")["values"]:
        if row[0] == INBOX:
            row[1] = str(inbox) if inbox_setting == "absolute" else inbox_setting
    book = remote_engine().Book(json=payload)
    book.set_mock_caller()
    toolkit.xl.merge_inbox()
    actions = book.json()["actions"]
    assert {a["func"] for a in actions} == {"setValues"}
    result = str(_console(Replay.of(master).play(actions))["result"])
    assert result.endswith("未完成：请先把台账另存为 .xlsm（启用宏的工作簿）再点按钮")
    assert not (tmp_path / "工作簿1_标识").exists() and not (inbox / "工作簿1_标识").exists()


def test_a_summary_named_like_the_master_points_to_the_console_cell(tmp_path: Path) -> None:
    import toolkit.xl

    master, _ = _master(tmp_path, branches=0)
    before = master.read_bytes()
    book = remote_book(master, {SUMMARY_FILE: "台账.xlsm"})
    toolkit.xl.make_summary()
    result = str(_console(Replay.of(master).play(book.json()["actions"]))["result"])
    assert "未完成：汇总表不能写到台账 台账.xlsm 本身。请在“控制台”表的“汇总文件”右侧填写另一个文件名" in result
    assert "-o" not in result and master.read_bytes() == before


def test_an_internal_error_shows_no_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.xl

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    master, _ = _master(tmp_path, branches=0)
    (tmp_path / "汇总.xlsx").mkdir()  # a folder where the summary should go: replacing it fails
    book = remote_book(master, {SUMMARY_FILE: "汇总.xlsx"})
    toolkit.xl.make_summary()
    result = str(_console(Replay.of(master).play(book.json()["actions"]))["result"])
    said, log = result.split("请把详细记录 ")
    assert said.split("  ", 1)[1].startswith("出错了：") and "台账未改动" in said
    assert not re.search(r"[A-Za-z]", said.split("  ", 1)[1])
    assert "IsADirectoryError" in Path(log.removesuffix(" 发给管理员")).read_text(encoding="utf-8")
