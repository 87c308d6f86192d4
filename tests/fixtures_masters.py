"""Master workbooks built in code for the file-backend tests."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from tests.paths import CORPUS

HEADER = ["序号", "党支部名称", "品牌名称", "申报日期", "党员总数"]


def png(w: int = 40, h: int = 30, colour: str = "red") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "PNG")
    return buf.getvalue()


def ledger(rows: int = 3, *, extras: bool = False, vba: bool = False) -> bytes:
    """A styled ledger (xlsxwriter, shared strings): header row, `rows` branch rows with a 序号 formula,
    an auto-filter and a validation; `extras` adds a text box, a shape, a picture, sparklines, a data
    bar (x14 conditional format), a legacy comment and a table on a second sheet; `vba` a button."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("台账")
    head = wb.add_format({"bold": True, "border": 1, "bg_color": "#FFF2CC"})
    body = wb.add_format({"border": 1})
    date = wb.add_format({"border": 1, "num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, HEADER, head)
    ws.set_column(1, 2, 18)
    for i in range(1, rows + 1):
        ws.write_formula(i, 0, "=ROW()-1", body, i)
        ws.write(i, 1, f"第{i}党支部", body)
        ws.write(i, 2, f"品牌{i}", body)
        ws.write_datetime(i, 3, dt.datetime(2024, 7, 1) + dt.timedelta(days=i - 1), date)
        ws.write_number(i, 4, 10 + i, body)
    ws.autofilter(0, 0, rows, len(HEADER) - 1)
    ws.data_validation(1, 4, rows, 4, {"validate": "integer", "criteria": ">=", "value": 0})
    if extras:
        ws.insert_textbox("H2", "请勿修改表头", {"width": 200, "height": 60})
        ws.insert_image("H8", "logo.png", {"image_data": io.BytesIO(png(20, 20, "blue"))})
        ws.write_comment("B2", "支部书记：张三")
        ws.conditional_format(1, 4, rows, 4, {"type": "data_bar", "data_bar_2010": True})
        ws.add_sparkline(1, 5, {"range": f"台账!E2:E{rows + 1}"})
        other = wb.add_worksheet("名册")
        other.add_table(0, 0, 3, 1, {"columns": [{"header": "党总支"}, {"header": "党支部"}],
                                     "data": [["一总支", "第1党支部"], ["一总支", "第2党支部"], ["二总支", "第3党支部"]]})
    if vba:
        wb.add_vba_project(io.BytesIO(vba_bin()), is_stream=True)
        ws.insert_button("J2", {"macro": "Macro1", "caption": "合并"})
    wb.close()
    data = buf.getvalue()
    return _add_x14_and_threads(data) if extras else data


def vba_bin() -> bytes:
    with zipfile.ZipFile(CORPUS / "calamine/vba.xlsm") as z:
        return z.read("xl/vbaProject.bin")


_X14_DV = ('<ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
           'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
           '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
           '<x14:dataValidation type="list" allowBlank="1" showErrorMessage="1"><x14:formula1>'
           "<xm:f>名册!$B$2:$B$4</xm:f></x14:formula1><xm:sqref>B2:B{last}</xm:sqref></x14:dataValidation>"
           "</x14:dataValidations></ext>")
_THREAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
           '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
           '<threadedComment ref="B2" dT="2024-07-11T09:00:00.00" personId="{00000000-0000-0000-0000-000000000001}" '
           'id="{00000000-0000-0000-0000-000000000002}"><text>请核对支部名称</text></threadedComment>'
           "</ThreadedComments>")


def _add_x14_and_threads(data: bytes) -> bytes:
    """Add what xlsxwriter cannot write: an x14 data validation and a threaded comment part."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', body))
                body = body.replace(b"</extLst>", _X14_DV.replace("{last}", str(last)).encode() + b"</extLst>", 1)
            elif info.filename == "xl/worksheets/_rels/sheet1.xml.rels":
                body = body.replace(b"</Relationships>", (
                    b'<Relationship Id="rId90" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
                    b'threadedComment" Target="../threadedComments/threadedComment1.xml"/></Relationships>'))
            elif info.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", (
                    b'<Override PartName="/xl/threadedComments/threadedComment1.xml" ContentType="application/'
                    b'vnd.ms-excel.threadedcomments+xml"/></Types>'))
            dst.writestr(info, body)
        dst.writestr("xl/threadedComments/threadedComment1.xml", _THREAD)
    return out.getvalue()


def inline_master() -> bytes:
    """A hand-written workbook with inline strings and no sharedStrings part (as openpyxl writes)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {ns}><fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
            '<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
            '<cellXfs count="1"><xf xfId="0"/></cellXfs></styleSheet>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {ns}><dimension ref="A1:B2"/><sheetData>\n'
            '  <row r="1"><c r="A1" t="inlineStr"><is><t>党支部名称</t></is></c><c r="B1" t="inlineStr"><is><t>品牌名称</t></is></c></row>\n'
            "  <row r='2'><c r='A2' t='inlineStr'><is><t>第一&amp;支部</t></is></c><c r='B2' t='inlineStr'><is><t xml:space='preserve'> 红心 </t></is></c></row>\n"
            "</sheetData></worksheet>"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode("utf-8"))
    return out.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    """{name: raw local record bytes} — equal only if the member is byte-identical in the zip."""
    from toolkit.ooxml.zipio import read_members

    return {m.name: m.local for m in read_members(data)}


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name)


_ROW = re.compile(r"<(?:\w+:)?row\b[^>]*/>|<(?:\w+:)?row\b[^>]*[^/]>.*?</(?:\w+:)?row>", re.S)


def row_texts(sheet_xml: bytes) -> dict[str, str]:
    """{r attribute: exact <row> XML text} of a worksheet part (an independent scan, not brandkit's)."""
    out = {}
    for m in _ROW.finditer(sheet_xml.decode("utf-8")):
        r = re.search(r"""\br=["'](\d+)""", m.group(0)[:m.group(0).index(">")])
        out[r.group(1) if r else f"#{len(out)}"] = m.group(0)
    return out
