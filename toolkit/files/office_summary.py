"""校验汇总.xlsx: one row per file checked (党总支, 党支部, sender, verdict, main problems, a link to its
returned report) and every finding on a second sheet, under the campaign title and the time of the check."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from toolkit.core.display import wrapped_height
from toolkit.core.model import Finding
from toolkit.core.vocabulary import SEVERITY_ZH, VERDICT_ZH
from toolkit.files.report import (
    PAGE_FOOTER,
    STATUS_FILLS,
    ReportRow,
    cell_text,
    report_error,
    rule_name,
    save_atomic,
    target_in,
)

SUMMARY_NAME = "校验汇总.xlsx"


def write_office_summary(rows: list[ReportRow], out_path: Path, title: str = "",
                         checked_at: dt.datetime | None = None) -> Path:
    """Write `校验汇总.xlsx` (into `out_path` when it is a folder, else to `out_path`): the campaign
    `title` and the date above each sheet's table."""
    import xlsxwriter

    target = target_in(Path(out_path), SUMMARY_NAME)
    when = checked_at or dt.datetime.now()
    heading = (f"“{title}”申报表校验汇总" if title else "申报表校验汇总",
               f"校验时间：{when.year}年{when.month}月{when.day}日 {when:%H:%M}")

    def build(path: str) -> None:
        wb = xlsxwriter.Workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
        wb.set_properties({"title": heading[0], "comments": "由 brandkit 生成"})
        _summary_sheet(wb, rows, target.parent, heading)
        _details_sheet(wb, rows, heading)
        wb.close()

    try:
        save_atomic(target, build)
    except Exception as exc:  # noqa: BLE001 - the reports are written; say why the summary is not
        raise report_error(target, exc) from exc
    return target


def _main_problems(findings: list[Finding], limit: int = 3) -> str:
    ordered = sorted(findings, key=lambda f: f.severity != "error")
    text = "；".join(f.message for f in ordered[:limit])
    return f"{text}；等 {len(findings)} 项" if len(findings) > limit else text


TOP = 3  # a table's header row: the title and the date stand above it


def _table(wb: Any, ws: Any, heading: tuple[str, str], headers: list[str], widths: list[int],
           data: list[list[Any]]) -> None:
    """A titled table that prints legibly: A4 landscape, one page wide (the widths keep the scale
    at 70 % or more), the header on every page, each row as tall as its wrapped text, page numbers."""
    ws.write_string(0, 0, heading[0], wb.add_format({"bold": True, "font_size": 14}))
    ws.write_string(1, 0, heading[1], wb.add_format({"font_color": "#595959"}))
    ws.set_row(0, 22)
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True,
                          "valign": "vcenter"})
    body = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    for c, (h, w) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(TOP, c, h, head)
        ws.set_column(c, c, w)
    ws.set_row(TOP, wrapped_height(zip(headers, widths, strict=True)))
    for r, row in enumerate(data, start=TOP + 1):
        for c, value in enumerate(row):
            if isinstance(value, int):
                ws.write_number(r, c, value, body)
            else:
                ws.write_string(r, c, "" if value is None else cell_text(str(value)), body)
        ws.set_row(r, wrapped_height(zip(row, widths, strict=True)))
    ws.freeze_panes(TOP + 1, 0)
    ws.autofilter(TOP, 0, TOP + max(1, len(data)), len(headers) - 1)
    ws.set_paper(9)  # A4
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(TOP)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer(f"&C{PAGE_FOOTER}")


SUMMARY_WIDTHS = [5, 12, 16, 22, 22, 9, 6, 6, 40, 14]


OPEN_REPORT = "打开校验结果"  # the link's text: a file name would not wrap in a link, and is cut


def _summary_sheet(wb: Any, rows: list[ReportRow], base: Path, heading: tuple[str, str]) -> None:
    ws = wb.add_worksheet("校验汇总")
    headers = ["序号", "党总支", "党支部", "文件", "发件人", "结论", "错误数", "警告数", "主要问题", "校验结果文件"]
    data = []
    for n, row in enumerate(rows, start=1):
        errors = sum(f.severity == "error" for f in row.findings)
        data.append([n, row.group or "", row.branch or "", Path(row.path).name, _address(row.sender),
                     VERDICT_ZH.get(row.status, row.status), errors, len(row.findings) - errors,
                     _main_problems(row.findings),
                     f"未能生成：{row.report_error}" if row.report_error else
                     OPEN_REPORT if row.report_path else ""])
    _table(wb, ws, heading, headers, SUMMARY_WIDTHS, data)
    link = wb.add_format({"font_color": "#0563C1", "underline": 1, "border": 1, "text_wrap": True,
                          "valign": "top"})
    for r, row in enumerate(rows, start=TOP + 1):
        if row.report_path:
            rel = os.path.relpath(row.report_path, base)  # relative: the folder can be mailed or moved
            ws.write_url(r, 9, f"external:{rel}", link, string=OPEN_REPORT, tip=Path(row.report_path).name)
    last = TOP + max(1, len(rows))
    for status, colour in STATUS_FILLS.items():
        ws.conditional_format(TOP + 1, 5, last, 5, {
            "type": "cell", "criteria": "==", "value": f'"{VERDICT_ZH[status]}"',
            "format": wb.add_format({"bg_color": f"#{colour}"})})


def _address(sender: str | None) -> str:
    """The mail address alone ('支部书记 <a@b.cn>' -> 'a@b.cn'): where the report goes back."""
    from email.utils import parseaddr

    return parseaddr(sender or "")[1] or (sender or "")


def _details_sheet(wb: Any, rows: list[ReportRow], heading: tuple[str, str]) -> None:
    ws = wb.add_worksheet("问题明细")
    headers = ["文件", "党支部", "字段", "单元格", "规则", "严重程度", "说明"]
    data = [[Path(row.path).name, row.branch or "", f.field or "", f.cell or "", rule_name(f.rule),
             SEVERITY_ZH[f.severity], f.message] for row in rows for f in row.findings]
    _table(wb, ws, heading, headers, [22, 18, 14, 12, 14, 8, 60], data)
