"""NewSheet: a worksheet part with a bold, filled, frozen header row, the given column widths and, when
asked, sheet protection, or the layout of a printed list (NewSheet.printed)."""

from __future__ import annotations

from toolkit.core.changeset import NewSheet
from toolkit.core.model import col_letter

from .cells import cell_xml, write_cell
from .context import Context
from .xmltools import MAIN, R

HEADER_FILL = "DDEBF7"
_PROTECTION = '<sheetProtection sheet="1" objects="1" scenarios="1"/>'  # no password, as Excel's 保护工作表


def _skeleton(sheet: NewSheet, column_style: int) -> bytes:
    frozen = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
              '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>') if sheet.rows else ""
    styled = f' style="{column_style}"' if column_style else ""
    cols = "".join(f'<col min="{i}" max="{i}" width="{w:g}"{styled} customWidth="1"/>'
                   for i, w in enumerate(sheet.widths, start=1) if w)
    rows = (f'<sheetFormatPr defaultRowHeight="{sheet.row_height:g}" customHeight="1"/>' if sheet.row_height
            else '<sheetFormatPr defaultRowHeight="15"/>')
    listed = sheet.printed and bool(sheet.rows)
    fit = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' if listed else ""
    filtered = f'<autoFilter ref="{_list_range(sheet, "")}"/>' if listed else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            f'<worksheet xmlns="{MAIN}" xmlns:r="{R}">{fit}<dimension ref="A1"/>'
            f'<sheetViews><sheetView workbookViewId="0">{frozen}</sheetView></sheetViews>'
            f'{rows}{f"<cols>{cols}</cols>" if cols else ""}<sheetData/>'
            f'{_PROTECTION if sheet.protected else ""}{filtered}{_LIST_PAGE if listed else _PAGE}'
            f"</worksheet>").encode()


def _list_range(sheet: NewSheet, mark: str) -> str:
    """The header and its rows (at least one below it): A1:L2, or $A$1:$L$2 with mark '$'."""
    last = col_letter(len(sheet.rows[0]) - 1)
    return f"{mark}A{mark}1:{mark}{last}{mark}{max(len(sheet.rows), 2)}"


_PAGE = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
_LIST_PAGE = ('<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
              '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
              '<headerFooter><oddFooter>&amp;C第 &amp;P 页，共 &amp;N 页</oddFooter></headerFooter>')


def add_sheet(ctx: Context, op: NewSheet) -> None:
    part = ctx.wb.add_sheet(op.name, op.hidden)
    ctx.pkg.write(part, _skeleton(op, ctx.styles.derive(0, wrap=True) if op.printed else 0))
    sheet = ctx.sheet_at(part)
    if not op.rows:
        return
    if op.printed:
        ctx.wb.add_defined_name("_xlnm._FilterDatabase", op.name, f"{_quoted(op.name)}!{_list_range(op, '$')}",
                                hidden=True)
        ctx.wb.add_defined_name("_xlnm.Print_Titles", op.name, f"{_quoted(op.name)}!$1:$1")
        if op.print_columns:
            ctx.wb.add_defined_name("_xlnm.Print_Area", op.name,
                                    f"{_quoted(op.name)}!$A:${col_letter(op.print_columns - 1)}")
    header = ctx.styles.derive(0, fill=HEADER_FILL, bold=True, wrap=op.printed)
    row = sheet.rows.touch(1)
    if op.header_height:
        row.tag.set("ht", f"{op.header_height:g}")
        row.tag.set("customHeight", "1")
    for c in range(1, len(op.rows[0]) + 1):
        row.put(c, cell_xml(row, c, header, None, "", None))
    for r, values in enumerate(op.rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None or r == 1:
                write_cell(ctx, sheet, r, c, value)


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"
