"""The master as the clerk sees it, on screen and on paper (issue 17): widths by field type, even rows,
frozen header, filter, A4 landscape one page wide with the header on every page, 提交时间 a real date,
退回原因 beside the status, one colour per status kind, logo alt text."""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.forms import BRANDS
from tests.printed import print_area
from toolkit.commands.merge import merge
from toolkit.commands.stamp import stamp
from toolkit.core.adoption import DESK_COLUMNS, ledger_header
from toolkit.core.display import wrapped_height
from toolkit.core.master import RETURN_REASON, SUBMITTED_AT, SUBMITTED_FORMAT
from toolkit.core.model import ROW_HEIGHT_PT, col_letter
from toolkit.core.plan import REASON_COLUMN_WIDTH
from toolkit.core.profile import load_profile
from toolkit.ooxml.drawing import col_px
from toolkit.readers.logos import LOGO_BOX

PROFILE = load_profile("hospital-brand")
pytestmark = pytest.mark.filterwarnings("ignore:Print area cannot be set:UserWarning")  # whole columns ($A:$Q)
LEDGER = PROFILE.ledger.sheet
HEADER = ledger_header(PROFILE)
LATE, RETURNED, WAITING, DONE = BRANDS[0][0], BRANDS[1][0], BRANDS[0][0], BRANDS[2][0]


def write_roster(path: Path, branches: list[str]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["党总支", "党支部名称"])
    for n, branch in enumerate(branches):
        wb.active.append([f"第{n % 3 + 1}党总支", branch])
    wb.save(path)
    return path


@pytest.fixture
def merged(tmp_path: Path, new_master: Callable[..., Path], make_form: Callable[..., Path],
           request: pytest.FixtureRequest) -> Path:
    """A new master (.xlsx or .xlsm) with a late form (the form files are newer than the due date), a
    returned one, and stamps of the other kinds: one status of each kind."""
    roster = write_roster(tmp_path / "名单.xlsx", [b for b, _, _ in BRANDS])
    master = new_master(roster, name=getattr(request, "param", "台账.xlsx"))
    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox)
    make_form(1, folder=inbox, 联系方式="139471234")
    make_form(2, folder=inbox)
    merge(master, [inbox], operator="党办")
    stamp(master, "党总支审批", "待审", [WAITING], by="党总支")
    stamp(master, "党总支审批", "已通过", [DONE], by="党总支")
    return master


def widths(xml: str) -> dict[int, float]:
    """0-based column -> width, from <cols>."""
    out = {}
    for m in re.finditer(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', xml):
        for c in range(int(m.group(1)), int(m.group(2)) + 1):
            out[c - 1] = float(m.group(3))
    return out


def sheet_xml(master: Path, index: int = 1) -> str:
    with zipfile.ZipFile(master) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def rows_by_branch(ws: Any) -> dict[str, int]:
    key = HEADER.index(PROFILE.key) + 1
    return {ws.cell(r, key).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, key).value}


@pytest.mark.parametrize("merged", ["台账.xlsx", "台账.xlsm"], indirect=True)
def test_the_new_ledger_is_laid_out_to_read_filter_and_print(merged: Path) -> None:
    wb = openpyxl.load_workbook(merged)
    ws = wb[LEDGER]
    assert [c.value for c in ws[1]] == HEADER
    index = sheet_xml_index(merged)
    xml = sheet_xml(merged, index)
    w = {name: widths(xml)[n] for n, name in enumerate(HEADER)}
    # numbers narrow, names medium, long texts wide; the logo's column holds its picture
    assert w["序号"] < w["党员总数"] < w["党支部名称"] < w["品牌内涵"]
    assert w["品牌内涵"] == w["党建品牌的创建计划、创建举措、预期成效"] > 1.3 * w["党支部名称"]
    assert col_px(w["品牌标识"]) >= LOGO_BOX[0]
    # even rows: the sheet's default height is the logo row's, and no data row differs from it
    assert re.search(rf'<sheetFormatPr[^>]*defaultRowHeight="{ROW_HEIGHT_PT:g}"[^>]*customHeight="1"', xml) or \
        re.search(rf'<sheetFormatPr[^>]*customHeight="1"[^>]*defaultRowHeight="{ROW_HEIGHT_PT:g}"', xml)
    # but for a 退回原因 longer than an even row shows: that row is as tall as the reason
    rows = rows_by_branch(ws)
    assert {ws.row_dimensions[r].height or ROW_HEIGHT_PT for r in range(2, ws.max_row + 1)
            if r != rows[RETURNED]} == {ROW_HEIGHT_PT}
    reason = ws.cell(rows[RETURNED], HEADER.index(RETURN_REASON) + 1).value
    assert ws.row_dimensions[rows[RETURNED]].height == wrapped_height([(reason, REASON_COLUMN_WIDTH)]) > ROW_HEIGHT_PT
    assert ws.cell(2, HEADER.index("品牌内涵") + 1).alignment.wrap_text
    # frozen header, filter over every column, A4 landscape one page wide, header repeated, page numbers
    assert ws.freeze_panes == "A2"
    assert re.fullmatch(rf"A1:{col_letter(len(HEADER) - 1)}\d+", ws.auto_filter.ref)
    setup = ws.page_setup
    assert (setup.orientation, str(setup.paperSize), setup.fitToHeight) == ("landscape", "9", 0)
    assert setup.fitToWidth in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == "1:1" and "&P" in ws.oddFooter.center.text
    # the page shows the columns up to 退回原因; the desk's (提交时间, 来源文件, paper copies) after it
    assert print_area(merged, LEDGER) == (1, 1, HEADER.index(RETURN_REASON) + 1, 1048576)
    assert set(HEADER[HEADER.index(RETURN_REASON) + 1:]) == set(DESK_COLUMNS)
    # 提交时间: a date cell with its format, read back as a time
    cell = ws.cell(rows[LATE], HEADER.index(SUBMITTED_AT) + 1)
    assert isinstance(cell.value, dt.datetime) and cell.is_date and cell.number_format == SUBMITTED_FORMAT
    # 退回原因 beside the statuses, holding why
    assert HEADER.index(RETURN_REASON) == HEADER.index(PROFILE.stages[-1].column) + 1
    assert "联系方式" in ws.cell(rows[RETURNED], HEADER.index(RETURN_REASON) + 1).value
    # one colour per status kind
    def fill(branch: str, stage: str) -> str:
        return ws.cell(rows[branch], HEADER.index(f"{stage}状态") + 1).fill.fgColor.rgb[-6:]

    assert (fill(LATE, "申报"), fill(RETURNED, "申报")) == ("FFD8B1", "FFC7CE")
    assert (fill(WAITING, "党总支审批"), fill(DONE, "党总支审批")) == ("FFEB9C", "C6EFCE")
    # the logo's alt text names the branch
    with zipfile.ZipFile(merged) as z:
        drawing = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing"))
    assert f'descr="{LATE}的品牌标识"' in drawing


def sheet_xml_index(master: Path) -> int:
    """The ledger's worksheet part number (the .xlsm has 控制台 first)."""
    with zipfile.ZipFile(master) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{LEDGER}" sheetId="\d+" r:id="(rId\d+)"', book).group(1)
    return int(re.search(rf'Id="{rid}"[^>]*Target="worksheets/sheet(\d+)\.xml"|Target="worksheets/sheet(\d+)\.xml"[^>]*Id="{rid}"',
                         rels).group(1))


def test_merging_again_reads_the_date_back_and_changes_nothing(merged: Path, tmp_path: Path) -> None:
    again = merge(merged, [tmp_path / "收件箱"], operator="党办")
    assert not again.changes


def test_a_resubmission_clears_the_reason(merged: Path, tmp_path: Path, make_form: Callable[..., Path]) -> None:
    make_form(1, folder=tmp_path / "重交")
    merge(merged, [tmp_path / "重交"], operator="党办")
    ws = openpyxl.load_workbook(merged)[LEDGER]
    assert ws.cell(rows_by_branch(ws)[RETURNED], HEADER.index(RETURN_REASON) + 1).value is None


def test_a_returned_stamp_with_a_note_writes_the_reason(merged: Path) -> None:
    stamp(merged, "党总支审批", "退回", [LATE], by="党总支", note="品牌内涵与业务结合不够", force=True)
    ws = openpyxl.load_workbook(merged)[LEDGER]
    assert ws.cell(rows_by_branch(ws)[LATE], HEADER.index(RETURN_REASON) + 1).value == "品牌内涵与业务结合不够"


# -- on paper (LibreOffice) -------------------------------------------------------------------------------

def shown(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


@pytest.mark.libreoffice
def test_the_demo_master_prints_every_column_in_the_page_width_and_every_short_cell_whole(tmp_path: Path) -> None:
    from tests.printed import print_sheet, squeeze
    from toolkit.commands.demo import run_demo

    run_demo(tmp_path / "demo", lambda _line: None, lambda _merged: None)
    master = tmp_path / "demo" / f"{LEDGER}.xlsx"
    printed = print_sheet(master, LEDGER, "demo-master")
    ws = openpyxl.load_workbook(master)[LEDGER]
    for n in range(len(printed.pages)):  # every column on the page: the first and last titles on each
        assert squeeze(HEADER[0]) in printed.squeezed(n) and squeeze(RETURN_REASON) in printed.squeezed(n)
    longs = {f.name for f in PROFILE.fields if f.long}
    on_page = HEADER[:HEADER.index(RETURN_REASON) + 1]  # the desk's columns are off the page
    text = printed.squeezed()
    missing = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        for name, value in zip(on_page, row, strict=False):
            if value in (None, ""):
                continue
            want = squeeze(shown(value))[:12] if name in longs else squeeze(shown(value))  # long texts: even rows
            if want not in text:
                missing.append((name, shown(value)))
    assert missing == [], printed.pngs
    assert printed.pngs


@pytest.mark.libreoffice
def test_a_long_ledger_repeats_its_header_on_every_page_and_splits_no_row(
        tmp_path: Path, new_master: Callable[..., Path], make_form: Callable[..., Path]) -> None:
    from tests.printed import print_sheet

    branches = [b for b, _, _ in BRANDS] + [f"第{n:02d}测试党支部" for n in range(1, 57)]
    master = new_master(write_roster(tmp_path / "名单.xlsx", branches))
    for n in range(len(BRANDS)):
        make_form(n, folder=tmp_path / "收件箱")
    merge(master, [tmp_path / "收件箱"], operator="党办")
    printed = print_sheet(master, LEDGER, "long-master")
    assert len(printed.pages) >= 2
    per_page = []
    for n, _page in enumerate(printed.pages):
        text = printed.squeezed(n)
        assert "党支部名称" in text and RETURN_REASON in text and f"第{n + 1}页" in text
        per_page.append([b for b in branches if b in text])
    assert sorted(b for page in per_page for b in page) == sorted(branches)  # each row once: none split
    full = len(per_page[0])
    assert all(len(p) == full for p in per_page[:-1]) and len(printed.pages) == math.ceil(len(branches) / full)
