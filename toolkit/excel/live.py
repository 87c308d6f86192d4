"""The live backend: apply a ChangeSet through an xlwings Book, i.e. into the workbook open in Excel.

It does what the file backend (toolkit.ooxml) does to a package, with the calls both xlwings engines
know: Excel itself (COM/AppleScript, when a button was clicked) and the remote engine the tests drive.
Rows and columns in the ChangeSet are 0-based; xlwings is 1-based.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from toolkit.core.changeset import (
    CellValue,
    CellWrite,
    ChangeSet,
    NewColumn,
    NewRow,
    NewSheet,
    PicturePlacement,
)

HEADER_FILL = "#DDEBF7"  # as a new sheet's header in the file backend and xlsxwriter masters
PX_TO_PT = 0.75  # 96 dpi pixels to points
FORMULA_START = ("=", "+", "-", "@")


def apply_live(book: Any, changes: ChangeSet) -> None:
    """Apply `changes` to the open workbook `book` (an xlwings Book), in the ChangeSet's order."""
    for sheet in changes.new_sheets:
        _new_sheet(book, sheet)
    for column in changes.new_columns:
        _new_column(book.sheets[column.sheet], column)
    for row in changes.new_rows:
        _new_row(book.sheets[row.sheet], row)
    for name, r, c, values in _runs(changes.writes):
        book.sheets[name].range((r + 1, c + 1)).value = [values]
    for w in changes.writes:
        cell = book.sheets[w.sheet].range((w.row + 1, w.col + 1))
        if w.fill:
            cell.color = "#" + w.fill.lstrip("#")
        if w.number_format:
            cell.number_format = w.number_format
    for h in changes.row_heights:
        book.sheets[h.sheet].range((h.row + 1, 1)).row_height = h.points
    for picture in changes.pictures:
        _picture(book.sheets[picture.sheet], picture)


def as_text_safe(value: CellValue) -> CellValue:
    """Strings are stored as text, never as formulas: Excel keeps a leading apostrophe as a text mark."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _runs(writes: list[CellWrite]) -> Iterator[tuple[str, int, int, list[CellValue]]]:
    """Writes grouped into runs of adjacent cells in one row: one call to Excel per run, not per cell."""
    run: list[CellWrite] = []
    for w in sorted(writes, key=lambda w: (w.sheet, w.row, w.col)):
        if run and (w.sheet, w.row, w.col) != (run[-1].sheet, run[-1].row, run[-1].col + 1):
            yield run[0].sheet, run[0].row, run[0].col, [as_text_safe(x.value) for x in run]
            run = []
        if run and w.col == run[-1].col:
            run[-1] = w  # the later write to the same cell wins, as in the file backend
        else:
            run.append(w)
    if run:
        yield run[0].sheet, run[0].row, run[0].col, [as_text_safe(x.value) for x in run]


def _new_sheet(book: Any, spec: NewSheet) -> None:
    sheet = book.sheets.add(spec.name, after=book.sheets[len(book.sheets) - 1])
    width = max((len(r) for r in spec.rows), default=0)
    if width:
        rows = [[as_text_safe(v) for v in r] + [None] * (width - len(r)) for r in spec.rows]
        sheet.range((1, 1)).value = rows
        header = sheet.range((1, 1), (1, width))
        header.font.bold = True
        header.color = HEADER_FILL
    for c, w in enumerate(spec.widths):
        sheet.range((1, c + 1)).column_width = w
    if spec.hidden:
        sheet.visible = False
    if spec.protected:
        _protect(sheet)


def _protect(sheet: Any) -> None:
    """Sheet protection without a password where the engine offers it (Excel, through its object model);
    the remote engine has no such call, and the sheet stays hidden there all the same."""
    try:
        sheet.api.Protect()
    except (AttributeError, NotImplementedError):
        pass


def _alt_text(picture: Any, text: str) -> None:
    """The picture's alternative text, where the engine offers Excel's object model (not the remote one)."""
    try:
        picture.api.ShapeRange.AlternativeText = text
    except (AttributeError, NotImplementedError):
        pass


def _last_row(sheet: Any) -> int:
    return sheet.used_range.last_cell.row


def _new_column(sheet: Any, spec: NewColumn) -> None:
    """Header and body formatted like the column to the left; the body stays empty."""
    row, col = spec.header_row + 1, spec.col + 1
    if col > 1:
        last = max(_last_row(sheet), row)
        source = sheet.range((row, col - 1), (last, col - 1))
        target = sheet.range((row, col), (last, col))
        source.copy(target)
        target.clear_contents()
    sheet.range((row, col)).value = as_text_safe(spec.title)
    if spec.width:
        sheet.range((row, col)).column_width = spec.width


def _new_row(sheet: Any, spec: NewRow) -> None:
    """Row `row` formatted like row `like`, with the like row's formulas filled down (Excel shifts their
    relative references on copy) and its constants cleared."""
    width = sheet.used_range.last_cell.column
    source = sheet.range((spec.like + 1, 1), (spec.like + 1, width))
    target = sheet.range((spec.row + 1, 1), (spec.row + 1, width))
    source.copy(target)
    formulas = _readable(lambda: source.formula)
    row: list[Any] | tuple[Any, ...] = []
    if formulas is None:  # an engine that cannot read formulas back: keep formats only
        target.clear_contents()
    else:
        row = formulas[0] if isinstance(formulas[0], tuple | list) else formulas
        for first, last in _constant_spans(row):
            sheet.range((spec.row + 1, first + 1), (spec.row + 1, last + 1)).clear_contents()
    if spec.serial is not None:
        col, number = spec.serial
        if not (col < len(row) and isinstance(row[col], str) and row[col].startswith("=")):
            sheet.range((spec.row + 1, col + 1)).value = number
    height = _readable(lambda: source.row_height)
    if height:
        target.row_height = height


def _readable(read: Callable[[], Any]) -> Any:
    """A property Excel reports but the remote engine only offers asynchronously: None there."""
    try:
        return read()
    except NotImplementedError:
        return None


def _constant_spans(formulas: list[Any] | tuple[Any, ...]) -> Iterator[tuple[int, int]]:
    """Spans (first, last) of cells that hold no formula."""
    start = None
    for c, f in enumerate([*formulas, "="]):
        constant = not (isinstance(f, str) and f.startswith("="))
        if constant and start is None:
            start = c
        elif not constant and start is not None:
            yield start, c - 1
            start = None


def _picture(sheet: Any, spec: PicturePlacement) -> None:
    """The logo at the cell's top-left corner, scaled; a logo placed before under the same name (a
    re-merged branch) is replaced, not stacked."""
    name = spec.name or None
    if name and name in sheet.pictures:
        sheet.pictures[name].delete()
    width, height = spec.width_px * PX_TO_PT, spec.height_px * PX_TO_PT
    fd, path = tempfile.mkstemp(prefix="brandkit-logo-", suffix=".png" if spec.format == "png" else ".jpg")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(spec.data)
        anchor = sheet.range((spec.row + 1, spec.col + 1))
        picture = sheet.pictures.add(path, name=name, anchor=anchor, width=width, height=height)
        # The remote engine ignores the size given to add(); setting it again is a no-op in Excel.
        picture.width, picture.height = width, height
        if spec.alt:
            _alt_text(picture, spec.alt)
    finally:
        os.unlink(path)
