"""Forms typed from scratch as the five notices print them (or, for 001/003/004, as an office would
design them from the notice's text), never through brandkit's template: openpyxl and python-docx.

A `NoticeForm` is the paper form as data: rows of label/value pairs (one or two pairs a row), an
optional table, a logo. The same form is written as .xlsx and .docx, so both readers face the same
variants. `expected` says what the master must hold afterwards, field by field.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.forms import logo_bytes

LOGO = "<logo>"  # a value cell that holds the branch's logo picture


@dataclass
class NoticeForm:
    title: str
    rows: list[tuple[Any, ...]]  # (label, value) or (label, value, label, value); label None: free text row
    table_title: str | None = None
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[Any]] = field(default_factory=list)
    vertical: list[tuple[str, Any]] = field(default_factory=list)  # labels in a row, values in the next
    logo: bytes | None = None
    expected: dict[str, Any] = field(default_factory=dict)  # ledger column -> value
    expected_table: list[dict[str, Any]] = field(default_factory=list)


_OPENERS = ["坚持把党建工作与{topic}业务同谋划、同部署、同考核", "以党建品牌为抓手，把支部建在{topic}一线",
            "立足{topic}岗位实际，发挥党员先锋模范作用", "围绕群众急难愁盼，推动{topic}服务提质增效",
            "聚焦{topic}重点难点，开展党员攻坚行动"]
_DEEDS = ["设立党员先锋岗{k}个", "组建党员志愿服务队，全年开展活动{k}次", "开展“三会一课”专题学习{k}次",
          "建立支部书记领衔项目{k}项", "选树身边典型{k}名并广泛宣传", "推行党员承诺践诺，公开承诺事项{k}条",
          "与结对单位开展联建共建{k}次", "形成可复制的工作法{k}套", "解决群众反映的问题{k}个",
          "组织业务骨干讲党课{k}次", "建立“党员+骨干”双培养台账{k}份", "开展主题党日活动{k}次"]


def _prose(topic: str, n: int, what: str, size: int = 3) -> str:
    """Plausible, distinct text per branch and field (so similar_text stays quiet between branches)."""
    import random

    rng = random.Random(f"{topic}{n}{what}")
    out = []
    for _ in range(size):
        deeds = "，".join(d.format(k=rng.randint(2, 30)) for d in rng.sample(_DEEDS, 3))
        out.append(f"{rng.choice(_OPENERS).format(topic=topic)}，{deeds}。")
    return "".join(out)


def hospital_brand(branch: str, n: int = 0, *, split: bool = False, plan_size: int = 3) -> NoticeForm:
    """Notice 000's form, label cells character for character. `split` fills the 2000-字 box as three
    labelled parts, as brandkit's own template once did."""
    brand = branch[:2] + ["先锋", "护航", "铸魂", "暖心"][n % 4]
    plan, measures, outcomes = (_prose("医疗", n, w, plan_size) for w in ("计划", "举措", "成效"))
    box = f"创建计划：{plan}\n创建举措：{measures}\n预期成效：{outcomes}"
    middle = ([("创建计划", plan), ("创建举措", measures), ("预期成效", outcomes)] if split else
              [("党建品牌的 创建计划、 创建举措、 预期成效 (2000字以内)", box)])
    rows = [("党支部名称", branch, "党员总数", 20 + n),
            ("品牌名称 (10字以内)", brand, "党建 品牌标识 (png.jpg)", LOGO),
            ("党建品牌内涵 (200字以内)", _prose("党建", n, "内涵", 2)),
            *middle,
            ("党支部意见", "同意申报。 签字（盖章）： 年 月 日"),
            ("党总支意见", "同意。 签字（盖章）： 年 月 日"),
            ("填表人", f"王{n}", "联系方式", f"1381234{5670 + n:04d}")]
    expected = {"党支部名称": branch, "党员总数": 20 + n, "品牌名称": brand, "品牌内涵": rows[2][1],
                "党建品牌的创建计划、创建举措、预期成效": box, "填表人": f"王{n}",
                "联系方式": f"1381234{5670 + n:04d}"}
    return NoticeForm("“一支部一品牌”特色党建品牌创建申报表", rows,
                      logo=logo_bytes((400 + 10 * n, 300), (200, 30 + n, 30)), expected=expected)


def college_feature(branch: str, n: int = 0) -> NoticeForm:
    """Notice 002's form, labels character for character (it has no 支部类型 or 日期 row)."""
    brand = branch[:2] + ["知行", "领航", "筑梦"][n % 3]
    values = {"品牌简介": _prose("育人", n, "简介", 2), "创建措施及步骤": _prose("育人", n, "措施"),
              "预期成效及验收指标": _prose("育人", n, "指标")}
    rows = [("党支部名称", branch),
            ("品牌名称", brand, "品牌实施负责人", f"李{n}"),
            ("品牌简介", values["品牌简介"]),
            ("创建措施及步骤", values["创建措施及步骤"]),
            ("预期成效 及验收指标", values["预期成效及验收指标"]),
            ("支部意见：", "同意申报"),
            ("支部书记签字：", f"李{n}"),
            (None, "2023年 4 月 12 日")]
    expected = {"党支部名称": branch, "品牌名称": brand, "品牌实施负责人": f"李{n}", **values}
    return NoticeForm("信息学院“一支部一品牌”创建申报表", rows, expected=expected)


def hospital_annual(branch: str, n: int = 0, projects: int = 3) -> NoticeForm:
    """The 001 form an office designs: identity rows, then one table row per 申报工程. Variants: a value
    after a colon in the label cell, a line break inside a label, a hint suffix, a 党建 prefix."""
    kinds = ["党建工作品牌", "党组织品牌", "党员品牌"]
    table = [[i + 1, f"{branch[:2]}工程{i + 1}", kinds[i % 3], f"负责人{i}", _prose("医院", n + i, "内容", 1),
              _prose("医院", n + i, "成效", 1), f"2025年{6 + i}月30日"] for i in range(projects)]
    rows = [(f"党支部名称：{branch}", None),
            ("填 表\n人", f"赵{n}", "联系电话（手机）", f"1391234{5670 + n:04d}")]
    header = ["序号", "党建工程名称", "品牌类别", "负责人", "主要内容\n（200字以内）", "预期成效", "完成时限"]
    columns = ["工程名称", "品牌类别", "负责人", "主要内容", "预期成效", "完成时限"]
    expected = {"党支部名称": branch, "填表人": f"赵{n}", "联系方式": f"1391234{5670 + n:04d}"}
    return NoticeForm("基层党建品牌申报表", rows, table_title="申报工程", table_header=header, table_rows=table,
                      expected=expected,
                      expected_table=[dict(zip(columns, r[1:], strict=True)) for r in table])


def university_project(branch: str, n: int = 0, committee: str = "医学院党委") -> NoticeForm:
    """The 003 申报书 an office designs. Variants: a 党建 prefix, a hint suffix, a line break in a
    label, a value after a colon."""
    values = {"品牌内涵": _prose("高校", n, "内涵", 2), "对标“七个有力”": _prose("高校", n, "对标"),
              "主要举措": _prose("高校", n, "举措"), "预期成果": _prose("高校", n, "成果")}
    brand = branch[:2] + ["红烛", "强基", "铸魂"][n % 3]
    rows = [("党支部名称", branch, "所属基层党委", committee),
            ("支部类别：其他", None),
            ("党建品牌名称", brand),
            ("品牌内涵\n（300字以内）", values["品牌内涵"]),
            ("对标“七个有力”", values["对标“七个有力”"]),
            ("主要\n举措", values["主要举措"]),
            ("预期成果（可量化）", values["预期成果"]),
            ("负责人", f"孙{n}", "联系方式", f"1371234{5670 + n:04d}")]
    expected = {"党支部名称": branch, "所属基层党委": committee, "支部类别": "其他", "品牌名称": brand,
                **values, "负责人": f"孙{n}", "联系方式": f"1371234{5670 + n:04d}"}
    return NoticeForm("“一支部一特色”支部党建品牌项目立项申报书", rows, expected=expected)


def dangjian_plus(branch: str, n: int = 0, activities: int = 4) -> NoticeForm:
    """The 004 调查摸底 form an office designs: a vertical head (labels in a row, values below), then
    the prose rows and the activity 台帐. Variants: vertical layout, a 党建 prefix, a hint suffix."""
    modes = ["党建+业务管理能力", "党建+人才队伍建设", "党建+志愿服务"]
    values = {"调查摸底情况": _prose("中医", n, "摸底"), "工作举措": _prose("中医", n, "举措"),
              "预期成效": _prose("中医", n, "成效")}
    brand = branch[:2] + ["岐黄", "暖心", "领航"][n % 3]
    table = [[f"2024年{3 + i}月{10 + i}日", f"{brand}活动{i + 1}", 10 + i, _prose("中医", n + i, "活动成效", 1)]
             for i in range(activities)]
    rows = [("工作举措\n（500字以内）", values["工作举措"]), ("预期成效", values["预期成效"]),
            ("调查摸底情况", values["调查摸底情况"])]
    expected = {"党支部名称": branch, "模式": modes[n % 3], "品牌名称": brand, **values}
    return NoticeForm("“党建+”工作调查摸底情况表", rows,
                      vertical=[("党支部名称", branch), ("党建+模式", modes[n % 3]), ("党建品牌名称", brand)],
                      table_title="活动台帐", table_header=["日期", "活动名称", "参与人数", "活动成效"],
                      table_rows=table, expected=expected,
                      expected_table=[dict(zip(["日期", "活动", "参与人数", "成效"], r, strict=True)) for r in table])


BUILDERS = {"hospital-brand": hospital_brand, "college-feature": college_feature,
            "hospital-annual": hospital_annual, "university-project": university_project,
            "dangjian-plus": dangjian_plus}


# -- writers ---------------------------------------------------------------------------------------

def write_xlsx(form: NoticeForm, path: Path) -> Path:
    """The form as a branch types it in Excel: a 4-column grid, long values merged across."""
    import openpyxl
    from openpyxl.drawing.image import Image as XlImage
    from openpyxl.styles import Alignment

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    width = max(4, len(form.table_header))
    ws.cell(1, 1, form.title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    r = 2
    if form.vertical:
        for c, (label, value) in enumerate(form.vertical, start=1):
            ws.cell(r, c, label)
            ws.cell(r + 1, c, value)
        r += 2
    for row in form.rows:
        label, value = row[0], row[1]
        if label is not None:
            ws.cell(r, 1, label).alignment = Alignment(wrap_text=True)
        if len(row) == 4:
            ws.cell(r, 3, row[2])
            if value is not None:
                ws.cell(r, 2, value)
            if row[3] == LOGO:
                _xlsx_logo(ws, f"D{r}", form.logo, XlImage)
            else:
                ws.cell(r, 4, row[3])
                ws.merge_cells(start_row=r, start_column=4, end_row=r, end_column=width)
        elif value is not None:
            ws.cell(r, 2, value).alignment = Alignment(wrap_text=True)
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=width)
        r += 1
    if form.table_title:
        ws.cell(r, 1, form.table_title)
        r += 1
        for c, text in enumerate(form.table_header, start=1):
            ws.cell(r, c, text)
        for items in form.table_rows:
            r += 1
            for c, value in enumerate(items, start=1):
                ws.cell(r, c, value)
    wb.save(path)
    return path


def _xlsx_logo(ws: Any, ref: str, data: bytes | None, image_cls: Any) -> None:
    if data is None:
        return
    image = image_cls(io.BytesIO(data))
    image.width, image.height = 100, 75
    ws.add_image(image, ref)


def write_docx(form: NoticeForm, path: Path) -> Path:
    """The same form as a Word table, the way notices attach it: merged value cells, the logo inline."""
    import docx
    from docx.shared import Cm

    doc = docx.Document()
    doc.add_paragraph(form.title)
    width = max(4, len(form.table_header))
    if form.vertical:
        head = doc.add_table(rows=2, cols=len(form.vertical))
        for c, (label, value) in enumerate(form.vertical):
            head.cell(0, c).text = label
            head.cell(1, c).text = str(value)
    table = doc.add_table(rows=len(form.rows), cols=width)
    table.style = "Table Grid"
    for r, row in enumerate(form.rows):
        label, value = row[0], row[1]
        if label is not None:
            table.cell(r, 0).text = label
        if len(row) == 4:
            if value is not None:
                table.cell(r, 1).text = str(value)
            table.cell(r, 2).text = row[2]
            target = table.cell(r, 3).merge(table.cell(r, width - 1))
            if row[3] == LOGO and form.logo is not None:
                target.paragraphs[0].add_run().add_picture(io.BytesIO(form.logo), width=Cm(3))
            elif row[3] != LOGO:
                target.text = str(row[3])
        elif value is not None:
            table.cell(r, 1).merge(table.cell(r, width - 1)).text = str(value)
    if form.table_title:
        doc.add_paragraph(form.table_title)
        items = doc.add_table(rows=1 + len(form.table_rows), cols=len(form.table_header))
        for c, text in enumerate(form.table_header):
            items.cell(0, c).text = text
        for r, values in enumerate(form.table_rows, start=1):
            for c, value in enumerate(values):
                items.cell(r, c).text = str(value)
    doc.save(str(path))
    return path
