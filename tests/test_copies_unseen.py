"""Files that are copies of a form, forms in unexpected clothes, and forms of one branch side by side.

- A sealed PDF or a scan of the 申报表 (盖章版, 扫描件) is a copy of the form: kept and named, never a
  deliverable; a branch that sent only such a copy is asked for its Excel/Word form.
- A deliverable is never credited for a stage that has not begun (the campaign's dates): a report sent
  during 申报 is set aside and said, not booked as the 评选 stage's 创建总结报告.
- A form saved as Excel "Unicode 文本" (.txt, tab-separated UTF-16) is read as a form, as its bytes say.
- Two sheets of one branch in ONE workbook have no order: an error on that file naming both sheets;
  forms of one branch in different files keep the newest-wins rule.

Everything runs through the real CLI; forms, reports, PDFs and pictures are built here by code."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from tests.forms import BRANDS, form_values, logo_bytes, write_roster
from tests.test_deliverables import photo, report_docx

ROSTER = [("内科党总支", "内科第一党支部"), ("护理党总支", "护理部党支部"), ("医技党总支", "药学部党支部")]
NURSING = BRANDS[1][0]  # 护理部党支部
FORM_TITLE = "“一支部一品牌”特色党建品牌创建申报表"


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text is `lines`, written as PDF printers write CJK text: a simple font whose
    codes a ToUnicode CMap maps to the characters, so a PDF reader gets the lines back."""
    chars = sorted({c for line in lines for c in line})
    assert len(chars) < 255
    code = {c: n + 1 for n, c in enumerate(chars)}
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def "
            "1 begincodespacerange <00> <FF> endcodespacerange "
            f"{len(chars)} beginbfchar " + " ".join(f"<{code[c]:02X}> <{ord(c):04X}>" for c in chars)
            + " endbfchar endcmap CMapName currentdict /CMap defineresource pop end end").encode()
    ops = b"BT /F1 12 Tf 14 TL 50 800 Td " + b" ".join(
        b"<" + "".join(f"{code[c]:02X}" for c in line).encode() + b"> Tj T*" for line in lines) + b" ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def sealed_pdf(branch: str = NURSING) -> bytes:
    """The form as LibreOffice or a scanner app prints it: its title first, then its labelled cells."""
    return text_pdf([FORM_TITLE, f"党支部名称 {branch} 党员总数 21", "品牌名称 仁心护航 党建品牌标识",
                     "党建品牌内涵 立足岗位", "填表人 王一 联系方式 13812345671", "党支部意见 同意 签字（盖章）"])


def _master(tmp_path: Path, cli: Any, year: int) -> Path:  # noqa: ANN401 - the cli fixture
    """A hospital-brand master of the campaign `year`, with its roster (护理部, 药学部, 内科第一)."""
    master = tmp_path / "台账.xlsx"
    roster = write_roster(tmp_path / "名单.xlsx", ROSTER)
    assert cli("init", master, "--profile", "hospital-brand", "--year", str(year), "--roster", roster,
               "--by", "党办").returncode == 0
    return master


def _at_declaration(tmp_path: Path, cli: Any) -> Path:  # noqa: ANN401
    """A master whose campaign is at its first stage today: 申报 is due next year, 评选 has not begun."""
    return _master(tmp_path, cli, dt.date.today().year + 1)


def _row(master: Path, branch: str) -> dict[str, Any]:
    from toolkit.files.masterfile import load_master

    snap = load_master(master)
    assert snap.ledger is not None
    return next(r.values for r in snap.ledger.rows if r.branch == branch)


def _later_marks(master: Path, branch: str) -> dict[str, Any]:
    """The 评选 deliverables' cells of the branch's row (blank ones left out)."""
    row = _row(master, branch)
    return {k: row.get(k) for k in ("创建总结报告", "典型经验", "典型案例", "成果资料汇编") if row.get(k) not in (None, "")}


# -- copies of the form (盖章版, 扫描件) ----------------------------------------------------------------

def test_a_sealed_pdf_beside_the_form_is_named_as_received_not_booked(tmp_path: Path, cli, make_form) -> None:  # noqa: ANN001
    master = _at_declaration(tmp_path, cli)
    folder = tmp_path / "收件箱" / "护理部"
    make_form(1, folder=folder, name=f"{NURSING}申报表.xlsx")
    copy = folder / f"{NURSING}申报表（盖章版）.pdf"
    copy.write_bytes(b"%PDF-1.4\n%\xe2\xe3\n")  # a scanner's PDF: no text, its name says what it is
    got = cli("merge", master, tmp_path / "收件箱", "--by", "党办")
    assert got.returncode == 0
    assert "申报表盖章版/扫描件已收到 1 份" in got.stdout and str(copy) in got.stdout  # where the office finds it
    assert "创建总结报告" not in got.stdout and "典型经验" not in got.stdout  # no 评选 deliverable touched
    assert "只交了" not in got.stdout  # its form came with it
    assert _later_marks(master, NURSING) == {}
    assert str(_row(master, NURSING)["申报状态"]).startswith("已提交")

    doc = json.loads(cli("--json", "validate", folder, "--master", master).stdout)
    pdf = next(f for f in doc["files"] if f["path"].endswith(".pdf"))
    assert pdf["form_copy"] is True and pdf["status"] == "ok" and "deliverables" not in pdf
    assert pdf["branch"] == NURSING and pdf["findings"] == []
    assert [m for m in doc["deliverables"] if m["mark"] != "缺"] == []  # nothing credited
    text = cli("validate", folder, "--master", master).stdout
    assert "〔申报表盖章版/扫描件〕" in text and "申报表盖章版/扫描件已收到" in text and "创建总结报告" not in text


def test_a_branch_that_sent_only_a_scan_or_a_sealed_pdf_is_asked_for_its_form(tmp_path: Path, cli, make_form) -> None:  # noqa: ANN001
    """A JPG scan named as the form, and a sealed PDF whose name says nothing but whose page is the form:
    each kept and named, and its branch told to send the Excel/Word form."""
    master = _at_declaration(tmp_path, cli)
    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox / "a")
    (inbox / "b").mkdir()
    (inbox / "b" / "药学部党支部申报表.jpg").write_bytes(photo(1))
    (inbox / "c").mkdir()
    (inbox / "c" / f"{NURSING}（盖章）.pdf").write_bytes(sealed_pdf())
    got = cli("merge", master, inbox, "--by", "党办", "--dry-run")
    assert got.returncode == 1  # two branches' forms are still missing
    assert {c["file"]: c["form_missing"] for c in json.loads(cli("--json", "merge", master, inbox, "--dry-run")
                                                                 .stdout)["form_copies"]} == \
        {"药学部党支部申报表.jpg": True, f"{NURSING}（盖章）.pdf": True}
    got = cli("merge", master, inbox, "--by", "党办")
    assert got.returncode == 1
    assert "申报表盖章版/扫描件已收到 2 份" in got.stdout
    assert "药学部党支部只交了申报表盖章版/扫描件（药学部党支部申报表.jpg）" in got.stdout
    assert f"{NURSING}只交了申报表盖章版/扫描件（{NURSING}（盖章）.pdf）" in got.stdout
    assert "另发电子版申报表" in got.stdout and "创建总结报告" not in got.stdout
    assert _later_marks(master, NURSING) == {}

    got = cli("--json", "validate", inbox, "--master", master)
    assert got.returncode == 1  # the branches' forms are missing
    docs = {Path(f["path"]).name: f for f in json.loads(got.stdout)["files"]}
    for name, branch in (("药学部党支部申报表.jpg", "药学部党支部"), (f"{NURSING}（盖章）.pdf", NURSING)):
        doc = docs[name]
        assert doc["form_copy"] is True and doc["branch"] == branch and doc["status"] == "error"
        [finding] = doc["findings"]
        assert finding["rule"] == "template_mismatch" and finding["severity"] == "error"
        assert name in finding["message"] and "Excel 或 Word" in finding["message"]
    assert docs[f"{BRANDS[0][0]}.xlsx"]["status"] in ("ok", "warning")


def test_a_report_is_not_taken_for_a_copy_and_is_set_aside_before_its_stage(tmp_path: Path, cli, make_form) -> None:  # noqa: ANN001
    """During 申报 a 创建总结报告 (a 评选 deliverable) is said and set aside, never credited; merged again
    on a master whose 评选 has begun, it is credited."""
    for year, credited in ((dt.date.today().year + 1, False), (2024, True)):
        here = tmp_path / str(year)
        here.mkdir()
        master = _master(here, cli, year)
        folder = here / "收件箱" / "护理部"
        make_form(1, folder=folder, name=f"{NURSING}申报表.xlsx")
        (folder / f"{NURSING}创建总结报告.docx").write_bytes(report_docx(1200, []))
        got = cli("merge", master, here / "收件箱", "--by", "党办")
        assert got.returncode == 0
        marks = _later_marks(master, NURSING)
        if credited:
            assert str(marks["创建总结报告"]).startswith("已交")
            assert "尚未开始" not in got.stdout
        else:
            assert marks == {}
            assert "“评选”阶段尚未开始" in got.stdout and f"{NURSING}创建总结报告.docx" in got.stdout
            assert f"{year}-08-11 起" in got.stdout  # the day after 申报's due date, as the stages run
            doc = json.loads(cli("--json", "validate", folder, "--master", master).stdout)
            report = next(f for f in doc["files"] if f["path"].endswith(".docx"))
            assert report.get("deliverables") == [] and "form_copy" not in report


# -- a form saved as text ---------------------------------------------------------------------------

def _unicode_text(form: Path, target: Path) -> Path:
    """The form's sheet saved as Excel's "Unicode 文本": UTF-16 with its BOM, tab-separated, CRLF."""
    import csv

    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(form)).get_sheet_by_name("申报表").to_python()
    rows = [["" if v == "" else int(v) if isinstance(v, float) and v.is_integer() else v for v in r] for r in rows]
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows(rows)
    target.write_bytes(b"\xff\xfe" + out.getvalue().encode("utf-16-le"))
    return target


def test_a_form_saved_as_unicode_text_is_read_as_a_form(tmp_path: Path, cli, make_form) -> None:  # noqa: ANN001
    form = make_form(1, folder=tmp_path / "xlsx")
    folder = tmp_path / "收件箱"
    folder.mkdir()
    txt = _unicode_text(form, folder / f"{NURSING}申报表.txt")
    (folder / "新闻链接.txt").write_text("护理部新闻，https://news.example.cn/1\n", encoding="utf-8")  # no form
    got = cli("--json", "validate", folder, "--profile", "hospital-brand")
    docs = {Path(f["path"]).name: f for f in json.loads(got.stdout)["files"]}
    doc = docs[txt.name]
    assert "deliverables" not in doc and doc["branch"] == NURSING
    values = form_values(*BRANDS[1], 1)
    assert {k: doc["fields"].get(k) for k in ("品牌名称", "党员总数", "联系方式")} == {
        k: values[k] for k in ("品牌名称", "党员总数", "联系方式")}
    # text carries no picture: said, as for a .csv (the blank 意见 boxes are the usual warnings)
    assert {f["rule"] for f in doc["findings"] if f["severity"] == "error"} == {"image_missing"}
    assert "deliverables" in docs["新闻链接.txt"]  # a list of links stays a deliverable

    master = _master(tmp_path, cli, 2024)
    got = cli("--json", "merge", master, txt, "--by", "党办")
    merged = json.loads(got.stdout)
    assert [r["branch"] for r in merged["rejected"]] == [NURSING]  # read as the form, returned for its logo
    assert [m for m in merged["deliverables"] if m["mark"] == "已交"] == []


# -- two forms of one branch ------------------------------------------------------------------------

def _two_sheets(path: Path, sheets: list[tuple[str, dict[str, Any]]]) -> Path:
    """One workbook holding brandkit's form once per (sheet name, values), each with its logo."""
    import openpyxl
    from openpyxl.drawing.image import Image as XlImage

    from toolkit.core.profile import load_profile
    from toolkit.files.templates import template_field_cells, write_form

    profile = load_profile("hospital-brand")
    write_form(profile, path)
    cells = template_field_cells(profile)
    wb = openpyxl.load_workbook(path)
    first = wb["申报表"]
    books = [first, *(wb.copy_worksheet(first) for _ in sheets[1:])]
    for ws, (title, values) in zip(books, sheets, strict=True):
        ws.title = title
        for name, value in values.items():
            ws[cells[name]] = value
        image = XlImage(io.BytesIO(logo_bytes()))
        image.width, image.height = 120, 90
        ws.add_image(image, cells["品牌标识"])
    wb.save(path)
    return path


def test_two_sheets_of_one_branch_in_one_file_are_an_error_naming_both(tmp_path: Path, cli) -> None:  # noqa: ANN001
    final, draft = form_values(*BRANDS[1], 1), {**form_values(*BRANDS[1], 1), "党员总数": 25, "填表人": "王五"}
    book = _two_sheets(tmp_path / "护理部申报表.xlsx", [("申报表(修改稿)", final), ("申报表(初稿)", draft)])
    got = cli("--json", "validate", book, "--profile", "hospital-brand")
    assert got.returncode == 1
    files = json.loads(got.stdout)["files"]
    assert [f["sheet"] for f in files] == ["申报表(修改稿)", "申报表(初稿)"]
    for f in files:
        [dup] = [x for x in f["findings"] if x["rule"] == "duplicate_submission"]
        assert dup["severity"] == "error" and "“申报表(修改稿)”" in dup["message"] and "“申报表(初稿)”" in dup["message"]
        assert "较新" not in dup["message"] and "保留" in dup["message"]

    master = _master(tmp_path, cli, 2024)
    merged = json.loads(cli("--json", "merge", master, book, "--by", "党办").stdout)
    assert merged["added"] == [] and merged["updated"] == []  # neither sheet guessed into the ledger
    assert [r["branch"] for r in merged["rejected"]] == [NURSING]
    row = _row(master, NURSING)
    assert row.get("填表人") in (None, "") and row.get("党员总数") in (None, "")
    assert str(row["申报状态"]).startswith("退回")


def test_forms_of_one_branch_in_different_files_keep_newest_wins(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """An older two-sheet workbook, then a newer single form: the newer is taken, the older sheets are
    superseded (a warning, no error)."""
    folder = tmp_path / "收件箱"
    folder.mkdir()
    values = form_values(*BRANDS[1], 1)
    _two_sheets(folder / "1_旧.xlsx", [("甲", {**values, "填表人": "旧甲"}), ("乙", {**values, "填表人": "旧乙"})])
    _two_sheets(folder / "2_新.xlsx", [("申报表", values)])
    files = json.loads(cli("--json", "validate", folder, "--profile", "hospital-brand").stdout)["files"]
    by = {(Path(f["path"]).name, f["sheet"]): f for f in files}
    newest = by[("2_新.xlsx", "申报表")]
    assert newest["status"] != "error" and "duplicate_submission" not in {x["rule"] for x in newest["findings"]}
    for sheet in ("甲", "乙"):
        [dup] = [x for x in by[("1_旧.xlsx", sheet)]["findings"] if x["rule"] == "duplicate_submission"]
        assert dup["severity"] == "warning" and "2_新.xlsx" in dup["message"]
