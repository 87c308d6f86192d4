"""Forms laid out in ways no sample shows: table rows that read like labels, a label over two value rows,
hints in cells of their own, HTML exports, continued tables, Word forms that are no table, logos dropped
a little off their cell. Each file is built here and read by the real reader."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from openpyxl.drawing.image import Image as XlImage
from openpyxl.drawing.spreadsheet_drawing import AnchorMarker, OneCellAnchor, TwoCellAnchor
from openpyxl.drawing.xdr import XDRPositiveSize2D

from tests.forms import logo_bytes
from tests.notice_forms import dangjian_plus, hospital_brand, write_docx, write_xlsx
from toolkit.core.grid import Grid
from toolkit.core.model import Submission
from toolkit.core.profile import load_profile
from toolkit.readers.submission import read_path
from toolkit.readers.table import extract_table
from toolkit.validation.check import check_all

WRITERS: dict[str, Callable[..., Path]] = {"xlsx": write_xlsx, "docx": write_docx}
BRANCH = "内科第一党支部"


def read_one(path: Path, profile_id: str = "hospital-brand") -> Submission:
    subs = read_path(str(path), load_profile(profile_id))
    assert len(subs) == 1, [s.findings for s in subs]
    return subs[0]


def value(sub: Submission, name: str) -> Any:
    return sub.fields[name].value


def rules(sub: Submission, profile_id: str = "hospital-brand") -> list[tuple[str, str | None]]:
    return [(f.rule, f.field) for f in check_all([sub], load_profile(profile_id))[0].findings]


def activities(sub: Submission) -> list[str]:
    return [row["活动"].value for row in sub.tables["活动台帐"]]


# -- 1. a table row that reads like a label --------------------------------------------------------

@pytest.mark.parametrize("suffix", list(WRITERS))
def test_an_activity_named_like_a_label_stays_in_the_table(tmp_path: Path, suffix: str) -> None:
    form = dangjian_plus("推拿科党支部")
    form.table_rows[1][1] = "调查摸底"  # a stage of the campaign, and an alias of the 调查摸底情况 label
    form.table_rows[2][1] = "党支部"
    sub = read_one(WRITERS[suffix](form, tmp_path / f"台帐.{suffix}"), "dangjian-plus")
    assert activities(sub) == [r[1] for r in form.table_rows]
    assert value(sub, "调查摸底情况") == form.expected["调查摸底情况"]


def test_a_label_inside_the_table_never_fills_the_forms_blank_field(tmp_path: Path) -> None:
    form = dangjian_plus("推拿科党支部")
    form.rows = [row for row in form.rows if not row[0].startswith("调查摸底")]  # the form's own row left out
    form.table_rows[1][1] = "调查摸底"
    sub = read_one(write_xlsx(form, tmp_path / "台帐.xlsx"), "dangjian-plus")
    assert len(sub.tables["活动台帐"]) == 4
    assert "调查摸底情况" not in sub.fields or value(sub, "调查摸底情况") in (None, "")


def test_the_table_still_ends_where_the_form_goes_on() -> None:
    profile = load_profile("dangjian-plus")
    from toolkit.readers.form import label_lookup

    grid = Grid("Sheet1", [["日期", "活动名称", "参与人数", "活动成效"],
                           ["2024年3月1日", "义诊", 12, "服务群众"],
                           ["2024年4月1日", "调查摸底", 8, "走访10户"],
                           ["工作举措", "开展党员攻坚行动", None, None],
                           ["预期成效", "解决问题20个", None, None]],
                merged=[(3, 1, 3, 3), (4, 1, 4, 3)])
    rows = extract_table(grid, profile.tables[0], label_lookup(profile.fields))
    assert [r["活动"].value for r in rows.rows] == ["义诊", "调查摸底"]
    assert rows.end_row == 3


# -- 2. a label merged over two rows, a value in each ---------------------------------------------

def _two_row_label_xlsx(path: Path, first: str, second: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [("党支部名称", BRANCH, "党员总数", 25), ("品牌名称", "杏林先锋"),
                ("品牌内涵 (200字以内)", first), (None, second), ("填表人", "王小明", "联系方式", "13812345678")]:
        ws.append(row)
    ws.merge_cells("A3:A4")
    for r in (2, 3, 4):
        ws.merge_cells(f"B{r}:D{r}")
    wb.save(path)
    return path


def _two_row_label_docx(path: Path, first: str, second: str) -> Path:
    doc = docx.Document()
    table = doc.add_table(rows=5, cols=4)
    for r, row in enumerate([("党支部名称", BRANCH, "党员总数", "25"), ("品牌名称", "杏林先锋"),
                             ("品牌内涵 (200字以内)", first), ("", second),
                             ("填表人", "王小明", "联系方式", "13812345678")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    for r in (1, 2, 3):
        table.cell(r, 1).merge(table.cell(r, 3))
    table.cell(2, 0).merge(table.cell(3, 0))  # w:vMerge
    doc.save(str(path))
    return path


@pytest.mark.parametrize("build", [_two_row_label_xlsx, _two_row_label_docx], ids=["xlsx", "docx"])
def test_a_label_over_two_rows_keeps_both_and_counts_both(tmp_path: Path, build: Callable[..., Path]) -> None:
    first, second = "以党建引领医疗服务。" * 12, "第二行补充说明。" * 12  # 120 + 96 字: over 200 only together
    sub = read_one(build(tmp_path / "form", first, second))
    assert value(sub, "品牌内涵") == f"{first}\n{second}"
    assert value(sub, "填表人") == "王小明"
    assert ("max_chars", "品牌内涵") in rules(sub)


# -- 3. a hint typed in a cell of its own ---------------------------------------------------------

def test_a_hint_in_its_own_cell_belongs_to_the_label(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [("党支部名称", None, BRANCH, "党员总数", 25), ("品牌名称", "（10字以内）", "杏林先锋"),
                ("品牌内涵", "(限200字)", "以党建引领医疗服务。"), ("党支部意见", "注：须签字盖章", "同意"),
                ("填表人", "（请填写）", None, "联系方式", "13812345678")]:
        ws.append(row)
    wb.save(tmp_path / "hint.xlsx")
    sub = read_one(tmp_path / "hint.xlsx")
    assert value(sub, "品牌名称") == "杏林先锋"
    assert value(sub, "品牌内涵") == "以党建引领医疗服务。"
    assert value(sub, "党支部意见") == "同意"
    assert value(sub, "填表人") is None and sub.fields["填表人"].cell == "Sheet!C5"  # where it belongs


# -- 4. HTML exports ------------------------------------------------------------------------------

def test_html_cells_read_as_a_browser_shows_them(tmp_path: Path) -> None:
    rows = [("党支部名称", "<span>内科第一</span><span>党支部</span>"), ("党员总数", "<b>2</b>5"),
            ("品牌名称", "<p>\n\t\t<font>杏林</font><font>先锋</font></p>"),
            ("品牌内涵", "<p>第一段：以党建\n   引领医疗。</p><p>第二段。</p>内涵<br>末行"),
            ("填表人", "王<span>小明</span>"), ("联系方式", "<span>138</span><span>1234</span>5678")]
    html = "<html><meta charset='utf-8'><body><table>" + "".join(
        f"<tr><td>{label}</td><td>{cell}</td></tr>" for label, cell in rows) + "</table></body></html>"
    (tmp_path / "导出.xls").write_text(html, encoding="utf-8")
    sub = read_one(tmp_path / "导出.xls")
    assert value(sub, "党支部名称") == BRANCH
    assert value(sub, "党员总数") == 25
    assert value(sub, "品牌名称") == "杏林先锋"
    assert value(sub, "品牌内涵") == "第一段：以党建 引领医疗。\n第二段。\n内涵\n末行"
    assert value(sub, "填表人") == "王小明"
    assert value(sub, "联系方式") == "13812345678"


# -- 5. a continued table repeats its header ------------------------------------------------------

@pytest.mark.parametrize("suffix", list(WRITERS))
def test_a_repeated_header_row_is_not_an_activity(tmp_path: Path, suffix: str) -> None:
    form = dangjian_plus("推拿科党支部", activities=4)
    data = list(form.table_rows)
    form.table_rows = [*data[:2], ["活动台帐", "", "", ""], list(form.table_header), *data[2:]]
    sub = read_one(WRITERS[suffix](form, tmp_path / f"续表.{suffix}"), "dangjian-plus")
    assert activities(sub) == [r[1] for r in data]
    assert not [r for r in rules(sub, "dangjian-plus") if r[0] in ("date", "integer")]


# -- 6. Word forms that are no table --------------------------------------------------------------

def _paragraph_form(path: Path, title: bool) -> Path:
    doc = docx.Document()
    if title:
        doc.add_paragraph("“一支部一品牌”特色党建品牌创建申报表")
    for line in ["党支部名称 内科第一党支部", "党员总数 25", "品牌名称 杏林先锋", "党建品牌内涵 以党建引领医疗服务。",
                 "党支部意见 同意", "党总支意见 同意", "填表人 王小明 联系方式 13812345678"]:
        doc.add_paragraph(line)
    doc.save(str(path))
    return path


@pytest.mark.parametrize("title", [True, False], ids=["title", "labels"])
def test_a_form_typed_as_paragraphs_is_refused_and_a_report_stays_a_report(tmp_path: Path, title: bool) -> None:
    from toolkit.core.plan_deliverables import not_a_form

    sub = read_one(_paragraph_form(tmp_path / "申报表.docx", title))
    assert not_a_form(sub) is False
    [finding] = sub.findings
    assert finding.rule == "unreadable" and finding.severity == "error"
    assert finding.message.startswith("申报表.docx：") and "申报表的表格" in finding.message

    doc = docx.Document()  # a report names the brand and its parts too, in prose
    doc.add_paragraph("内科第一党支部“杏林先锋”品牌创建总结报告")
    for text in ["党支部全体党员参与品牌创建，品牌名称经支部大会讨论确定。", "品牌内涵：以党建引领医疗服务。",
                 "一、创建背景", "二、主要举措", "联系人：王小明"]:
        doc.add_paragraph(text)
    doc.save(str(tmp_path / "总结报告.docx"))
    assert not_a_form(read_one(tmp_path / "总结报告.docx"))


def test_a_form_table_inside_a_text_box_is_read(tmp_path: Path) -> None:
    from docx.oxml import parse_xml

    form = hospital_brand(BRANCH)
    write_docx(form, tmp_path / "plain.docx")
    doc = docx.Document(str(tmp_path / "plain.docx"))
    table = doc.tables[0]._tbl
    box = parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><w:drawing>'
        '<wp:anchor simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset>'
        '</wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="5900000" cy="8000000"/><wp:wrapNone/><wp:docPr id="99" name="文本框"/><a:graphic>'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        '<wps:spPr/><wps:txbx><w:txbxContent/></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic>'
        '</wp:anchor></w:drawing></w:r>')
    content = next(el for el in box.iter() if el.tag.endswith("}txbxContent"))
    table.addprevious(doc.add_paragraph()._p)  # the paragraph holding the box, where the table stood
    holder = table.getprevious()
    content.append(table)  # moved into the text box
    content.append(parse_xml('<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'))
    holder.append(box)
    doc.save(str(tmp_path / "文本框.docx"))
    sub = read_one(tmp_path / "文本框.docx")
    for name in ("党支部名称", "品牌名称", "填表人", "联系方式"):
        assert str(value(sub, name)) == str(form.expected[name])
    assert sub.logo is not None and len(sub.pictures) == 1  # its logo once, in its cell


# -- 7. an empty 品牌名称 beside the logo's label --------------------------------------------------

def test_an_empty_brand_name_is_only_missing_and_the_logo_is_found(tmp_path: Path) -> None:
    form = hospital_brand(BRANCH)
    form.rows[1] = ("品牌名称 (10字以内)", None, "党建 品牌标识 (png.jpg)", form.rows[1][3])
    sub = read_one(write_xlsx(form, tmp_path / "空品牌.xlsx"))
    assert value(sub, "品牌标识") is None and value(sub, "品牌内涵") == form.expected["品牌内涵"]
    assert sub.logo is not None
    assert [r for r in rules(sub) if r[0] in ("required", "image_missing")] == [("required", "品牌名称")]


# -- 8. a logo dropped a little left of its cell --------------------------------------------------

def _logo_form(path: Path, anchor: Any) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [("“一支部一品牌”特色党建品牌创建申报表",), ("党支部名称", BRANCH, "党员总数", 25),
                ("品牌名称", "杏林先锋", "品牌标识", None), ("品牌内涵", "以党建引领医疗服务。")]:
        ws.append(row)
    image = XlImage(io.BytesIO(logo_bytes((200, 120))))
    image.anchor = anchor
    ws.add_image(image)
    wb.save(path)
    return path


@pytest.mark.parametrize("anchor", [
    TwoCellAnchor(_from=AnchorMarker(col=2, colOff=400000, row=2), to=AnchorMarker(col=4, row=3)),
    OneCellAnchor(_from=AnchorMarker(col=2, colOff=450000, row=2), ext=XDRPositiveSize2D(1905000, 1143000)),
], ids=["two-cell", "one-cell"])
def test_a_logo_is_the_cell_it_mostly_covers(tmp_path: Path, anchor: Any) -> None:
    sub = read_one(_logo_form(tmp_path / "标识.xlsx", anchor))
    assert [p.cell for p in sub.pictures] == ["D3"] and sub.logo is not None
    # a picture mostly over the label stays there, and is no logo
    over = OneCellAnchor(_from=AnchorMarker(col=2, colOff=100000, row=2), ext=XDRPositiveSize2D(400000, 300000))
    sub = read_one(_logo_form(tmp_path / "标签上.xlsx", over))
    assert [p.cell for p in sub.pictures] == ["C3"] and sub.logo is None


# -- 9. a Word form split at a page break, each part under the form's title ----------------------

def _titled_parts(path: Path, forms: list[Any], second_title: str | None) -> Path:
    """Each form as a Word table under a title row; with `second_title`, each form's table is split
    after its third row into a second table opening with that title (the part after a page break)."""
    from copy import deepcopy

    doc = docx.Document(str(write_docx(forms[0], path)))
    body = doc.element.body
    template = doc.tables[0]._tbl
    for form in forms:
        built = docx.Document(str(write_docx(form, path)))
        table = built.tables[0]
        title = table.add_row()
        title.cells[0].merge(title.cells[-1]).text = form.title
        table._tbl.tr_lst[0].addprevious(title._tr)
        parts = [table._tbl]
        if second_title is not None:
            rest = deepcopy(table._tbl)
            for tr in table._tbl.tr_lst[4:]:
                table._tbl.remove(tr)
            for tr in rest.tr_lst[1:4]:
                rest.remove(tr)
            rest.tr_lst[0].xpath(".//w:t")[0].text = second_title
            parts.append(rest)
        for part in parts:
            template.addprevious(doc.add_paragraph()._p)  # a page break's paragraph
            template.addprevious(part)
    body.remove(template)
    doc.save(str(path))
    return path


@pytest.mark.parametrize("second", ["“一支部一品牌”特色党建品牌创建申报表（续）", "“一支部一品牌”特色党建品牌创建申报表"],
                         ids=["continued", "same-title"])
def test_a_word_form_split_under_repeated_titles_is_one_form(tmp_path: Path, second: str) -> None:
    form = hospital_brand(BRANCH)
    sub = read_one(_titled_parts(tmp_path / "分页.docx", [form], second))
    for name, expected in form.expected.items():
        assert str(value(sub, name)) == str(expected), name
    assert sub.logo is not None
    assert not [r for r in rules(sub) if r[0] in ("template_mismatch", "required")]
    # two whole forms under the same title are still two branches' forms
    other = hospital_brand("内科第二党支部", 1)
    subs = read_path(str(_titled_parts(tmp_path / "两份.docx", [form, other], None)), load_profile("hospital-brand"))
    assert [value(s, "党支部名称") for s in subs] == [BRANCH, "内科第二党支部"]


# -- 10. a 续表 sheet holding only the rest of the 活动台帐 ------------------------------------------

@pytest.mark.parametrize("header", [True, False], ids=["header", "rows-only"])
def test_rows_on_a_continuation_sheet_join_the_forms_table(tmp_path: Path, header: bool) -> None:
    form = dangjian_plus("推拿科党支部", activities=3)
    path = write_xlsx(form, tmp_path / "续表.xlsx")
    more = [[f"2024年{8 + i}月1日", f"续表活动{i}", 12 + i, f"成效{i}"] for i in range(4)]
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("续表")
    for row in ([form.table_header] if header else []) + more:
        ws.append(row)
    notes = wb.create_sheet("填表说明")  # numbered instructions are no table rows
    for n, text in enumerate(["日期请写年月日", "参与人数填阿拉伯数字"], start=1):
        notes.append([n, text])
    wb.save(path)
    sub = read_one(path, "dangjian-plus")
    assert activities(sub) == [r[1] for r in form.table_rows] + [r[1] for r in more]
    assert sub.tables["活动台帐"][-1]["参与人数"].value == 15
    assert sub.tables["活动台帐"][-1]["日期"].raw == "2024年11月1日"
    assert not [r for r in rules(sub, "dangjian-plus") if r[0] in ("template_mismatch", "date", "integer")]
    assert any("续表" in n and "4 行" in n for n in sub.notes)
    assert any("填表说明" in n and "不是申报表" in n for n in sub.notes)


# -- 11. a value typed in a text box inside its cell ------------------------------------------------

def test_a_value_typed_in_a_text_box_in_its_cell_is_read(tmp_path: Path) -> None:
    from docx.oxml import parse_xml

    form = hospital_brand(BRANCH)
    doc = docx.Document(str(write_docx(form, tmp_path / "plain.docx")))
    cell = doc.tables[0].cell(1, 1)
    brand = form.expected["品牌名称"]
    box = parse_xml(  # WPS/Word 2010: the shape, and a VML copy of it for older readers
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml"><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset>'
        '</wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="900000" cy="300000"/><wp:wrapNone/><wp:docPr id="98" name="文本框"/><a:graphic>'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        f'<wps:spPr/><wps:txbx><w:txbxContent><w:p><w:r><w:t>{brand}</w:t></w:r></w:p></w:txbxContent></wps:txbx>'
        '<wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback>'
        f'<w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>{brand}</w:t></w:r></w:p></w:txbxContent>'
        '</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>')
    cell.text = ""
    cell.paragraphs[0]._p.append(box)
    doc.save(str(tmp_path / "文本框值.docx"))
    sub = read_one(tmp_path / "文本框值.docx")
    assert value(sub, "品牌名称") == brand  # once, though the box is stored twice
    assert value(sub, "党员总数") == form.expected["党员总数"]
    assert not [r for r in rules(sub) if r[0] == "required"]


# -- 12. pictures and numbers a workbook only points at ---------------------------------------------

def _rewrite(path: Path, edit: Callable[[str, bytes], bytes]) -> Path:
    """The package with each member passed through `edit(name, data)`."""
    import zipfile

    members = {}
    with zipfile.ZipFile(path) as zf:
        members = {name: edit(name, zf.read(name)) for name in zf.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_logo_linked_in_a_workbook_is_named_as_a_link(tmp_path: Path) -> None:
    import re

    def link(name: str, data: bytes) -> bytes:
        if name.startswith("xl/drawings/_rels/"):
            return re.sub(rb'Target="[^"]*"', b'Target="file:///C:/Users/a/Desktop/logo.png" TargetMode="External"',
                          data)
        return data.replace(b"r:embed=", b"r:link=") if name.startswith("xl/drawings/drawing") else data

    sub = read_one(_rewrite(write_xlsx(hospital_brand(BRANCH), tmp_path / "链接.xlsx"), link))
    [finding] = [f for f in check_all([sub], load_profile("hospital-brand"))[0].findings if f.rule == "image_missing"]
    assert finding.cell == "Sheet1!D3" and "logo.png" in finding.message and "链接" in finding.message
    assert "Excel/WPS" in finding.message


def test_a_formula_with_no_saved_result_is_not_called_empty(tmp_path: Path) -> None:
    path = write_xlsx(hospital_brand(BRANCH), tmp_path / "公式.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.active["D2"] = "=SUM(20,5)"  # openpyxl saves the formula and no result
    wb.save(path)
    sub = read_one(path)
    [finding] = [f for f in check_all([sub], load_profile("hospital-brand"))[0].findings if f.field == "党员总数"]
    assert (finding.rule, finding.severity, finding.cell) == ("required", "error", "Sheet1!D2")
    assert "=SUM(20,5)" in finding.message and "保存" in finding.message and "未填写" not in finding.message


# -- 12. values that read like labels, long "栏目：正文" boxes ------------------------------------

def _sheet(path: Path, rows: list[list[Any]], merges: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for ref in merges:
        ws.merge_cells(ref)
    wb.save(path)
    return path


def test_a_value_opening_with_another_fields_label_stays_that_fields_text(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "申报书.xlsx", [
        ["党支部名称", "生命学院教工第一党支部", "所属基层党委", "生命学院党委"],
        ["支部类别", "校级样板支部"], ["品牌名称", "生命红帆"],
        ["品牌内涵", "品牌名称：生命红帆，寓意扬帆起航。"], ["对标“七个有力”", "逐条对标。"],
        ["主要举措", "主要举措：一是理论学习。"], ["预期成果", "负责人：赵敏牵头，形成案例1篇。"],
        ["负责人", "赵敏", "联系方式", "0373-3831311"]])
    sub = read_one(path, "university-project")
    assert value(sub, "品牌内涵") == "品牌名称：生命红帆，寓意扬帆起航。"
    assert value(sub, "预期成果") == "负责人：赵敏牵头，形成案例1篇。"
    assert value(sub, "主要举措") == "一是理论学习。"  # the label beside it, repeated: not text
    assert (value(sub, "负责人"), sub.fields["负责人"].cell) == ("赵敏", "Sheet!B8")


def test_a_long_label_colon_box_in_word_is_read(tmp_path: Path) -> None:
    text = "通过问卷调查和入户走访，支部掌握了辖区内儿童常见病、多发病的基本情况，发现家长对中医小儿推拿需求大。" * 2
    doc = docx.Document()
    table = doc.add_table(rows=6, cols=2)
    for r, (label, val) in enumerate([("党支部名称", "儿科党支部"), ("模式", "党建＋志愿服务"), ("品牌名称", "护苗先锋")]):
        table.cell(r, 0).text, table.cell(r, 1).text = label, val
    for r, box in enumerate([f"调查摸底情况：{text}", "工作举措：组建志愿服务队。", "预期成效：服务1000人次。"], start=3):
        table.cell(r, 0).merge(table.cell(r, 1)).text = box
    doc.save(tmp_path / "摸底.docx")
    sub = read_one(tmp_path / "摸底.docx", "dangjian-plus")
    assert value(sub, "调查摸底情况") == text
    assert value(sub, "模式") == "党建+志愿服务"  # typed with a full-width plus: stored as the profile spells it


# -- 13. checkbox choices ---------------------------------------------------------------------------

def test_the_ticked_checkbox_is_the_choice_across_cells_and_in_one(tmp_path: Path) -> None:
    doc = docx.Document()
    table = doc.add_table(rows=3, cols=5)
    for c, text in enumerate(["支部类别", "□省级样板支部", "☑校级样板支部", "□“双带头人”教师党支部书记工作室", "□其他"]):
        table.cell(0, c).text = text
    table.cell(1, 0).text, table.cell(1, 1).text = "党支部名称", "建筑学院研究生党支部"
    table.cell(2, 0).text, table.cell(2, 1).text = "品牌名称", "建筑铸魂"
    doc.save(tmp_path / "勾选.docx")
    assert value(read_one(tmp_path / "勾选.docx", "university-project"), "支部类别") == "校级样板支部"
    rows = [["党支部名称", "肿瘤科党支部"], ["品牌名称", "岐黄先锋"], ["调查摸底情况", "摸底。"]]
    one = _sheet(tmp_path / "一格.xlsx", [*rows, ["模式", "□党建+业务管理能力\n√党建+人才队伍建设\n□党建+其他（注明）"]])
    assert value(read_one(one, "dangjian-plus"), "模式") == "党建+人才队伍建设"
    other = _sheet(tmp_path / "其他.xlsx", [*rows, ["模式", "党建+文化建设"]])
    assert value(read_one(other, "dangjian-plus"), "模式") == "党建+其他：文化建设"
    assert ("enum", "模式") not in rules(read_one(other, "dangjian-plus"), "dangjian-plus")
    none = _sheet(tmp_path / "未勾.xlsx", [*rows, ["模式", "□党建+业务管理能力 □党建+志愿服务"]])
    assert ("required", "模式") in rules(read_one(none, "dangjian-plus"), "dangjian-plus")
    two = read_one(_sheet(tmp_path / "两项.xlsx", [*rows, ["模式", "☑党建+业务管理能力 ☑党建+志愿服务"]]), "dangjian-plus")
    found = [f for f in check_all([two], load_profile("dangjian-plus"))[0].findings if f.field == "模式"]
    assert [(f.rule, f.cell) for f in found] == [("enum", "Sheet!B4")]
    assert "“党建+业务管理能力”“党建+志愿服务”共 2 项" in found[0].message


# -- 14. tables: cells merged down, a two-row header, a totals row ----------------------------------

def test_a_cell_merged_down_two_rows_belongs_to_both(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "工程.xlsx", [
        ["党支部名称", "神经内科党支部"], ["填表人", "王芳", "联系电话", "13804715678"],
        ["序号", "工程名称", "品牌类别", "负责人", "主要内容", "预期成效", "完成时限"],
        [1, "工程一", "党员品牌", "李四", "内容一", "成效一", "2025年12月31日"],
        [2, "工程二", "党员品牌", None, "内容二", "成效二", None]], ("D4:D5", "G4:G5"))
    rows = read_one(path, "hospital-annual").tables["申报工程"]
    assert [(r["负责人"].value, str(r["完成时限"].value)) for r in rows] == [("李四", "2025-12-31")] * 2


def test_a_two_row_header_and_a_totals_row(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "台帐.xlsx", [
        ["党支部名称", "肛肠科党支部", "模式", "党建+志愿服务"], ["品牌名称", "肛肠暖心"],
        ["调查摸底情况", "摸底情况。"], ["工作举措", "举措。"], ["预期成效", "成效。"], ["活动台帐"],
        ["序号", "日期", "活动情况", None, "成效"], [None, None, "活动名称", "参与人数"],
        [1, "2024-04-15", "义诊", 10, "服务1"], [2, "2024-05-15", "宣讲", 11, "服务2"], ["合计", None, None, 21]],
        ("A6:E6", "A7:A8", "B7:B8", "C7:D7", "E7:E8"))
    sub = read_one(path, "dangjian-plus")
    assert [(r["活动"].value, r["参与人数"].value) for r in sub.tables["活动台帐"]] == [("义诊", 10), ("宣讲", 11)]
    assert value(sub, "调查摸底情况") == "摸底情况。"  # restating its own label beside it: the value
    assert any("Sheet!A11" in n and "合计" in n and "21" in n for n in sub.notes)
    assert not [r for r in rules(sub, "dangjian-plus") if r[0] == "required"]


# -- 15. the 支部意见 box's foot: signature and date ------------------------------------------------

# college-feature's form above its 支部意见 box
OPINION_HEAD = [["党支部名称", "软件工程系教工党支部"], ["品牌名称", "软件先锋", "品牌实施负责人", "陈静"],
                ["品牌简介", "简介。"], ["创建措施及步骤", "措施。"], ["预期成效及验收指标", "指标。"], ["支部类型", "教工党支部"]]

@pytest.mark.parametrize("layout", ["one box", "rows"])
def test_the_opinion_box_splits_into_opinion_signature_and_date(tmp_path: Path, layout: str) -> None:
    foot = ([["支部意见：", "同意申报。\n支部书记签字：陈静\n2023 年 4 月 13 日"]] if layout == "one box" else
            [["支部意见：", "同意申报。"], ["支部书记签字：", "陈静"], [None, "2023年4月31日"]])
    sub = read_one(_sheet(tmp_path / "意见.xlsx", OPINION_HEAD + foot), "college-feature")
    assert (value(sub, "支部意见"), value(sub, "支部书记签字")) == ("同意申报。", "陈静")
    assert str(value(sub, "日期")) == ("2023-04-13" if layout == "one box" else "2023年4月31日")
    assert ("required", "支部书记签字") not in rules(sub, "college-feature")


@pytest.mark.parametrize("layout", ["one box", "rows"])
def test_a_signature_dated_by_month_is_read_as_the_date(tmp_path: Path, layout: str) -> None:
    """"2023年4月" under the signature (no day: the notices set no format) is the 日期, not part of the
    opinion, nor dropped."""
    foot = ([["支部意见：", "同意申报。\n支部书记签字：陈静\n2023年 4 月"]] if layout == "one box" else
            [["支部意见：", "同意申报。"], ["支部书记签字：", "陈静"], [None, "2023年4月"]])
    sub = read_one(_sheet(tmp_path / "意见.xlsx", OPINION_HEAD + foot), "college-feature")
    assert (value(sub, "支部意见"), value(sub, "支部书记签字")) == ("同意申报。", "陈静")
    assert str(value(sub, "日期")).replace(" ", "") == "2023年4月"
    assert not [r for r in rules(sub, "college-feature") if r[1] == "日期"]
