"""Writing one value into one cell: the value's XML, its type attribute and the derived style."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from itertools import pairwise

from toolkit.core.changeset import CellValue
from toolkit.core.model import col_letter

from .context import Context
from .errors import PackageError
from .refs import column_letters
from .sheet import Sheet
from .sheetdata import Row, style_of
from .strings import t_element
from .xmltools import StartTag, clean_text, esc

_EPOCH = dt.datetime(1899, 12, 30)
_INJECTION = ("=", "+", "-", "@", "\t", "\r")
CellWriteArgs = tuple[int, CellValue, str | None, str | int | None]  # col (1-based), value, fill, format
_DROPPED = ("t", "cm", "vm")  # type, dynamic-array and rich-value metadata belong to the old content


def excel_serial(value: dt.date | dt.datetime) -> float | int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        delta = value - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    return (value - _EPOCH.date()).days


def base_style(sheet: Sheet, row: Row | None, col: int) -> int:
    """Style a cell has now: its own, else its row's (customFormat), else its column's."""
    cell = row.cell(col) if row else None
    if cell is not None:
        return cell.style
    if row is not None and row.tag.get("customFormat") in ("1", "true") and (s := row.tag.get("s") or "").isdigit():
        return int(s)
    return sheet.column_style(col)


def cell_xml(row: Row, col: int, style: int | None, t: str | None, body: str, keep: StartTag | None) -> str:
    """<c> text with `keep`'s other attributes (ph, custom ones) carried over."""
    if keep is None:  # a new cell: formatted directly, attributes in the order the tag path gives them
        c = f"{row.prefix}c"
        attrs = f' r="{row.ref(col)}"' + (f' s="{style}"' if style else "") + (f' t="{t}"' if t else "")
        return f"<{c}{attrs}>{body}</{c}>" if body else f"<{c}{attrs}/>"
    tag = keep
    for key in _DROPPED:
        tag.attrs.pop(key, None)
    tag.set("r", row.ref(col))
    if style or (style == 0 and tag.get("s") is not None):
        tag.set("s", str(style))
    tag.set("t", t)
    if not body:
        return tag.text(empty=True)
    return f"{tag.text(empty=False)}{body}</{tag.name}>"


def write_cell(ctx: Context, sheet: Sheet, r: int, col: int, value: CellValue, fill: str | None = None,
               number_format: str | int | None = None) -> None:
    """Write `value` at 1-based (r, col); strings stay text (quote prefix), dates get a date format."""
    write_cells(ctx, sheet, r, [(col, value, fill, number_format)])


def write_cells(ctx: Context, sheet: Sheet, r: int, writes: Sequence[CellWriteArgs]) -> None:
    """Write (col, value, fill, number_format) items into 1-based row `r`, in order (a later write to the
    same cell wins): the row is taken once, its cells edited in place. A row the sheet does not have yet,
    its columns in order, is written whole: one piece of XML, each cell new in its column's format."""
    if not writes:
        return
    if sheet.rows.row(r) is None and all(a[0] < b[0] for a, b in pairwise(writes)):
        sheet.rows.add(r, [_new_cell(ctx, sheet, r, *w) for w in writes])
        sheet.note_cell(r, writes[0][0], writes[-1][0])
    else:
        row = sheet.rows.touch(r)
        for col, value, fill, number_format in writes:
            row.put(col, _cell_xml(ctx, sheet, row, col, value, fill, number_format))
            sheet.note_cell(r, col)
    ctx.values_changed = True


def _new_cell(ctx: Context, sheet: Sheet, r: int, col: int, value: CellValue, fill: str | None,
              number_format: str | int | None) -> str:
    """The <c> text of a new cell at (r, col) of a new row: everything after its reference is the same
    for the same text in the same column, and made once."""
    key = (sheet.part, col, value, fill, number_format) if isinstance(value, str) else None
    if key is None or (known := ctx.new_cells.get(key)) is None:
        style, t, body = _content(ctx, sheet, r, col, value, sheet.column_style(col), fill, number_format)
        attrs = (f' s="{style}"' if style else "") + (f' t="{t}"' if t else "")
        known = (f"{attrs}>{body}</{sheet.prefix}c>" if body else f"{attrs}/>", t == "s")
        if key is not None:
            ctx.new_cells[key] = known
    ctx.sst_refs += known[1]
    return f'<{sheet.prefix}c r="{column_letters(col)}{r}"{known[0]}'


def _cell_xml(ctx: Context, sheet: Sheet, row: Row, col: int, value: CellValue, fill: str | None,
              number_format: str | int | None) -> str:
    """The <c> text for `value` at `col` of `row`, derived from the cell that is there now."""
    old = row.cell(col)
    keep = None
    if old is not None:
        keep = old.start()
        ctx.formulas_changed |= old.has_children and old.child("f") is not None
        ctx.sst_refs -= keep.get("t") == "s"  # its shared-string reference goes away
    base = style_of(keep) if keep is not None else base_style(sheet, row, col)
    style, t, body = _encoded(ctx, sheet, row, col, value, base, fill, number_format)
    return cell_xml(row, col, style if (style or keep) else None, t, body, keep)


def _encoded(ctx: Context, sheet: Sheet, row: Row, col: int, value: CellValue, base: int, fill: str | None,
             number_format: str | int | None) -> tuple[int, str | None, str]:
    """_content, a text's remembered: the same text in the same format is encoded once (a log repeats
    most of its values); every cell that refers to a shared string is counted."""
    if isinstance(value, str):
        key = (value, base, fill, number_format, row.prefix)
        if (known := ctx.texts.get(key)) is None:
            known = ctx.texts[key] = _content(ctx, sheet, row.r, col, value, base, fill, number_format)
    else:
        known = _content(ctx, sheet, row.r, col, value, base, fill, number_format)
    ctx.sst_refs += known[1] == "s"
    return known


def _content(ctx: Context, sheet: Sheet, r: int, col: int, value: CellValue, base: int, fill: str | None,
             number_format: str | int | None) -> tuple[int, str | None, str]:
    """(style, type attribute, inner XML) of `value` at 1-based (r, col) in a cell whose format is `base`."""
    p = sheet.prefix
    quote, t, body = False, None, ""
    if isinstance(value, str):
        value = clean_text(value)
    if value is None or value == "":
        pass
    elif isinstance(value, str):
        quote = value.startswith(_INJECTION)
        if ctx.strings is not None:
            t, body = "s", f"<{p}v>{ctx.strings.add(value)}</{p}v>"
        else:
            t, body = "inlineStr", f"<{p}is>{t_element(value, p)}</{p}is>"
    elif isinstance(value, bool):
        t, body = "b", f"<{p}v>{int(value)}</{p}v>"
    elif isinstance(value, dt.date):
        serial = excel_serial(value)
        body = f"<{p}v>{serial!r}</{p}v>" if isinstance(serial, float) else f"<{p}v>{serial}</{p}v>"
        if number_format is None and not ctx.styles.is_date(base):
            has_time = isinstance(value, dt.datetime) and value.time() != dt.time()
            number_format = 22 if has_time else 14
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise PackageError(f"单元格 {sheet.part}!{col_letter(col - 1)}{r} 的值 {value} 不是有效数字，无法写入")
        body = f"<{p}v>{value!r}</{p}v>" if isinstance(value, float) else f"<{p}v>{value}</{p}v>"
    else:
        raise PackageError(f"单元格 {col_letter(col - 1)}{r} 的值类型 {type(value).__name__} 无法写入工作表")
    style = base
    if quote or fill or number_format is not None:
        style = ctx.styles.derive(base, fill=fill, number_format=number_format, quote=quote)
    return style, t, body


def formula_xml(prefix: str, formula: str) -> str:
    return f"<{prefix}f>{esc(formula)}</{prefix}f>"
