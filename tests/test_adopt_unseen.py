"""Workbooks an office adopts as they are, as a probe with layouts nobody had shown brandkit: one sheet a
year (this year's, the one in front, is adopted and named; last year's is left as it was), the office's
columns headed with the form's own label variants (党员人数 is 党员总数's column), total and note rows under
the data (never branches; a new branch row is refused, the master untouched, rather than written below
them), and a header under a long block of instructions."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from tests.conftest import CliResult
from tests.forms import BRANDS
from tests.libreoffice import convert, roundtrip_values
from toolkit.core.grid import Grid
from toolkit.core.profile import load_profile

Cli = Callable[..., CliResult]
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHEET = "品牌创建台账"


def said(result: CliResult) -> str:
    return result.stdout + result.stderr


def values(path: Path, sheet: str, cached: bool = False) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path, data_only=cached)[sheet]
    return [[c.value for c in row] for row in ws.iter_rows()]


def missing(cli: Cli, master: Path) -> list[str]:
    result = cli("--json", "status", master)
    assert result.returncode == 0, said(result)
    return json.loads(result.stdout)["missing"]


# -- one sheet a year ----------------------------------------------------------------------------------

def year_sheets(path: Path, order: tuple[str, ...], active: str) -> Path:
    """The office copies last year's sheet for this year: same headers; 2023年 holds last year's brands."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in order:
        ws = wb.create_sheet(name)
        ws.append(["序号", "党总支", "党支部名称", "品牌名称", "联系人", "联系电话"])
        if name == "2023年":
            ws.append([1, "内科党总支", BRANDS[0][0], "旧品牌", "张", "13800000001"])
        else:
            for n, (branch, _, _) in enumerate(BRANDS[:3], start=1):
                ws.append([n, "内科党总支", branch, None, None, None])
    wb.active = order.index(active)
    wb.save(path)
    return path


@pytest.mark.parametrize("order", [("2023年", "2024年"), ("2024年", "2023年")], ids=["this-year-last", "this-year-first"])
def test_init_adopts_the_sheet_in_front_names_it_and_merge_leaves_last_years_sheet(
        order: tuple[str, ...], tmp_path: Path, cli: Cli, make_form: Callable[..., Path]) -> None:
    master = year_sheets(tmp_path / "台账.xlsx", order, active="2024年")
    init = cli("init", master, "--profile", "hospital-brand")
    assert init.returncode == 0, said(init)
    assert "工作表“2024年”" in said(init) and "“2023年”的表头也像台账，未接管" in said(init)
    last_year = values(master, "2023年")

    merged = cli("merge", master, make_form(0, folder=tmp_path / "收件箱"))
    assert merged.returncode == 0, said(merged)
    assert values(master, "2023年") == last_year  # 旧品牌 stays last year's
    rows = values(master, "2024年")
    assert rows[1][2:4] == [BRANDS[0][0], BRANDS[0][1]]

    # once adopted, the ledger's status columns keep it the ledger, whichever sheet the office looks at
    wb = openpyxl.load_workbook(master)
    wb.active = wb.sheetnames.index("2023年")
    wb.save(master)
    again = cli("merge", master, make_form(1, folder=tmp_path / "收件箱2"))
    assert again.returncode == 0, said(again)
    assert values(master, "2023年") == last_year
    assert values(master, "2024年")[2][2:4] == [BRANDS[1][0], BRANDS[1][1]]


def test_init_json_names_the_adopted_sheet_and_its_header_row(tmp_path: Path, cli: Cli) -> None:
    master = year_sheets(tmp_path / "台账.xlsx", ("2023年", "2024年"), active="2024年")
    result = cli("--json", "init", master, "--profile", "hospital-brand")
    doc = json.loads(result.stdout)
    assert (doc["ledger_sheet"], doc["header_row"]) == ("2024年", 1)


# -- the office's columns under the form's own labels ---------------------------------------------------

def labelled_ledger(path: Path, head: list[str], rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(head)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_columns_headed_with_the_forms_labels_are_the_fields_columns(tmp_path: Path, cli: Cli,
                                                                     make_form: Callable[..., Path]) -> None:
    head = ["序号", "所属党总支", "支部名称", "品牌名称", "品牌简介", "党员人数", "联系人", "联系电话"]
    master = labelled_ledger(tmp_path / "台账.xlsx", head, [[1, "内科党总支", BRANDS[0][0], None, None, 18, None, None]])
    init = cli("init", master, "--profile", "hospital-brand")
    assert init.returncode == 0, said(init)
    assert "“党员人数”→“党员总数”" in said(init) and "“品牌简介”→“品牌内涵”" in said(init)

    form = make_form(0, folder=tmp_path / "收件箱")
    merged = cli("merge", master, form)
    assert merged.returncode == 0, said(merged)
    rows = values(master, SHEET)
    assert "党员总数" not in rows[0] and "品牌内涵" not in rows[0]  # no parallel columns
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["党员人数"] == 20 and line["品牌简介"].startswith("内科支部立足岗位职责")
    assert line["品牌名称"] == BRANDS[0][1]


def test_a_column_with_the_fields_own_name_wins_over_a_label(tmp_path: Path, cli: Cli,
                                                             make_form: Callable[..., Path]) -> None:
    head = ["党总支", "党支部名称", "品牌名称", "党员人数", "党员总数"]
    master = labelled_ledger(tmp_path / "台账.xlsx", head, [["内科党总支", BRANDS[0][0], None, 99, None]])
    init = cli("init", master, "--profile", "hospital-brand")
    assert init.returncode == 0 and "党员人数" not in said(init)
    assert cli("merge", master, make_form(0, folder=tmp_path / "收件箱")).returncode == 0
    line = dict(zip(*values(master, SHEET)[:2], strict=False))
    assert (line["党员总数"], line["党员人数"]) == (20, 99)


def test_a_label_two_fields_share_or_another_fields_name_is_no_column(tmp_path: Path) -> None:
    from toolkit.core.master import find_ledger, label_columns

    base = load_profile("hospital-brand")
    fields = [dataclasses.replace(f, labels=(*f.labels, "简介", "党支部意见")) if f.name == "品牌内涵"
              else dataclasses.replace(f, labels=(*f.labels, "简介")) if f.name.startswith("党建品牌的创建计划")
              else f for f in base.fields]
    profile = dataclasses.replace(base, fields=tuple(fields))
    labels = label_columns(profile)
    assert labels["品牌简介"] == "品牌内涵" and "简介" not in labels and "党支部意见" not in labels
    grid = Grid(SHEET, [["党总支", "党支部名称", "品牌名称", "简介", "党支部意见"], ["内科党总支", BRANDS[0][0], "x", "y", "z"]])
    ledger = find_ledger({SHEET: grid}, profile)
    assert ledger is not None and "品牌内涵" not in ledger.columns and not ledger.labelled


# -- total and note rows under the data ------------------------------------------------------------------

def office_total(path: Path, listed: int = 3, *, foot: bool = True, extra: str | None = None) -> Path:
    """The office's ledger as it really looks: a title, the header in row 3, 序号 as =ROW()-3, BRANDS[:listed]
    as branches, a filter and a dropdown over the data, then (`foot`) a 合计 row (merged A:B, a COUNTA in
    the branch column and a SUM of 党员人数), a blank row and a 注 line. `extra`: a branch on a 名单 sheet
    with no ledger row yet (its form needs a new row)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "XX医院“一支部一品牌”创建工作台账"
    ws.merge_cells("A1:H1")
    ws["A2"] = "填报单位：党委办公室"
    head = ["序号", "所属党总支", "支部名称", "品牌名称", "党员人数", "联系人", "联系电话", "是否推荐"]
    for c, h in enumerate(head, 1):
        cell = ws.cell(3, c, h)
        cell.border, cell.font, cell.fill = BOX, Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for r, (branch, _, _) in enumerate(BRANDS[:listed], start=4):
        for c, v in enumerate(["=ROW()-3", "内科党总支", branch, None, 10 + r, None, None, "否"], start=1):
            ws.cell(r, c, v).border = BOX
    last = 3 + listed
    if foot:
        ws.cell(last + 1, 1, "合计")
        ws.merge_cells(start_row=last + 1, start_column=1, end_row=last + 1, end_column=2)
        ws.cell(last + 1, 3, f'=COUNTA(C4:C{last})&"个支部"')
        ws.cell(last + 1, 5, f"=SUM(E4:E{last})")
        ws.cell(last + 3, 1, "注：本台账由党委办公室维护，请勿删除公式。")
    ws.auto_filter.ref = f"A3:H{last}"
    dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    ws.add_data_validation(dv)
    dv.add(f"H4:H{last}")
    if extra:
        roster = wb.create_sheet("名单")
        roster.append(["党总支", "党支部名称"])
        roster.append(["外科党总支", extra])
    wb.save(path)
    return path


def resaved(path: Path, tmp_path: Path) -> Path:
    """The workbook as LibreOffice saves it: formulas with their cached values (3个支部, the sum)."""
    (tmp_path / "lo").mkdir(exist_ok=True)
    return convert(path, "xlsx", tmp_path / "lo")


def test_total_and_note_rows_are_no_branches(tmp_path: Path, cli: Cli) -> None:
    master = resaved(office_total(tmp_path / "台账.xlsx"), tmp_path)
    assert values(master, SHEET, cached=True)[6][2] == "3个支部"  # LibreOffice cached the 合计 row's COUNTA
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    assert sorted(missing(cli, master)) == sorted(b for b, _, _ in BRANDS[:3])


def test_a_ledger_led_by_the_branch_column_keeps_its_total_and_note_out_of_the_branches(tmp_path: Path,
                                                                                         cli: Cli) -> None:
    master = labelled_ledger(tmp_path / "台账.xlsx", ["党支部名称", "党总支", "品牌名称", "党员总数"],
                             [[BRANDS[0][0], "内科党总支", None, 20], [BRANDS[1][0], "内科党总支", None, 12],
                              ["合计", None, None, "=SUM(D2:D3)"], ["注：数据截至7月底", None, None, None]])
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    assert sorted(missing(cli, master)) == sorted([BRANDS[0][0], BRANDS[1][0]])


def test_a_new_branch_row_under_a_total_row_is_refused_and_the_master_left_untouched(
        tmp_path: Path, cli: Cli, make_form: Callable[..., Path]) -> None:
    master = resaved(office_total(tmp_path / "台账.xlsx", listed=3, extra=BRANDS[3][0]), tmp_path)
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    before = master.read_bytes()
    result = cli("merge", master, make_form(3, folder=tmp_path / "收件箱"))
    assert result.returncode == 2
    assert "合计/汇总行（第 7 行）" in said(result) and "移走" in said(result) and "台账未改动" in said(result)
    assert master.read_bytes() == before

    # a branch already listed is still merged: only a new row is refused
    assert cli("merge", master, make_form(0, folder=tmp_path / "收件箱2")).returncode == 0
    assert values(master, SHEET)[3][3] == BRANDS[0][1]


def test_init_with_a_roster_is_refused_before_writing_branches_below_the_total(
        tmp_path: Path, cli: Cli) -> None:
    master = office_total(tmp_path / "台账.xlsx", listed=3)
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["党总支", "党支部名称"])
    for branch, _, _ in BRANDS:
        wb.active.append(["内科党总支", branch])
    wb.save(roster)
    before = master.read_bytes()
    result = cli("init", master, "--profile", "hospital-brand", "--roster", roster)
    assert result.returncode == 2 and "合计/汇总行（第 7 行）" in said(result)
    assert master.read_bytes() == before


@pytest.mark.parametrize("cached", [False, True], ids=["as-openpyxl-wrote-it", "resaved-by-libreoffice"])
def test_a_row_of_sums_without_a_label_is_a_total_row(cached: bool, tmp_path: Path, cli: Cli,
                                                      make_form: Callable[..., Path]) -> None:
    master = labelled_ledger(tmp_path / "台账.xlsx", ["序号", "党总支", "党支部名称", "品牌名称", "党员总数"],
                             [[1, "内科党总支", BRANDS[0][0], None, 20], [2, "内科党总支", BRANDS[1][0], None, 12],
                              [None, None, None, None, "=SUM(E2:E3)"]])
    wb = openpyxl.load_workbook(master)
    wb.create_sheet("名单").append(["党总支", "党支部名称"])
    wb["名单"].append(["外科党总支", BRANDS[3][0]])
    wb.save(master)
    if cached:
        master = resaved(master, tmp_path)
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    before = master.read_bytes()
    result = cli("merge", master, make_form(3, folder=tmp_path / "收件箱"))
    assert result.returncode == 2 and "合计" in said(result) and "台账未改动" in said(result)
    assert master.read_bytes() == before


def test_once_the_office_moved_its_total_a_new_branch_row_lands_inside_the_filter(
        tmp_path: Path, cli: Cli, make_form: Callable[..., Path]) -> None:
    master = resaved(office_total(tmp_path / "台账.xlsx", listed=3, foot=False, extra=BRANDS[3][0]), tmp_path)
    assert cli("init", master, "--profile", "hospital-brand").returncode == 0
    result = cli("merge", master, make_form(3, folder=tmp_path / "收件箱"))
    assert result.returncode == 0, said(result)
    ws = openpyxl.load_workbook(master)[SHEET]
    assert ws.cell(7, 3).value == BRANDS[3][0] and ws.cell(7, 1).value == "=ROW()-3"
    assert ws.auto_filter.ref.endswith("7")
    assert any(str(r).endswith("7") for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges)
    seen = roundtrip_values(master)[SHEET]
    assert seen[6][0] == 4 and seen[6][2] == BRANDS[3][0] and seen[6][3] == BRANDS[3][1]


# -- a header under a long block of instructions ---------------------------------------------------------

def instructions_then_header(path: Path, lines: int) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["XX医院品牌创建台账"])
    for i in range(1, lines + 1):
        ws.append([f"说明{i}：……"])
    ws.append(["序号", "党总支", "党支部名称", "品牌名称", "联系人", "联系电话"])
    ws.append([1, "内科党总支", BRANDS[0][0], None, None, None])
    wb.save(path)
    return path


def test_a_header_under_ten_lines_of_instructions_is_adopted(tmp_path: Path, cli: Cli,
                                                             make_form: Callable[..., Path]) -> None:
    master = instructions_then_header(tmp_path / "台账.xlsx", 10)
    init = cli("init", master, "--profile", "hospital-brand")
    assert init.returncode == 0 and "已接管台账" in said(init) and "工作表“台账”，表头在第 12 行" in said(init)
    assert "品牌台账" not in openpyxl.load_workbook(master).sheetnames
    assert cli("merge", master, make_form(0, folder=tmp_path / "收件箱")).returncode == 0
    assert values(master, "台账")[12][2:4] == [BRANDS[0][0], BRANDS[0][1]]


def test_a_header_too_deep_to_find_is_said_not_adopted(tmp_path: Path, cli: Cli) -> None:
    master = instructions_then_header(tmp_path / "台账.xlsx", 40)
    init = cli("init", master, "--profile", "hospital-brand")
    assert init.returncode == 0 and "已接管" not in said(init)
    assert "没有认出台账" in said(init) and "工作表“台账”有“党支部名称”列的表头在第 42 行" in said(init)
    assert "未作为台账接管" in said(init)
