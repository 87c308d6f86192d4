"""`brandkit booklet`: the brands of a master as a Word booklet, and its PDF through LibreOffice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.libreoffice import require_soffice


def _demo(cli, tmp_path: Path) -> Path:
    out = tmp_path / "demo"
    assert cli("demo", out).returncode == 0
    return out / "品牌台账.xlsx"


def _accepted(master: Path) -> list[str]:
    """The branches whose 申报 cell says the form arrived (已提交 or 逾期提交), in ledger order."""
    import openpyxl

    ws = openpyxl.load_workbook(master, read_only=True)["品牌台账"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    return [r[header.index("党支部名称")] for r in rows[1:]
            if str(r[header.index("申报状态")] or "").startswith(("已提交", "逾期提交"))]


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.libreoffice
def test_the_demos_booklet_has_one_bookmark_one_logo_and_a_new_page_per_brand(cli, tmp_path):
    from pypdf import PdfReader

    require_soffice()
    master = _demo(cli, tmp_path)
    accepted = _accepted(master)
    assert len(accepted) == 10
    out = tmp_path / "品牌汇编.docx"
    run = cli("booklet", master, "-o", out, "--pdf", "--date", "2024-09-01")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("下一步：打印或分发")
    pdf = out.with_suffix(".pdf")

    reader = PdfReader(pdf)
    marks = [(o.title, reader.get_destination_page_number(o) + 1) for o in reader.outline]
    # one bookmark per accepted brand: its section heading (the profile's "{党支部名称}：{品牌名称}")
    assert sorted(t.split("：")[0] for t, _ in marks) == sorted(accepted)
    assert ("内科第一党支部：杏林先锋", marks[0][1]) in marks
    pages = [p for _, p in marks]
    assert pages == sorted(set(pages)) and pages[0] == 3  # the cover, the contents, then the sections
    # each section starts on a new page: its heading is the first line there
    for title, page in marks:
        assert _page_text(pdf, page).strip().splitlines()[0].strip() == title
    # one picture per brand, on its section's first page
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    image_pages = [int(line.split()[0]) for line in listing.splitlines()[2:] if line.strip()]
    assert sorted(image_pages) == pages
    # the contents list every section with the page LibreOffice laid it out on
    contents = _page_text(pdf, 2)
    for title, page in marks:
        assert re.search(rf"{re.escape(title)}\s*\.+\s*{page}\b", contents), (title, page, contents)
    # the cover: the booklet's title, the issuer and the date, without a page number
    cover = re.sub(r"\s", "", _page_text(pdf, 1))
    assert "“一支部一品牌”特色党建品牌汇编" in cover and "2024年9月1日" in cover and "—" not in cover
    assert re.search(r"—\s*3\s*—", _page_text(pdf, 3))

@pytest.mark.slow  # runs the demo or a whole campaign (seconds): make test, not make check
def test_the_booklet_docx_is_styled_for_word_and_wps(cli, tmp_path):
    """Heading 1 per brand, a TOC field Word updates on opening, a PAGE field in the footer, the 公文
    fonts as w:eastAsia with alternates in the font table; the logos are the originals kept beside the master."""
    import docx
    from docx.oxml.ns import qn

    master = _demo(cli, tmp_path)
    out = tmp_path / "汇编" / "品牌汇编.docx"
    assert cli("booklet", master, "-o", out).returncode == 0
    doc = docx.Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert len(headings) == 10 and "护理部党支部：仁心护航" in headings
    body = doc.element.body.xml
    assert 'TOC \\o "1-1"' in body and body.count("PAGEREF _Toc") == 10
    assert doc.settings.element.find(qn("w:updateFields")) is not None
    assert "PAGE" in doc.sections[0].footer._element.xml and doc.sections[0].different_first_page_header_footer
    fonts = {s.name: s.element.rPr.rFonts.get(qn("w:eastAsia")) for s in doc.styles if s.name in ("Normal", "Heading 1")}
    assert fonts == {"Normal": "仿宋_GB2312", "Heading 1": "方正小标宋简体"}
    font_table = next(p for p in doc.part.package.iter_parts() if p.partname.endswith("fontTable.xml")).blob.decode()
    assert re.search(r'w:name="仿宋_GB2312">\s*<w:altName w:val="仿宋"', font_table)
    originals = sorted(p.read_bytes() for p in (master.parent / "品牌台账_标识").iterdir())
    embedded = sorted(p.blob for p in doc.part.package.iter_parts() if p.partname.startswith("/word/media/"))
    assert embedded == originals


@pytest.mark.slow  # runs the demo or a whole campaign (seconds): make test, not make check
def test_the_booklet_takes_the_branches_at_a_stage(cli, tmp_path):
    import docx

    master = _demo(cli, tmp_path)  # the demo stamps 党总支审批 已通过 on two branches
    out = tmp_path / "已通过.docx"
    run = cli("booklet", master, "-o", out, "--stage", "党总支审批", "--status", "已通过")
    assert run.returncode == 0 and "“党总支审批”为“已通过”，共 2 个品牌" in run.stdout
    headings = [p.text for p in docx.Document(str(out)).paragraphs if p.style.name == "Heading 1"]
    assert [h.split("：")[0] for h in headings] == ["内科第一党支部", "护理部党支部"]

    none = cli("booklet", master, "-o", out, "--stage", "评选", "--status", "入选")
    assert none.returncode == 2 and "没有“评选”为“入选”的品牌" in none.stderr
    wrong = cli("booklet", master, "-o", out, "--stage", "评选", "--status", "已通过")
    assert wrong.returncode == 2 and "可用：入选、未入选" in wrong.stderr


@pytest.mark.slow  # runs the demo or a whole campaign (seconds): make test, not make check
def test_without_libreoffice_the_pdf_is_refused_in_chinese(cli, tmp_path, monkeypatch):
    from toolkit.readers import wordconvert

    master = _demo(cli, tmp_path)
    monkeypatch.setattr(wordconvert, "find_soffice", lambda: None)  # a PC without LibreOffice
    out = tmp_path / "品牌汇编.docx"
    run = cli("booklet", master, "-o", out, "--pdf")
    assert run.returncode == 2 and "生成 PDF 需要 LibreOffice" in run.stderr and "去掉 --pdf" in run.stderr
    assert not out.exists()


def test_a_profiles_booklet_names_ledger_columns_and_a_stage_status():
    from toolkit.core.profile import ProfileError, load_profile, profile_from_text

    text = load_profile("hospital-brand").text
    assert load_profile("university-project").booklet.title == "“一支部一特色”党支部工作案例"
    bad_field = text.replace('facts = ["党总支"', 'facts = ["品牌故事"', 1)
    with pytest.raises(ProfileError, match="booklet 中的 '品牌故事' 不是台账的列"):
        profile_from_text(bad_field, "x.toml")
    heading = 'heading = "{党支部名称}：{品牌名称}"\n'
    bad_stage = text.replace(heading, heading + 'stage = "评选"\n', 1)  # a stage without its status
    with pytest.raises(ProfileError, match="booklet.stage"):
        profile_from_text(bad_stage, "x.toml")
