"""File backend, one operation at a time, checked in the XML, with python-calamine and in LibreOffice."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.fixtures_masters import CORPUS, inline_master, ledger, members, part, png, row_texts
from tests.libreoffice import convert, roundtrip_values
from toolkit.core.changeset import (
    CellWrite,
    ChangeSet,
    NewColumn,
    NewRow,
    NewSheet,
    PicturePlacement,
    RowHeight,
)
from toolkit.ooxml import PackageError, apply_changeset, sheet_names
from toolkit.ooxml.refs import grow_defined_name, grow_sqref, shift_formula

SHEET = "xl/worksheets/sheet1.xml"


def values(data: bytes, sheet: str = "台账") -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(sheet).to_python()


def save(tmp_path: Path, data: bytes, name: str = "out.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def xf_attrs(data: bytes, index: int) -> dict[str, str]:
    from lxml import etree

    root = etree.fromstring(part(data, "xl/styles.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    return dict(root.findall("m:cellXfs/m:xf", ns)[index].attrib)


def cell_style(data: bytes, ref: str, sheet_part: str = SHEET) -> int:
    m = re.search(rf'<c r="{ref}"[^>]*?\ss="(\d+)"', part(data, sheet_part).decode())
    return int(m.group(1)) if m else 0


# -- formulas and ranges (pure) -------------------------------------------------------------------------
def test_shift_formula_moves_relative_refs_only():
    assert shift_formula("ROW()-1", 3) == "ROW()-1"
    assert shift_formula("A5+$B$5+B$5+$C5", 2) == "A7+$B$5+B$5+$C7"
    assert shift_formula('IF(A5="A5",SUM(Sheet2!B5:B6),LOG10(A5))', 1) == 'IF(A6="A5",SUM(Sheet2!B6:B7),LOG10(A6))'
    assert shift_formula("'My A1'!C3*Table1[[#This Row],[X1]]", 1) == "'My A1'!C4*Table1[[#This Row],[X1]]"
    assert shift_formula("B2", 0, 2) == "D2"
    assert shift_formula("A1", -1) == "#REF!"


def test_ranges_grow_only_when_they_end_at_the_template_row():
    assert grow_sqref("A2:D10 F2:F10 H1:H3", 10, 11) == "A2:D11 F2:F11 H1:H3"
    assert grow_sqref("$A$2:$D$11", 10, 12) == "$A$2:$D$12"  # the row above the new one
    assert grow_defined_name("'台 账'!$A$1:$E$4,Other!$A$1:$A$4", "台 账", 4, 5) == "'台 账'!$A$1:$E$5,Other!$A$1:$A$4"


# -- package level --------------------------------------------------------------------------------------
def test_empty_changeset_returns_the_same_bytes():
    src = ledger()
    assert apply_changeset(src, ChangeSet()) is src


def test_untouched_members_are_copied_byte_for_byte_in_order():
    src = ledger(extras=True)
    out = apply_changeset(src, ChangeSet(writes=[CellWrite("台账", 1, 2, "新品牌")]))
    before, after = members(src), members(out)
    assert list(after)[: len(before)] == list(before)  # order kept, nothing new
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= {SHEET, "xl/sharedStrings.xml", "xl/workbook.xml", "docProps/core.xml"}
    assert SHEET in changed
    assert sheet_names(out) == ["台账", "名册"]


@pytest.mark.parametrize("data, needle", [
    (b"hello", "不是 zip"),
    ((CORPUS / "calamine/pass_protected.xlsx").read_bytes(), "加密"),
    ((CORPUS / "calamine/date.xls").read_bytes(), ".xls"),
])
def test_unusable_masters_raise_package_error(data, needle):
    with pytest.raises(PackageError, match=needle):
        apply_changeset(data, ChangeSet(writes=[CellWrite("Sheet1", 0, 0, 1)]))


def _rewrite(src: bytes, edits: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename in edits:
                if edits[info.filename] is not None:
                    zout.writestr(info, edits[info.filename])
            else:
                zout.writestr(info, zin.read(info))
    return out.getvalue()


def test_strict_and_broken_packages_are_named():
    src = ledger()
    strict = part(src, "xl/workbook.xml").replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main")
    with pytest.raises(PackageError, match="Strict"):
        apply_changeset(_rewrite(src, {"xl/workbook.xml": strict}), ChangeSet(writes=[CellWrite("台账", 0, 0, 1)]))
    with pytest.raises(PackageError, match="workbook"):
        apply_changeset(_rewrite(src, {"xl/workbook.xml": None}), ChangeSet(writes=[CellWrite("台账", 0, 0, 1)]))
    with pytest.raises(PackageError, match="没有名为“不存在”"):
        apply_changeset(src, ChangeSet(writes=[CellWrite("不存在", 0, 0, 1)]))


# -- cell writes ----------------------------------------------------------------------------------------
WRITES = [
    CellWrite("台账", 1, 1, "第一&<支部>"),
    CellWrite("台账", 1, 2, '=HYPERLINK("http://evil","点我")'),
    CellWrite("台账", 2, 2, "  前后空格 "),
    CellWrite("台账", 3, 2, "控制\x01字符\x0b去掉"),
    CellWrite("台账", 2, 4, 42),
    CellWrite("台账", 3, 4, 3.25),
    CellWrite("台账", 1, 5, True),
    CellWrite("台账", 1, 6, dt.date(2024, 8, 10)),
    CellWrite("台账", 2, 6, dt.datetime(2024, 8, 10, 9, 30)),
    CellWrite("台账", 3, 6, dt.date(2024, 8, 12), number_format="yyyy年m月d日"),
    CellWrite("台账", 3, 1, None),
    CellWrite("台账", 2, 1, "已通过 2024-08-12 张三", fill="C6EFCE"),
    CellWrite("台账", 1, 0, 7),  # over a formula
]


def test_cell_writes_read_back_in_calamine_and_libreoffice(tmp_path):
    src = ledger()
    out = apply_changeset(src, ChangeSet(writes=WRITES))
    expected = {
        (1, 1): "第一&<支部>", (1, 2): '=HYPERLINK("http://evil","点我")', (2, 2): "  前后空格 ",
        (3, 2): "控制字符去掉", (2, 4): 42, (3, 4): 3.25, (1, 5): True, (1, 6): dt.date(2024, 8, 10),
        (2, 6): dt.datetime(2024, 8, 10, 9, 30), (3, 6): dt.date(2024, 8, 12), (3, 1): "",
        (2, 1): "已通过 2024-08-12 张三", (1, 0): 7,
    }
    for grid in (values(out), roundtrip_values(save(tmp_path, out))["台账"]):
        for (r, c), want in expected.items():
            assert grid[r][c] == want, (r, c, grid[r][c])
        assert grid[2][3] == dt.date(2024, 7, 2)  # untouched neighbours unchanged
    sheet = part(out, SHEET).decode()
    assert "<f>" not in re.search(r'<c r="A2".*?(?:/>|</c>)', sheet).group(0)
    assert xf_attrs(out, cell_style(out, "C2")).get("quotePrefix") == "1"
    assert xf_attrs(out, cell_style(out, "B2")).get("quotePrefix") is None
    fill_xf = xf_attrs(out, cell_style(out, "B3"))
    assert fill_xf["applyFill"] == "1" and fill_xf["borderId"] == xf_attrs(src, cell_style(src, "B3"))["borderId"]
    assert b'rgb="FFC6EFCE"' in part(out, "xl/styles.xml")
    assert xf_attrs(out, cell_style(out, "G2"))["numFmtId"] == "14"
    assert b'formatCode="yyyy\xe5\xb9\xb4m\xe6\x9c\x88d\xe6\x97\xa5"' in part(out, "xl/styles.xml")
    assert b"fullCalcOnLoad=\"1\"" in part(out, "xl/workbook.xml")


def test_shared_strings_are_appended_and_reused():
    src = ledger()
    before = part(src, "xl/sharedStrings.xml").decode()
    out = apply_changeset(src, ChangeSet(writes=[CellWrite("台账", 1, 2, "品牌2"), CellWrite("台账", 2, 2, "新")]))
    after = part(out, "xl/sharedStrings.xml").decode()
    old_items = re.findall(r"<si>.*?</si>", before)
    new_items = re.findall(r"<si>.*?</si>", after)
    assert new_items[: len(old_items)] == old_items and new_items[len(old_items):] == ["<si><t>新</t></si>"]
    assert f'uniqueCount="{len(new_items)}"' in after
    assert '<c r="C2" s="2" t="s"><v>' + str(old_items.index("<si><t>品牌2</t></si>")) in part(out, SHEET).decode()


def test_thousand_fills_add_one_format():
    src = ledger(rows=50)
    writes = [CellWrite("台账", r, 2, "已提交", fill="C6EFCE") for r in range(1, 51)] * 20
    out = apply_changeset(src, ChangeSet(writes=writes))
    count = lambda d: int(re.search(rb'<cellXfs count="(\d+)"', part(d, "xl/styles.xml")).group(1))  # noqa: E731
    assert count(out) == count(src) + 1
    assert count(apply_changeset(out, ChangeSet(writes=writes))) == count(out)  # reused, not duplicated


def test_writing_the_same_value_twice_gives_the_same_sheet_bytes():
    changes = ChangeSet(writes=WRITES, new_columns=[NewColumn("台账", 7, 0, "申报状态", 12)])
    once = apply_changeset(ledger(), changes)
    twice = apply_changeset(once, ChangeSet(writes=WRITES))
    for name in (SHEET, "xl/sharedStrings.xml", "xl/styles.xml"):
        assert part(once, name) == part(twice, name), name


def test_inline_string_master_keeps_inline_strings_and_its_rows(tmp_path):
    src = inline_master()
    out = apply_changeset(src, ChangeSet(
        writes=[CellWrite("台账", 2, 0, "第二支部"), CellWrite("台账", 2, 1, "+1 先锋")],
        new_sheets=[NewSheet("操作记录", [["时间", "操作"], ["2024-08-01", "合并"]])]))
    assert "xl/sharedStrings.xml" not in members(out)
    sheet = part(out, SHEET)
    assert b'<c r="A3" t="inlineStr"><is><t>\xe7\xac\xac\xe4\xba\x8c\xe6\x94\xaf\xe9\x83\xa8</t></is></c>' in sheet
    assert row_texts(sheet)["2"] == row_texts(part(src, SHEET))["2"]  # single quotes, &amp; and all
    lo = roundtrip_values(save(tmp_path, out))
    assert lo["台账"] == [["党支部名称", "品牌名称"], ["第一&支部", " 红心 "], ["第二支部", "+1 先锋"]]
    assert lo["操作记录"] == [["时间", "操作"], ["2024-08-01", "合并"]]


# -- rows, columns, sheets ------------------------------------------------------------------------------
def test_new_rows_fill_formulas_down_and_grow_ranges(tmp_path):
    src = ledger(rows=3)
    out = apply_changeset(src, ChangeSet(
        new_rows=[NewRow("台账", 5, 3), NewRow("台账", 4, 3)],
        writes=[CellWrite("台账", 4, 1, "第4党支部"), CellWrite("台账", 5, 1, "第5党支部"),
                CellWrite("台账", 5, 4, 20)]))
    sheet = part(out, SHEET).decode()
    assert '<c r="A5" s="2"><f>ROW()-1</f></c>' in sheet  # no cached value: recalculated on open
    assert re.search(r'<c r="D6" s="3"/>', sheet)  # the date column's format is carried down
    assert '<autoFilter ref="A1:E6"/>' in sheet and 'sqref="E2:E6"' in sheet
    assert "台账!$A$1:$E$6" in part(out, "xl/workbook.xml").decode()
    for name, r in (("4", 4), ("2", 2)):  # rows nobody touched keep their text
        assert row_texts(part(out, SHEET))[name] == row_texts(part(src, SHEET))[name], r
    grid = roundtrip_values(save(tmp_path, out))["台账"]
    assert [row[0] for row in grid[4:6]] == [4, 5]  # LibreOffice computed the filled-down formula
    assert grid[5][1] == "第5党支部" and grid[5][4] == 20


def test_shared_formula_is_expanded_for_the_new_row(tmp_path):
    src = ledger(rows=3)
    sheet = part(src, SHEET).decode()
    sheet = sheet.replace('<f>ROW()-1</f><v>1</v>', "<f t='shared' ref=\"A2:A4\" si=\"0\">B2&amp;\"-\"&amp;ROW()</f><v>1</v>", 1)
    sheet = re.sub(r'<f>ROW\(\)-1</f>', "<f t='shared' si=\"0\"/>", sheet)  # t in single quotes: valid XML too
    src = _rewrite(src, {SHEET: sheet.encode()})
    out = apply_changeset(src, ChangeSet(new_rows=[NewRow("台账", 4, 3)], writes=[CellWrite("台账", 4, 1, "新")]))
    assert '<c r="A5" s="2"><f>B5&amp;"-"&amp;ROW()</f></c>' in part(out, SHEET).decode()
    assert roundtrip_values(save(tmp_path, out))["台账"][4][0] == "新-5"


def test_new_column_takes_the_header_and_body_formats(tmp_path):
    src = ledger(rows=3)
    out = apply_changeset(src, ChangeSet(new_columns=[NewColumn("台账", 5, 0, "申报状态", 14.5)],
                                         writes=[CellWrite("台账", 2, 5, "已提交")]))
    sheet = part(out, SHEET).decode()
    assert cell_style(out, "F1") == cell_style(src, "E1") and cell_style(out, "F4") == cell_style(src, "E4")
    assert '<col min="6" max="6" width="14.5" customWidth="1"/>' in sheet
    assert '<autoFilter ref="A1:F4"/>' in sheet and '<dimension ref="A1:F4"/>' in sheet
    grid = roundtrip_values(save(tmp_path, out))["台账"]
    assert [row[5] for row in grid] == ["申报状态", "", "已提交", ""]


def test_new_column_widens_a_table(tmp_path):
    src = ledger(extras=True)
    out = apply_changeset(src, ChangeSet(new_columns=[NewColumn("名册", 2, 0, "党支部", None)],
                                         new_rows=[NewRow("名册", 4, 3)],
                                         writes=[CellWrite("名册", 4, 0, "三总支")]))
    table = part(out, "xl/tables/table1.xml").decode()
    assert 'ref="A1:C5"' in table and '<tableColumn id="3" name="党支部2"/>' in table
    grid = roundtrip_values(save(tmp_path, out))["名册"]
    assert grid[0] == ["党总支", "党支部", "党支部2"] and grid[4][0] == "三总支"


def test_new_sheets_are_registered_everywhere(tmp_path):
    src = ledger()
    out = apply_changeset(src, ChangeSet(new_sheets=[
        NewSheet("品牌台账", [["党支部名称", "申报日期"], ["第一支部", dt.date(2024, 8, 1)]], [24, 12]),
        NewSheet("操作记录", [["时间", "操作"]], hidden=True)]))
    assert sheet_names(out) == ["台账", "品牌台账", "操作记录"]
    wbxml = part(out, "xl/workbook.xml").decode()
    assert re.search(r'<sheet name="操作记录" sheetId="3" state="hidden" r:id="rId\d+"/>', wbxml)
    new = part(out, "xl/worksheets/sheet2.xml").decode()
    assert 'state="frozen"' in new and '<col min="1" max="1" width="24" customWidth="1"/>' in new
    header = xf_attrs(out, cell_style(out, "A1", "xl/worksheets/sheet2.xml"))
    assert header["applyFont"] == "1" and header["applyFill"] == "1"
    assert b"<b/>" in part(out, "xl/styles.xml")
    app = part(out, "docProps/app.xml").decode()
    assert "<vt:i4>3</vt:i4>" in app and "<vt:lpstr>品牌台账</vt:lpstr><vt:lpstr>操作记录</vt:lpstr>" in app
    assert "/xl/worksheets/sheet3.xml" in part(out, "[Content_Types].xml").decode()
    lo = roundtrip_values(save(tmp_path, out))
    assert lo["品牌台账"] == [["党支部名称", "申报日期"], ["第一支部", dt.date(2024, 8, 1)]]


@pytest.mark.parametrize("name", ["台账", "a" * 32, "品牌[1]", "x/y", "'引号'", ""])
def test_invalid_sheet_names_are_refused(name):
    with pytest.raises(PackageError, match="工作表"):
        apply_changeset(ledger(), ChangeSet(new_sheets=[NewSheet(name, [["x"]])]))


def test_row_height():
    out = apply_changeset(ledger(), ChangeSet(row_heights=[RowHeight("台账", 2, 48), RowHeight("台账", 9, 30)]))
    rows = row_texts(part(out, SHEET))
    assert 'ht="48" customHeight="1"' in rows["3"] and rows["10"] == '<row r="10" ht="30" customHeight="1"/>'


# -- pictures -------------------------------------------------------------------------------------------
def _anchors(data: bytes, drawing: str) -> list[str]:
    return re.findall(r"<xdr:twoCellAnchor.*?</xdr:twoCellAnchor>", part(data, drawing).decode(), re.S)


def test_picture_in_a_sheet_without_drawing(tmp_path):
    src = ledger()
    logo = png(60, 40)
    out = apply_changeset(src, ChangeSet(pictures=[PicturePlacement("台账", 2, 2, logo, "png", 60, 40, "第2党支部")]))
    sheet = part(out, SHEET).decode()
    assert re.search(r'<drawing r:id="rId\d+"/></worksheet>', sheet)
    media = [n for n in members(out) if n.startswith("xl/media/brandkit_")]
    assert len(media) == 1 and part(out, media[0]) == logo
    assert '<Default Extension="png" ContentType="image/png"/>' in part(out, "[Content_Types].xml").decode()
    converted = convert(save(tmp_path, out), "xlsx", tmp_path / "lo")
    drawing = next(n for n in members(converted.read_bytes()) if re.match(r"xl/drawings/drawing\d+\.xml$", n))
    anchor = part(converted.read_bytes(), drawing).decode()
    assert re.search(r"<xdr:from><xdr:col>2</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>", anchor)


def test_picture_replaces_brandkit_picture_in_the_same_cell_and_keeps_others():
    src = ledger(extras=True)  # already has a drawing (text box + picture)
    drawing = "xl/drawings/drawing1.xml"
    first = apply_changeset(src, ChangeSet(pictures=[PicturePlacement("台账", 1, 2, png(colour="red"), "png", 40, 30, "甲")]))
    second = apply_changeset(first, ChangeSet(pictures=[PicturePlacement("台账", 1, 2, png(colour="green"), "png", 40, 30, "甲")]))
    old = _anchors(src, drawing)
    assert _anchors(first, drawing)[: len(old)] == old and len(_anchors(first, drawing)) == len(old) + 1
    assert _anchors(second, drawing)[: len(old)] == old and len(_anchors(second, drawing)) == len(old) + 1
    media = [n for n in members(second) if n.startswith("xl/media/brandkit_")]
    assert len(media) == 1 and part(second, media[0]) == png(colour="green")
    again = apply_changeset(second, ChangeSet(pictures=[PicturePlacement("台账", 1, 2, png(colour="green"), "png", 40, 30, "甲")]))
    assert part(again, drawing) == part(second, drawing)


def test_xlsm_keeps_vba_and_macro_content_type(tmp_path):
    src = ledger(vba=True)
    out = apply_changeset(src, ChangeSet(writes=[CellWrite("台账", 1, 1, "改")]))
    assert members(out)["xl/vbaProject.bin"] == members(src)["xl/vbaProject.bin"]
    assert "macroEnabled.main+xml" in part(out, "[Content_Types].xml").decode()
    assert roundtrip_values(save(tmp_path, out, "m.xlsm"))["台账"][1][1] == "改"
