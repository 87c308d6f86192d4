"""Build the bundled sample submissions in samples/ (reproducibly: same content on every run).

    python scripts/make_samples.py [OUTDIR]      (default: samples/ of this repository)

Forms are brandkit's own templates filled with openpyxl, as a branch fills them in Excel, plus the files
branches really send: a WPS cell-image logo (zip patched by hand, WPS's structure), an .xls converted by
LibreOffice, a hand-made form in another layout, a 党总支 workbook with one sheet per branch. Zip entries
and document properties carry fixed timestamps; file mtimes are fixed too (the validator orders
resubmissions by them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from sample_texts import (  # noqa: E402
    BRANCH_OPINION,
    GENERAL_OPINION,
    HOSPITAL,
    INSTRUCTIONS,
    ROSTER,
    ROSTER_CONTACTS,
    Branch,
    plans,
)

from toolkit.core.model import parse_a1  # noqa: E402
from toolkit.core.profile import Profile, load_profile  # noqa: E402
from toolkit.files.templates import (  # noqa: E402
    FORM_SHEET,
    META_SHEET,
    build_form,
    template_field_cells,
    template_sign_cells,
    template_table_cells,
)

FIXED = dt.datetime(2024, 7, 25, 9, 30, 0)
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
LOGO_PX = 240  # logo bitmap side
SHOWN_PX = 150  # side the picture is shown at in the form
WPS_CELLIMAGE_REL = "http://www.wps.cn/officeDocument/2020/cellImage"
WPS_CELLIMAGE_CT = "application/vnd.wps-officedocument.cellimage+xml"


# -- logos ------------------------------------------------------------------------------------------

def logo(mark: str, color: tuple[int, int, int], fmt: str = "png") -> bytes:
    """A round badge with one character: what a branch designs in an afternoon. fmt: png, jpeg, bmp."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (LOGO_PX, LOGO_PX), "white")
    draw = ImageDraw.Draw(img)
    draw.ellipse((8, 8, LOGO_PX - 8, LOGO_PX - 8), fill=color)
    draw.ellipse((22, 22, LOGO_PX - 22, LOGO_PX - 22), outline="white", width=5)
    font = ImageFont.truetype(FONT, 120)
    draw.text((LOGO_PX / 2, LOGO_PX / 2), mark, fill="white", font=font, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, format=fmt.upper(), **({"quality": 90} if fmt == "jpeg" else {}))
    return buf.getvalue()


# -- filling a form with openpyxl ---------------------------------------------------------------------

def put(ws: Any, ref: str, value: object) -> None:
    """Write a value as a branch types it; text starting with '=' stays text (typed into a text cell)."""
    cell = ws[ref]
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def add_picture(ws: Any, ref: str, data: bytes) -> None:
    from openpyxl.drawing.image import Image

    img = Image(io.BytesIO(data))
    img.width = img.height = SHOWN_PX
    if img.format not in ("png", "jpeg", "gif"):  # openpyxl would re-encode a BMP as PNG: keep it a BMP
        img._data = lambda: data
    ws.add_image(img, ref)


def template(profile: Profile) -> Any:
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(build_form(profile)))


def fill(ws: Any, profile: Profile, values: dict[str, object]) -> None:
    """Fill the form's value cells; a field the notice's printed form lacks has no cell and stays out."""
    cells, signs = template_field_cells(profile), template_sign_cells(profile)
    for name, value in values.items():
        if value not in (None, "") and name in cells:
            put(ws, cells[name], value)
        elif value not in (None, "") and name in signs:  # signed after the colon of its foot line
            put(ws, signs[name], f"{str(ws[signs[name]].value).rstrip('　')}{value}")


def fill_table(ws: Any, profile: Profile, table: str, rows: list[dict[str, object]]) -> None:
    first = template_table_cells(profile)[table]
    for n, row in enumerate(rows):
        for name, value in row.items():
            r, c = parse_a1(first[name])
            cell = ws.cell(r + 1 + n, c + 1)
            put(ws, cell.coordinate, value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy\"年\"m\"月\"d\"日\""


def plan_box(parts: dict[str, str]) -> str:
    """Notice 000's one box for plan, measures and outcomes, filled as a branch fills it."""
    return "\n".join(f"{name}：{text}" for name, text in parts.items())


def hospital_values(b: Branch, n: int) -> dict[str, object]:
    values: dict[str, object] = {
        "党支部名称": b.name, "党员总数": b.members, "品牌名称": b.brand, "品牌内涵": b.inner,
        "党建品牌的创建计划、创建举措、预期成效": plan_box(plans(b, n)),
        "党支部意见": BRANCH_OPINION, "党总支意见": GENERAL_OPINION, "填表人": b.filler, "联系方式": b.phone}
    values.update(b.extra)
    return values


# -- packages -----------------------------------------------------------------------------------------

def to_bytes(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def repack(data: bytes, changes: dict[str, bytes] | None = None) -> bytes:
    """The zip with `changes` applied (new members appended), fixed timestamps on every entry and in
    docProps/core.xml: the same content gives the same bytes."""
    changes = dict(changes or {})
    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist() + [n for n in changes if n not in src.namelist()]
        for name in names:
            body = changes[name] if name in changes else src.read(name)
            if name == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), body)
            info = zipfile.ZipInfo(name, FIXED.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, body)
    return out.getvalue()


def wps_cell_image(data: bytes, sheet_part: str, ref: str, picture: bytes, key: str) -> bytes:
    """Turn `ref` into a WPS cell image, as WPS stores "嵌入单元格" pictures (see corpus wps_image.xlsx):
    a `_xlfn.DISPIMG("ID_…",1)` formula whose cached value is the formula text, xl/cellimages.xml naming
    the ID, its rels to the media, a workbook relationship and a content-type override."""
    image_id = "ID_" + hashlib.md5(key.encode()).hexdigest().upper()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read(sheet_part).decode()
        wb_rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        types = zf.read("[Content_Types].xml").decode()
    call = f"DISPIMG(&quot;{image_id}&quot;,1)"
    cell = re.search(rf'<c r="{ref}"([^>]*?)(/>|>.*?</c>)', sheet)
    if cell is None:
        raise SystemExit(f"cell {ref} not found in {sheet_part}")
    style = re.search(r' s="\d+"', cell.group(1))
    sheet = sheet.replace(cell.group(0), f'<c r="{ref}"{style.group(0) if style else ""} t="str">'
                                         f"<f>_xlfn.{call}</f><v>={call}</v></c>")
    wb_rels = wb_rels.replace("</Relationships>", f'<Relationship Id="rId90" Type="{WPS_CELLIMAGE_REL}" '
                                                  'Target="cellimages.xml"/></Relationships>')
    if 'Extension="png"' not in types:
        types = types.replace("<Default ", '<Default Extension="png" ContentType="image/png"/><Default ', 1)
    types = types.replace("</Types>", f'<Override PartName="/xl/cellimages.xml" ContentType="{WPS_CELLIMAGE_CT}"/>'
                                      "</Types>")
    emu = SHOWN_PX * 9525
    cellimages = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData"><etc:cellImage><xdr:pic><xdr:nvPicPr>'
        f'<xdr:cNvPr id="2" name="{image_id}" descr="品牌标识"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill>'
        '<a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:xfrm>'
        f'<a:off x="0" y="0"/><a:ext cx="{emu}" cy="{emu}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
        "</a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>")
    cell_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
        'Target="media/image1.png"/></Relationships>')
    return repack(data, {
        sheet_part: sheet.encode(), "xl/_rels/workbook.xml.rels": wb_rels.encode(),
        "[Content_Types].xml": types.encode(), "xl/cellimages.xml": cellimages.encode(),
        "xl/_rels/cellimages.xml.rels": cell_rels.encode(), "xl/media/image1.png": picture})


class Writer:
    """Writes files into one output folder, each with its own fixed mtime (the order they were 'sent')."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.count = 0

    def write(self, rel: str, data: bytes) -> Path:
        path = self.outdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.stamp(path)
        return path

    def stamp(self, path: Path) -> None:
        self.count += 1
        ts = (FIXED + dt.timedelta(minutes=self.count)).timestamp()
        os.utime(path, (ts, ts))


# -- hospital-brand -----------------------------------------------------------------------------------

def hospital_form(profile: Profile, b: Branch, n: int) -> Any:
    wb = template(profile)
    ws = wb[FORM_SHEET]
    fill(ws, profile, hospital_values(b, n))
    if b.logo and b.kind != "wps":
        add_picture(ws, template_field_cells(profile)["品牌标识"], logo(b.mark, b.color, b.logo))
    return wb


def build_hospital(w: Writer) -> None:
    from hand_form import hand_form

    profile = load_profile("hospital-brand")
    logo_cell = template_field_cells(profile)["品牌标识"]
    by_file: dict[str, list[tuple[int, Branch]]] = {}
    for n, b in enumerate(HOSPITAL):
        by_file.setdefault(b.file, []).append((n, b))
    for stem, group in by_file.items():
        n, b = group[0]
        suffix = ".xlsx"
        if len(group) > 1:
            data = repack(to_bytes(general_branch_workbook(profile, group)))
        elif b.kind == "wps":
            data = wps_cell_image(to_bytes(hospital_form(profile, b, n)), "xl/worksheets/sheet1.xml", logo_cell,
                                  logo(b.mark, b.color), b.name)
        elif b.kind == "hand":
            data = repack(to_bytes(hand_form(b, plans(b, n), logo(b.mark, b.color, b.logo or "png"))))
        elif b.kind == "xls":
            data, suffix = xls_copy(to_bytes(hospital_form(profile, b, n)), stem), ".xls"
        else:
            data = repack(to_bytes(hospital_form(profile, b, n)))
        w.write(f"hospital-brand/{stem}{suffix}", data)


def general_branch_workbook(profile: Profile, group: list[tuple[int, Branch]]) -> Any:
    """A 党总支's workbook: an instructions sheet, then one copy of the form per branch."""
    wb = template(profile)
    form = wb[FORM_SHEET]
    sheets = [form] + [wb.copy_worksheet(form) for _ in group[1:]]
    for ws, (n, b) in zip(sheets, group, strict=True):
        ws.title = b.name
        fill(ws, profile, hospital_values(b, n))
        add_picture(ws, template_field_cells(profile)["品牌标识"], logo(b.mark, b.color))
    meta = wb[META_SHEET]
    wb.move_sheet(meta, len(wb.sheetnames) - 1 - wb.sheetnames.index(META_SHEET))  # hidden sheet last
    note = wb.create_sheet(INSTRUCTIONS[0], 0)
    note.column_dimensions["A"].width = 90
    for line in INSTRUCTIONS:
        note.append([line])
    wb.active = 0
    for ws in wb.worksheets[1:]:
        ws.sheet_view.tabSelected = False
    return wb


def xls_copy(xlsx: bytes, stem: str) -> bytes:
    """The form as a branch's old Excel saves it: LibreOffice's BIFF8 export keeps the logo as an
    OfficeArt blip anchored at its cell."""
    from tests.libreoffice import convert

    with tempfile.TemporaryDirectory(prefix="samples-") as tmp:
        src = Path(tmp) / f"{stem}.xlsx"
        src.write_bytes(repack(xlsx))
        out = convert(src, "xls", Path(tmp))
        fix_note_guids(out)
        return out.read_bytes()


def fix_note_guids(path: Path) -> None:
    """LibreOffice gives each comment's note object (BIFF8 OBJ record, ftNts sub-record) a random GUID;
    a fixed one keeps the .xls byte-identical between runs."""
    import struct

    import olefile

    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        pos = 0
        while pos + 4 <= len(data):
            rtype, size = struct.unpack_from("<HH", data, pos)
            sub, end = pos + 4, pos + 4 + size
            while rtype == 0x5D and sub + 4 <= end:  # OBJ: walk its sub-records
                ft, cb = struct.unpack_from("<HH", data, sub)
                if ft == 0x0D:  # ftNts: GUID first
                    data[sub + 4: sub + 20] = hashlib.md5(f"note{pos}".encode()).digest()
                if ft == 0:
                    break
                sub += 4 + cb
            pos = end
        ole.write_stream("Workbook", bytes(data))


def roster() -> bytes:
    """The office's list of branches (sheet 名单), as officers keep it in Excel."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["党总支", "党支部名称", "类别", "必须参与", "联系人", "联系方式", "邮箱"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for n, row in enumerate(ROSTER, start=1):  # contacts, so 催报 and the summary's 未提交名单 can reach them
        ws.append([*row, ROSTER_CONTACTS[(n - 1) % len(ROSTER_CONTACTS)], f"139047{n:05d}", f"dzb{n:02d}@example.org"])
    for col, width in zip("ABCDEFG", (14, 22, 10, 10, 10, 14, 22), strict=True):
        ws.column_dimensions[col].width = width
    return repack(to_bytes(wb))


# -- main ---------------------------------------------------------------------------------------------

def build(outdir: Path) -> None:
    from other_samples import build_others

    for sub in ("hospital-brand", "hospital-annual", "college-feature", "university-project", "dangjian-plus"):
        for old in [*(outdir / sub).glob("*.xls*"), *(outdir / sub).glob("*.docx")]:  # 台账.xlsx is the lead's: keep it
            if old.name != "台账.xlsx":
                old.unlink()
    w = Writer(outdir)
    build_hospital(w)
    w.write("rosters/hospital-brand_支部名单.xlsx", roster())
    build_others(w)
    build_notice_layouts(w)


def build_notice_layouts(w: Writer) -> None:
    """For every campaign, forms typed in the notice's own layout (not brandkit's template), as .xlsx
    and as the Word table many notices attach: what offices actually receive."""
    sys.path.insert(0, str(ROOT))
    from tests.notice_forms import BUILDERS, write_docx, write_xlsx

    names = {"hospital-brand": ("心内科党支部", "妇产科党支部"), "college-feature": ("通信工程系教工党支部", "计算机研究生第二党支部"),
             "hospital-annual": ("骨科党支部", "医务部党支部"), "university-project": ("医学院临床第一党支部", "药学院教工党支部"),
             "dangjian-plus": ("推拿科党支部", "护理部第二党支部")}
    for profile_id, (first, second) in names.items():
        with tempfile.TemporaryDirectory() as tmp:
            for n, (branch, writer, suffix) in enumerate(((first, write_xlsx, "xlsx"), (second, write_docx, "docx"))):
                path = writer(BUILDERS[profile_id](branch, n + 5), Path(tmp) / f"form.{suffix}")
                w.write(f"{profile_id}/通知原表_{branch}.{suffix}", repack(path.read_bytes()))


def main(argv: list[str]) -> int:
    outdir = Path(argv[1]) if len(argv) > 1 else ROOT / "samples"
    outdir.mkdir(parents=True, exist_ok=True)
    build(outdir)
    print(f"samples written to {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
