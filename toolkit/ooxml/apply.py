"""apply_changeset: run every item of a ChangeSet against the package, in the documented order."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from toolkit.core.changeset import CellWrite, ChangeSet

from .cells import write_cells
from .context import Context
from .drawing import place_picture
from .newsheet import add_sheet
from .package import Package
from .rows import new_column, new_row, row_height
from .workbook import add_app_titles, touch_core


def apply_changeset(src: bytes, changes: ChangeSet, now: dt.datetime | None = None) -> bytes:
    if not changes:
        return src
    ctx = Context(Package(src))
    for new in changes.new_sheets:
        add_sheet(ctx, new)
    for col in changes.new_columns:
        new_column(ctx, col)
    for row in sorted(changes.new_rows, key=lambda r: (r.sheet, r.row)):
        new_row(ctx, row)
    for (name, r), writes in groupby(changes.writes, key=_row_of):  # a row's writes together, then its text kept
        sheet = ctx.sheet(name)
        write_cells(ctx, sheet, r + 1, [(w.col + 1, w.value, w.fill, w.number_format) for w in writes])
        sheet.rows.settle(r + 1)
    for h in changes.row_heights:
        row_height(ctx, h)
    for pic in changes.pictures:
        place_picture(ctx, pic)
    ctx.save()
    add_app_titles(ctx.pkg, [s.name for s in changes.new_sheets])
    touch_core(ctx.pkg, now or dt.datetime.now(dt.UTC))
    return ctx.pkg.to_bytes()



def _row_of(w: CellWrite) -> tuple[str, int]:
    return w.sheet, w.row
