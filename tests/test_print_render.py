"""What brandkit's workbooks look like on paper, printed by LibreOffice and read back from the PDF.

One LibreOffice start prints the whole batch (the five campaigns' forms, the macro-enabled master's
控制台, and each sheet alone of the demo's master, a returned report, 校验汇总 and the leaders' summary, as a
clerk prints the sheet in front of them); the PNG pages are kept in test-artifacts/print/ for a person to
look at.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from tests.printed import Printed, cut_cells, find, only_sheet, render, scale_of, text_cells
from toolkit.core.adoption import DESK_COLUMNS
from toolkit.core.master import RETURN_REASON
from toolkit.core.profile import builtin_profiles, load_profile
from toolkit.excel.master_template import (
    BUTTONS,
    CONSOLE_SHEET,
    SETTINGS,
    SETTINGS_ROW,
    STAGE,
    STATUS,
    WPS_NOTE,
    write_master_template,
)
from toolkit.files.templates import FORM_SHEET, form_layout, write_form

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "print"
PROFILES = builtin_profiles()
CHECKS = "状态检查"
pytestmark = pytest.mark.filterwarnings("ignore:Print area cannot be set:UserWarning")  # whole columns: printed.print_area


def _short_row(path: Path) -> Path:
    """A control: wrapped text in a row far too short for it, which the check must catch."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "短行"
    ws.column_dimensions["A"].width = 12
    ws["A1"] = "这一格的文字很长，要折成好几行才放得下，可这一行只有一行字那么高"
    ws["A1"].alignment = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 15
    ws["A3"] = "下一格"
    wb.save(path)
    return path


def _status_checks(console: Path, path: Path) -> Path:
    """The console with a sheet that evaluates the status drop-down's own formula for every stage."""
    wb = openpyxl.load_workbook(console)
    ws = wb[CONSOLE_SHEET]
    formula = next(dv.formula1 for dv in ws.data_validations.dataValidation
                   if f"B{SETTINGS_ROW + 1 + [n for n, _ in SETTINGS].index(STATUS)}" in str(dv.sqref))
    checks = wb.create_sheet(CHECKS, 0)
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_state = "hidden"
    for r, stage in enumerate(load_profile("hospital-brand").stages, start=1):
        checks.cell(r, 1, stage.name)
        literal = re.sub(r"\$B\$\d+", f'"{stage.name}"', formula)
        checks.cell(r, 2, f'=_xlfn.TEXTJOIN("/",1,{literal})')
    wb.save(path)
    return path


DEMO = {"master": "品牌台账.xlsx", "checked": "校验结果/校验汇总.xlsx",
        "returned": "校验结果/03_机关第二党支部_校验结果.xlsx", "summary": "汇总.xlsx"}


def visible_sheets(path: Path) -> list[str]:
    return [ws.title for ws in openpyxl.load_workbook(path).worksheets if ws.sheet_state == "visible"]


@pytest.fixture(scope="session")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str | tuple[str, str], Printed]:
    """Each workbook printed; the demo's by sheet: printed[("summary", "品牌一览")]."""
    from toolkit.commands.demo import run_demo

    folder = tmp_path_factory.mktemp("print")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # no pages of an earlier run's books
    books: dict[str | tuple[str, str], Path] = {p: write_form(load_profile(p), folder / f"申报表_{p}.xlsx")
                                                for p in PROFILES}
    books["console"] = write_master_template(load_profile("hospital-brand"), folder / "台账_hospital-brand.xlsm")
    books["status"] = _status_checks(books["console"], folder / "盖章状态检查.xlsx")
    books["short"] = _short_row(folder / "短行.xlsx")
    demo = folder / "demo"
    run_demo(demo, lambda _: None, lambda _: None)
    for key, rel in DEMO.items():
        book = shutil.copy(demo / rel, folder / f"demo_{Path(rel).name}")
        for sheet in visible_sheets(book):
            books[key, sheet] = only_sheet(book, sheet, folder / f"demo_{Path(rel).stem}-{sheet}.xlsx")
    out = render(list(books.values()), folder / "pdf", ARTIFACTS)
    return {key: out[path] for key, path in books.items()}


# -- the branch form ------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile_id", PROFILES)
def test_each_form_prints_on_one_or_two_pages_without_cutting_a_box(printed, profile_id):
    """The pages LibreOffice prints are the planned ones: each label on the page its box was planned
    for, so no page break fell inside a box; every label line printed as one line."""
    layout = form_layout(load_profile(profile_id))
    paper = printed[profile_id]
    assert 1 <= len(paper.pages) <= 2 and len(paper.pages) == len(layout.pages)
    for box in (b for b in layout.boxes if b.role in ("label", "header", "sign", "date", "section")):
        planned = next(n for n, (first, last) in enumerate(layout.pages) if first <= box.r1 <= last)
        assert planned == next(n for n, (first, last) in enumerate(layout.pages) if first <= box.r2 <= last)
        chain = find(paper, box.text)
        assert chain, box
        assert {w.page for w in chain} == {planned}, (box.text, planned)
        if box.role == "label":  # a label breaks only where the notice breaks it
            assert [w.text for w in chain] == [line.replace(" ", "") for line in box.text.split("\n")], box.text


@pytest.mark.parametrize("profile_id", PROFILES)
def test_form_text_is_not_cut(printed, profile_id):
    assert cut_cells(printed[profile_id], FORM_SHEET) == []


def test_a_row_too_short_for_its_lines_is_caught(printed):
    """The check can fail: LibreOffice prints the overflowing lines, but over the rows below."""
    problems = cut_cells(printed["short"], "短行")
    assert len(problems) == 1 and "A1" in problems[0]


# -- the console ---------------------------------------------------------------------------------------

def test_console_renders_whole(printed):
    paper = printed["console"]
    assert cut_cells(paper, CONSOLE_SHEET) == []
    assert find(paper, WPS_NOTE)


def test_status_list_depends_on_the_stage(printed):
    """The status drop-down's formula, evaluated by LibreOffice for each stage, lists that stage's
    statuses and no others."""
    paper = printed["status"]
    printed_lists = {w.text for w in paper.pages[0] if "/" in w.text}
    assert printed_lists == {"/".join(stage.statuses) for stage in load_profile("hospital-brand").stages}


def _anchors(path: Path) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) in px at 100 % zoom of every button on 控制台, from its VML anchor and
    the sheet's column widths and row heights."""
    with zipfile.ZipFile(path) as zf:
        vml = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml"))
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    widths: dict[int, float] = {}
    for lo, hi, w in re.findall(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', sheet):
        widths.update({c - 1: float(w) for c in range(int(lo), int(hi) + 1)})
    heights = {int(r) - 1: float(h) for r, h in re.findall(r'<row r="(\d+)"[^>]*? ht="([\d.]+)"', sheet)}

    def x(col: int, dx: int) -> int:  # Excel's pixels of a stored width (Calibri 11: 7 px a digit)
        return sum(int((256 * widths.get(c, 8.43) + 128 // 7) / 256 * 7) for c in range(col)) + dx

    def y(row: int, dy: int) -> int:
        return sum(round(heights.get(r, 15.0) / 0.75) for r in range(row)) + dy

    out = []
    for anchor in re.findall(r"<x:Anchor>([^<]*)</x:Anchor>", vml):
        c1, dx1, r1, dy1, c2, dx2, r2, dy2 = (int(v) for v in anchor.split(","))
        out.append((x(c1, dx1), y(r1, dy1), x(c2, dx2), y(r2, dy2)))
    return out


@pytest.mark.parametrize("profile_id", PROFILES)
def test_console_buttons_do_not_overlap(tmp_path, profile_id):
    boxes = _anchors(write_master_template(load_profile(profile_id), tmp_path / "台账.xlsm"))
    assert len(boxes) == len(BUTTONS)
    for i, a in enumerate(boxes):
        assert a[2] - a[0] >= 100 and a[3] - a[1] >= 30  # wide enough to read the caption
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_console_speaks_excel_not_the_command_line(tmp_path):
    path = write_master_template(load_profile("hospital-brand"), tmp_path / "台账.xlsm")
    texts = [c.text for c in text_cells(path, CONSOLE_SHEET)]
    assert not [t for t in texts if "--" in t or "intake" in t or "输出文件夹" in t]
    assert [t for t in texts if "命令行" in t or "brandkit " in t] == [WPS_NOTE]  # only to say what WPS users do
    assert "brandkit serve" in WPS_NOTE and "WPS" in WPS_NOTE
    assert any("支部名单" in t for t in texts[:6])  # the first step
    assert STAGE in texts


# -- the master and the reports ----------------------------------------------------------------------------

LEDGER = load_profile("hospital-brand").ledger.sheet


def test_demo_master_prints_whole_columns_with_the_header_on_every_page(printed):
    """The printed columns (up to 退回原因; the desk's 提交时间, 来源文件 and paper copies stay off the
    page) on every page under the repeated header, no row split, every cell whole but the long texts,
    which are cut by design (even rows; the full text is in the cell and the booklet prints it)."""
    paper = printed["master", LEDGER]
    profile = load_profile("hospital-brand")
    ws = openpyxl.load_workbook(paper.source)[LEDGER]
    header = [c.value for c in ws[1]]
    shown = header[:header.index(RETURN_REASON) + 1]
    assert set(header) - set(shown) == set(DESK_COLUMNS)
    assert paper.pages
    for n, page in enumerate(paper.pages):  # each title on each page, a wrapped one over its lines
        one = Printed(paper.source, paper.pdf, [page], [])
        assert [h for h in shown if not find(one, h)] == [], n
    branches = [c.value for c in ws[get_column_letter(header.index(profile.key) + 1)][1:] if c.value]
    for branch in branches:  # no row split across pages
        chain = find(paper, branch)
        assert chain and len({w.page for w in chain}) == 1, branch
    longs = {get_column_letter(n + 1) for n, h in enumerate(header) if (f := profile.field(h)) and f.long}
    exempt = frozenset(f"{c}{r}" for c in longs for r in range(2, ws.max_row + 1))
    assert len(longs) == 2 and cut_cells(paper, LEDGER, exempt) == []


def test_demo_master_prints_at_a_legible_scale(printed):
    """Fit to one page wide, the printed columns leave the text at 55 % or more of its size."""
    paper = printed["master", LEDGER]
    scales = [scale_of(chain, cell.font_pt) for cell in text_cells(paper.source, LEDGER)
              if (chain := find(paper, cell.text))]
    assert len(scales) > 20 and min(scales) >= 0.55, min(scales)


def test_check_summary_prints_at_a_legible_scale(printed):
    paper = printed["checked", "校验汇总"]
    scales = [scale_of(chain, cell.font_pt) for cell in text_cells(paper.source, "校验汇总")
              if (chain := find(paper, cell.text))]
    assert scales and min(scales) >= 0.70


@pytest.mark.parametrize("key", ["checked", "returned", "summary"])
def test_reports_text_is_not_cut(printed, key):
    """Every sheet of the report shows every cell's full text (the returned report's copy of the
    branch's form too: its long texts' rows grown)."""
    sheets = [sheet for k, sheet in (k for k in printed if isinstance(k, tuple)) if k == key]
    assert sheets
    problems = [p for sheet in sheets for p in cut_cells(printed[key, sheet], sheet)]
    assert problems == []
