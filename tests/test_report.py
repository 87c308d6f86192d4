"""Returned reports: the branch's own file marked up, the rendering path for other formats, the summary."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pytest

from tests.forms import PLAN
from tests.libreoffice import roundtrip_values
from tests.paths import CORPUS
from toolkit.core.grid import Grid
from toolkit.core.model import Finding, Provenance, Submission, parse_a1
from toolkit.core.profile import load_profile
from toolkit.files.office_summary import write_office_summary
from toolkit.files.report import (
    CELL_PICTURE,
    ISSUES_SHEET,
    SEVERITY_FILLS,
    SEVERITY_ZH,
    ReportRow,
    render_grids,
    rule_name,
    status_of,
    write_branch_report,
    write_file_report,
)
from toolkit.files.templates import FORM_SHEET, build_form, template_field_cells
from toolkit.readers.grid import read_grids

INJECTION = '=HYPERLINK("http://evil.example/x","点我")'
CHECKED = dt.datetime(2024, 8, 1, 9, 5)


def _submission(path: Path, kind: str, sheet: str | None = FORM_SHEET) -> Submission:
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
    return Submission(Provenance(str(path), digest, sheet=sheet, kind=kind))


@pytest.fixture()
def filled_form(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, object]]:
    """A hospital-brand form filled in as a branch would, including a formula-looking name."""
    profile = load_profile("hospital-brand")
    cells = template_field_cells(profile)
    src = tmp_path / "src.xlsx"
    src.write_bytes(build_form(profile))
    wb = openpyxl.load_workbook(src)
    ws = wb[FORM_SHEET]
    values = {"党支部名称": "内科第一党支部", "党员总数": 35, "品牌名称": "杏林先锋守护生命健康行动",
              "品牌内涵": "以党建引领业务发展。", PLAN: "- 第一步：调研", "填表人": INJECTION,
              "联系方式": "0471-123"}
    for name, value in values.items():
        ws[cells[name]] = value
        if isinstance(value, str) and value[0] in "=-":
            ws[cells[name]].data_type = "s"
            ws[cells[name]].quotePrefix = True
    path = tmp_path / "内科第一党支部申报表.xlsx"
    wb.save(path)
    return path, cells, values


def _findings(cells: dict[str, str]) -> list[Finding]:
    at = {n: f"{FORM_SHEET}!{ref}" for n, ref in cells.items()}
    r, c = parse_a1(cells[PLAN])
    inside_plan = f"{FORM_SHEET}!{'ABCD'[c + 2]}{r + 2}"  # a cell inside the merged 创建计划 block
    return [
        Finding("max_chars", "error", "品牌名称 12 字，超过 10 字上限，请精简到 10 字以内", "品牌名称", at["品牌名称"]),
        Finding("phone", "warning", "联系方式“0471-123”不像手机号或座机，请核对", "联系方式", at["联系方式"]),
        Finding("formula_injection", "error", "填表人以“=”开头，像公式，请填写姓名", "填表人", at["填表人"]),
        Finding("required", "error", "填表人 不是姓名，请重新填写", "填表人", at["填表人"]),
        Finding("similar_text", "warning", "创建计划 与外科党支部的相似度 0.91，请核实是否抄袭", PLAN,
                inside_plan),
        Finding("image_missing", "error", "没有找到品牌标识图片，请在“品牌标识”单元格插入 png/jpg 图片", "品牌标识"),
    ]


def _issue_rows(wb) -> list[tuple]:
    ws = wb[ISSUES_SHEET]
    return [tuple(r[1:6]) for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]


def _expected_rows(findings: list[Finding]) -> list[tuple]:
    return sorted(((SEVERITY_ZH[f.severity], f.field, f.cell, rule_name(f.rule), f.message) for f in findings),
                  key=repr)


def test_xlsx_report_marks_cells_and_lists_findings(filled_form, tmp_path: Path):
    path, cells, values = filled_form
    sub = _submission(path, "xlsx")
    found_while_reading = Finding("template_mismatch", "warning", "模板版本较旧", None, None)
    sub.findings.append(found_while_reading)
    findings = _findings(cells)
    out = write_branch_report(sub, [*findings, found_while_reading], tmp_path / "reports", checked_at=CHECKED)
    assert out == tmp_path / "reports" / "内科第一党支部申报表_校验结果.xlsx"

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == ISSUES_SHEET and wb.active.title == ISSUES_SHEET
    assert not wb[FORM_SHEET].sheet_view.tabSelected
    head = wb[ISSUES_SHEET]["A1"].value
    assert path.name in head and "2024年8月1日 09:05" in head and "需修改后重新提交" in head
    assert "错误 4 项，警告 3 项" in head
    assert sorted(_issue_rows(wb), key=repr) == _expected_rows([*findings, found_while_reading])
    # rows with a cell link to it
    links = {c.value: c.hyperlink.location for c in wb[ISSUES_SHEET]["D"][3:] if c.hyperlink}
    assert links[f"{FORM_SHEET}!{cells['品牌名称']}"] == f"'{FORM_SHEET}'!{cells['品牌名称']}"

    ws = wb[FORM_SHEET]
    fill = {name: ws[cells[name]].fill.fgColor.rgb[-6:] for name in ("品牌名称", "联系方式", "填表人", PLAN)}
    assert fill == {"品牌名称": SEVERITY_FILLS["error"], "联系方式": SEVERITY_FILLS["warning"],
                    "填表人": SEVERITY_FILLS["error"], PLAN: SEVERITY_FILLS["warning"]}
    assert ws[cells["党员总数"]].fill.fgColor.rgb[-6:] not in SEVERITY_FILLS.values()
    comment = ws[cells["填表人"]].comment.text
    assert "【错误】填表人以“=”开头" in comment and "【错误】填表人 不是姓名" in comment
    assert "相似度 0.91" in ws[cells[PLAN]].comment.text  # moved to the merged block's top-left
    # the formula-looking name is still text, never a formula
    assert ws[cells["填表人"]].data_type == "s" and ws[cells["填表人"]].value == INJECTION

    seen = roundtrip_values(out)
    assert seen[ISSUES_SHEET][0][0] == head
    for name, value in values.items():
        r, c = parse_a1(cells[name])
        assert seen[FORM_SHEET][r][c] == value, name  # LibreOffice shows =HYPERLINK(...) as typed
    assert [r[5] for r in seen[ISSUES_SHEET][3:]] == [r[4] for r in _issue_rows(wb)]


def test_clean_submission_is_acceptable(filled_form, tmp_path: Path):
    path, _, _ = filled_form
    out = write_branch_report(_submission(path, "xlsx"), [], tmp_path / "r" / "x.xlsx", checked_at=CHECKED)
    assert out == tmp_path / "r" / "x.xlsx"
    ws = openpyxl.load_workbook(out)[ISSUES_SHEET]
    assert "可以受理" in ws["A1"].value and ws["A4"].value == "未发现问题。"


def test_formulas_in_the_branch_file_come_back_as_text(tmp_path: Path):
    src = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = FORM_SHEET
    wb.active["A1"] = "=1+1"
    wb.active["B1"] = '=WEBSERVICE("http://evil.example")'
    wb.save(src)
    out = write_branch_report(_submission(src, "xlsx"), [], tmp_path)
    ws = openpyxl.load_workbook(out)[FORM_SHEET]
    assert (ws["A1"].data_type, ws["A1"].value) == ("s", "=1+1")
    assert roundtrip_values(out)[FORM_SHEET][0] == ["=1+1", '=WEBSERVICE("http://evil.example")']


def test_a_wps_cell_picture_is_said_not_shown_as_its_formula(tmp_path: Path):
    src = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = FORM_SHEET
    wb.active["D4"] = '=_xlfn.DISPIMG("ID_AF3C0E1B",1)'
    wb.save(src)
    out = write_branch_report(_submission(src, "xlsx"), [], tmp_path)
    assert openpyxl.load_workbook(out)[FORM_SHEET]["D4"].value == CELL_PICTURE


def test_rich_text_in_the_branch_file_stays_rich(tmp_path: Path):
    """Only colours and comments change in the branch's form: a run typed bold and red stays so."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    src = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = FORM_SHEET
    wb.active["B10"] = CellRichText(["以", TextBlock(InlineFont(b=True, color="FFFF0000"), "优质护理"), "为抓手"])
    wb.save(src)
    out = write_branch_report(_submission(src, "xlsx"), [], tmp_path)
    value = openpyxl.load_workbook(out, rich_text=True)[FORM_SHEET]["B10"].value
    assert isinstance(value, CellRichText) and str(value) == "以优质护理为抓手"
    (bold,) = [block for block in value if isinstance(block, TextBlock)]
    assert bold.text == "优质护理" and bold.font.b


def test_one_file_with_several_branches_gets_one_report(tmp_path: Path):
    src = tmp_path / "第一党总支汇总.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "内科"
    wb.create_sheet("外科")
    wb.create_sheet("填表说明")
    for ws in wb.worksheets[:2]:
        ws.append(["党支部名称", f"{ws.title}党支部"])
        ws.append(["品牌名称", "很长很长很长很长的品牌名称"])
    wb.save(src)
    items = [(_submission(src, "xlsx", sheet), [Finding("max_chars", "error", f"{sheet}品牌名称过长", "品牌名称",
                                                        f"{sheet}!B2")]) for sheet in ("内科", "外科")]
    out = write_file_report(items, tmp_path)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ISSUES_SHEET, "内科", "外科", "填表说明"]
    for sheet in ("内科", "外科"):
        assert wb[sheet]["B2"].fill.fgColor.rgb[-6:] == SEVERITY_FILLS["error"]
        assert wb[sheet]["B2"].comment.text == f"【错误】{sheet}品牌名称过长"
    assert [r[2] for r in _issue_rows(wb)] == ["内科!B2", "外科!B2"]
    with pytest.raises(ValueError):
        write_file_report([*items, (_submission(tmp_path / "other.xlsx", "xlsx"), [])], tmp_path)


@pytest.mark.parametrize("name,kind,sheet,cell", [
    ("sheetjs/merge_cells.xls", "xls", "Merge", "C3"),
    ("sheetjs/wps_fn.et", "xls", "Sheet1", "B2"),
    ("calamine/merged_cells.ods", "ods", "Sheet1", "B2"),
])
def test_other_formats_are_rendered_with_values_and_merges(tmp_path: Path, name, kind, sheet, cell):
    path = CORPUS / name
    grid = read_grids(path.read_bytes(), kind)[sheet]
    finding = Finding("required", "error", "此处必须填写", "测试", f"{sheet}!{cell}")
    out = write_branch_report(_submission(path, kind, sheet), [finding], tmp_path)
    assert out.name == f"{path.stem}_校验结果.xlsx"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ISSUES_SHEET, sheet]
    ws = wb[sheet]
    assert {(m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1) for m in ws.merged_cells.ranges} == {
        m for m in grid.merged if m[:2] != m[2:]}
    assert ws[cell].fill.fgColor.rgb[-6:] == SEVERITY_FILLS["error"] and "此处必须填写" in ws[cell].comment.text
    seen = roundtrip_values(out)[sheet]
    for r, row in enumerate(grid.rows):
        for c, value in enumerate(row):
            if value is not None:
                assert seen[r][c] == value, (r, c)


def test_render_grids_keeps_text_and_merges():
    grid = Grid("表1", [["党支部名称", "外科党支部", None], ["说明", "=cmd|' /C calc'!A0", "+86 139"],
                       ["计划", "第一行\n第二行", None], [None, None, 12]], [(2, 1, 2, 2)])
    ws = render_grids([grid])["表1"]
    assert ws["B2"].data_type == "s" and ws["B2"].value == "=cmd|' /C calc'!A0" and ws["B2"].quotePrefix
    assert ws["C2"].value == "+86 139" and ws["C4"].value == 12
    assert [str(m) for m in ws.merged_cells.ranges] == ["B3:C3"]
    assert ws["B3"].alignment.wrap_text


def test_unreadable_submission_gets_only_the_issue_list(tmp_path: Path):
    path = tmp_path / "坏文件.xls"
    path.write_bytes(b"not a spreadsheet")
    sub = _submission(path, "xls", None)
    sub.findings.append(Finding("unreadable", "error", "文件已损坏，无法打开，请重新保存后提交"))
    out = write_branch_report(sub, [], tmp_path)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [ISSUES_SHEET]
    assert _issue_rows(wb) == [("错误", None, None, rule_name("unreadable"), "文件已损坏，无法打开，请重新保存后提交")]
    assert status_of(sub.findings) == "unreadable"


def test_office_summary(tmp_path: Path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a_校验结果.xlsx").write_bytes(b"")
    err = Finding("max_chars", "error", "品牌名称 12 字，超过 10 字上限", "品牌名称", "申报表!D3")
    warn = Finding("phone", "warning", "联系方式不像电话", "联系方式", "申报表!D29")
    inj = Finding("formula_injection", "error", INJECTION, "填表人", "申报表!B29")
    rows = [
        ReportRow("/in/a.xlsx", "申报表", "内科第一党支部", status_of([err, warn, inj]), [err, warn, inj],
                  str(reports / "a_校验结果.xlsx")),
        ReportRow("/in/b.xlsx", "申报表", "外科党支部", "ok", []),
        ReportRow("/in/c.xlsx", "申报表", "药剂科党支部", "warning", [warn]),
        ReportRow("/in/d.xls", None, None, "unreadable", [Finding("unreadable", "error", "文件已损坏")]),
    ]
    out = write_office_summary(rows, tmp_path, "一支部一品牌", dt.datetime(2024, 8, 12, 9, 5))
    assert out == tmp_path / "校验汇总.xlsx"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["校验汇总", "问题明细"]
    ws = wb["校验汇总"]
    top = [list(r) for r in ws.iter_rows(max_row=2, max_col=1, values_only=True)]
    assert top == [["“一支部一品牌”申报表校验汇总"], ["校验时间：2024年8月12日 09:05"]]
    table = [list(r) for r in ws.iter_rows(min_row=4, values_only=True)]
    assert table[0] == ["序号", "党总支", "党支部", "文件", "发件人", "结论", "错误数", "警告数", "主要问题", "校验结果文件"]
    assert [r[5] for r in table[1:]] == ["不通过", "通过", "有警告", "无法读取"]
    assert table[1][3] == "a.xlsx" and table[1][6:8] == [2, 1] and INJECTION in table[1][8]
    assert ws["J5"].hyperlink.target.replace("\\", "/") == "reports/a_校验结果.xlsx"  # Windows-style
    assert ws.freeze_panes == "A5" and ws.auto_filter.ref == "A4:J8"
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    assert sorted(rules) == sorted(['"不通过"', '"通过"', '"有警告"', '"无法读取"'])
    details = [list(r) for r in wb["问题明细"].iter_rows(min_row=4, values_only=True)]
    assert len(details) == 1 + 5 and details[1] == ["a.xlsx", "内科第一党支部", "品牌名称", "申报表!D3", rule_name("max_chars"),
                                                    "错误", err.message]
    seen = roundtrip_values(out)
    assert [r[5] for r in seen["校验汇总"][4:]] == ["不通过", "通过", "有警告", "无法读取"]
    assert seen["问题明细"][6][6] == INJECTION  # text, not a formula LibreOffice evaluated
