"""Rosters (支部名单) as offices really keep them, through `brandkit init --roster`: the 党总支 merged over
its branches or written on a group's first row only, under headings such as 上级党组织; columns brandkit
does not know kept in the master's 支部名单 sheet; totals and notes under the list that are no branches;
a 党总支 called 合计; several year sheets, the one the file opens on taken and named; CSV files with a title
line or semicolons; and messages about an unreadable roster that speak of the roster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import CliResult
from tests.forms import write_roster
from toolkit.readers.errors import Unreadable
from toolkit.readers.sniff import sniff

GROUPS = [("内科党总支", ["心内科党支部", "消化内科党支部", "呼吸内科党支部"]),
          ("外科党总支", ["普外科党支部", "骨科党支部"]),
          ("机关党总支", ["党办党支部", "护理部党支部"])]
ROWS = [(g, b) for g, branches in GROUPS for b in branches]
EXPECTED = {b: g for g, b in ROWS}

Cli = Callable[..., CliResult]
# openpyxl, reading the masters back, warns of the print area brandkit defines (a whole-column range)
pytestmark = pytest.mark.filterwarnings("ignore:Print area cannot be set")


def init(cli: Cli, tmp_path: Path, roster: Path, *extra: str) -> tuple[Path, CliResult]:
    master = tmp_path / "台账.xlsx"
    result = cli(*extra, "init", master, "--profile", "hospital-brand", "--roster", roster)
    assert result.returncode == 0, result.stdout + result.stderr
    return master, result


def groups_of(cli: Cli, master: Path) -> dict[str, str]:
    """Branch -> its 党总支 as `status --json` reports it (no branch has submitted: all are listed)."""
    result = cli("--json", "status", master)
    assert result.returncode == 0, result.stdout + result.stderr
    return {r["branch"]: r["group"] for r in json.loads(result.stdout)["missing_details"]}


def kept_roster(master: Path) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(master)
    return [tuple(row) for row in wb["支部名单"].iter_rows(values_only=True)]


def ledger_branches(master: Path) -> list[str]:
    ws = openpyxl.load_workbook(master)["品牌台账"]
    header = [c.value for c in ws[1]]
    col = header.index("党支部名称")
    return [row[col] for row in ws.iter_rows(min_row=2, values_only=True) if row[col]]


# -- 1. 党总支 merged, written once per group, under other headings; other columns kept ---------------------

def test_a_merged_group_cell_belongs_to_every_branch_it_spans(cli: Cli, tmp_path: Path) -> None:
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年党支部名单"])
    ws.merge_cells("A1:D1")
    ws.append(["序号", "党总支", "党支部名称", "书记"])
    r = 3
    for group, branches in GROUPS:
        ws.cell(r, 2, group)
        for branch in branches:
            ws.cell(r, 1, r - 2)
            ws.cell(r, 3, branch)
            ws.cell(r, 4, "李四")
            r += 1
        ws.merge_cells(start_row=r - len(branches), start_column=2, end_row=r - 1, end_column=2)
    wb.save(roster)
    master, _ = init(cli, tmp_path, roster)
    assert groups_of(cli, master) == EXPECTED
    status = cli("status", master).stdout
    assert "未填党总支" not in status
    assert [row[:2] for row in kept_roster(master)[1:]] == ROWS


def test_a_group_written_on_its_first_row_only_is_filled_down_to_the_next(cli: Cli, tmp_path: Path) -> None:
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["党总支", "党支部名称"])
    for group, branches in GROUPS:
        for n, branch in enumerate(branches):
            ws.append([group if n == 0 else None, branch])
        ws.append([])  # a blank row between groups
    ws.append(["后勤党总支", None])  # a 党总支 with no branch yet is not a branch, nor fills one in
    wb.save(roster)
    master, _ = init(cli, tmp_path, roster)
    assert groups_of(cli, master) == EXPECTED
    assert ledger_branches(master) == [b for _, b in ROWS]


def test_a_group_typed_on_every_row_leaves_a_blank_one_blank(cli: Cli, tmp_path: Path) -> None:
    """An office that writes the 党总支 on every row means a blank as no 党总支 (直属党支部)."""
    roster = write_roster(tmp_path / "名单.xlsx", [("内科党总支", "心内科党支部"), ("内科党总支", "消化内科党支部"),
                                                 ("", "直属党支部")])
    master, _ = init(cli, tmp_path, roster)
    assert groups_of(cli, master) == {"心内科党支部": "内科党总支", "消化内科党支部": "内科党总支",
                                      "直属党支部": "（未填党总支）"}


@pytest.mark.parametrize("heading", ["上级党组织", "所属党组织", "所属总支", "党总支名称", "党总支（党委）"])
def test_other_headings_of_the_group_column_are_read(cli: Cli, tmp_path: Path, heading: str) -> None:
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", heading, "党支部名称", "支部书记"])
    ws.append([1, "内科党总支", "心内科党支部", "张"])
    ws.append([2, "外科党总支", "骨科党支部", "李"])
    wb.save(roster)
    master, _ = init(cli, tmp_path, roster)
    assert groups_of(cli, master) == {"心内科党支部": "内科党总支", "骨科党支部": "外科党总支"}


def test_columns_brandkit_does_not_know_are_kept_in_the_roster_sheet(cli: Cli, tmp_path: Path) -> None:
    """备注 and 换届时间 kept under their headings; under a two-row header with 电话 below both 支部书记
    and 联系人, both phones are kept, the 联系人's as 电话 (what reminders use)."""
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "党总支", "党支部名称", "支部书记", None, "联系人", None, "备注", "换届时间"])
    ws.append([None, None, None, "姓名", "电话", "姓名", "电话", None, None])
    for cells in ("A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:G1", "H1:H2", "I1:I2"):
        ws.merge_cells(cells)
    ws.append([1, "内科党总支", "心内科党支部", "王一", "13900000001", "张三", "13800000001", "新成立", "2024年3月"])
    ws.append([2, "外科党总支", "骨科党支部", "王二", "13900000002", "李四", "13800000002", None, "2023年9月"])
    wb.save(roster)
    master, _ = init(cli, tmp_path, roster)
    header, *rows = kept_roster(master)
    kept = [dict(zip(header, row, strict=True)) for row in rows]
    assert kept[0]["备注"] == "新成立" and [k["换届时间"] for k in kept] == ["2024年3月", "2023年9月"]
    assert [(k["支部书记"], k["联系人"], k["电话"]) for k in kept] == [("王一", "张三", "13800000001"),
                                                                  ("王二", "李四", "13800000002")]
    assert [k["支部书记电话"] for k in kept] == ["13900000001", "13900000002"]
    assert "序号" not in header
    missing = json.loads(cli("--json", "status", master).stdout)["missing_details"]
    assert {(r["contact"], r["phone"]) for r in missing} == {("张三", "13800000001"), ("李四", "13800000002")}


# -- 2. total and note rows, hidden rows, a 党总支 called 合计 ---------------------------------------------

def test_total_and_note_rows_are_no_branches_and_a_hidden_row_is_one_said(cli: Cli, tmp_path: Path) -> None:
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["党总支", "党支部名称"])
    for row in ROWS:
        ws.append(row)
    ws.append(["机关党总支", "综合党支部（办公室，财务科）"])  # a comma in brackets: still a branch
    ws.append(["机关党总支", "已撤销党支部"])
    ws.row_dimensions[ws.max_row].hidden = True
    ws.append(["合计", "8个党支部"])
    ws.append(["注：", "名单以党委组织部2024年3月文件为准，各党支部请核对"])
    wb.save(roster)
    master, result = init(cli, tmp_path, roster)
    assert ledger_branches(master) == [*(b for _, b in ROWS), "综合党支部（办公室，财务科）", "已撤销党支部"]
    assert "第 10 行（已撤销党支部）" in result.stdout and "隐藏" in result.stdout
    assert "第 11、12 行" in result.stdout and "未读入" in result.stdout
    assert "合计" not in {row[0] for row in kept_roster(master)}
    status = cli("status", master)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "8个党支部" not in status.stdout and "名单以党委" not in status.stdout


def test_a_group_called_heji_is_counted_like_any_other(cli: Cli, tmp_path: Path) -> None:
    """A 党总支 may be called anything, 合计 included: status and summary count it as a group of its own."""
    roster = write_roster(tmp_path / "名单.xlsx", [("内科党总支", "心内科党支部"), ("合计", "骨科党支部"),
                                                 ("合计", "眼科党支部")])
    master, _ = init(cli, tmp_path, roster)
    status = cli("status", master)
    assert status.returncode == 0, status.stdout + status.stderr
    table = [line.split() for line in status.stdout.splitlines() if line.startswith(("内科党总支  ", "合计  "))]
    assert [row[:2] for row in table] == [["内科党总支", "1"], ["合计", "2"], ["合计", "3"]]
    doc = json.loads(cli("--json", "status", master).stdout)
    assert [(g["党总支"], g["支部数"]) for g in doc["groups"]] == [("内科党总支", 1), ("合计", 2), ("合计", 3)]
    assert doc["missing"] == ["心内科党支部", "骨科党支部", "眼科党支部"]
    summary = cli("summary", master, "-o", tmp_path / "汇总.xlsx")
    assert summary.returncode == 0, summary.stdout + summary.stderr


# -- 3. several roster sheets ---------------------------------------------------------------------------

def _year_sheets(path: Path, active: int) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本表由组织部维护"])
    old = wb.create_sheet("2023年名单")
    old.append(["党总支", "党支部名称"])
    old.append(["旧党总支", "旧一党支部"])
    new = wb.create_sheet("2024年名单")
    new.append(["党总支", "党支部名称"])
    for row in ROWS:
        new.append(row)
    wb.active = active
    wb.save(path)
    return path


def test_the_sheet_the_roster_opens_on_is_taken_and_named(cli: Cli, tmp_path: Path) -> None:
    roster = _year_sheets(tmp_path / "名单.xlsx", active=2)
    master, result = init(cli, tmp_path, roster)
    assert ledger_branches(master) == [b for _, b in ROWS]
    assert "名单.xlsx 的“2024年名单”工作表，7 个支部" in result.stdout
    assert "“2023年名单”、“2024年名单”" in result.stdout and "打开时显示的“2024年名单”" in result.stdout
    doc = json.loads(cli("--json", "init", tmp_path / "另一本.xlsx", "--profile", "hospital-brand",
                         "--roster", roster).stdout)
    assert doc["roster"] == {"file": "名单.xlsx", "sheet": "2024年名单", "branches": 7}


def test_a_roster_opening_on_no_roster_sheet_takes_the_first_and_says_so(cli: Cli, tmp_path: Path) -> None:
    roster = _year_sheets(tmp_path / "名单.xlsx", active=0)
    master, result = init(cli, tmp_path, roster)
    assert ledger_branches(master) == ["旧一党支部"]
    assert "“2023年名单”工作表，1 个支部" in result.stdout and "第一张“2023年名单”" in result.stdout


def test_one_roster_sheet_is_named_without_a_warning(cli: Cli, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "名单.xlsx", ROWS)
    _, result = init(cli, tmp_path, roster)
    assert "支部名单：名单.xlsx 的“名单”工作表，7 个支部" in result.stdout
    assert "注意" not in result.stdout


# -- 4. CSV files and messages about the roster ---------------------------------------------------------

@pytest.mark.parametrize(("text", "encoding"), [
    ("2024年党支部名单\r\n党总支,党支部名称\r\n内科党总支,心内科党支部\r\n外科党总支,骨科党支部\r\n", "gbk"),
    ("党总支;党支部名称\r\n内科党总支;心内科党支部\r\n外科党总支;骨科党支部\r\n", "utf-8"),
], ids=["title-line-without-commas", "semicolons"])
def test_a_csv_roster_with_a_title_line_or_semicolons_is_read(cli: Cli, tmp_path: Path, text: str,
                                                              encoding: str) -> None:
    roster = tmp_path / "名单.csv"
    roster.write_bytes(text.encode(encoding))
    master, result = init(cli, tmp_path, roster)
    assert groups_of(cli, master) == {"心内科党支部": "内科党总支", "骨科党支部": "外科党总支"}
    assert "支部名单：名单.csv，2 个支部" in result.stdout


def test_a_form_is_still_not_taken_for_a_csv_by_its_title_line() -> None:
    """The relaxation is the roster's: a text file sent as a form is still refused as a text file."""
    data = "2024年党支部名单\r\n党总支,党支部名称\r\n内科党总支,心内科党支部\r\n".encode("gbk")
    with pytest.raises(Unreadable):
        sniff(data)
    assert sniff(data, roster=True) == "csv"


@pytest.mark.parametrize(("name", "data"), [
    ("名单.pdf", b"%PDF-1.4 not a roster"),
    ("名单.txt", "本表由组织部维护\r\n请各支部核对\r\n".encode()),
    ("名单.xlsx", b"PK\x03\x04broken zip"),
], ids=["pdf", "plain-text", "corrupt"])
def test_an_unreadable_roster_is_told_about_the_roster(cli: Cli, tmp_path: Path, name: str, data: bytes) -> None:
    roster = tmp_path / name
    roster.write_bytes(data)
    result = cli("init", tmp_path / "台账.xlsx", "--profile", "hospital-brand", "--roster", roster)
    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert f"名单文件 {name}" in said
    assert "申报表" not in said and "提交" not in said
    assert not (tmp_path / "台账.xlsx").exists()
