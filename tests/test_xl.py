"""Every button of the master (toolkit.xl), driven through xlwings' remote engine the way Excel hands a
workbook to RunPython: the actions it returns write the intended cells, fills and pictures, report in
Chinese on 控制台, and a merge plans the very ChangeSet the CLI (file backend) plans."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form
from tests.libreoffice import roundtrip_values
from tests.test_merge import cli, ledger_rows
from tests.xlremote import Replay, remote_book
from toolkit.core.model import china_today
from toolkit.core.stages import stamp_text
from toolkit.excel.master_template import (
    CONSOLE_SHEET,
    DETAILS,
    INBOX,
    OPERATOR,
    RESULT,
    STAGE,
    STATUS,
    SUMMARY_FILE,
)

ROOT = Path(__file__).resolve().parents[1]
LEDGER, LOG = "品牌台账", "操作记录"


def _master(folder: Path, branches: int = 2) -> tuple[Path, Path]:
    """A fresh copy of the committed 台账.xlsm and an inbox of `branches` filled forms with logos."""
    master = folder / "台账.xlsm"
    shutil.copyfile(ROOT / "workbook_templates/hospital-brand/台账.xlsm", master)
    inbox = folder / "收件箱"
    inbox.mkdir()
    for n, (branch, brand, topic) in enumerate(BRANDS[:branches]):
        write_filled_form(inbox / f"{branch}.xlsx", form_values(branch, brand, topic, n),
                          logo=logo_bytes((500 + 50 * n, 400), (200, 30 + 60 * n, 30), "JPEG"))
    return master, inbox


def _console(replay: Replay) -> dict[str, object]:
    rows = replay.rows(CONSOLE_SHEET)
    labels = {row[0]: r for r, row in enumerate(rows) if row and row[0]}
    details = [tuple(row[:2]) for row in rows[labels[DETAILS] + 1:] if any(row[:2])]
    return {"result": rows[labels[RESULT]][1], "details": details}


def test_merge_button_and_cli_plan_the_same_changeset(tmp_path: Path) -> None:
    from toolkit.commands.merge import plan_inbox
    from toolkit.core.master import snapshot
    from toolkit.files.masterfile import load_master
    from toolkit.xl import grids_from_book

    master, inbox = _master(tmp_path)
    now = dt.datetime(2024, 8, 5, 9, 30)
    by_file = plan_inbox(load_master(master), [inbox], operator="张三", now=now)
    book = remote_book(master)
    by_button = plan_inbox(snapshot(master, grids_from_book(book), None), [inbox], operator="张三", now=now)
    assert by_file.changes and by_button.changes == by_file.changes
    assert [(o.branch, o.action) for o in by_button.outcomes] == [(o.branch, o.action) for o in by_file.outcomes]


def test_merge_button_writes_what_the_cli_writes(tmp_path: Path) -> None:
    import toolkit.xl

    master, inbox = _master(tmp_path)
    book = remote_book(master, {INBOX: str(inbox)})
    toolkit.xl.merge_inbox()
    replay = Replay.of(master).play(book.json()["actions"])
    assert replay.saved

    cli_copy = tmp_path / "cli" / "台账.xlsm"
    cli_copy.parent.mkdir()
    shutil.copyfile(ROOT / "workbook_templates/hospital-brand/台账.xlsm", cli_copy)
    cli("merge", str(cli_copy), str(inbox))
    expected = ledger_rows(roundtrip_values(cli_copy))
    got = ledger_rows({LEDGER: replay.rows(LEDGER)})
    assert set(got) == {b for b, _, _ in BRANDS[:2]} == set(expected)
    for branch, row in expected.items():  # the remote protocol carries a date as the text Excel reads it as
        assert {k: v for k, v in got[branch].items() if v is not None} == \
            {k: (int(v) if isinstance(v, float) else f"{v:%Y-%m-%d %H:%M:%S}" if isinstance(v, dt.datetime) else v)
             for k, v in row.items() if v not in (None, "")}

    header = replay.rows(LEDGER)[0]
    status_col, logo_col = header.index("申报状态"), header.index("品牌标识")
    rows = {replay.values[(LEDGER, r, header.index("党支部名称"))]: r for r in (1, 2)}
    for r in rows.values():
        assert str(replay.values[(LEDGER, r, status_col)]).startswith(("已提交", "逾期提交"))
        assert replay.fills[(LEDGER, r, status_col)] in ("C6EFCE", "FFC7CE", "FFEB9C", "FFD8B1")
    pictures = replay.added_pictures(LEDGER)
    assert sorted((p["row"], p["col"], p["name"]) for p in pictures) == \
        sorted((r, logo_col, f"brandkit:{b}") for b, r in rows.items())
    assert all(p["data"][:3] == b"\xff\xd8\xff" or p["data"][:4] == b"\x89PNG" for p in pictures)
    assert [row[2] for row in replay.rows(LOG)[1:]] == ["新增", "新增"]
    console = _console(replay)
    assert "合并完成：新增 2 个" in console["result"] and "台账已保存" in console["result"]
    assert sorted(console["details"]) == sorted((b, "新增") for b in rows)
    assert (tmp_path / "台账_标识").is_dir()  # originals kept beside the master, as the CLI does


def test_validate_button_lists_findings_and_leaves_the_ledger_alone(tmp_path: Path) -> None:
    import toolkit.xl

    master, inbox = _master(tmp_path, branches=1)
    bad = form_values("护理部党支部", "这是一个超过十个字的品牌名称", "护理", 1)
    write_filled_form(inbox / "护理部党支部.xlsx", bad)
    book = remote_book(master, {INBOX: "收件箱"})  # relative to the master's folder
    toolkit.xl.validate_inbox()
    actions = book.json()["actions"]
    assert {a["sheet_position"] for a in actions} == {0}  # only 控制台
    console = _console(Replay.of(master).play(actions))
    assert console["result"].endswith("校验完成：共 2 份，有警告 1 份，不通过 1 份。台账未改动；详见下方明细")
    lines = [b for _, b in console["details"]]
    assert "有警告：内科第一党支部" in lines and "不通过：护理部党支部" in lines
    assert any(line.startswith("错误 申报表!") and "14 字" in line for line in lines)


def test_stamp_button_stamps_the_selected_rows(tmp_path: Path) -> None:
    import toolkit.xl

    master, inbox = _master(tmp_path)
    cli("merge", str(master), str(inbox))
    # the officer selects the rows on the ledger and clicks its own stamp button: the ledger stays active
    book = remote_book(master, {STAGE: "党总支审批", STATUS: "已通过", OPERATOR: "李四"}, selection="B2:D3",
                       active=LEDGER)
    toolkit.xl.stamp_selection()
    replay = Replay.of(master).play(book.json()["actions"])
    header = replay.rows(LEDGER)[0]
    col = header.index("党总支审批状态")
    for r in (1, 2):
        assert replay.values[(LEDGER, r, col)] == stamp_text("已通过", china_today(), "李四")
        assert replay.fills[(LEDGER, r, col)] == "C6EFCE"
    assert replay.saved
    assert [row[2] for row in replay.rows(LOG)[1:]][-2:] == ["盖章", "盖章"]
    assert "盖章完成：已盖章 2 个，拒绝 0 个" in _console(replay)["result"]


def test_stamp_button_outside_the_ledger_says_what_to_do(tmp_path: Path) -> None:
    import toolkit.xl

    master, _ = _master(tmp_path, branches=0)
    book = remote_book(master, selection="B9", active=CONSOLE_SHEET)
    toolkit.xl.stamp_selection()
    actions = book.json()["actions"]
    assert all(a["func"] == "setValues" and a["sheet_position"] == 0 for a in actions)
    result = _console(Replay.of(master).play(actions))["result"]
    assert "未完成：请先切换到“品牌台账”工作表，选中要盖章的支部所在的行" in result
    assert "再点该表第一行右侧的“盖章（选中行）”按钮" in result


def test_summary_button_writes_the_summary_beside_the_master(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    import toolkit.xl

    master, inbox = _master(tmp_path)
    cli("merge", str(master), str(inbox))
    book = remote_book(master, {SUMMARY_FILE: ""})
    toolkit.xl.make_summary()
    out = tmp_path / "台账_汇总.xlsx"
    by_cli = tmp_path / "cli_汇总.xlsx"
    cli("summary", str(master), "-o", str(by_cli))
    assert CalamineWorkbook.from_path(str(out)).sheet_names == CalamineWorkbook.from_path(str(by_cli)).sheet_names
    assert CalamineWorkbook.from_path(str(out)).sheet_names[:2] == ["总体进度", "未提交名单"]
    replay = Replay.of(master).play(book.json()["actions"])
    assert _console(replay)["result"].endswith(f"已生成汇总表：{out}")
    assert not replay.saved  # the master itself is not touched


@pytest.mark.parametrize(("settings", "expected"), [
    ({INBOX: ""}, "未完成：请先在“控制台”表的“收件箱文件夹”右侧填写申报表所在的文件夹"),
    ({INBOX: "不存在的文件夹"}, "未完成：“收件箱文件夹”中填写的文件夹不存在"),
])
def test_a_button_reports_a_problem_on_the_console_not_as_a_traceback(tmp_path: Path, settings: dict,
                                                                      expected: str) -> None:
    import toolkit.xl

    master, _ = _master(tmp_path, branches=0)
    book = remote_book(master, settings)
    toolkit.xl.merge_inbox()
    actions = book.json()["actions"]
    assert {a["func"] for a in actions} == {"setValues"}
    assert expected in _console(Replay.of(master).play(actions))["result"]


def test_an_internal_error_is_reported_with_where_the_details_are(tmp_path: Path, monkeypatch) -> None:
    """A bug must still end as a Chinese line on 控制台, naming the log file, never a traceback dialog."""
    import toolkit.xl

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    master, inbox = _master(tmp_path, branches=1)
    cli("merge", str(master), str(inbox))
    (tmp_path / "汇总.xlsx").mkdir()  # a folder where the summary should go: replacing it fails
    book = remote_book(master, {SUMMARY_FILE: "汇总.xlsx"})
    toolkit.xl.make_summary()
    result = _console(Replay.of(master).play(book.json()["actions"]))["result"]
    assert "出错了：" in result and "台账未改动" in result and "IsADirectoryError" not in result
    log = Path(result.split("请把详细记录 ")[1].split(" 发给管理员")[0])
    assert log.is_relative_to(tmp_path / "state") and "Traceback" in log.read_text(encoding="utf-8")
