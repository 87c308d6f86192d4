"""Pictures in submissions: every storage scheme, real files from Excel/WPS/LibreOffice, hostile inputs."""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.libreoffice import convert
from tests.paths import CORPUS, corpus_files
from toolkit.core.model import Picture
from toolkit.readers.errors import Unreadable
from toolkit.readers.imageinfo import image_info
from toolkit.readers.pictures import MAX_MEDIA_BYTES, MediaBudget, choose_logo, find_pictures
from toolkit.readers.pictures_xlsx import iter_xml
from toolkit.readers.xmlsafe import parse_xml


def found(path: Path, kind: str) -> list[tuple[str, str, str, str, int | None, int | None]]:
    return [(p.sheet, p.cell, p.scheme, p.format, p.width, p.height)
            for p in find_pictures(path.read_bytes(), kind)]


def rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """A copy of a zip with members replaced (None deletes) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info.filename, src.read(info))
        for name, blob in replace.items():
            if blob is not None:
                dst.writestr(name, blob)
    return out.getvalue()


def png_bytes(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


# --- real files from other producers ---------------------------------------------------------------

def test_wps_cell_image_and_floating_pictures() -> None:
    pics = find_pictures((CORPUS / "sheetjs/wps_image.xlsx").read_bytes(), "xlsx")
    assert [(p.sheet, p.cell, p.scheme, p.format, p.width, p.height) for p in pics] == [
        ("Sheet1", "G15", "wps_cell_image", "jpeg", 1024, 768),
        ("Sheet1", "A1", "drawing", "jpeg", 1024, 768),
        ("Sheet1", "F1", "drawing", "jpeg", 1024, 768),
        ("Sheet1", "A13", "drawing", "jpeg", 1024, 768),
    ]
    assert pics[0].name == "ID_343DFC770DE840EFB3B0EC4FD4D2FCC0"
    assert [p.name for p in pics[1:]] == ["Picture 1", "Picture 2", "Picture 3"]
    with zipfile.ZipFile(CORPUS / "sheetjs/wps_image.xlsx") as zf:
        assert pics[0].data == zf.read("xl/media/image2.jpeg")
        # one media file behind three anchors: three pictures with the same bytes
        assert all(p.data == zf.read("xl/media/image1.jpeg") for p in pics[1:])


def test_cells_without_r_attributes_are_counted() -> None:
    """Some writers omit r= on rows and cells: positions follow the previous row/cell."""
    wps = (CORPUS / "sheetjs/wps_image.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(wps)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    head, rest = sheet.split("<sheetData>")
    formula = '<c t="str"><v>=DISPIMG(&quot;ID_343DFC770DE840EFB3B0EC4FD4D2FCC0&quot;,1)</v></c>'
    rows = f'<row r="13"><c r="E13"/></row><row><c r="F14"/><c/>{formula}</row><row>{formula}</row>'
    tail = rest.split("</sheetData>", 1)[1]
    data = rezip(wps, {"xl/worksheets/sheet1.xml": f"{head}<sheetData>{rows}</sheetData>{tail}".encode()})
    assert [(p.cell, p.scheme) for p in find_pictures(data, "xlsx")][:2] == [
        ("H14", "wps_cell_image"), ("A15", "wps_cell_image")]


def test_excel_place_in_cell_and_over_cell() -> None:
    assert found(CORPUS / "calamine/pictures_in_cell_and_over_cell.xlsx", "xlsx") == [
        ("Sheet1", "A1", "excel_in_cell", "png", 32, 32),
        ("Sheet1", "A3", "excel_in_cell", "png", 23, 23),
        ("Sheet1", "E9", "drawing", "png", 32, 32),
    ]


def test_rich_value_structure_key_order_decides_the_image_index() -> None:
    """The same two in-cell pictures when the structure lists CalcOrigin before the image key."""
    path = CORPUS / "calamine/pictures_in_cell_and_over_cell.xlsx"
    with zipfile.ZipFile(path) as zf:
        structure = zf.read("xl/richData/rdrichvaluestructure.xml").decode()
        values = zf.read("xl/richData/rdrichvalue.xml").decode()
    image_key, origin_key = '<k n="_rvRel:LocalImageIdentifier" t="i"/>', '<k n="CalcOrigin" t="i"/>'
    swapped = structure.replace(image_key + origin_key, origin_key + image_key)
    assert swapped.count(origin_key + image_key) == 2
    values = values.replace("<v>0</v><v>5</v>", "<v>5</v><v>0</v>").replace("<v>1</v><v>5</v>", "<v>5</v><v>1</v>")
    data = rezip(path.read_bytes(), {"xl/richData/rdrichvaluestructure.xml": swapped.encode(),
                                     "xl/richData/rdrichvalue.xml": values.encode()})
    pics = find_pictures(data, "xlsx")
    assert [(p.cell, p.scheme, p.width) for p in pics] == [
        ("A1", "excel_in_cell", 32), ("A3", "excel_in_cell", 23), ("E9", "drawing", 32)]


def test_picture_in_three_formats_from_calamine() -> None:
    # Excel's 图片 2 sits at A1 of both sheets: a 512x512 JPEG on Sheet1 and a 512x512 PNG on Sheet2
    assert found(CORPUS / "calamine/picture.xlsx", "xlsx") == [
        ("Sheet1", "A1", "drawing", "jpeg", 512, 512), ("Sheet2", "A1", "drawing", "png", 512, 512)]
    assert found(CORPUS / "calamine/picture.xls", "xls") == [
        ("Sheet1", "A1", "xls_blip", "jpeg", 512, 512), ("Sheet2", "A1", "xls_blip", "png", 512, 512)]
    assert found(CORPUS / "calamine/picture.ods", "ods") == [
        ("工作表1", "A1", "ods_frame", "jpeg", 512, 512), ("工作表2", "A1", "ods_frame", "png", 512, 512)]
    assert found(CORPUS / "calamine/picture_richdata.xlsx", "xlsx") == [
        ("Sheet1", "B2", "excel_in_cell", "png", 740, 524)]
    xlsx = find_pictures((CORPUS / "calamine/picture.xlsx").read_bytes(), "xlsx")
    xls = find_pictures((CORPUS / "calamine/picture.xls").read_bytes(), "xls")
    assert [p.data for p in xls] == [p.data for p in xlsx]  # the BLIPs are the very same files
    assert [p.name for p in xls] == ["图片 2", "图片 2"]


@pytest.mark.parametrize("path", corpus_files(".xlsx", ".xlsm", ".xls", ".et", ".ods"), ids=lambda p: p.name)
def test_every_corpus_file_under_every_reader(path: Path) -> None:
    data = path.read_bytes()
    for kind in ("xlsx", "xls", "ods"):
        pics = find_pictures(data, kind)
        assert all(isinstance(p, Picture) and p.row >= 0 and p.col >= 0 and p.data for p in pics)
    if path.name.startswith(("artifacts_wps_write", "wps_fn", "merge_cells", "pass_protected")):
        assert find_pictures(data, path.suffix) == []  # these hold no pictures (or are encrypted)


# --- second producer: LibreOffice writes .xls and .ods from an .xlsx we build ----------------------

def emf_bytes() -> bytes:
    """A minimal valid EMF: EMR_HEADER (bounds 0,0-99,49 device pixels) and EMR_EOF."""
    header = struct.pack("<II4i4iIIIIHHII", 1, 108, 0, 0, 99, 49, 0, 0, 2645, 1322, 0x464D4520, 0x10000,
                         128, 2, 0, 0, 0, 0).ljust(108, b"\0")
    eof = struct.pack("<IIIII", 14, 20, 0, 16, 20)
    return header + eof


EMF = emf_bytes()


@pytest.fixture(scope="module")
def lo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import xlsxwriter
    from PIL import Image

    tmp = tmp_path_factory.mktemp("lo")
    (tmp / "logo.png").write_bytes(png_bytes(120, 80))
    Image.new("RGB", (50, 40), (0, 90, 200)).save(tmp / "seal.jpg", "JPEG")
    wb = xlsxwriter.Workbook(tmp / "form.xlsx")
    ws = wb.add_worksheet("申报表")
    ws.write("B3", "品牌标识")
    ws.write("B20", "党支部书记签字")
    ws.insert_image("C5", str(tmp / "logo.png"))
    ws2 = wb.add_worksheet("第二支部")
    ws2.write("A1", "x")
    ws2.insert_image("D10", str(tmp / "seal.jpg"), {"x_offset": 5, "y_offset": 3})
    Image.new("RGB", (33, 21), (10, 200, 10)).save(tmp / "g.bmp")
    (tmp / "m.emf").write_bytes(EMF)
    ws3 = wb.add_worksheet("附件")
    ws3.insert_image("B2", str(tmp / "g.bmp"))
    ws3.insert_image("F8", str(tmp / "m.emf"))
    wb.close()
    out = {"xlsx": tmp / "form.xlsx"}
    for fmt in ("xls", "ods"):
        out[fmt] = convert(tmp / "form.xlsx", fmt, tmp)
    out["ods_back"] = convert(out["ods"], "xlsx", tmp_path_factory.mktemp("back"))
    return out


def test_xls_written_by_libreoffice(lo_files: dict[str, Path]) -> None:
    assert found(lo_files["xlsx"], "xlsx") == [
        ("申报表", "C5", "drawing", "png", 120, 80), ("第二支部", "D10", "drawing", "jpeg", 50, 40),
        ("附件", "B2", "drawing", "bmp", 33, 21), ("附件", "F8", "drawing", "emf", 100, 50)]
    pics = find_pictures(lo_files["xls"].read_bytes(), "xls")
    assert [(p.sheet, p.cell, p.scheme, p.format, p.width, p.height) for p in pics] == [
        ("申报表", "C5", "xls_blip", "png", 120, 80), ("第二支部", "D10", "xls_blip", "jpeg", 50, 40),
        # LibreOffice stores the BMP as PNG and the EMF as a deflate-compressed metafile BLIP
        ("附件", "B2", "xls_blip", "png", 33, 21), ("附件", "F8", "xls_blip", "emf", 100, 50)]
    assert pics[3].data == EMF
    from PIL import Image

    with Image.open(io.BytesIO(pics[0].data)) as img:  # the BLIP bytes are a whole, decodable PNG
        assert img.size == (120, 80) and img.convert("RGB").getpixel((60, 40)) == (200, 30, 30)


def test_ods_written_by_libreoffice_agrees_with_libreoffice(lo_files: dict[str, Path]) -> None:
    ods = found(lo_files["ods"], "ods")
    assert ods[0] == ("申报表", "C5", "ods_frame", "png", 120, 80)
    # LibreOffice 7.4's .ods export writes the second sheet's frame into the 2nd cell of row 10; what
    # matters is that we read the file as LibreOffice itself does when it loads it again.
    back = find_pictures(lo_files["ods_back"].read_bytes(), "xlsx")
    assert [row[:2] for row in ods] == [(p.sheet, p.cell) for p in back]
    assert [row[:2] for row in ods[:2]] == [("申报表", "C5"), ("第二支部", "B10")]


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">
<office:automatic-styles>
<style:style style:name="co1" style:family="table-column"><style:table-column-properties style:column-width="2cm"/></style:style>
<style:style style:name="co2" style:family="table-column"><style:table-column-properties style:column-width="4cm"/></style:style>
<style:style style:name="ro1" style:family="table-row"><style:table-row-properties style:row-height="0.5cm" style:use-optimal-row-height="false"/></style:style>
<style:style style:name="ro2" style:family="table-row"><style:table-row-properties style:row-height="2cm" style:use-optimal-row-height="false"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
<table:table table:name="页面">
<table:shapes><draw:frame draw:name="浮动" svg:width="1cm" svg:height="1cm" svg:x="9.5cm" svg:y="3.2cm"><draw:image xlink:href="Pictures/logo.png" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"><text:p/></draw:image></draw:frame></table:shapes>
<table:table-column table:style-name="co1" table:number-columns-repeated="3"/><table:table-column table:style-name="co2" table:number-columns-repeated="5"/>
<table:table-row table:style-name="ro1" table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="8"/></table:table-row>
<table:table-row table:style-name="ro2"><table:table-cell office:value-type="string"><text:p>标识</text:p></table:table-cell><table:covered-table-cell table:number-columns-repeated="2"/><table:table-cell/><table:table-cell><draw:frame draw:name="单元格"><draw:image xlink:href="./Pictures/logo.png"><text:p/></draw:image></draw:frame></table:table-cell></table:table-row>
<table:table-row table:style-name="ro1" table:number-rows-repeated="10"><table:table-cell table:number-columns-repeated="8"/></table:table-row>
</table:table>
</office:spreadsheet></office:body></office:document-content>"""
ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
<manifest:file-entry manifest:full-path="Pictures/logo.png" manifest:media-type="image/png"/>
</manifest:manifest>"""


def build_ods(content: str, picture: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        zf.writestr("content.xml", content)
        zf.writestr("Pictures/logo.png", picture)
    return out.getvalue()


def test_ods_page_anchored_and_covered_cells(tmp_path: Path) -> None:
    path = tmp_path / "page.ods"
    path.write_bytes(build_ods(ODS_CONTENT, png_bytes(30, 20)))
    # page frame at x=9.5cm over columns 2,2,2,4,... cm -> D; y=3.2cm over rows .5,.5,2,.5 cm -> row 4.
    # The in-cell frame follows a covered block of two cells: the 5th cell of row 3 -> E3.
    # (page frames are resolved when the table ends, so they come after the in-cell ones)
    assert found(path, "ods") == [("页面", "E3", "ods_frame", "png", 30, 20),
                                  ("页面", "D4", "ods_frame", "png", 30, 20)]
    (tmp_path / "back").mkdir()
    back = convert(path, "xlsx", tmp_path / "back")
    assert found(back, "xlsx")[0][:2] == ("页面", "D4")  # LibreOffice places the page frame there too


# --- synthetic drawing features ------------------------------------------------------------------

DRAWING = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
 xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
{anchors}
</xdr:wsDr>"""
PIC = """<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="{id}" name="{name}"/><xdr:cNvPicPr/></xdr:nvPicPr>
<xdr:blipFill><a:blip {ref}/></xdr:blipFill><xdr:spPr/></xdr:pic>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>"""
IMAGE_REL = ('<Relationship Id="{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             'relationships/image" Target="{}"{}/>')


def cell_anchor(row: int, col: int, body: str, kind: str = "oneCellAnchor") -> str:
    return (f"<xdr:{kind}><xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{row}"
            f"</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx='1' cy='1'/>{body}"
            f"<xdr:clientData/></xdr:{kind}>")


def pic(name: str, rid: str = "rId1", attr: str = "r:embed") -> str:
    return PIC.format(id=1, name=name, ref=f'{attr}="{rid}"')


def with_drawing(anchors: str, rels: str, extra: dict[str, bytes | None] | None = None) -> bytes:
    base = (CORPUS / "calamine/picture.xlsx").read_bytes()
    return rezip(base, {"xl/drawings/drawing1.xml": DRAWING.format(anchors=anchors).encode(),
                        "xl/drawings/_rels/drawing1.xml.rels": RELS.format(rels).encode(),
                        **(extra or {})})


def test_drawing_groups_alternate_content_links_and_absolute_targets() -> None:
    anchors = "".join([
        cell_anchor(2, 1, pic("plain")),
        cell_anchor(4, 3, "<xdr:grpSp><xdr:nvGrpSpPr/><xdr:grpSpPr/>" + pic("in group", "rId2")
                    + "<xdr:grpSp>" + pic("nested", "rId1") + "</xdr:grpSp></xdr:grpSp>", "twoCellAnchor"),
        "<mc:AlternateContent><mc:Choice Requires='a14'>" + cell_anchor(7, 0, pic("choice"))
        + "</mc:Choice><mc:Fallback>" + cell_anchor(7, 0, pic("fallback")) + "</mc:Fallback></mc:AlternateContent>",
        cell_anchor(8, 8, pic("linked", "rId3", "r:link")),
        cell_anchor(9, 9, pic("outside", "rId4")),
        cell_anchor(10, 10, pic("external", "rId5")),
        "<xdr:absoluteAnchor><xdr:pos x='1524000' y='952500'/><xdr:ext cx='1' cy='1'/>"
        + pic("absolute") + "<xdr:clientData/></xdr:absoluteAnchor>",
    ])
    rels = "".join([IMAGE_REL.format("rId1", "../media/image1.jpg", ""),
                    IMAGE_REL.format("rId2", "/xl/media/extra.png", ""),
                    IMAGE_REL.format("rId3", "http://example.com/x.png", ' TargetMode="External"'),
                    IMAGE_REL.format("rId4", "../../../etc/passwd", ""),
                    IMAGE_REL.format("rId5", "file:///etc/passwd", ' TargetMode="External"')])
    # a member literally named ../etc/passwd: a naive resolver would find it
    data = with_drawing(anchors, rels, {"xl/media/extra.png": png_bytes(7, 5), "../etc/passwd": png_bytes(9, 9)})
    pics = [p for p in find_pictures(data, "xlsx") if p.sheet == "Sheet1"]
    assert [(p.name, p.cell, p.format, p.width) for p in pics] == [
        ("plain", "B3", "jpeg", 512), ("in group", "D5", "png", 7), ("nested", "D5", "jpeg", 512),
        ("choice", "A8", "jpeg", 512),
        # 1524000 EMU = 160 px = 2.5 default columns -> C; 952500 EMU = 100 px = 5 default rows -> row 6
        ("absolute", "C6", "jpeg", 512)]


def test_media_budget_skips_huge_media_but_keeps_the_rest() -> None:
    big = b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x10\x00\x10" + bytes(MAX_MEDIA_BYTES)
    data = rezip((CORPUS / "calamine/picture.xlsx").read_bytes(), {"xl/media/image1.jpg": big})
    assert len(data) < 1_000_000  # zeros compress; the declared size alone must stop the read
    tracemalloc.start()
    try:
        assert found_bytes(data) == [("Sheet2", "A1", "drawing")]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MAX_MEDIA_BYTES // 8, f"{peak} bytes allocated: the oversized member was inflated"
    budget = MediaBudget(10)
    assert budget.take(6) and not budget.take(5) and budget.take(4) and budget.left == 0


def found_bytes(data: bytes, kind: str = "xlsx") -> list[tuple[str, str, str]]:
    return [(p.sheet, p.cell, p.scheme) for p in find_pictures(data, kind)]


# --- hostile input -------------------------------------------------------------------------------

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
          + "]>")
XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def test_entities_are_never_expanded() -> None:
    wps = (CORPUS / "sheetjs/wps_image.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(wps)) as zf:
        drawing = zf.read("xl/drawings/drawing1.xml").decode()
        cells = zf.read("xl/cellimages.xml").decode()
    body = drawing.split("?>", 1)[1].replace('name="Picture 1"', 'name="&j;"')
    laughs = LAUGHS.replace("<!DOCTYPE r", "<!DOCTYPE xdr:wsDr") + body
    xxe = XXE.replace("<!DOCTYPE r", "<!DOCTYPE etc:cellImages") + cells.split("?>", 1)[1].replace(
        'descr="Desert"', 'descr="&x;"')
    # the parsers refuse the DTD outright: nothing is expanded, so there is nothing to wait for
    with pytest.raises(Unreadable) as refused:
        parse_xml(laughs.encode())
    assert refused.value.reason == "xml_attack"
    with zipfile.ZipFile(io.BytesIO(rezip(wps, {"xl/drawings/drawing1.xml": laughs.encode()}))) as zf:
        assert list(iter_xml(zf, "xl/drawings/drawing1.xml", ("start",), ("{*}pic",))) == []
    assert find_pictures(rezip(wps, {"xl/drawings/drawing1.xml": laughs.encode()}), "xlsx")[0].scheme \
        == "wps_cell_image"  # the drawing part is refused, the rest still read
    assert [p.scheme for p in find_pictures(rezip(wps, {"xl/cellimages.xml": xxe.encode()}), "xlsx")] \
        == ["drawing"] * 3
    sheet_laughs = LAUGHS + "<worksheet><sheetData><row r='1'><c r='A1' vm='1'><v>&j;</v></c></row></sheetData></worksheet>"
    # the hostile sheet yields none of its picture cells; its clean drawing (named by the rels) still counts
    assert [p.scheme for p in find_pictures(rezip(wps, {"xl/worksheets/sheet1.xml": sheet_laughs.encode()}),
                                            "xlsx")] == ["drawing"] * 3
    ods_laughs = ODS_CONTENT.replace('<?xml version="1.0" encoding="UTF-8"?>', LAUGHS.replace(
        "<!DOCTYPE r", "<!DOCTYPE office:document-content")).replace("标识", "&j;")
    assert find_pictures(build_ods(ods_laughs, png_bytes(3, 3)), "ods") == []


@pytest.mark.slow  # every part of three packages cut and removed, one by one
def test_truncated_and_corrupt_packages() -> None:
    for path, kind in [(CORPUS / "sheetjs/wps_image.xlsx", "xlsx"), (CORPUS / "calamine/picture.ods", "ods"),
                       (CORPUS / "calamine/pictures_in_cell_and_over_cell.xlsx", "xlsx")]:
        data = path.read_bytes()
        for cut in (0, 10, 100, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
            assert isinstance(find_pictures(data[:cut], kind), list)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            for name in names:  # each part cut in half: malformed XML, truncated media
                member = zf.read(name)
                assert isinstance(find_pictures(rezip(data, {name: member[: len(member) // 2]}), kind), list)
                assert isinstance(find_pictures(rezip(data, {name: None}), kind), list)
    # a stored member whose bytes are damaged: the CRC check fails on read
    raw = bytearray(rezip((CORPUS / "calamine/picture.xlsx").read_bytes(), {}))
    at = raw.find(b"JFIF")
    raw[at:at + 4] = b"XXXX"
    assert isinstance(find_pictures(bytes(raw), "xlsx"), list)


def test_garbage_bytes() -> None:
    rng = random.Random(7)
    ole_header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    samples = [b"", b"\x00", rng.randbytes(5000), ole_header + rng.randbytes(5000),
               b"PK\x03\x04" + rng.randbytes(5000), ole_header + bytes(600)]
    for blob in samples:
        for kind in ("xlsx", "xls", "ods", "csv"):
            assert find_pictures(blob, kind) == []


def test_mutated_xls_never_raises() -> None:
    """Random byte flips inside the BIFF/OfficeArt records (the OLE container stays readable)."""
    data = (CORPUS / "calamine/picture.xls").read_bytes()
    rng = random.Random(11)
    for _ in range(150):
        blob = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            blob[rng.randrange(512, len(blob))] = rng.randrange(256)
        pics = find_pictures(bytes(blob), "xls")
        assert all(p.row >= 0 and p.col >= 0 for p in pics)


def test_encrypted_and_obfuscated_workbooks_yield_nothing(tmp_path: Path) -> None:
    import olefile

    path = tmp_path / "filepass.xls"
    path.write_bytes((CORPUS / "calamine/picture.xls").read_bytes())
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        bof_len = struct.unpack_from("<H", stream, 2)[0]
        struct.pack_into("<H", stream, 4 + bof_len, 0x002F)  # the record after BOF becomes FILEPASS
        ole.write_stream("Workbook", bytes(stream))
    assert find_pictures(path.read_bytes(), "xls") == []
    assert find_pictures((CORPUS / "calamine/pass_protected.xlsx").read_bytes(), "xlsx") == []
    assert find_pictures((CORPUS / "calamine/pass_protected.ods").read_bytes(), "ods") == []


# --- image headers -------------------------------------------------------------------------------

def pil_bytes(fmt: str, size: tuple[int, int], **save) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(buf, fmt, **save)
    return buf.getvalue()


def test_image_info_formats() -> None:
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Canon" * 50  # a long APP1 block before the frame header
    cases = {
        "png": pil_bytes("PNG", (321, 123)),
        "gif": pil_bytes("GIF", (321, 123)),
        "bmp": pil_bytes("BMP", (321, 123)),
        "tiff": pil_bytes("TIFF", (321, 123)),
        "webp": pil_bytes("WEBP", (321, 123)),
    }
    for fmt, blob in cases.items():
        assert image_info(blob) == (fmt, 321, 123), fmt
    assert image_info(pil_bytes("WEBP", (321, 123), lossless=True)) == ("webp", 321, 123)
    assert image_info(pil_bytes("JPEG", (321, 123), exif=exif.tobytes())) == ("jpeg", 321, 123)
    assert image_info(pil_bytes("JPEG", (321, 123), progressive=True)) == ("jpeg", 321, 123)
    rgba = io.BytesIO()
    Image.new("RGBA", (9, 4)).save(rgba, "WEBP")  # an alpha channel makes an extended (VP8X) WebP
    assert image_info(rgba.getvalue()) == ("webp", 9, 4)


def test_image_info_huge_png_header_without_decoding() -> None:
    ihdr = struct.pack(">IIBBBBB", 20000, 12000, 8, 2, 0, 0, 0)
    header = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
              + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))
    assert len(header) == 33  # signature and IHDR only: there are no pixels to decode
    assert image_info(header) == ("png", 20000, 12000)


def test_image_info_metafiles_and_svg() -> None:
    emf = struct.pack("<II4i4i", 1, 108, 0, 0, 199, 99, 0, 0, 5000, 2500) + b" EMF" + bytes(64)
    assert image_info(emf) == ("emf", 200, 100)
    placeable = struct.pack("<IHhhhhHIH", 0x9AC6CDD7, 0, 0, 0, 2880, 1440, 1440, 0, 0) + bytes(18)
    assert image_info(placeable) == ("wmf", 192, 96)  # 2 x 1 inch at 96 dpi
    assert image_info(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>') == ("svg", None, None)


def test_image_info_never_raises_on_truncated_or_garbage() -> None:
    rng = random.Random(3)
    blobs = [pil_bytes(f, (40, 30)) for f in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")]
    for blob in blobs:
        for cut in range(0, min(len(blob), 400)):
            fmt, width, height = image_info(blob[:cut])
            assert isinstance(fmt, str) and width in (None, 40) and height in (None, 30)
    for _ in range(300):
        assert image_info(rng.randbytes(rng.randint(0, 200)))[0] in (
            "unknown", "png", "jpeg", "gif", "bmp", "tiff", "webp", "emf", "wmf", "svg")
    assert image_info(b"\xff\xd8\xff\xe1\x00\x00") == ("jpeg", None, None)  # zero-length segment


def test_dib_becomes_a_bmp_file() -> None:
    from PIL import Image

    from toolkit.readers.pictures_xls import _dib_to_bmp

    for mode in ("RGB", "P", "1"):
        img = Image.new("RGB", (13, 7), (250, 10, 10)).convert(mode)
        bmp = io.BytesIO()
        img.save(bmp, "BMP")
        rebuilt = _dib_to_bmp(bmp.getvalue()[14:])  # the DIB is a .bmp without its file header
        assert rebuilt == bmp.getvalue(), mode
        assert image_info(rebuilt) == ("bmp", 13, 7)


# --- choosing the logo ---------------------------------------------------------------------------

def pic_at(sheet: str, cell: str, name: str) -> Picture:
    from toolkit.core.model import parse_a1

    row, col = parse_a1(cell)
    return Picture(sheet=sheet, row=row, col=col, scheme="drawing", format="png", width=1, height=1,
                   data=b"x", name=name)


def test_choose_logo() -> None:
    pics = [pic_at("表", "A1", "header banner"), pic_at("表", "C30", "seal"),
            pic_at("其他", "C5", "other sheet"), pic_at("表", "F6", "F6"), pic_at("表", "D6", "D6"),
            pic_at("表", "B5", "over the label")]
    assert choose_logo(pics, "表", 4, 2, 5, 3).name == "D6"  # inside the merged value block C5:D6
    assert choose_logo(pics, "表", 4, 2).name == "D6"  # value cell C5 alone: D6 is 1 away, F6 3 away
    assert choose_logo(pics[:4], "表", 4, 2).name == "F6"
    assert choose_logo(pics[:3] + pics[5:], "表", 4, 2) is None  # A1/B5 over the labels, C30 far below
    assert choose_logo([pic_at("表", "C9", "3 rows below")], "表", 4, 2, 5, 2).name == "3 rows below"
    assert choose_logo([pic_at("表", "C10", "4 rows below")], "表", 4, 2, 5, 2) is None
    assert choose_logo([], "表", 0, 0) is None
