"""Word forms: the notice's 申报表 typed in Word (python-docx, not brandkit's template) reads like the same
form typed in Excel; .doc goes through LibreOffice; macros, linked pictures and zip bombs are refused."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.forms import BRANDS, PLAN, form_values, logo_bytes
from tests.libreoffice import SOFFICE, convert
from tests.test_hostile import _rezip
from toolkit.core.model import Provenance
from toolkit.core.profile import load_profile
from toolkit.readers.docx import read_docx
from toolkit.readers.errors import Unreadable
from toolkit.readers.sniff import sniff
from toolkit.readers.submission import read_bytes

ROOT = Path(__file__).resolve().parents[1]
PROFILE = "hospital-brand"
TITLE = "“一支部一品牌”特色党建品牌创建申报表"
SIGN = "签字（盖章）：\n年　　月　　日"
# Label cells as typed: the notice's (000) wording where today's profile takes it. The box "创建计划、创建
# 举措、预期成效" is typed as the notice prints it, split into labelled parts (both profile shapes read that).
LABELS = {
    "党支部名称": "党支部名称", "党员总数": "党员总数", "品牌名称": "品牌名称 (10字以内)",
    "品牌标识": "品牌标识 (png.jpg)", "品牌内涵": "品牌内涵 (200字以内)",
    "box": "党建品牌的 创建计划、 创建举措、 预期成效 (2000字以内)",
    "创建计划": "创建计划", "创建举措": "创建举措", "预期成效": "预期成效",
    "党支部意见": "党支部意见", "党总支意见": "党总支意见", "填表人": "填表人", "联系方式": "联系方式",
}
WIDTH = 5  # grid columns of the printed form
LOGO_CELL = (1, 3)  # (row, col) in the table
LOGO_A1 = "D3"  # in the grid: the title paragraph is row 1


def plan_parts(v: dict[str, Any]) -> list[str]:
    """The texts of the box's three labelled parts, whether `v` holds the box or its parts."""
    if PLAN in v:
        return [line.split("：", 1)[1] for line in v[PLAN].splitlines()]
    return [v[part] for part in ("创建计划", "创建举措", "预期成效")]


def layout(v: dict[str, Any]) -> tuple[list[list[tuple[str | None, int]]], list[tuple[int, int, int]]]:
    """The printed form filled with `v`: rows of (text, columns spanned), and vertical merges
    (first row, last row, column). The 填表人 is typed after a colon in its label cell."""
    L = LABELS
    plan, measures, outcomes = plan_parts(v)
    rows: list[list[tuple[str | None, int]]] = [
        [(L["党支部名称"], 1), (v["党支部名称"], 2), (L["党员总数"], 1), (str(v["党员总数"]), 1)],
        [(L["品牌名称"], 1), (v["品牌名称"], 1), (L["品牌标识"], 1), (None, 2)],
        [(L["品牌内涵"], 1), (v["品牌内涵"], 4)],
        [(L["box"], 1), (L["创建计划"], 1), (plan, 3)],
        [(None, 1), (L["创建举措"], 1), (measures, 3)],
        [(None, 1), (L["预期成效"], 1), (outcomes, 3)],
        [(L["党支部意见"], 1), (SIGN, 4)],
        [(L["党总支意见"], 1), (SIGN, 4)],
        [(f"{L['填表人']}：{v['填表人']}", 2), (L["联系方式"], 1), (v["联系方式"], 2)],
    ]
    return rows, [(3, 5, 0)]


def write_docx(path: Path, values: dict[str, Any], logo: bytes | None = None, copies: int = 1,
               split: int | None = None) -> Path:
    """The form typed in Word: a title paragraph, the table with gridSpan/vMerge merges, the logo inline
    in its cell. `copies` forms one after another (a 党总支 collecting its branches' forms); `split`
    breaks the table before that row into a second table (an empty paragraph between, as Word does
    when a page break or an Enter lands inside a table)."""
    import docx
    from docx.shared import Cm

    document = docx.Document()
    for n in range(copies):
        if n:
            document.add_page_break()
        document.add_paragraph(TITLE)
        rows, vmerges = layout(values if n == 0 else {**values, "党支部名称": f"{values['党支部名称']}{n}"})
        parts = [(0, len(rows))] if split is None else [(0, split), (split, len(rows))]
        for start, stop in parts:
            if start:
                document.add_paragraph("")
            table = document.add_table(rows=stop - start, cols=WIDTH)
            table.style = "Table Grid"
            for first, last, col in vmerges:
                if start <= first and last < stop:
                    table.cell(first - start, col).merge(table.cell(last - start, col))
            for r, row in enumerate(rows[start:stop]):
                col = 0
                for text, span in row:
                    cell = table.cell(r, col) if span == 1 else table.cell(r, col).merge(table.cell(r, col + span - 1))
                    if text is not None:
                        cell.text = text
                    col += span
            if logo is not None and start <= LOGO_CELL[0] < stop:
                run = table.cell(LOGO_CELL[0] - start, LOGO_CELL[1]).paragraphs[0].add_run()
                run.add_picture(io.BytesIO(logo), width=Cm(3))
        document.add_paragraph("注：纸质版经党总支审批后报送党委办公室。")
    document.save(str(path))
    return path


def write_xlsx(path: Path, values: dict[str, Any], logo: bytes | None = None) -> Path:
    """The same form typed in Excel (from scratch, not brandkit's template): the equivalent xlsx."""
    from openpyxl.drawing.image import Image as XlImage

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "申报表"
    ws.cell(1, 1, TITLE)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=WIDTH)
    rows, vmerges = layout(values)
    for r, row in enumerate(rows, start=2):
        col = 1
        for text, span in row:
            if text is not None:
                ws.cell(r, col, values["党员总数"] if text == str(values["党员总数"]) else text)
            if span > 1:
                ws.merge_cells(start_row=r, start_column=col, end_row=r, end_column=col + span - 1)
            col += span
    for first, last, col in vmerges:
        ws.merge_cells(start_row=first + 2, start_column=col + 1, end_row=last + 2, end_column=col + 1)
    if logo is not None:
        image = XlImage(io.BytesIO(logo))
        image.width, image.height = 120, 90
        ws.add_image(image, LOGO_A1)
    wb.save(path)
    return path


def validate(*paths: Path, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, dict]]:
    proc = subprocess.run([sys.executable, "-m", "toolkit", "--json", "validate", *map(str, paths),
                           "--profile", PROFILE, *extra], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc.returncode, {Path(f["path"]).name: f for f in json.loads(proc.stdout)["files"]}


CROSS_FILE = {"duplicate_submission", "duplicate_brand_name", "similar_text"}  # the two copies meet


def _without_sheet(findings: list[dict]) -> list[tuple]:
    return sorted((f["rule"], f["field"], f["severity"], (f["cell"] or "").rpartition("!")[2]) for f in findings
                  if f["rule"] not in CROSS_FILE)


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("word")
    values = form_values(*BRANDS[0])
    logo = logo_bytes()
    return {"docx": write_docx(folder / "内科第一党支部申报表.docx", values, logo),
            "xlsx": write_xlsx(folder / "内科第一党支部申报表.xlsx", values, logo), "folder": folder}


def test_docx_form_validates_like_the_same_form_in_excel(forms):
    code, files = validate(forms["docx"], forms["xlsx"])
    word, excel = files[forms["docx"].name], files[forms["xlsx"].name]
    assert code == 0 and word["status"] != "error", word["findings"]
    assert not [f for f in word["findings"] if f["severity"] == "error"], word["findings"]
    assert word["fields"] == excel["fields"]
    values = form_values(*BRANDS[0])
    assert word["fields"]["党支部名称"] == values["党支部名称"] and word["fields"]["党员总数"] == values["党员总数"]
    assert word["fields"]["填表人"] == values["填表人"]  # typed after the colon in its label cell
    assert word["sheet"] == "表格1" and word["branch"] == values["党支部名称"]
    assert word["pictures"] == [{"sheet": "表格1", "cell": LOGO_A1, "scheme": "docx_drawing", "format": "png",
                                 "width": 400, "height": 300}]
    assert [p["cell"] for p in excel["pictures"]] == [LOGO_A1]
    assert _without_sheet(word["findings"]) == _without_sheet(excel["findings"])


def test_docx_grid_keeps_spans_and_vertical_merges(forms):
    content = read_docx(forms["docx"].read_bytes())
    grid = content.grids["表格1"]
    assert grid.rows[0] == [TITLE]
    assert (1, 1, 1, 2) in grid.merged  # 党支部名称's value over two columns (gridSpan)
    assert (4, 0, 6, 0) in grid.merged  # the box's label down three rows (vMerge)
    assert grid.get(2, 2) == LABELS["品牌标识"] and grid.get(7, 1) == SIGN
    assert grid.get(9, 0) == f"{LABELS['填表人']}：{form_values(*BRANDS[0])['填表人']}"
    assert grid.get(10, 0) == "注：纸质版经党总支审批后报送党委办公室。"
    assert [(p.row, p.col, p.scheme) for p in content.pictures] == [(2, 3, "docx_drawing")]


def test_a_form_split_over_two_tables_is_one_form(forms, tmp_path):
    path = write_docx(tmp_path / "两个表格.docx", form_values(*BRANDS[0]), logo_bytes(), split=6)
    code, files = validate(path, forms["docx"])
    assert files[path.name]["fields"] == files[forms["docx"].name]["fields"]
    assert [p["cell"] for p in files[path.name]["pictures"]] == [LOGO_A1]
    assert not [f for f in files[path.name]["findings"] if f["severity"] == "error"]


def test_forms_pasted_one_after_another_are_one_submission_each(tmp_path):
    path = write_docx(tmp_path / "总支汇总.docx", form_values(*BRANDS[1]), logo_bytes(), copies=2)
    subs = read_bytes(path.read_bytes(), Provenance(str(path), ""), load_profile(PROFILE))
    assert [s.provenance.sheet for s in subs] == ["表格1", "表格2"]
    assert [s.value("党支部名称") for s in subs] == [BRANDS[1][0], f"{BRANDS[1][0]}1"]
    assert all(s.logo is not None and s.logo.sheet == s.provenance.sheet for s in subs)


def _external_link(good: Path, dst: Path) -> Path:
    """The logo inserted with Word's "Link to File": the blip points at a file outside the package."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    document = docx.Document(str(good))
    rid = document.part.relate_to(r"file:///C:\Users\zhang\Desktop\logo.png", RT.IMAGE, is_external=True)
    blip = document.element.body.xpath(".//a:blip")[0]
    r_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    del blip.attrib[f"{{{r_ns}}}embed"]
    blip.set(f"{{{r_ns}}}link", rid)
    document.save(str(dst))
    return dst


def test_macro_linked_picture_and_zip_bomb_docx_get_clear_messages_in_a_batch(forms, tmp_path):
    good = forms["docx"]
    bad = {
        _rezip(good, tmp_path / "宏.docm", {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 512}): "宏",
        _external_link(good, tmp_path / "链接标识.docx"): "链接",
        _rezip(good, tmp_path / "炸弹.docx", {"word/media/image9.png": b"\x00" * (40 * 1024 * 1024)}): "膨胀",
    }
    code, files = validate(good, *bad)
    assert code == 1
    assert files[good.name]["status"] != "error" and files[good.name]["fields"]["品牌名称"] == BRANDS[0][1]
    for path, word in bad.items():
        doc = files[path.name]
        messages = " ".join(f["message"] for f in doc["findings"])
        assert word in messages and doc["status"] in ("unreadable", "error"), (path.name, messages)
    linked = files["链接标识.docx"]
    [finding] = [f for f in linked["findings"] if f["severity"] == "error"]
    assert finding["rule"] == "image_missing" and finding["field"] == "品牌标识"
    assert finding["cell"] == f"表格1!{LOGO_A1}" and "logo.png" in finding["message"]
    assert linked["fields"]["品牌名称"] == BRANDS[0][1]  # the rest of the form is still read
    assert "宏" in files["宏.docm"]["findings"][0]["message"] and "宏.docm" in files["宏.docm"]["findings"][0]["message"]


def test_report_dir_writes_an_xlsx_rendering_with_marks(forms, tmp_path):
    out = tmp_path / "reports"
    code, files = validate(forms["docx"], extra=("--report-dir", str(out)))
    assert code == 0
    report = out / f"{forms['docx'].stem}_校验结果.xlsx"
    wb = openpyxl.load_workbook(report)
    assert wb.sheetnames == ["问题清单", "表格1"]
    ws = wb["表格1"]
    assert ws["A1"].value == TITLE and ws["B2"].value == BRANDS[0][0]
    marked = [f["cell"].rpartition("!")[2] for f in files[forms["docx"].name]["findings"] if f["cell"]]
    assert marked  # the blank e-copy signatures
    for ref in marked:
        assert ws[ref].fill.fgColor.rgb.endswith("FFEB9C") and ws[ref].comment is not None


def test_doc_converted_by_libreoffice_validates_the_same(forms, tmp_path):
    if not SOFFICE:
        print("skipped: LibreOffice (soffice) is not installed, so .doc forms cannot be read here")
        pytest.skip("LibreOffice (soffice) is not installed")
    doc = convert(forms["docx"], "doc", tmp_path)
    assert sniff(doc.read_bytes()) == "doc"
    code, files = validate(forms["docx"], doc)
    word, old = files[forms["docx"].name], files[doc.name]
    assert code == 0, old["findings"]
    assert old["fields"] == word["fields"]
    assert [(p["cell"], p["format"]) for p in old["pictures"]] == [(LOGO_A1, "png")]
    assert _without_sheet(old["findings"]) == _without_sheet(word["findings"])


def test_old_word_formats_without_libreoffice_ask_for_docx(monkeypatch, tmp_path):
    import toolkit.readers.wordconvert as wordconvert

    monkeypatch.setattr(wordconvert, "find_soffice", lambda: None)
    rtf = rb"{\rtf1\ansi{\fonttbl\f0 SimSun;}\f0 \u20826?\u25903?\u37096?}"
    [sub] = read_bytes(rtf, Provenance("/in/申报表.rtf", ""), load_profile(PROFILE))
    assert sub.provenance.kind == "rtf"
    assert sub.findings[0].message == ("申报表.rtf：这是RTF 文档（.rtf），本机未安装 LibreOffice，无法读取；"
                                       "请另存为 .docx 或使用 Excel 申报表后重新提交")
    if SOFFICE:  # a real .doc: the message names it as Word 97-2003
        doc = convert(write_docx(tmp_path / "a.docx", form_values(*BRANDS[2])), "doc", tmp_path)
        [sub] = read_bytes(doc.read_bytes(), Provenance(str(doc), ""), load_profile(PROFILE))
        assert "Word 97-2003" in sub.findings[0].message and "LibreOffice" in sub.findings[0].message


def test_sniff_tells_word_files_apart(forms):
    data = forms["docx"].read_bytes()
    assert sniff(data) == "docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("word/vbaProject.bin", b"x")
    with pytest.raises(Unreadable) as info:
        sniff(buf.getvalue())
    assert info.value.reason == "macro"
    assert sniff(rb"{\rtf1 hello}") == "rtf"


W_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:v="urn:schemas-microsoft-com:vml"')


def _body_docx(path: Path, body: str, logo: bytes) -> Path:
    """A .docx whose body is `body` (WordprocessingML; "{img}" is the relationship id of `logo`)."""
    import docx
    from lxml import etree

    document = docx.Document()
    rid, _ = document.part.get_or_add_image(io.BytesIO(logo))
    old = document.element.body
    for child in list(old):
        if not child.tag.endswith("sectPr"):
            old.remove(child)
    for child in etree.fromstring(f"<w:body {W_NS}>{body.format(img=rid)}</w:body>"):
        old.insert(len(old) - 1, child)
    document.save(str(path))
    return path


def _p(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def _t(text: str) -> str:
    return f"<w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r>"


def _tc(*content: str) -> str:
    return "<w:tc>" + "".join(content or (_p(),)) + "</w:tc>"


def test_what_word_keeps_beside_the_text_is_no_value(tmp_path):
    """Tracked deletions, an empty content control's prompt and the notice's own text around the form
    are not read; a nested table, gridBefore, a VML picture and "标签：值" lines next to the table are."""
    notice = "".join(_p(_t(f"通知正文第{n}段。")) for n in range(4))
    body = (
        _p(_t("联系人：汪菡子，联系电话：13614719299。")) + notice
        + _p(_t("申报单位：检验科党支部"), "<w:r><w:tab/></w:r>", _t("填报日期：2024年8月1日"))
        + "<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>"
        + "<w:tr>" + _tc(_p(_t("党员总数"))) + _tc(
            "<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>"
            + _p(_t("单击或点击此处输入文字。")) + "</w:sdtContent></w:sdt>") + "</w:tr>"
        + "<w:tr><w:trPr><w:gridBefore w:val=\"1\"/></w:trPr>" + _tc(_p(_t("品牌名称"))) + _tc(_p(
            "<w:del><w:r><w:delText>旧名称</w:delText></w:r></w:del>", "<w:ins>" + _t("精检") + "</w:ins>",
            _t("先锋"))) + "</w:tr>"
        + "<w:tr>" + _tc(_p(_t("品牌标识"))) + _tc(_p(
            "<w:r><w:pict><v:shape><v:imagedata r:id=\"{img}\"/></v:shape></w:pict></w:r>")) + "</w:tr>"
        + "<w:tr>" + _tc(_p(_t("党支部意见"))) + _tc(
            "<w:tbl><w:tr>" + _tc(_p(_t("填表人"))) + _tc(_p(_t("王五"))) + "</w:tr></w:tbl>", _p()) + "</w:tr>"
        + "</w:tbl>" + _p(_t("联系方式：13900001111"))
    )
    path = _body_docx(tmp_path / "手写.docx", body, logo_bytes((200, 200)))
    content = read_docx(path.read_bytes())
    grid = content.grids["表格1"]
    assert grid.rows[:3] == [["通知正文第2段。"], ["通知正文第3段。"], ["申报单位：检验科党支部", "填报日期：2024年8月1日"]]
    assert not any("汪菡子" in str(v) for row in grid.rows for v in row)  # the notice's contact, far above
    [sub] = read_bytes(path.read_bytes(), Provenance(str(path), ""), load_profile(PROFILE))
    assert sub.value("党支部名称") == "检验科党支部"
    assert sub.value("品牌名称") == "精检先锋"
    assert sub.value("党员总数") is None  # the prompt of an empty content control
    assert sub.value("填表人") == "王五" and sub.value("联系方式") == "13900001111"
    assert sub.logo is not None and (sub.logo.scheme, sub.logo.cell) == ("docx_vml", "B6")
