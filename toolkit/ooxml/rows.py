"""NewRow, NewColumn and RowHeight: rows and columns that look like their neighbours, with column
formulas filled down and the ranges around them (filters, validations, tables, names) grown."""

from __future__ import annotations

import re

from toolkit.core.changeset import NewColumn, NewRow, RowHeight

from .cells import base_style, cell_xml, formula_xml, write_cell
from .context import Context
from .errors import PackageError
from .refs import col_index, grow_defined_name, grow_range_cols, grow_sqref, shift_formula
from .sheet import Sheet
from .tables import Tables
from .xmltools import unesc

_ROW_ATTRS_SKIPPED = ("r", "hidden", "collapsed", "outlineLevel")


def _shared_master(sheet: Sheet, si: str) -> tuple[int, int, str] | None:
    """(row, col, formula) of the cell holding shared formula `si`'s text (the only one with text)."""
    pat = re.compile(rf'<(?:\w+:)?f\b[^>]*\bsi="{re.escape(si)}"[^>]*>([^<]+)</(?:\w+:)?f>')
    for r in sheet.rows.order:
        if f'si="{si}"' not in (sheet.rows.original(r) or ""):
            continue
        row = sheet.rows.row(r)
        for cell in row.cells if row is not None else []:
            m = pat.search(cell.text)
            if m:
                return r, cell.col, unesc(m.group(1))
    return None


def _formula_of(sheet: Sheet, r: int, cell) -> str | None:
    """The formula of `cell` at row r as it would read unshared, or None."""
    found = cell.child("f")
    if found is None:
        return None
    tag, text = found
    if tag.get("t") == "shared":
        if text:
            return unesc(text)
        master = _shared_master(sheet, tag.get("si") or "")
        if master is None:
            return None
        mr, mc, formula = master
        return shift_formula(formula, r - mr, cell.col - mc)
    if tag.get("t") == "dataTable":
        return None
    return unesc(text) if text else None


_AGGREGATE = re.compile(r"\b(?:SUM|SUBTOTAL|COUNTA?|COUNTIFS?|SUMIFS?|AVERAGE)\s*\(", re.I)
_COLUMN_RANGE = re.compile(r"(?<![A-Za-z0-9_.$!])\$?([A-Za-z]{1,3})\$?(\d+):\$?([A-Za-z]{1,3})\$?(\d+)")


def _column_total(sheet: Sheet, r: int) -> str | None:
    """The formula that makes row r a total row, if it is one: a SUM (COUNTA, SUBTOTAL …) in some column
    over that column's rows down to the row above (=SUM(F4:F6) in F7), else None."""
    row = sheet.rows.row(r)
    for cell in row.cells if row is not None and sheet.rows.original(r) is not None else []:
        formula = _formula_of(sheet, r, cell)
        if not formula or not _AGGREGATE.search(formula):
            continue
        for m in _COLUMN_RANGE.finditer(formula):
            c1, r1, c2, r2 = col_index(m.group(1)), int(m.group(2)), col_index(m.group(3)), int(m.group(4))
            if c1 == c2 == cell.col and r1 < r2 == r - 1:
                return formula
    return None


def new_row(ctx: Context, op: NewRow) -> None:
    sheet = ctx.sheet(op.sheet)
    like_r, r = op.like + 1, op.row + 1
    for at in (like_r, r) if r > like_r else ():  # a new row below the total, or on it, leaves the total stale
        total = _column_total(sheet, at)
        if total is not None:
            raise PackageError(f"台账第 {at} 行是合计行（公式 ={total}），brandkit 不能在合计行上方插入新支部的行，写在它下面"
                               "又会落在合计公式的范围之外：请在 Excel 中把合计行移走（剪切到另一张工作表，或删除后在表格外另写"
                               "合计公式），保存后再运行；台账未改动")
    like = sheet.rows.row(like_r)
    row = sheet.rows.touch(r)
    fresh = sheet.rows.original(r) is None
    formulas: set[int] = set()  # the like row's formula columns
    if like is not None:
        if fresh:
            for key, value in like.tag.attrs.items():
                if key not in _ROW_ATTRS_SKIPPED and key not in row.tag.attrs:
                    row.tag.attrs[key] = value
        for cell in like.cells:
            target = row.cell(cell.col)
            formula = _formula_of(sheet, like_r, cell)
            style = cell.style
            keep = target.start() if target is not None else None
            if formula is not None:
                formulas.add(cell.col)
            if formula is not None and (target is None or not target.has_value):
                shifted = shift_formula(formula, r - like_r)
                row.put(cell.col, cell_xml(row, cell.col, style if keep is None else None, None,
                                           formula_xml(row.prefix, shifted), keep))
                ctx.formulas_changed = ctx.values_changed = True
                sheet.note_cell(r, cell.col)
            elif target is None and style:
                row.put(cell.col, cell_xml(row, cell.col, style, None, "", None))
                sheet.note_cell(r, cell.col)
    if op.serial is not None and op.serial[0] + 1 not in formulas:
        write_cell(ctx, sheet, r, op.serial[0] + 1, op.serial[1])
    elif not row.cells:
        sheet.note_cell(r, 1)
    sheet.grow_rows(like_r, r)
    Tables(ctx, sheet).grow_rows(like_r, r)
    _grow_names(ctx, op.sheet, like_r, r)


def _grow_names(ctx: Context, sheet_name: str, like: int, new: int) -> None:
    sheets = ctx.wb.sheets()
    index = next((s.index for s in sheets if s.name == sheet_name), None)
    for el in ctx.wb.defined_names():
        text = el.text or ""
        grown = grow_defined_name(text, sheet_name, like, new)
        if grown != text:
            el.text = grown
            ctx.wb.dirty = True
        elif el.get("localSheetId") == str(index) and "!" not in text:
            grown = grow_sqref(text, like, new)  # unqualified local ranges are rare but legal
            if grown != text:
                el.text, ctx.wb.dirty = grown, True


def new_column(ctx: Context, op: NewColumn) -> None:
    sheet = ctx.sheet(op.sheet)
    c, hr = op.col + 1, op.header_row + 1
    title = Tables(ctx, sheet).grow_cols(hr, c, op.title)
    header = sheet.rows.row(hr)
    # headed like the last formatted header to its left: a column of notes the office typed under no header
    # (plain cells) may stand between the ledger's columns and the new one
    like = next((k for k in range(c - 1, 0, -1) if header is not None and (cell := header.cell(k)) is not None
                 and cell.style), c - 1)
    if c > 1:
        style = base_style(sheet, header, like)
        if style:
            row = sheet.rows.touch(hr)
            if row.cell(c) is None:
                row.put(c, cell_xml(row, c, style, None, "", None))
    write_cell(ctx, sheet, hr, c, title)
    def plain(style: int) -> int:
        return ctx.styles.derive(style, plain=True) if style else style

    if c > 1:
        for r in list(sheet.rows.order):
            if r <= hr:
                continue
            below = sheet.rows.row(r)
            left = below.cell(c - 1) if below is not None else None
            if below is not None and left is not None and left.style and below.cell(c) is None:
                sheet.rows.touch(r).put(c, cell_xml(below, c, plain(left.style), None, "", None))
                sheet.note_cell(r, c)
    sheet.set_col(c, op.width, c - 1 if c > 1 else None, plain)
    sheet.grow_cols(hr, c)
    for el in ctx.wb.defined_names():  # the filter database name follows the auto-filter
        if el.get("name") == "_xlnm._FilterDatabase" and "!" in (el.text or ""):
            head, _, ref = el.text.rpartition("!")
            grown = grow_range_cols(ref.replace("$", ""), hr, c)
            if grown:
                a, _, b = grown.partition(":")
                el.text = f"{head}!{_abs(a)}:{_abs(b or a)}"
                ctx.wb.dirty = True


def _abs(ref: str) -> str:
    m = re.match(r"([A-Z]+)(\d+)", ref)
    return f"${m.group(1)}${m.group(2)}" if m else ref


def row_height(ctx: Context, op: RowHeight) -> None:
    sheet = ctx.sheet(op.sheet)
    row = sheet.rows.touch(op.row + 1)
    row.tag.set("ht", f"{op.points:g}")
    row.tag.set("customHeight", "1")
    if not row.cells:
        sheet.note_cell(op.row + 1, 1)

