"""The returned reports: each branch's own file with its problems marked, and the office's summary.

`write_branch_report` gives the branch back its file with every problem cell filled (error red, warning
yellow) and commented, plus a `问题清单` sheet in front listing every finding with a link to its cell.
Files openpyxl cannot load as they are (.xls, WPS .et, .ods, CSV, HTML, Word forms) are re-rendered from
their values.
`write_office_summary` writes `校验汇总.xlsx`: one row per submission and one per finding.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.display import BODY_PT, display_width, wrapped_height
from toolkit.core.model import Finding, Submission, col_letter, split_cell_ref
from toolkit.core.profile import CELL_LIMIT
from toolkit.core.text import is_formula_like
from toolkit.core.vocabulary import SEVERITY_ZH
from toolkit.files.atomic import replace
from toolkit.files.filenames import safe_name
from toolkit.files.report_source import mark_source
from toolkit.ooxml.xmltools import clean_text

ISSUES_SHEET = "问题清单"
NOTE_ROW = "说明"  # the 严重程度 of a 问题清单 row that is a note, not a finding (as the terminal says it)
# said in the 问题清单 when the branch's file could not be copied into its report
NO_COPY = "本校验结果未能附上标出问题的申报表副本（文件中有无法复制的内容），请按问题清单中的单元格位置对照原文件修改"
PAGE_FOOTER = "第 &P 页，共 &N 页"
REPORT_SUFFIX = "_校验结果"
SEVERITY_FILLS = {"error": "FFC7CE", "warning": "FFEB9C"}
STATUS_FILLS = {"ok": "C6EFCE", "warning": "FFEB9C", "error": "FFC7CE", "unreadable": "D9D9D9"}
_OPENPYXL_KINDS = ("xlsx", "xlsm")
# What Excel refuses in a sheet name (a crafted .xlsx, an .ods or a CSV rendering may carry any name)
_TITLE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\\/*?:\[\]]")
_TITLE_MAX = 31
_TITLE_RESERVED = "history"  # Excel keeps it for its change tracking
_SHEET_ROWS, _SHEET_COLUMNS = 1_048_576, 16_384  # an Excel sheet (XFD1048576)


class ReportError(Exception):
    """A report could not be written (message in Chinese); the batch goes on without it."""


def status_of(findings: Iterable[Finding]) -> str:
    """ok | warning | error | unreadable, as the JSON output and the summary use them."""
    findings = list(findings)
    if any(f.rule == "unreadable" for f in findings):
        return "unreadable"
    if any(f.severity == "error" for f in findings):
        return "error"
    return "warning" if findings else "ok"


def verdict_text(findings: Iterable[Finding]) -> str:
    return "需修改后重新提交" if status_of(findings) in ("error", "unreadable") else "可以受理"


def report_name(sub: Submission, taken: set[str] | None = None) -> str:
    """`<原文件名>_校验结果.xlsx`; when `taken` (names already used, casefolded: Windows and macOS ignore
    case) holds it, `<原文件名> (2)_校验结果.xlsx` …: every branch may call its file 申报表.xlsx. The name
    chosen is added to `taken`."""
    stem = Path(sub.provenance.path).stem
    name = safe_name(stem, suffix=f"{REPORT_SUFFIX}.xlsx")
    n = 2
    while taken is not None and name.casefold() in taken:
        name = safe_name(f"{stem} ({n})", suffix=f"{REPORT_SUFFIX}.xlsx")
        n += 1
    if taken is not None:
        taken.add(name.casefold())
    return name


def sheet_titles(names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Each sheet name -> a title Excel accepts: at most 31 characters, none of `\\/*?:[]` or control
    characters, no apostrophe at either end, not "History", and unique ignoring case among themselves
    and `taken`. Names Excel accepts map to themselves."""
    used = {t.casefold() for t in taken}
    titles: dict[str, str] = {}
    for name in names:
        title = _TITLE_CHARS.sub("_", clean_text(name)).strip("'")[:_TITLE_MAX] or "Sheet"
        if title.casefold() == _TITLE_RESERVED:
            title += "_"
        base, n = title, 2
        while title.casefold() in used:
            tag = f" ({n})"
            title, n = base[: _TITLE_MAX - len(tag)] + tag, n + 1
        used.add(title.casefold())
        titles[name] = title
    return titles


def rule_name(rule: str) -> str:
    """A rule's short title, from the message catalogue."""
    from toolkit.core.messages import title

    try:
        return title(rule)
    except KeyError:
        return rule


@dataclass(frozen=True)
class ReportRow:
    """One submission's line in the office summary."""

    path: str
    sheet: str | None
    branch: str | None
    status: str  # ok | warning | error | unreadable
    findings: list[Finding] = field(default_factory=list)
    report_path: str | None = None
    report_error: str | None = None  # why its report could not be written
    group: str | None = None  # the branch's 党总支 (from the master's roster)
    sender: str | None = None  # the mail address it came from: where its report goes back


# -- the branch's own file ------------------------------------------------------------------------

def write_branch_report(sub: Submission, findings: list[Finding], out_path: Path,
                        checked_at: dt.datetime | None = None) -> Path:
    """Write `<原文件名>_校验结果.xlsx` (into `out_path` when it is a folder, else to `out_path`).

    `findings` are merged with the ones found while reading (`sub.findings`), without repeats."""
    return write_file_report([(sub, findings)], out_path, checked_at)


def write_file_report(items: list[tuple[Submission, list[Finding]]], out_path: Path,
                      checked_at: dt.datetime | None = None, *, name: str | None = None, copy_file: bool = True) -> Path:
    """One report for a file holding several submissions (a 党总支's workbook, one sheet per branch):
    every sheet marked, one 问题清单 for all. All items must come from the same file. In a folder
    `out_path`, the report is called `name` (default: report_name). `copy_file` False: the 问题清单 alone (a
    report or photo a branch sent has no cells to mark).

    Whatever the branch's file holds, a report is written: when its copy cannot be made (a name, value
    or part openpyxl or Excel refuses), the report is the 问题清单 alone. ReportError (in Chinese) when
    not even that can be written (the target is a folder, the disk is full, Excel holds the file)."""
    first = items[0][0]
    if any(sub.provenance.path != first.provenance.path for sub, _ in items):
        raise ValueError("write_file_report: submissions from different files")
    target = target_in(Path(out_path), name or report_name(first))
    checked_at = checked_at or dt.datetime.now()
    copies = [True, False] if copy_file and all(sub.readable for sub, _ in items) else [False]
    remarks: list[str] = []  # what the report says about its copy of the file
    for copy in copies:
        try:
            save_atomic(target, _report_workbook(items, checked_at, copy, remarks).save)
            return target
        except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on odd content: the list alone
            if isinstance(exc, OSError | ReportError) or not copy:
                raise report_error(target, exc) from exc
            remarks = [NO_COPY]
    raise AssertionError("unreachable")



def report_error(target: Path, exc: Exception) -> ReportError:
    """Why `target` could not be written, in Chinese."""
    if isinstance(exc, ReportError):
        return exc
    if isinstance(exc, OSError):
        return ReportError(f"无法写入 {target}（{exc.strerror or exc}）；请检查该位置是否可写、是否被其他程序打开或有同名文件夹")
    return ReportError(f"无法生成 {target.name}（{type(exc).__name__}: {clean_text(str(exc))[:200]}）")


def _report_workbook(items: list[tuple[Submission, list[Finding]]], checked_at: dt.datetime, copy: bool,
                     remarks: list[str]) -> Any:
    """The report's workbook: the branch's file (`copy`) or an empty one, marked, with its 问题清单; its
    说明 rows hold the submissions' notes and `remarks` (what the copy could not show as it is; a copy
    adds its own)."""
    from openpyxl import Workbook

    first = items[0][0]
    sheets = {sub.provenance.sheet for sub, _ in items if sub.provenance.sheet}
    remarks = list(remarks)
    wb, titles = _source_workbook(first, sheets, remarks) if copy else (None, {})
    if wb is None:
        wb, titles = Workbook(), {}
        wb.remove(wb.active)
    for sheet in sheets:  # a form read from a hidden sheet: its marks must be seen
        title = titles.get(sheet, sheet)
        if title in wb.sheetnames and wb[title].sheet_state != "visible":
            wb[title].sheet_state = "visible"
    for ws in wb.worksheets:
        _fit_rows(ws)
    everything: list[Finding] = []
    marked: dict[Finding, str] = {}
    for sub, findings in items:
        own = list(dict.fromkeys([*sub.findings, *findings]))
        marked |= _mark_cells(wb, own, sub.provenance.sheet, titles)
        everything += [f for f in own if f not in everything]
    notes = list(dict.fromkeys([n for sub, _ in items for n in sub.notes] + remarks))
    _issues_sheet(wb, first, everything, marked, checked_at, notes)
    mark_source(wb, first.provenance)  # notify finds a branch's report by this, never by its name
    return wb


def _fit_rows(ws: Any) -> None:
    """The copy shows every cell's full text: a row is grown where a wrapped cell (merged ones over
    their rows and columns) needs more height than its rows give; rows tall enough stay as they are."""
    widths: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.min:
            widths.update(dict.fromkeys(range(dim.min, (dim.max or dim.min) + 1), dim.width))
    default_w = ws.sheet_format.defaultColWidth or 8.43
    default_h = ws.sheet_format.defaultRowHeight or 15.0
    spans = {(m.min_row, m.min_col): (m.max_row, m.max_col) for m in ws.merged_cells.ranges}
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            r2, c2 = spans.get((cell.row, cell.column), (cell.row, cell.column))
            width = sum(widths.get(c, default_w) for c in range(cell.column, c2 + 1))
            have = sum(ws.row_dimensions[r].height or default_h for r in range(cell.row, r2 + 1))
            need = wrapped_height([(cell.value, width)], cell.font.sz or BODY_PT)
            if need > have:
                ws.row_dimensions[r2].height = (ws.row_dimensions[r2].height or default_h) + need - have


def target_in(out: Path, name: str) -> Path:
    if out.is_dir() or out.suffix.lower() != ".xlsx":
        out.mkdir(parents=True, exist_ok=True)
        return out / name
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def save_atomic(target: Path, save: Any) -> None:
    from toolkit.core.errors import UsageProblem

    fd, tmp = tempfile.mkstemp(prefix=".~brandkit-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        save(tmp)
        replace(tmp, target)
    except UsageProblem as exc:  # Windows: Excel holds the previous report open
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(str(exc)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _kind(sub: Submission) -> str:
    return (sub.provenance.kind or Path(sub.provenance.path).suffix.lstrip(".")).lower()


def _source_workbook(sub: Submission, sheets: set[str], remarks: list[str]) -> tuple[Any, dict[str, str]]:
    """(the branch's workbook as openpyxl sees it, or a rendering of its values; None if neither works),
    with its sheet names -> the titles they have in it (sheet_titles). What the copy shows otherwise
    than the file (a picture converted or left out) is added to `remarks`."""
    try:
        data = Path(sub.provenance.path).read_bytes()
    except OSError:
        return None, {}
    if _kind(sub) in _OPENPYXL_KINDS:
        from openpyxl import load_workbook

        try:
            # "Title is more than 31 characters": renamed below; pictures it drops: said
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                wb = load_workbook(io.BytesIO(data), keep_vba=False, rich_text=True)  # a bold run stays bold
        except Exception:  # openpyxl raises anything from KeyError to DecompressionBombError
            wb = None
        if wb is not None:
            dropped = sum(1 for w in caught if "image" in str(w.message).lower()
                          and ("removed" in str(w.message) or "dropped" in str(w.message)))
            if dropped:
                remarks.append(f"申报表中有 {dropped} 张图片是无法识别的格式（如 HEIC、WMF），本校验结果的副本中未显示，"
                               "原文件未改动")
            remarks.extend(_saveable_pictures(wb))
            _defuse(wb)
            titles = sheet_titles(wb.sheetnames)
            for ws in wb.worksheets:
                if titles[ws.title] != ws.title:
                    ws.title = titles[ws.title]
            return wb, titles
    from toolkit.readers.errors import Unreadable
    from toolkit.readers.grid import read_grids

    kind = "xlsx" if _kind(sub) in _OPENPYXL_KINDS else _kind(sub)
    try:
        grids = read_grids(data, kind)
    except Unreadable:
        return None, {}
    wanted = [g for name, g in grids.items() if name in sheets]
    chosen = wanted or [g for g in grids.values() if not getattr(g, "hidden", False)]
    return render_grids(chosen), sheet_titles(g.name for g in chosen)


_SAVEABLE = ("png", "jpeg", "gif")  # what openpyxl writes; any other picture leaves the copy unsaveable


def _saveable_pictures(wb: Any) -> list[str]:
    """Pictures openpyxl cannot write (WebP, BMP, TIFF: a KeyError on save) converted to PNG in the copy,
    or left out when even that fails; each said, by its sheet and cell. The branch's file is untouched."""
    from PIL import Image

    said: list[str] = []
    for ws in wb.worksheets:
        kept = []
        for image in ws._images:
            fmt = str(getattr(image, "format", "") or "").lower()
            if fmt in _SAVEABLE:
                kept.append(image)
                continue
            where = f"工作表“{ws.title}”中{_image_cell(image)}的图片（{fmt.upper() or '未知'} 格式）"
            try:
                with Image.open(image.ref) as opened:
                    opened.seek(0)
                    picture = opened.convert("RGBA" if "A" in opened.mode or "transparency" in opened.info else "RGB")
                out = io.BytesIO()
                picture.save(out, "PNG")
                out.seek(0)
                image.ref, image.format = out, "png"
                kept.append(image)
                said.append(f"{where}在本校验结果的副本中已转换为 PNG 显示，原文件未改动")
            except Exception:  # noqa: BLE001 - a picture Pillow opened once but cannot convert: left out
                said.append(f"{where}无法在本校验结果的副本中显示，已略去，原文件未改动")
        ws._images = kept
    return said


def _image_cell(image: Any) -> str:
    """" D3 单元格" for a picture anchored at D3; "" when its anchor names no cell."""
    start = getattr(getattr(image, "anchor", None), "_from", None)
    if start is None:
        return ""
    return f" {col_letter(start.col)}{start.row + 1} 单元格"


# A WPS cell picture is a DISPIMG formula over a part openpyxl does not keep: said, not shown as a formula.
CELL_PICTURE = "［此处是在 WPS 中插入的单元格图片，见原申报表］"


def _defuse(wb: Any) -> None:
    """Nothing active from a submission travels back: formulas become their text, external links go."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formula = str(getattr(cell.value, "text", cell.value))
                    put_text(cell, CELL_PICTURE if "DISPIMG(" in formula.upper() else formula)
    wb._external_links = []


def put_text(cell: Any, value: Any) -> None:
    """Set a cell's value; text a spreadsheet would take for a formula is stored as quoted text. Text is
    made writable: characters XML cannot carry dropped, more than a cell holds cut with "…" (the
    cell_too_long finding says so)."""
    if isinstance(value, str):
        value = cell_text(value)
    cell.value = value
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def cell_text(text: str) -> str:
    """`text` as a cell can hold it: no characters XML 1.0 refuses, at most CELL_LIMIT UTF-16 units."""
    text = clean_text(text)
    units = text.encode("utf-16-le")
    if len(units) <= 2 * CELL_LIMIT:
        return text
    return units[: 2 * (CELL_LIMIT - 1)].decode("utf-16-le", "ignore") + "…"  # never half a surrogate pair


def render_grids(grids: Iterable[Any]) -> Any:
    """An openpyxl Workbook re-creating each grid's values and merged ranges (0-based, inclusive)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    wb = Workbook()
    wb.remove(wb.active)
    wrap = Alignment(wrap_text=True, vertical="top")
    grids = list(grids)
    titles = sheet_titles(g.name for g in grids)
    for grid in grids:
        ws = wb.create_sheet(titles[grid.name])
        widths: dict[int, int] = {}
        for r, row in enumerate(grid.rows[:_SHEET_ROWS]):  # a CSV may go past what a sheet holds
            for c, value in enumerate(row[:_SHEET_COLUMNS]):
                if value is None or value == "":
                    continue
                cell = ws.cell(r + 1, c + 1)
                put_text(cell, value)
                if isinstance(value, str):
                    longest = max(display_width(line) for line in value.splitlines() or [""])
                    widths[c] = max(widths.get(c, 0), longest)
                    if longest > 60 or "\n" in value:
                        cell.alignment = wrap
        for r1, c1, r2, c2 in grid.merged:
            if (r1, c1) != (r2, c2) and r2 < _SHEET_ROWS and c2 < _SHEET_COLUMNS:
                ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
        for c, width in widths.items():
            ws.column_dimensions[col_letter(c)].width = min(60, max(8, width + 2))
    return wb


def _mark_cells(wb: Any, findings: list[Finding], default_sheet: str | None,
                titles: dict[str, str]) -> dict[Finding, str]:
    """Fill and comment every cell a finding names (its sheet by `titles`, the names the sheets have in
    `wb`); returns finding -> the link target it got."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    by_cell: dict[tuple[str, int, int], list[Finding]] = {}
    links: dict[Finding, str] = {}
    for f in findings:
        for ref in f.all_cells:  # a box split into parts: every part's cell is marked
            try:
                sheet, row, col = split_cell_ref(ref)
            except ValueError:
                continue
            sheet = sheet or default_sheet or (wb.sheetnames[0] if wb.sheetnames else None)
            sheet = titles.get(sheet, sheet) if sheet is not None else None
            if sheet is None or sheet not in wb.sheetnames:
                continue
            row, col = _top_left(wb[sheet], row, col)
            by_cell.setdefault((sheet, row, col), []).append(f)
            links.setdefault(f, f"'{sheet.replace(chr(39), chr(39) * 2)}'!{col_letter(col)}{row + 1}")
    for (sheet, row, col), items in by_cell.items():
        cell = wb[sheet].cell(row + 1, col + 1)
        worst = "error" if any(f.severity == "error" for f in items) else "warning"
        cell.fill = PatternFill("solid", fgColor=SEVERITY_FILLS[worst])
        text = "\n".join(f"【{SEVERITY_ZH[f.severity]}】{f.message}" for f in items)
        if cell.comment is not None:
            text = f"{cell.comment.text}\n{text}"
        text = cell_text(text)
        comment = Comment(text, "brandkit")
        comment.width, comment.height = 320, min(400, 40 + 20 * (text.count("\n") + len(text) // 24))
        cell.comment = comment
    return links


def _top_left(ws: Any, row: int, col: int) -> tuple[int, int]:
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= row + 1 <= rng.max_row and rng.min_col <= col + 1 <= rng.max_col:
            return rng.min_row - 1, rng.min_col - 1
    return row, col


def _issues_sheet(wb: Any, sub: Submission, findings: list[Finding], links: dict[Finding, str],
                  checked_at: dt.datetime, notes: Sequence[str] = ()) -> None:
    """The 问题清单: a verdict line, every finding with a link to its cell, then the 说明 rows (what was
    read or skipped, and how: a sheet hidden or skipped, a picture converted), as the terminal shows them."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.worksheet.properties import PageSetupProperties

    name = sheet_titles([ISSUES_SHEET], wb.sheetnames)[ISSUES_SHEET]  # a branch's sheet may be so named
    ws = wb.create_sheet(name, 0)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False
    wb.active = 0
    ws.sheet_view.tabSelected = True
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    when = f"{checked_at.year}年{checked_at.month}月{checked_at.day}日 {checked_at:%H:%M}"
    put_text(ws["A1"], f"文件：{Path(sub.provenance.path).name}　　校验时间：{when}　　"
                       f"结论：{verdict_text(findings)}（错误 {errors} 项，警告 {warnings} 项）")
    ws["A1"].font = Font(bold=True, size=12)
    ws["A2"] = "说明：红色单元格为错误，必须修改后重新提交；黄色单元格为警告，请核实。点击“单元格”一栏可跳到该处。"
    for r in (1, 2):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)
    ws.append(["序号", "严重程度", "字段", "单元格", "规则", "问题说明"])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9E1F2")
    wrap = Alignment(wrap_text=True, vertical="top")
    ordered = sorted(findings, key=lambda f: f.severity != "error")
    widths = (6, 10, 16, 16, 14, 70)
    for n, f in enumerate(ordered, start=1):
        r = 3 + n
        values = [n, SEVERITY_ZH[f.severity], f.field or "", f.cell or "", rule_name(f.rule), f.message]
        for c, value in enumerate(values, start=1):
            put_text(ws.cell(r, c), value)
            ws.cell(r, c).alignment = wrap
        ws.row_dimensions[r].height = wrapped_height(zip(values, widths, strict=True))
        ws.cell(r, 2).fill = PatternFill("solid", fgColor=SEVERITY_FILLS[f.severity])
        if f in links:
            ws.cell(r, 4).hyperlink = Hyperlink(ref=f"D{r}", location=links[f], display=cell_text(f.cell or ""))
            ws.cell(r, 4).font = Font(color="0563C1", underline="single")
    if not findings:
        ws["A4"] = "未发现问题。"
    below = 3 + max(len(ordered), 1) + 1  # a blank row between the findings and the notes
    for n, note in enumerate(notes, start=1):
        r = below + n
        values = ["", NOTE_ROW, "", "", "", note]
        for c, value in enumerate(values, start=1):
            put_text(ws.cell(r, c), value)
            ws.cell(r, c).alignment = wrap
        ws.row_dimensions[r].height = wrapped_height(zip(values, widths, strict=True))
    for letter, width in zip("ABCDEF", widths, strict=True):
        ws.column_dimensions[letter].width = width
    ws["A1"].alignment = ws["A2"].alignment = wrap
    ws.row_dimensions[1].height = wrapped_height([(ws["A1"].value, sum(widths))], size=12)  # bold
    ws.row_dimensions[2].height = wrapped_height([(ws["A2"].value, sum(widths))])
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.oddFooter.center.text = PAGE_FOOTER


# -- the office's summary -----------------------------------------------------------------------















