"""Logos as branches really send them: cut short, stored as BMP, in an .xlsb, 16-bit, WebP, HEIC, empty,
two in one cell; and a form on a hidden sheet. validate must say what the merge will do, in Chinese,
and its 校验结果 must show the branch everything it was told on the terminal."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.drawing.image import Image as XlImage
from PIL import Image

from tests.conftest import CliResult
from tests.forms import logo_bytes
from tests.notice_forms import NoticeForm, hospital_brand, write_xlsx
from tests.paths import CORPUS
from toolkit.core.profile import load_profile
from toolkit.readers.errors import Unreadable
from toolkit.readers.limits import DEFAULT_LIMITS, check_zip
from toolkit.readers.logos import LogoError, normalize_logo
from toolkit.readers.pictures import find_pictures

BRANCH = "护理部党支部"
Cli = Callable[..., CliResult]
EXCEPTION_NAMES = ("Error", "Exception", "OSError", "UnidentifiedImage", "KeyError")


def form() -> NoticeForm:
    return hospital_brand(BRANCH, 1)


def with_logo(path: Path, logo: bytes) -> Path:
    """notice 000's form as a branch types it, its logo (D3) replaced by `logo`'s bytes, as Excel or WPS
    would store a picture of that kind."""
    write_xlsx(form(), path)
    data = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        (media,) = [n for n in src.namelist() if n.startswith("xl/media/")]
        for info in src.infolist():
            dst.writestr(info.filename, logo if info.filename == media else src.read(info))
    path.write_bytes(out.getvalue())
    return path


def picture(fmt: str, size: tuple[int, int] = (400, 300), mode: str = "RGB", color: Any = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def validate(cli: Cli, *args: str | Path) -> dict[str, Any]:
    result = cli("--json", "validate", *args, "--profile", "hospital-brand")
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def only(doc: dict[str, Any]) -> dict[str, Any]:
    (file,) = doc["files"]
    return file


def assert_chinese_only(text: str) -> None:
    assert not any(name in text for name in EXCEPTION_NAMES), text


def issues(report: Path) -> list[tuple[Any, ...]]:
    """The 问题清单's rows below its header (findings, then the 说明 rows)."""
    ws = openpyxl.load_workbook(report)["问题清单"]
    return [r for r in ws.iter_rows(min_row=4, values_only=True) if any(r)]


def ledger_logo(master: Path) -> Image.Image:
    with zipfile.ZipFile(master) as zf:
        (name,) = [n for n in zf.namelist() if n.startswith("xl/media/")]
        return Image.open(io.BytesIO(zf.read(name))).convert("RGB")


# -- D2: validate decodes the logo as the merge does --------------------------------------------------

def truncated_jpeg() -> bytes:
    """A JPEG cut in half: an interrupted copy from a phone. Its header (and size) read fine."""
    noisy = Image.effect_mandelbrot((800, 600), (-2, -1.5, 1, 1.5), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=90)
    whole = out.getvalue()
    return whole[: len(whole) // 2]


def test_a_cut_short_logo_is_refused_by_validate_as_by_merge_in_the_same_chinese_words(
        tmp_path: Path, cli: Cli, new_master: Callable[..., Path]) -> None:
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    with_logo(inbox / f"{BRANCH}.xlsx", truncated_jpeg())
    master = new_master()
    checked = only(validate(cli, inbox, "--report-dir", tmp_path / "校验结果"))
    assert checked["status"] == "error"
    (finding,) = [f for f in checked["findings"] if f["severity"] == "error"]
    assert (finding["rule"], finding["cell"]) == ("image_format", "Sheet1!D3")
    assert "不完整或已损坏" in finding["message"] and "重新插入" in finding["message"]
    assert_chinese_only(finding["message"])
    report = tmp_path / "校验结果" / f"{BRANCH}_校验结果.xlsx"
    verdict = openpyxl.load_workbook(report)["问题清单"]["A1"].value
    assert "需修改后重新提交" in verdict and "可以受理" not in verdict

    merged = cli("--json", "merge", master, inbox)
    assert merged.returncode == 1, merged.stderr
    (rejected,) = json.loads(merged.stdout)["rejected"]
    assert [f["message"] for f in rejected["findings"] if f["rule"] == "image_format"] == [finding["message"]]


@pytest.mark.parametrize(("data", "words"), [
    (truncated_jpeg(), "不完整或已损坏"),
    (b"\x00\x11\x22\x33" * 500, "无法识别的图片格式"),  # nothing any tool can read: unrecognised
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 2000, "HEIC 格式"),  # an iPhone photo
    (b"", "空的"),
], ids=["truncated", "unknown", "heic", "empty"])
def test_a_logo_that_cannot_be_used_is_said_in_chinese_with_what_to_do(data: bytes, words: str) -> None:
    with pytest.raises(LogoError) as caught:
        normalize_logo(data, DEFAULT_LIMITS.max_picture_pixels, "key")
    texts = [str(caught.value)]  # as a picture sent beside the form is refused, then as a form's logo
    assert words in texts[0]
    texts.append(caught.value.text("品牌标识", "PNG、JPG"))
    for text in texts:
        assert words in text and ("另存为" in text or "重新插入" in text)
        assert_chinese_only(text)
    assert "“品牌标识”" in texts[1]


def test_validate_and_merge_each_decode_a_logo_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate shares the merge's decode (one Image.open per logo), and the merge does not decode twice."""
    from toolkit.commands.merge_worker import read_for_merge
    from toolkit.readers.submission import read_path

    path = with_logo(tmp_path / "申报表.xlsx", picture("PNG"))
    opened: list[object] = []
    real_open = Image.open

    def counting_open(*args: Any, **kwargs: Any) -> Image.Image:
        opened.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    profile = load_profile("hospital-brand")
    (sub,) = read_path(str(path), profile)
    assert len(opened) == 1 and not [f for f in sub.findings if f.rule.startswith("image")]
    opened.clear()
    ((_, logo),) = read_for_merge(str(path), profile, None, None, DEFAULT_LIMITS, None)
    assert len(opened) == 1 and logo is not None and logo.format == "png"


# -- D3: an uncompressed BMP is a picture, not a zip bomb ----------------------------------------------

def paint_bmp() -> bytes:
    """A 1200×900 flat design saved from 画图 (Paint): 3.2 MB that deflates to a few KB."""
    from PIL import ImageDraw

    im = Image.new("RGB", (1200, 900), "white")
    draw = ImageDraw.Draw(im)
    draw.ellipse((200, 100, 1000, 800), outline=(200, 0, 0), width=40)
    draw.rectangle((450, 350, 750, 550), fill=(200, 0, 0))
    out = io.BytesIO()
    im.save(out, "BMP")
    return out.getvalue()


def test_a_bmp_logo_keeps_the_forms_values_and_is_refused_as_a_format(tmp_path: Path, cli: Cli) -> None:
    path = with_logo(tmp_path / "bmp_logo.xlsx", paint_bmp())
    with zipfile.ZipFile(path) as zf:
        (info,) = [i for i in zf.infolist() if i.filename.startswith("xl/media/")]
        assert info.file_size > max(100 * info.compress_size, 1048576)  # what the zip-bomb check refused
    checked = only(validate(cli, path))
    assert checked["fields"]["党支部名称"] == BRANCH and checked["fields"]["党员总数"] == 21
    assert [(f["rule"], f["cell"]) for f in checked["findings"]] == [("image_format", "Sheet1!D3")]
    assert "BMP" in checked["findings"][0]["message"] and "另存为" in checked["findings"][0]["message"]


def bmp_header(width: int, height: int) -> bytes:
    return b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0,
                                                                     0, 0, 0, 0)


@pytest.mark.parametrize("member", [
    b"\x00" * (40 * 1024 * 1024),  # no picture at all
    bmp_header(20_000, 20_000) + b"\x00" * (30 * 1024 * 1024),  # 400 megapixels declared
    bmp_header(10, 10) + b"\x00" * (30 * 1024 * 1024),  # far more bytes than 100 pixels fill
], ids=["zeros", "too-many-pixels", "too-many-bytes"])
def test_a_zip_bomb_dressed_as_a_picture_is_still_refused(tmp_path: Path, member: bytes) -> None:
    path = with_logo(tmp_path / "bomb.xlsx", picture("PNG"))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/image9.bmp", member)
    with pytest.raises(Unreadable) as caught:
        check_zip(path.read_bytes(), DEFAULT_LIMITS)
    assert caught.value.reason == "zip_bomb"


# -- D4: the logo of an .xlsb form ---------------------------------------------------------------------

def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _record(rtype: int, body: bytes = b"") -> bytes:
    return _varint(rtype) + _varint(len(body)) + body


def xlsb_form(path: Path, scratch: Path) -> Path:
    """notice 000's form typed into calamine's picture.xlsb (saved by Excel): its Sheet1's cells replaced by
    the form's (BIFF12 rows, numbers and strings), its picture (a JPEG drawing) moved to D3, the logo cell."""
    grid = openpyxl.load_workbook(write_xlsx(form(), scratch / "form.xlsx")).active
    cells = b""
    for r, row in enumerate(grid.iter_rows(values_only=True)):
        cells += _record(0, struct.pack("<IIH", r, 0, 300) + b"\x00\x00\x00" + struct.pack("<I", 0))  # BrtRowHdr
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                cells += _record(5, struct.pack("<IId", c, 0, float(value)))  # BrtCellReal
            elif value is not None:
                text = str(value).encode("utf-16-le")
                cells += _record(6, struct.pack("<III", c, 0, len(text) // 2) + text)  # BrtCellSt
    shell = zipfile.ZipFile(CORPUS / "calamine/picture.xlsb")
    sheet, pos, out = shell.read("xl/worksheets/sheet1.bin"), 0, b""
    while pos < len(sheet):  # copy the sheet's records, the dimension replaced, the cells after BrtBeginSheetData
        start, rtype, size = pos, 0, 0
        for shift in (0, 7):
            byte, pos = sheet[pos], pos + 1
            rtype |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        for shift in (0, 7, 14, 21):
            byte, pos = sheet[pos], pos + 1
            size |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        pos += size
        if rtype == 148:  # BrtWsDim
            out += _record(148, struct.pack("<IIII", 0, grid.max_row - 1, 0, grid.max_column - 1))
        else:
            out += sheet[start:pos] + (cells if rtype == 145 else b"")  # BrtBeginSheetData
    drawing = shell.read("xl/drawings/drawing1.xml").decode()
    drawing = drawing.replace("<xdr:from><xdr:col>0</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row>",
                              "<xdr:from><xdr:col>3</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>")
    drawing = drawing.replace("<xdr:to><xdr:col>7</xdr:col><xdr:colOff>579120</xdr:colOff><xdr:row>29</xdr:row>",
                              "<xdr:to><xdr:col>4</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>3</xdr:row>")
    assert "<xdr:col>3</xdr:col>" in drawing
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in shell.namelist():
            body = {"xl/worksheets/sheet1.bin": out, "xl/drawings/drawing1.xml": drawing.encode()}.get(name)
            dst.writestr(name, body if body is not None else shell.read(name))
    return path


def test_pictures_of_an_xlsb_are_found_through_its_binary_sheets_rels() -> None:
    data = (CORPUS / "calamine/picture.xlsb").read_bytes()
    found = [(p.sheet, p.cell, p.scheme, p.format, p.width, p.height, p.name) for p in find_pictures(data, "xlsb")]
    assert found == [("Sheet1", "A1", "drawing", "jpeg", 512, 512, "图片 2"),
                     ("Sheet2", "A1", "drawing", "png", 512, 512, "图片 2")]
    xlsx = find_pictures((CORPUS / "calamine/picture.xlsx").read_bytes(), "xlsx")
    assert [p.data for p in find_pictures(data, "xlsb")] == [p.data for p in xlsx]


def test_an_xlsb_forms_logo_is_validated_and_merged(tmp_path: Path, cli: Cli, new_master: Callable[..., Path]) -> None:
    (tmp_path / "收件箱").mkdir()
    path = xlsb_form(tmp_path / "收件箱" / f"{BRANCH}.xlsb", tmp_path)
    checked = only(validate(cli, path))
    assert checked["fields"]["党支部名称"] == BRANCH
    assert checked["pictures"] == [{"sheet": "Sheet1", "cell": "D3", "scheme": "drawing", "format": "jpeg",
                                    "width": 512, "height": 512}]
    assert checked["status"] == "ok", checked["findings"]
    master = new_master()
    merged = cli("--json", "merge", master, path.parent)
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["added"] == [BRANCH]
    assert ledger_logo(master).size[0] > 0


# -- D6: the form on a hidden sheet --------------------------------------------------------------------

def hidden_form(path: Path, state: str, draft: bool = False) -> Path:
    """An instructions sheet in front and the form behind it, `state` (hidden / veryHidden); with `draft`,
    the form visible and an older draft of it hidden."""
    write_xlsx(form(), path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.title = "申报表"
    if draft:
        wb.copy_worksheet(ws).title = "草稿"
        wb["草稿"].sheet_state = state
    else:
        notes = wb.create_sheet("填表说明", 0)
        notes["A1"] = "请按通知要求填写申报表，于8月10日前报送。"
        ws.sheet_state = state
        wb.active = 0
    wb.save(path)
    return path


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_form_on_a_hidden_sheet_is_read_with_a_warning_the_report_shows(tmp_path: Path, cli: Cli,
                                                                          state: str) -> None:
    path = hidden_form(tmp_path / "form_hidden.xlsx", state)
    checked = only(validate(cli, path, "--report-dir", tmp_path / "校验结果"))
    assert (checked["sheet"], checked["status"]) == ("申报表", "warning")
    assert checked["fields"]["党支部名称"] == BRANCH and checked["fields"]["品牌名称"] == form().expected["品牌名称"]
    assert checked["pictures"] and not [f for f in checked["findings"] if f["rule"].startswith("image")]
    (warning,) = checked["findings"]
    assert warning["severity"] == "warning" and "申报表工作表“申报表”被隐藏" in warning["message"]
    report = tmp_path / "校验结果" / "form_hidden_校验结果.xlsx"
    rows = issues(report)
    assert any("被隐藏" in str(r[5]) for r in rows if r[1] == "警告")
    assert ("说明", "工作表“填表说明”不是申报表，已跳过") in [(r[1], r[5]) for r in rows]
    assert openpyxl.load_workbook(report)["申报表"].sheet_state == "visible"  # its marks can be seen


def test_a_hidden_draft_beside_the_form_is_not_read_and_the_report_says_so(tmp_path: Path, cli: Cli) -> None:
    path = hidden_form(tmp_path / "hidden_draft.xlsx", "hidden", draft=True)
    checked = only(validate(cli, path, "--report-dir", tmp_path / "校验结果"))
    assert (checked["sheet"], checked["status"]) == ("申报表", "ok")
    notes = [r[5] for r in issues(tmp_path / "校验结果" / "hidden_draft_校验结果.xlsx") if r[1] == "说明"]
    assert len(notes) == 1 and "“草稿”是隐藏的" in notes[0] and "未读取" in notes[0]


# -- D7: 16-bit pictures keep their shades ----------------------------------------------------------------

def grey16(fmt: str = "PNG", mode: str = "I;16") -> bytes:
    """A 16-bit greyscale scan: a dark grey field (8224 of 65535) around a mid grey block (24672)."""
    im = Image.new(mode, (400, 300), 8224)
    im.paste(24672, (100, 75, 300, 225))
    out = io.BytesIO()
    im.save(out, fmt)
    return out.getvalue()


def rgb16_png(rgb: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG, as scanners and design tools write them."""
    import zlib

    raw = b"".join(b"\x00" + struct.pack(">HHH", *rgb) * 40 for _ in range(30))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("data", "shades"), [
    (grey16("PNG", "I;16"), {32, 96}),
    (grey16("TIFF", "I;16B"), {32, 96}),
    (grey16("TIFF", "I"), {32, 96}),
    (rgb16_png((51400, 7710, 7710)), {(200, 30, 30)}),
], ids=["png-I;16", "tiff-I;16B", "tiff-I", "png-rgb16"])
def test_a_16_bit_logo_is_scaled_to_8_bits_not_clipped_to_white(data: bytes, shades: set[Any]) -> None:
    logo = normalize_logo(data, DEFAULT_LIMITS.max_picture_pixels, "key")
    thumb = Image.open(io.BytesIO(logo.data)).convert("RGB")
    colours = {c for _, c in thumb.getcolors(1 << 16) or []}
    if isinstance(next(iter(shades)), int):
        greys = {r for r, g, b in colours if r == g == b}
        assert all(any(abs(g - s) <= 2 for g in greys) for s in shades), sorted(greys)
        assert max(greys) < 120  # nothing near white: the old conversion clipped all of it to 255
    else:
        assert colours == shades


def test_a_16_bit_grey_logo_reaches_the_ledger_in_its_greys(tmp_path: Path, cli: Cli,
                                                            new_master: Callable[..., Path]) -> None:
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    with_logo(inbox / f"{BRANCH}.xlsx", grey16())
    master = new_master()
    merged = cli("--json", "merge", master, inbox)
    assert merged.returncode == 0, merged.stderr
    thumb = ledger_logo(master)
    assert thumb.getextrema() != ((255, 255), (255, 255), (255, 255))
    assert max(hi for _, hi in thumb.getextrema()) < 120


# -- D9: WebP, HEIC, empty and doubled logos --------------------------------------------------------------

def test_a_webp_logo_leaves_the_marked_copy_in_the_report_converted_and_said(tmp_path: Path, cli: Cli) -> None:
    path = with_logo(tmp_path / "webp.xlsx", picture("WEBP"))
    checked = only(validate(cli, path, "--report-dir", tmp_path / "校验结果"))
    assert [f["rule"] for f in checked["findings"]] == ["image_format"]
    report = tmp_path / "校验结果" / "webp_校验结果.xlsx"
    wb = openpyxl.load_workbook(report)
    assert wb.sheetnames == ["问题清单", "Sheet1"]
    assert wb["Sheet1"]["D3"].fill.fgColor.rgb.endswith("FFC7CE")  # the logo cell marked red
    (image,) = wb["Sheet1"]._images
    assert image.format == "png"
    notes = [r[5] for r in issues(report) if r[1] == "说明"]
    assert notes == ["工作表“Sheet1”中 D3 单元格的图片（WEBP 格式）在本校验结果的副本中已转换为 PNG 显示，原文件未改动"]


def test_a_report_without_its_copy_says_so(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever openpyxl refuses next in a branch's file, the 问题清单 says the marked copy is missing."""
    import toolkit.files.report as report_module

    def refuse(wb: Any) -> None:
        raise KeyError(".heif")

    monkeypatch.setattr(report_module, "_defuse", refuse)
    validate(cli, with_logo(tmp_path / "odd.xlsx", picture("PNG")), "--report-dir", tmp_path / "校验结果")
    report = tmp_path / "校验结果" / "odd_校验结果.xlsx"
    assert openpyxl.load_workbook(report).sheetnames == ["问题清单"]
    assert [r[5] for r in issues(report) if r[1] == "说明"] == [report_module.NO_COPY]


@pytest.mark.parametrize(("logo", "words"), [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 2000, "图片是 HEIC 格式"),
    (b"\x13\x37" * 1000, "无法识别的图片格式"),
    (b"", "图片是空的"),
], ids=["heic", "unknown", "empty"])
def test_an_unrecognised_or_empty_logo_is_named_and_the_branch_told_what_to_do(
        tmp_path: Path, cli: Cli, logo: bytes, words: str) -> None:
    checked = only(validate(cli, with_logo(tmp_path / "logo.xlsx", logo)))
    (finding,) = checked["findings"]
    assert (finding["rule"], finding["severity"], finding["cell"]) == ("image_format", "error", "Sheet1!D3")
    assert words in finding["message"] and "UNKNOWN" not in finding["message"]
    assert "PNG" in finding["message"] and ("另存为" in finding["message"] or "重新插入" in finding["message"])
    assert_chinese_only(finding["message"])


def test_two_pictures_in_the_logo_cell_say_which_was_taken(tmp_path: Path, cli: Cli) -> None:
    path = write_xlsx(form(), tmp_path / "two_in_cell.xlsx")
    wb = openpyxl.load_workbook(path)
    seal = XlImage(io.BytesIO(logo_bytes((200, 200), (30, 200, 30))))
    seal.width, seal.height = 60, 60
    wb.active.add_image(seal, "D3")
    wb.save(path)
    checked = only(validate(cli, path))
    assert checked["status"] == "warning"
    (warning,) = checked["findings"]
    assert (warning["rule"], warning["severity"], warning["cell"]) == ("image_several", "warning", "Sheet1!D3")
    message = warning["message"]
    assert "有 2 张图片" in message and "已采用第 1 张" in message and "410×300 像素" in message
    assert "未采用第 2 张" in message and "200×200 像素" in message and "只保留正确的一张" in message
