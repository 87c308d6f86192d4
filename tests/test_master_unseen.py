"""Masters the office kept before brandkit, as a probe with workbooks nobody had shown brandkit found
them: rows added for a roster formatted like the office's own, the 序号 formula kept, new columns
without a neighbour's date format or link look, a branch listed twice said, a table's totals row
refused with what to do, and a header under group headings read across both rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Border, Font, Side
from openpyxl.workbook.defined_name import DefinedName

from tests.forms import BRANDS, write_roster
from tests.libreoffice import roundtrip_values
from toolkit.commands.init import init_master
from toolkit.commands.merge import merge
from toolkit.commands.stamp import stamp
from toolkit.commands.status import status
from toolkit.core.errors import UsageProblem

SHEET = "支部台账"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
KNOWN = [("第一党总支", "心内科党支部", "仁心", 20), ("第二党总支", "眼科党支部", "光明", 12)]


def office_ledger(path: Path, rows: list[tuple[str, str, str, int]] = KNOWN,
                  tail: tuple[str, str] = ("网址", "上报日期")) -> Path:
    """The office's own ledger: 序号 as =ROW()-1, borders, a dated column and a link column (`tail`:
    their order, the last one is what new columns are added beside), an auto-filter and a defined
    name over the branch column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(["序号", "党总支", "党支部名称", "品牌名称", "党员总数", *tail])
    for r, (group, branch, brand, count) in enumerate(rows, start=2):
        for c, value in enumerate(["=ROW()-1", group, branch, brand, count], start=1):
            ws.cell(r, c, value).border = BOX
        date, link = ws.cell(r, 6 + tail.index("上报日期")), ws.cell(r, 6 + tail.index("网址"))
        date.value, date.number_format, date.border = dt.date(2024, 7, 1), "yyyy/m/d", BOX
        link.value, link.hyperlink, link.style = "网页", "https://example.org/", "Hyperlink"
    ws.auto_filter.ref = f"A1:G{len(rows) + 1}"
    wb.defined_names["支部列表"] = DefinedName("支部列表", attr_text=f"{SHEET}!$C$2:$C${len(rows) + 1}")
    wb.save(path)
    return path


def test_roster_rows_take_the_office_rows_format_formula_filter_and_names(tmp_path: Path) -> None:
    master = office_ledger(tmp_path / "台账.xlsx")
    names = write_roster(tmp_path / "名单.xlsx", [(g, b) for g, b, _, _ in KNOWN] + [("第三党总支", "儿科党支部"),
                                                                           ("第三党总支", "骨科党支部")])
    init_master(master, "hospital-brand", names, operator="党办")
    wb = openpyxl.load_workbook(master)
    ws = wb[SHEET]
    assert [ws.cell(r, 3).value for r in (4, 5)] == ["儿科党支部", "骨科党支部"]
    assert [ws.cell(r, 1).value for r in (4, 5)] == ["=ROW()-1", "=ROW()-1"]  # filled down, not numbered over
    assert ws.cell(5, 3).border.left.style == "thin" and ws.cell(5, 4).border.bottom.style == "thin"
    assert ws.auto_filter.ref.endswith("5")
    assert wb.defined_names["支部列表"].attr_text == f"{SHEET}!$C$2:$C$5"
    values = roundtrip_values(master)[SHEET]
    assert [row[0] for row in values[1:5]] == [1, 2, 3, 4]


@pytest.mark.parametrize("tail", [("网址", "上报日期"), ("上报日期", "网址")], ids=["beside-a-date", "beside-a-link"])
def test_new_columns_take_borders_not_a_date_format_or_a_link_look(tmp_path: Path, tail: tuple[str, str]) -> None:
    master = office_ledger(tmp_path / "台账.xlsx", tail=tail)
    init_master(master, "hospital-brand", None, operator="党办")
    ws = openpyxl.load_workbook(master)[SHEET]
    header = [c.value for c in ws[1]]
    added = header.index("申报状态") + 1
    assert added == 8
    for col in (added, header.index("纸质版份数") + 1):
        cell = ws.cell(2, col)
        assert (cell.number_format, cell.style) == ("General", "Normal")
    assert ws.cell(2, added).border.left.style == ("thin" if tail[-1] == "上报日期" else None)
    stamp(master, "申报", "已提交", [KNOWN[0][1]], by="党办", date=dt.date(2024, 8, 1))
    assert roundtrip_values(master)[SHEET][1][added - 1] == "已提交 2024-08-01 党办"


def test_a_merged_branch_gets_the_office_serial_formula(tmp_path: Path, make_form: Callable[..., Path]) -> None:
    master = tmp_path / "台账.xlsx"  # numbered ahead, no branch yet (so any branch is taken)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(["序号", "党总支", "党支部名称", "品牌名称", "党员总数"])
    for r in (2, 3):
        ws.cell(r, 1, "=ROW()-1").border = BOX
    wb.save(master)
    init_master(master, "hospital-brand", None, operator="党办")
    merge(master, [make_form(0, folder=tmp_path / "收件箱")], operator="党办", accept_warnings=True)
    ws = openpyxl.load_workbook(master)[SHEET]
    assert ws.cell(2, 3).value == BRANDS[0][0]  # in the first numbered row, its formula kept
    assert ws.cell(2, 1).value == "=ROW()-1" and ws.cell(2, 1).border.left.style == "thin"
    assert roundtrip_values(master)[SHEET][1][0] == 1


def test_a_branch_in_two_rows_is_said_by_merge_stamp_status_and_init(tmp_path: Path,
                                                                        make_form: Callable[..., Path]) -> None:
    master = office_ledger(tmp_path / "台账.xlsx", [*KNOWN, ("第一党总支", "心内科党支部", "", 0)])
    result = init_master(master, "hospital-brand", None, operator="党办")
    said = "“心内科党支部”有 2 行（第 2、4 行）"
    assert any(said in w for w in result.warnings)
    merged = merge(master, [make_form(0, folder=tmp_path / "收件箱")], dry_run=True, operator="党办")
    assert any(said in w for w in merged.warnings) and merged.to_json()["warnings"] == merged.warnings
    stamped = stamp(master, "申报", "已提交", [KNOWN[1][1]], by="党办")
    assert any(said in n for n in stamped.plan.notes)
    assert any(said in w for w in status(master).warnings)


def test_a_table_with_a_totals_row_is_refused_untouched(tmp_path: Path, make_form: Callable[..., Path]) -> None:
    import xlsxwriter

    master = tmp_path / "台账.xlsx"
    wb = xlsxwriter.Workbook(master)
    ws = wb.add_worksheet(SHEET)
    columns = ["序号", "党总支", "党支部名称", "品牌名称", "党员总数"]
    ws.add_table(0, 0, 2, len(columns) - 1, {
        "name": "台账", "total_row": True,  # an empty data row, then 合计: any branch is taken
        "columns": [{"header": "序号", "total_string": "合计"}, *({"header": c} for c in columns[1:4]),
                    {"header": "党员总数", "total_function": "sum"}]})
    wb.close()
    init_master(master, "hospital-brand", None, operator="党办")
    before = master.read_bytes()
    with pytest.raises(UsageProblem, match="汇总行（第 3 行）.*取消勾选“汇总行”"):
        merge(master, [make_form(0, folder=tmp_path / "收件箱")], operator="党办", accept_warnings=True)
    assert master.read_bytes() == before


def test_a_header_under_group_headings_is_read_across_both_rows(tmp_path: Path,
                                                               make_form: Callable[..., Path]) -> None:
    master = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "品牌创建台账"
    for col, name in (("A", "序号"), ("B", "党支部名称"), ("C", "党总支"), ("F", "填表人")):
        ws[f"{col}2"] = name
        ws.merge_cells(f"{col}2:{col}3")
    ws["D2"], ws["D3"], ws["E3"] = "品牌情况", "品牌名称", "党员总数"
    ws.merge_cells("D2:E2")
    for cell in ws[2] + ws[3]:
        cell.font = Font(bold=True)
    ws.append([1, BRANDS[0][0], "第一党总支"])
    wb.save(master)
    init_master(master, "hospital-brand", None, operator="党办")
    merge(master, [make_form(0, folder=tmp_path / "收件箱")], operator="党办", accept_warnings=True)
    rows = roundtrip_values(master)[SHEET]
    header = rows[2]
    assert header.count("品牌名称") == 1 and header.count("党员总数") == 1
    assert rows[3][3] == BRANDS[0][1] and rows[3][4] not in (None, "")


def test_a_branch_listed_twice_in_the_roster_gets_one_row_and_a_warning(tmp_path: Path) -> None:
    master = tmp_path / "台账.xlsx"
    names = write_roster(tmp_path / "名单.xlsx", [("第一党总支", "双总支党支部"), ("第二党总支", "双总支党支部"),
                                          ("第二党总支", "眼科党支部")])
    result = init_master(master, "hospital-brand", names, operator="党办")
    assert any("“双总支党支部”出现了 2 次（第一党总支、第二党总支）" in w for w in result.warnings)
    rows = roundtrip_values(master)
    ledger = [r for r in rows["品牌台账"] if "双总支党支部" in r]
    assert len(ledger) == 1 and "第一党总支" in ledger[0]
    assert sum("双总支党支部" in r for r in rows["支部名单"]) == 2  # the office's roster kept as given


@pytest.mark.parametrize("pick", ["form", "encrypted"])
def test_a_roster_that_is_no_roster_is_refused_with_what_to_pick(tmp_path: Path, make_form: Callable[..., Path],
                                                                 pick: str) -> None:
    """The officer picks a 申报表 (its 党支部名称 label is no roster heading: the labels under it would
    become branches) or an encrypted file: refused in Chinese, no master made."""
    from tests.paths import CORPUS

    chosen = make_form(0) if pick == "form" else tmp_path / "名单.xlsx"
    if pick == "encrypted":
        chosen.write_bytes((CORPUS / "calamine" / "pass_protected.xlsx").read_bytes())
    master = tmp_path / "台账.xlsx"
    with pytest.raises(UsageProblem) as refused:
        init_master(master, "hospital-brand", chosen, operator="党办")
    said = str(refused.value)
    assert said.startswith(f"名单文件 {chosen.name}")
    assert ("不像支部名单" in said) if pick == "form" else ("加密" in said and "encrypted" not in said)
    assert not master.exists()


def test_a_campaign_without_a_list_takes_new_branches_on_every_merge_and_keeps_a_first_return(
        tmp_path: Path, make_form: Callable[..., Path]) -> None:
    """No roster: the first merge takes any branch. So must the second (a branch sending late, or
    again after its first form was returned); and a branch returned on its first form gets its row,
    with the 退回 and the reason, so notify can tell it."""
    master = tmp_path / "台账.xlsx"
    init_master(master, "hospital-brand", None, operator="党办")
    first = merge(master, [make_form(0, folder=tmp_path / "一"), make_form(1, folder=tmp_path / "一", 联系方式="139471234")],
                  operator="党办")
    assert [(o.branch, o.action) for o in sorted(first.outcomes, key=lambda o: o.branch)] == [
        (BRANDS[0][0], "added"), (BRANDS[1][0], "rejected")]
    returned = next(r for r in roundtrip_values(master)["品牌台账"] if BRANDS[1][0] in r)
    assert any(str(v).startswith("退回") for v in returned) and any("139471234" in str(v) for v in returned)
    again = merge(master, [make_form(1, folder=tmp_path / "二"), make_form(2, folder=tmp_path / "二")], operator="党办")
    assert sorted((o.branch, o.action) for o in again.outcomes) == sorted(
        [(BRANDS[1][0], "added"), (BRANDS[2][0], "added")])
    rows = [r for r in roundtrip_values(master)["品牌台账"] if BRANDS[1][0] in r]
    assert len(rows) == 1 and not any(str(v).startswith("退回") for v in rows[0])
