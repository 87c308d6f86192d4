"""Build filled branch forms for tests: brandkit's own template, filled like a branch would."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

# hospital-brand's one box for plan, measures and outcomes, named as notice 000 prints it.
PLAN = "党建品牌的创建计划、创建举措、预期成效"
BRANDS = [("内科第一党支部", "杏林先锋", "内科"), ("护理部党支部", "仁心护航", "护理"),
          ("机关第二党支部", "红心向党", "机关"), ("外科第一党支部", "精医铸魂", "外科")]


def form_values(branch: str, brand: str, topic: str, n: int = 0) -> dict[str, Any]:
    """Distinct, plausible text per branch (so similar_text stays quiet)."""
    return {
        "党支部名称": branch, "党员总数": 20 + n, "品牌名称": brand,
        "品牌内涵": f"{topic}支部立足岗位职责，以“{brand}”为引领，把党建工作与{topic}业务深度融合，第{n}号方案。",
        PLAN: (f"创建计划：{topic}第一阶段调研，第二阶段试点，第三阶段总结推广，编号{n * 7919}。\n"
               f"创建举措：组织学习{n + 2}次，开展志愿服务{n + 3}次，编号{n * 104729}。\n"
               f"预期成效：形成经验{n + 1}套，案例{n + 2}个，编号{n * 1299709}。"),
        "填表人": f"联系人{n}", "联系方式": f"1381234{5670 + n:04d}",
    }


def logo_bytes(size: tuple[int, int] = (400, 300), color: tuple[int, int, int] = (200, 30, 30),
               fmt: str = "PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def write_filled_form(path: Path, values: dict[str, Any], profile_id: str = "hospital-brand",
                      logo: bytes | None = None) -> Path:
    import openpyxl
    from openpyxl.drawing.image import Image as XlImage

    from toolkit.core.profile import load_profile
    from toolkit.files.templates import template_field_cells, write_form

    profile = load_profile(profile_id)
    write_form(profile, path)
    cells = template_field_cells(profile)
    wb = openpyxl.load_workbook(path)
    ws = wb["申报表"]
    for name, value in values.items():
        ws[cells[name]] = value
    if logo is not None:
        image = XlImage(io.BytesIO(logo))
        image.width, image.height = 120, 90
        ws.add_image(image, cells["品牌标识"])
    wb.save(path)
    return path


def write_roster(path: Path, rows: list[tuple[str, str]]) -> Path:
    """A roster workbook as an office types it: 党总支 | 党支部名称, one branch a row."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名单")
    ws.write_row(0, 0, ["党总支", "党支部名称"])
    for n, row in enumerate(rows, start=1):
        ws.write_row(n, 0, row)
    wb.close()
    return path
