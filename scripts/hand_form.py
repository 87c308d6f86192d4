"""A 申报表 a branch typed up itself from the notice, without brandkit's template (for make_samples.py).

What such forms do: a heading block above the form (rows inserted at the top), labels broken over lines
with spaces ("品 牌\\n名 称"), hints in brackets, "label：value" in one cell, long fields laid out
vertically (label above a merged value block), merged value cells, the logo floating over a merged box.
"""

from __future__ import annotations

from typing import Any

from sample_texts import BRANCH_OPINION, GENERAL_OPINION, Branch

SHEET = "申报表（眼科）"


def hand_form(b: Branch, plan: dict[str, str], logo_bytes: bytes) -> Any:
    import io

    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    for col, width in zip("ABCDEF", (14, 14, 14, 14, 14, 14), strict=True):
        ws.column_dimensions[col].width = width
    wrap = Alignment(wrap_text=True, vertical="center")
    thin = Side(style="thin")

    def box(ref: str, value: object = None, height: float | None = None) -> None:
        first = ref.split(":")[0]
        if ":" in ref:
            ws.merge_cells(ref)
        if value is not None:
            ws[first] = value
        ws[first].alignment = wrap
        rows = ws[ref] if ":" in ref else ((ws[ref],),)
        for row in rows:
            for cell in row:
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        if height:
            ws.row_dimensions[ws[first].row].height = height

    ws["A1"] = "附件2"
    ws.merge_cells("A3:F3")
    ws["A3"] = "眼科党支部“一支部一品牌”创建申报表"
    ws["A3"].font = Font(size=16, bold=True)
    ws["A3"].alignment = Alignment(horizontal="center")
    box("A4:F4", f"党支部名称：{b.name}", 28)
    box("A5", "支部党员\n人数", 36)
    box("B5", b.members)
    box("C5", "品 牌\n名 称")
    box("D5:F5", b.brand)
    box("A6:A11", "品 牌\n标 识\n（jpg/png）")
    box("B6:F11")
    img = Image(io.BytesIO(logo_bytes))
    img.width = img.height = 120
    ws.add_image(img, "B6")
    row = 12
    for label, name, lines in (("品牌内涵（200字以内）", "品牌内涵", 4), ("创 建 计 划", "创建计划", 6),
                               ("创建举措（不超过2000字）", "创建举措", 6), ("预期成效", "预期成效", 5)):
        box(f"A{row}:F{row}", label, 22)
        value = b.inner if name == "品牌内涵" else plan[name]
        box(f"A{row + 1}:F{row + lines}", value)
        for r in range(row + 1, row + lines + 1):
            ws.row_dimensions[r].height = 30
        row += lines + 1
    box(f"A{row}", "党支部\n意  见", 40)
    box(f"B{row}:F{row}", f"{BRANCH_OPINION}\n书记：周明　2024年7月20日")
    box(f"A{row + 1}", "党总支\n意  见", 40)
    box(f"B{row + 1}:F{row + 1}", f"{GENERAL_OPINION}\n2024年7月22日")
    box(f"A{row + 2}:C{row + 2}", f"填表人：{b.filler}", 24)
    box(f"D{row + 2}:F{row + 2}", f"联系电话：{b.phone}")
    return wb
