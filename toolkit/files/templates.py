"""The branch application form (申报表) for a campaign, laid out as a real notice lays it out.

`form_layout` is pure: it places every label, value block, picture box, signature block and table of a
profile on a 4-column grid (more when a table needs more columns). `build_form` renders that layout with
openpyxl: bordered grid, input hints, drop-downs, locked labels, print setup, and a hidden `_brandkit`
sheet that records the profile, the template version and where each field's value goes.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from toolkit.core.model import a1, col_letter, parse_a1
from toolkit.core.printlayout import (
    A4_PT,
    column_units,
    label_lines,
    line_pt,
    page_breaks,
    print_scale,
    text_units,
    wrapped_lines,
)
from toolkit.core.profile import FieldSpec, Profile
from toolkit.core.text import normalize_label

FORM_SHEET = "申报表"
META_SHEET = "_brandkit"
TABLE_ROWS = 10
IMAGE_ROWS = 6
IMAGE_HINT = "请在此单元格插入品牌标识图片（png/jpg）"
TITLE_FONT = "黑体"  # 方正小标宋 is rarely installed; Excel/WPS would fall back to the default font
BODY_FONT = "仿宋"  # 仿宋_GB2312 is missing on current Windows; 仿宋 is everywhere
NOTE = "注：请勿修改栏目名称和表格结构；填写后请以 Excel/WPS 表格原文件报送，不要转换为 PDF 或图片。"

NOTE_PT = 10.0  # the 填报说明 and the closing note
MARGIN_LR_IN, MARGIN_TB_IN = 0.6, 0.75

# Column widths (Excel character units) of the 4-column grid; ~84 units fit A4 portrait at 12pt.
_WIDTHS_4 = (16.0, 26.0, 16.0, 26.0)
_GRID_WIDTH = sum(_WIDTHS_4)
_LABEL_MAX = 24.0  # a label column wider than this would squeeze the answers; longer lines wrap
_ROW_PT = 36.0  # one-line answers
_SIGN_PT = 24.0  # a signature box's foot line (签字（盖章）：, 年 月 日)
_SIGN_ROOM = "　" * 8
_CELL_PAD_PT = 6.0  # a cell's top and bottom margins
_PAGE_SLACK = 0.97
_SQUEEZE = (1.0, 0.85, 0.7, 0.55, 0.4, 0.0)
MAX_PAGES = 2  # row heights are rounded to whole pixels on screen and in print
_BLOCK_ROW_MAX_PT = 80.0  # long blocks are split into rows of at most this, so pages can break
_LONG_MAX_PT = 240.0  # a 2000-字 box would be 1.5 pages; notices print a third of a page
_WIDE_SHORT = 20  # a short field allowing more characters than this takes a whole row

Role = Literal["title", "label", "value", "image", "opinion", "sign", "date", "section", "header", "cell", "note"]


@dataclass(frozen=True)
class Box:
    """One cell or merged range of the form (0-based, inclusive)."""

    role: Role
    r1: int
    c1: int
    r2: int
    c2: int
    text: str = ""
    spec: FieldSpec | None = None

    @property
    def ref(self) -> str:
        return a1(self.r1, self.c1)

    @property
    def merged(self) -> bool:
        return (self.r1, self.c1) != (self.r2, self.c2)

    @property
    def locked(self) -> bool:
        return self.role in ("title", "label", "section", "header", "note")


@dataclass(frozen=True)
class FormLayout:
    widths: tuple[float, ...]
    boxes: tuple[Box, ...]
    heights: dict[int, float]
    fields: dict[str, str]  # field name -> A1 of its value cell
    tables: dict[str, dict[str, str]]  # table name -> column name -> A1 of its first data cell
    last_row: int
    blocks: tuple[tuple[int, int], ...]  # rows (first, last) a page break must not cut
    breaks: tuple[int, ...]  # rows after which a manual page break goes
    scale: int  # print scale, %

    @property
    def pages(self) -> list[tuple[int, int]]:
        """(first, last) row of each printed page."""
        starts = [0, *[b + 1 for b in self.breaks]]
        return list(zip(starts, [*[b for b in self.breaks], self.last_row], strict=True))


def input_hint(spec: FieldSpec) -> str:
    """The input message shown when the value cell is selected (Excel caps it at 255 characters)."""
    if spec.type in ("integer", "number"):
        kind = "整数" if spec.type == "integer" else "数字"
        bounds = [f"不小于 {spec.min:g}" if spec.min is not None else "",
                  f"不大于 {spec.max:g}" if spec.max is not None else ""]
        hint = "，".join([kind, *[b for b in bounds if b]])
    elif spec.type == "phone":
        hint = "手机号或带区号的座机，如 13912345678 或 0471-1234567"
    elif spec.type == "email":
        hint = "电子邮箱地址"
    elif spec.type == "date":
        hint = "日期，如 2024年7月11日"
    elif spec.type == "enum":
        hint = "请从下拉列表中选择：" + "、".join(spec.choices)
    elif spec.type == "signature":
        hint = "填写意见；纸质版由负责人签字并注明日期"
    else:
        limits = [f"不少于 {spec.min_chars} 字" if spec.min_chars else "",
                  f"不超过 {spec.max_chars} 字" if spec.max_chars else ""]
        hint = "，".join(b for b in limits if b) or "请填写"
    if spec.hint:
        hint = f"{hint}。{spec.hint}"
    return hint[:255]


def _spans(n: int, ncols: int) -> list[tuple[int, int]]:
    """Spread n table columns over ncols grid columns: (first, last) grid column of each."""
    base, extra = divmod(ncols, n)
    spans, c = [], 0
    for i in range(n):
        width = base + (1 if i >= n - extra else 0)  # wider columns last: text columns end tables
        spans.append((c, c + width - 1))
        c += width
    return spans


def _widths(ncols: int, labels: dict[int, float]) -> tuple[float, ...]:
    """The grid's widths: label columns wide enough for their longest label line (`labels`: column ->
    units needed), the other columns sharing the rest of the page."""
    base = list(_WIDTHS_4) if ncols == 4 else [max(10.0, round(_GRID_WIDTH / ncols, 1))] * ncols
    fixed = {c: round(min(_LABEL_MAX, max(base[c], need)), 1) for c, need in labels.items() if c < ncols}
    rest = [c for c in range(ncols) if c not in fixed]
    room = max(_GRID_WIDTH, sum(base)) - sum(fixed.values())
    share = sum(base[c] for c in rest)
    return tuple(fixed[c] if c in fixed else round(base[c] * room / share, 1) for c in range(ncols))


def _block_rows(total_pt: float) -> list[float]:
    n = max(1, math.ceil(total_pt / _BLOCK_ROW_MAX_PT))
    return [round(total_pt / n, 1)] * n


def _long_height(spec: FieldSpec, width_units: float) -> float:
    per_line = max(1, int((width_units - 1.5) / text_units("字")))
    lines = math.ceil((spec.max_chars or 300) / per_line) + 1
    return min(_LONG_MAX_PT, max(4 * line_pt(), lines * line_pt()))


def _is_short(spec: FieldSpec) -> bool:
    return spec.type not in ("image", "signature") and not spec.long


def form_rows(profile: Profile) -> list[tuple[FieldSpec, ...]]:
    """The form's rows of one or two fields: the notice's own (`form_rows`: a field its printed form
    lacks is not printed either), else every field, two short ones sharing a row where both fit."""
    if profile.form_rows:  # the printed form's own rows, and only those
        return [tuple(f for name in row if (f := profile.field(name))) for row in profile.form_rows]
    rows: list[tuple[FieldSpec, ...]] = []
    rest = list(profile.fields)
    i = 0
    while i < len(rest):
        spec, pair = rest[i], rest[i + 1] if i + 1 < len(rest) else None
        if (pair is not None and _is_short(spec) and _is_short(pair)
                and (spec.max_chars or 0) <= _WIDE_SHORT and (pair.max_chars or 0) <= _WIDE_SHORT):
            rows.append((spec, pair))
            i += 2
        else:
            rows.append((spec,))
            i += 1
    return rows


def instructions(profile: Profile) -> str:
    """The 填报说明 line under the title: the deadline and where the form goes, in the notice's words."""
    due = profile.submission_stage.due
    parts = [f"请于{due.year}年{due.month}月{due.day}日前填报" if due else "",
             profile.submit_to, "栏目名称请勿修改", *[n.rstrip("。") for n in profile.notes]]
    return "填报说明：" + "；".join(p for p in parts if p) + "。"


def label_text(spec: FieldSpec) -> str:
    """The label cell's text: the notice's words, one line per printed line (see `label_lines`)."""
    return "\n".join(label_lines(spec.form_label))


def _label_pt(spec: FieldSpec) -> float:
    return len(label_lines(spec.form_label)) * line_pt() + _CELL_PAD_PT


def _grow(pts: list[float], need: float) -> list[float]:
    """Row heights `pts` stretched evenly so that together they are at least `need`."""
    total = sum(pts)
    return pts if total >= need else [round(p * need / total, 1) for p in pts]


def form_layout(profile: Profile) -> FormLayout:
    """Place every part of the form and plan its pages: on at most `MAX_PAGES` where shrinking the long
    boxes (to four lines at the least) gets it there. Pure: the same profile always gives the same layout."""
    layouts = (_place(profile, squeeze) for squeeze in _SQUEEZE)
    fit = next((layout for layout in layouts if len(layout.pages) <= MAX_PAGES), None)
    return fit or _place(profile, 1.0)  # too much for two pages: the boxes keep their full room


def _place(profile: Profile, squeeze: float) -> FormLayout:
    """The layout with the long boxes' writing room scaled by `squeeze`."""
    rows_of_form = form_rows(profile)
    ncols = max([4, *[len(t.columns) for t in profile.tables]])
    needs: dict[int, float] = {0: 0.0, 2: 0.0}
    for specs in rows_of_form:
        for c, spec in zip((0, 2), specs, strict=False):
            needs[c] = max(needs[c], column_units(label_lines(spec.form_label)))
    widths = _widths(ncols, needs)
    last = ncols - 1
    note = instructions(profile)
    boxes: list[Box] = [Box("title", 0, 0, 0, last, profile.form_title),
                        Box("note", 1, 0, 1, last, note)]
    heights: dict[int, float] = {0: 40.0, 1: _note_pt(note, sum(widths))}
    blocks: list[tuple[int, int]] = [(0, 1)]
    fields: dict[str, str] = {}
    row = 2

    def add(box: Box) -> None:
        boxes.append(box)
        if box.spec is not None and box.role in ("value", "image", "opinion"):
            fields[box.spec.name] = box.ref

    def rows_of(pts: list[float], keep: bool = True) -> tuple[int, int]:
        nonlocal row
        first = row
        for pt in pts:
            heights[row] = pt
            row += 1
        if keep:
            blocks.append((first, row - 1))
        return first, row - 1

    def label(r1: int, c: int, r2: int, spec: FieldSpec) -> None:
        add(Box("label", r1, c, r2, c, label_text(spec), spec))

    def value_role(spec: FieldSpec) -> Role:
        return "image" if spec.type == "image" else "value"

    for specs in rows_of_form:
        spec = specs[0]
        need = max(_label_pt(f) for f in specs)
        if len(specs) == 2:
            pair = specs[1]
            tall = any(f.type == "image" or f.long for f in specs)
            r1, r2 = rows_of(_grow([30.0] * IMAGE_ROWS if tall else [_ROW_PT], need))
            label(r1, 0, r2, spec)
            add(Box(value_role(spec), r1, 1, r2, 1, spec=spec))
            label(r1, 2, r2, pair)
            add(Box(value_role(pair), r1, 3, r2, last, spec=pair))
        elif spec.type == "image":
            r1, r2 = rows_of(_grow([30.0] * IMAGE_ROWS, need))
            label(r1, 0, r2, spec)
            add(Box("image", r1, 1, r2, last, spec=spec))
        elif spec.type == "signature":  # the opinion, then the notice's own foot lines
            r1, r2 = rows_of(_grow([30.0, 30.0], need - _SIGN_PT * len(spec.sign)) + [_SIGN_PT] * len(spec.sign))
            label(r1, 0, r2, spec)
            add(Box("opinion" if spec.sign else "value", r1, 1, r2 - len(spec.sign), last, spec=spec))
            for n, text in enumerate(spec.sign, start=r2 - len(spec.sign) + 1):  # room to sign after a colon
                add(Box("date" if n == r2 else "sign", n, 1, n, last, text + _SIGN_ROOM * text.endswith("：")))
        elif _is_short(spec):
            r, _ = rows_of(_grow([_ROW_PT], need))
            label(r, 0, r, spec)
            add(Box("value", r, 1, r, last, spec=spec))
        else:  # long free text
            room = max(4 * line_pt(), squeeze * _long_height(spec, sum(widths[1:])))
            r1, r2 = rows_of(_block_rows(max(need, room)))
            label(r1, 0, r2, spec)
            add(Box("value", r1, 1, r2, last, spec=spec))

    tables: dict[str, dict[str, str]] = {}
    for table in profile.tables:
        spans = _spans(len(table.columns), ncols)
        header_pt = max(_ROW_PT, *[wrapped_lines(label_text(col), sum(widths[c1:c2 + 1])) * line_pt() + _CELL_PAD_PT
                                   for col, (c1, c2) in zip(table.columns, spans, strict=True)])
        r, _ = rows_of([_ROW_PT], keep=False)
        boxes.append(Box("section", r, 0, r, last, table.name))
        header, _ = rows_of([header_pt], keep=False)
        first, end = rows_of([_ROW_PT], keep=False)
        blocks.append((r, first))  # a table's title and header stay with its first row
        for _ in range(TABLE_ROWS - 1):
            _, end = rows_of([_ROW_PT])
        tables[table.name] = {}
        for col, (c1, c2) in zip(table.columns, spans, strict=True):
            boxes.append(Box("header", header, c1, header, c2, label_text(col), col))
            tables[table.name][col.name] = a1(first, c1)
            boxes.extend(Box("cell", rr, c1, rr, c2, spec=col) for rr in range(first, end + 1))

    r, _ = rows_of([_note_pt(NOTE, sum(widths))])
    boxes.append(Box("note", r, 0, r, last, NOTE))
    scale = print_scale(widths, MARGIN_LR_IN * 72)
    page = (A4_PT[1] - 2 * MARGIN_TB_IN * 72) * 100 / scale * _PAGE_SLACK
    heights_list = [heights[i] for i in range(r + 1)]
    breaks = page_breaks(heights_list, blocks, page, repeat_pt=heights[0])
    return FormLayout(widths, tuple(boxes), heights, fields, tables, r, tuple(blocks), tuple(breaks), scale)


def _note_pt(text: str, width_units: float) -> float:
    return wrapped_lines(text, width_units, NOTE_PT) * line_pt(NOTE_PT) + 2 * _CELL_PAD_PT


def template_field_cells(profile: Profile) -> dict[str, str]:
    """Field name -> A1 of its value cell on the 申报表 sheet (the map the hidden sheet holds)."""
    return dict(form_layout(profile).fields)


def template_sign_cells(profile: Profile) -> dict[str, str]:
    """Field name -> A1 of the signature foot line that names it ("支部书记签字："): its value is written
    after that line's colon."""
    labels = {normalize_label(label): f.name for f in profile.fields for label in f.all_labels}
    return {labels[key]: box.ref for box in form_layout(profile).boxes
            if box.role in ("sign", "date") and (key := normalize_label(box.text)) in labels}


def template_table_cells(profile: Profile) -> dict[str, dict[str, str]]:
    """Table name -> column name -> A1 of the column's first data cell."""
    return {k: dict(v) for k, v in form_layout(profile).tables.items()}


# -- the hidden _brandkit sheet ------------------------------------------------------------------

@dataclass(frozen=True)
class TemplateMeta:
    profile: str
    template_version: int
    fields: dict[str, str]
    tables: dict[str, dict[str, str]]


def meta_rows(profile: Profile, layout: FormLayout) -> list[list[str | int]]:
    from toolkit import __version__

    rows: list[list[str | int]] = [
        ["profile", profile.id], ["template_version", profile.template_version],
        ["form_sheet", FORM_SHEET], ["brandkit", __version__], ["field", "cell"]]
    rows += [[name, ref] for name, ref in layout.fields.items()]
    rows.append(["table", "column", "cell"])
    rows += [[t, c, ref] for t, cols in layout.tables.items() for c, ref in cols.items()]
    return rows


def parse_meta(rows: list[list[Any]]) -> TemplateMeta | None:
    """Read a `_brandkit` sheet's rows back; None when they are not a brandkit template's."""
    head = {str(r[0]): r[1] for r in rows if len(r) >= 2 and r[0] is not None}
    if "profile" not in head or "template_version" not in head:
        return None
    fields: dict[str, str] = {}
    tables: dict[str, dict[str, str]] = {}
    section = ""
    for r in rows:
        cells = [str(v) if v is not None else "" for v in r] + ["", "", ""]
        if cells[0] in ("field", "table") and cells[1] in ("cell", "column"):
            section = cells[0]
        elif section == "field" and cells[0] and _is_a1(cells[1]):
            fields[cells[0]] = cells[1]
        elif section == "table" and cells[0] and _is_a1(cells[2]):
            tables.setdefault(cells[0], {})[cells[1]] = cells[2]
    try:
        version = int(float(head["template_version"]))
    except (TypeError, ValueError):
        return None
    return TemplateMeta(str(head["profile"]), version, fields, tables)


def _is_a1(text: str) -> bool:
    try:
        parse_a1(text)
    except ValueError:
        return False
    return True


# -- rendering (openpyxl) ---------------------------------------------------------------------------

def build_form(profile: Profile) -> bytes:
    """The 申报表 workbook for `profile`, as .xlsx bytes."""
    from openpyxl import Workbook

    layout = form_layout(profile)
    wb = Workbook()
    ws = wb.active
    ws.title = FORM_SHEET
    meta = wb.create_sheet(META_SHEET)
    for r in meta_rows(profile, layout):
        meta.append(r)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    _render(ws, layout)
    _add_validations(ws, layout)
    _protect_and_print(ws, layout)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_form(profile: Profile, path: Path) -> Path:
    """Write the form to `path` (atomically: a half-written template is worse than none)."""
    from toolkit.files.atomic import write_atomic

    return write_atomic(Path(path), build_form(profile))


def _render(ws: Any, layout: FormLayout) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    # Signature lines sit inside the opinion box: only its outer sides are drawn.
    sides = {"opinion": Border(left=thin, right=thin, top=thin), "sign": Border(left=thin, right=thin),
             "date": Border(left=thin, right=thin, bottom=thin)}
    body = Font(name=BODY_FONT, size=12)
    styles = {
        "title": (Font(name=TITLE_FONT, size=16, bold=True), Alignment(horizontal="center", vertical="center")),
        "label": (Font(name=BODY_FONT, size=12, bold=True),
                  Alignment(horizontal="center", vertical="center", wrap_text=True)),
        "section": (Font(name=BODY_FONT, size=12, bold=True), Alignment(horizontal="left", vertical="center")),
        "header": (Font(name=BODY_FONT, size=12, bold=True),
                   Alignment(horizontal="center", vertical="center", wrap_text=True)),
        "value": (body, Alignment(horizontal="left", vertical="top", wrap_text=True)),
        "opinion": (body, Alignment(horizontal="left", vertical="top", wrap_text=True)),
        "image": (body, Alignment(horizontal="center", vertical="center")),
        "cell": (body, Alignment(horizontal="left", vertical="center", wrap_text=True)),
        "sign": (body, Alignment(horizontal="right", vertical="center")),
        "date": (body, Alignment(horizontal="right", vertical="center")),
        "note": (Font(name=BODY_FONT, size=NOTE_PT), Alignment(horizontal="left", vertical="center", wrap_text=True)),
    }
    label_fill = PatternFill("solid", fgColor="F2F2F2")
    for i, width in enumerate(layout.widths):
        ws.column_dimensions[col_letter(i)].width = width
    for r, pt in layout.heights.items():
        ws.row_dimensions[r + 1].height = pt
    for box in layout.boxes:
        if box.merged:
            ws.merge_cells(start_row=box.r1 + 1, start_column=box.c1 + 1,
                           end_row=box.r2 + 1, end_column=box.c2 + 1)
        font, align = styles[box.role]
        if box.role == "value" and box.r1 == box.r2:  # one-line answers sit mid-row, like the labels
            align = styles["cell"][1]
        border = None if box.role in ("title", "note") else sides.get(box.role, grid)
        for r in range(box.r1, box.r2 + 1):
            for c in range(box.c1, box.c2 + 1):
                cell = ws.cell(r + 1, c + 1)
                cell.protection = Protection(locked=box.locked)
                if border is not None:
                    cell.border = border
        cell = ws.cell(box.r1 + 1, box.c1 + 1)
        cell.font, cell.alignment = font, align
        if box.role in ("label", "header"):
            cell.fill = label_fill
        if box.text:
            cell.value = box.text
        if box.role == "image":
            comment = Comment(IMAGE_HINT, "brandkit")
            comment.width, comment.height = 260, 60
            cell.comment = comment


def _list_formula(choices: tuple[str, ...]) -> str | None:
    """Inline list for a drop-down, or None when Excel's 255-character limit or a comma forbids it."""
    if any("," in c for c in choices):
        return None
    text = ",".join(c.replace('"', '""') for c in choices)
    return f'"{text}"' if len(text) <= 255 else None


def _add_validations(ws: Any, layout: FormLayout) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    by_spec: dict[int, tuple[FieldSpec, list[str]]] = {}
    for box in layout.boxes:
        if box.role in ("value", "opinion", "cell") and box.spec is not None:
            by_spec.setdefault(id(box.spec), (box.spec, []))[1].append(box.ref)
    choice_col = 0
    for spec, refs in by_spec.values():
        kwargs: dict[str, Any] = {"allow_blank": True, "errorStyle": "warning"}
        if spec.type == "enum":
            formula = _list_formula(spec.choices)
            if formula is None:  # long or comma-bearing choices live in the hidden sheet
                choice_col += 1
                letter = col_letter(3 + choice_col)
                for n, choice in enumerate(spec.choices, start=1):
                    ws.parent[META_SHEET][f"{letter}{n}"] = choice
                formula = f"'{META_SHEET}'!${letter}$1:${letter}${len(spec.choices)}"
            # "其他（注明）" needs free text after the choice, so only a warning there.
            strict = not any("其他" in c for c in spec.choices)
            kwargs.update(type="list", formula1=formula, errorStyle="stop" if strict else "warning",
                          error="请从下拉列表中选择", errorTitle=spec.name[:32], showErrorMessage=True)
        elif spec.type == "integer":
            kwargs.update(type="whole", operator="between", formula1=str(int(spec.min or 0)),
                          formula2=str(int(spec.max if spec.max is not None else 10**9)),
                          error=input_hint(spec), errorTitle=spec.name[:32], showErrorMessage=True)
        dv = DataValidation(prompt=input_hint(spec), promptTitle=spec.name[:32], showInputMessage=True,
                            **kwargs)
        for ref in refs:
            dv.add(ref)
        ws.add_data_validation(dv)


def _protect_and_print(ws: Any, layout: FormLayout) -> None:
    from openpyxl.worksheet.pagebreak import Break

    p = ws.protection
    p.sheet = True  # no password: a branch may unprotect if it must, but won't type over labels by accident
    p.formatCells = p.formatRows = p.formatColumns = False  # False = allowed
    p.insertRows = False
    p.objects = False  # pictures can be inserted and moved
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    # A fixed scale, not fit-to-page: Excel ignores manual page breaks under fit-to-page, and the breaks
    # are what keeps every box whole on one page.
    ws.page_setup.scale = layout.scale
    ws.page_margins.left = ws.page_margins.right = MARGIN_LR_IN
    ws.page_margins.top = ws.page_margins.bottom = MARGIN_TB_IN
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{a1(layout.last_row, len(layout.widths) - 1)}"
    for row in layout.breaks:
        ws.row_breaks.append(Break(id=row + 1))
    ws.sheet_view.showGridLines = False
