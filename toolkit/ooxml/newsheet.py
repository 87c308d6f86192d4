"""NewSheet: a worksheet part with a bold, filled, frozen header row, the given column widths and, when
asked, sheet protection."""

from __future__ import annotations

from toolkit.core.changeset import NewSheet

from .cells import cell_xml, write_cell
from .context import Context
from .xmltools import MAIN, R

HEADER_FILL = "DDEBF7"
_PROTECTION = '<sheetProtection sheet="1" objects="1" scenarios="1"/>'  # no password, as Excel's 保护工作表


def _skeleton(sheet: NewSheet) -> bytes:
    frozen = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
              '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>') if sheet.rows else ""
    cols = "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                   for i, w in enumerate(sheet.widths, start=1) if w)
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{R}"><dimension ref="A1"/>'
            f'<sheetViews><sheetView workbookViewId="0">{frozen}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}<sheetData/>'
            f'{_PROTECTION if sheet.protected else ""}'
            f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            f"</worksheet>").encode()


def add_sheet(ctx: Context, op: NewSheet) -> None:
    part = ctx.wb.add_sheet(op.name, op.hidden)
    ctx.pkg.write(part, _skeleton(op))
    sheet = ctx.sheet_at(part)
    if not op.rows:
        return
    header = ctx.styles.derive(0, fill=HEADER_FILL, bold=True)
    row = sheet.rows.touch(1)
    for c in range(1, len(op.rows[0]) + 1):
        row.put(c, cell_xml(row, c, header, None, "", None))
    for r, values in enumerate(op.rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None or r == 1:
                write_cell(ctx, sheet, r, c, value)
