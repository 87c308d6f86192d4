"""The reports as the clerk prints them (issue 17): every row of 问题清单, 校验汇总 and 问题汇总 as tall as its
wrapped text; 校验汇总 titled, dated, with 党总支, sender and a link per report, printed at 70 % or more."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from toolkit.core.model import Finding, Provenance, Submission
from toolkit.core.printlayout import wrapped_lines
from toolkit.files.office_summary import write_office_summary
from toolkit.files.report import ReportRow, write_branch_report

LONG = ("“联系方式”“139471234”不是有效的电话号码，请填写 11 位手机号（如 13812345678）或带区号的座机号"
        "（如 0471-1234567）；“品牌内涵”290 字，超过 200 字上限，请精简到 200 字以内")
FINDINGS = [Finding("phone", "error", LONG, "联系方式", "申报表!D29"),
            Finding("max_chars", "error", "“品牌名称”12 字，超过 10 字上限，请精简到 10 字以内", "品牌名称", "申报表!B5"),
            Finding("required", "warning", "“党支部意见”未填写", "党支部意见", "申报表!B20")]
BRANCHES = [f"第{n:02d}党总支所属内科第{n:02d}党支部" for n in range(1, 41)]


def test_wrapped_lines_measures_cjk_and_quotes_full_width_and_each_paragraph() -> None:
    """As LibreOffice prints 11-pt text (calibrated with tests/printed.py): a CJK character and “” take
    about 2.1 units, a cell keeps 1.5 for its padding."""
    assert wrapped_lines("", 10, 11) == 1 and wrapped_lines("一二三四", 10, 11) == 1
    assert wrapped_lines("一二三四五", 10, 11) == 2 and wrapped_lines("“一二”", 10, 11) == 1
    assert wrapped_lines("“一二三”", 10, 11) == 2  # the quotes print full width
    assert wrapped_lines("ab\ncd", 10, 11) == 2


def test_every_issue_row_is_as_tall_as_its_wrapped_text(tmp_path: Path) -> None:
    sub = Submission(fields={}, provenance=Provenance(path=str(tmp_path / "a.xlsx"), sha256=""))
    report = write_branch_report(sub, FINDINGS, tmp_path / "out", checked_at=dt.datetime(2024, 8, 12, 9, 0))
    ws = openpyxl.load_workbook(report)["问题清单"]
    long_row = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 6).value == LONG)
    assert ws.row_dimensions[long_row].height >= 2 * 15 and ws.cell(long_row, 6).alignment.wrap_text
    assert ws.print_title_rows.replace("$", "") == "3:3" and ws.page_setup.orientation == "landscape"


def summary_rows(tmp_path: Path) -> list[ReportRow]:
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    rows = []
    for n, branch in enumerate(BRANCHES):
        report = reports / f"{n:02d}_{branch}_校验结果.xlsx"
        report.write_bytes(b"")
        findings = FINDINGS[: n % 4]
        status = "error" if findings else "ok"
        rows.append(ReportRow(f"/in/{n:02d}_{branch}.xlsx", "申报表", branch, status, list(findings), str(report),
                              group=f"第{n % 3 + 1}党总支", sender=f"支部书记{n} <branch{n}@example.org>"))
    return rows


def test_the_office_summary_is_titled_dated_and_every_row_tall_enough(tmp_path: Path) -> None:
    out = write_office_summary(summary_rows(tmp_path), tmp_path / "reports", "一支部一品牌",
                               dt.datetime(2024, 8, 12, 9, 5))
    ws = openpyxl.load_workbook(out)["校验汇总"]
    assert ws["A1"].value == "“一支部一品牌”申报表校验汇总" and ws["A2"].value == "校验时间：2024年8月12日 09:05"
    assert [ws.cell(5, c).value for c in (2, 5)] == ["第1党总支", "branch0@example.org"]
    assert ws.cell(5, 10).hyperlink.target.endswith("_校验结果.xlsx")
    problems = next(r for r in range(5, ws.max_row + 1) if LONG in (ws.cell(r, 9).value or ""))
    assert ws.row_dimensions[problems].height >= 3 * 15
    assert ws.print_title_rows.replace("$", "") == "4:4" and ws.page_setup.fitToHeight == 0


@pytest.mark.libreoffice
def test_the_office_summary_prints_legibly_with_every_cell_whole(tmp_path: Path) -> None:
    from tests.printed import find, print_sheet, scale_of, squeeze

    out = write_office_summary(summary_rows(tmp_path), tmp_path / "reports", "一支部一品牌",
                               dt.datetime(2024, 8, 12, 9, 5))
    printed = print_sheet(out, "校验汇总", "office-summary")
    header = find(printed, "序号")
    assert header and scale_of(header, 11.0) >= 0.70
    for n, _page in enumerate(printed.pages):
        assert "校验结果文件" in printed.squeezed(n)  # the header on every page, the last column on it
    ws = openpyxl.load_workbook(out)["校验汇总"]
    text = printed.squeezed()
    missing = [v for row in ws.iter_rows(min_row=1, values_only=True) for v in row
               if v not in (None, "") and squeeze(v) not in text]
    assert missing == [], printed.pngs
