"""`brandkit booklet`: the campaign's brands as a Word booklet (and, with LibreOffice, a PDF).

The content is planned in `toolkit.core.booklet`; this module lays it out with python-docx in 公文 habit:
a cover (the booklet's title, the issuer, the date), a table of contents (a TOC field Word, WPS and
LibreOffice update, filled in beforehand so a document never opened in an editor still lists its
sections), then one section per brand on a new page, headed in Heading 1 (so the PDF has one bookmark
per brand), with its logo, facts, long texts and stages; page numbers in the footer. Titles in
方正小标宋简体, body in 仿宋_GB2312, labels in 黑体; the font table names the fonts every Chinese PC has
(宋体, 仿宋) as their alternates, for PCs without the 公文 fonts.

The ledger is read as the campaign counts it (`progress.counted_values`): a stage a branch has left
(未推荐, 未立项 … on a stage it requires) reads 已退出, so the branch is not taken for that stage, and its
section says 已退出 there instead of what the master's cell still holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.booklet import Booklet, Section, plan_booklet
from toolkit.core.datetext import official_date
from toolkit.core.errors import UsageProblem
from toolkit.core.master import MasterSnapshot
from toolkit.core.model import china_today
from toolkit.core.progress import WITHDRAWN, counted_values
from toolkit.core.text import normalize_branch

TITLE_FONT, BODY_FONT, LABEL_FONT, LATIN_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "Times New Roman"
# Alternates a PC without the 公文 fonts uses (w:altName in the font table), with their Latin names
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", LABEL_FONT: "SimHei"}
LOGO_WIDTH_CM = 4.5
LOGO_MAX_SIDE = 1600  # px: larger originals are scaled down for the booklet (the original stays as it is)
PDF_TIMEOUT_S = 180.0
# The children of w:settings that follow w:updateFields (ECMA-376 CT_Settings, in order)
SETTINGS_AFTER_UPDATE_FIELDS = frozenset({
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr", "attachedSchema",
    "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
    "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags",
    "decimalSymbol", "listSeparator", "docId", "chartTrackingRefBased"})


@dataclass
class BookletResult:
    path: Path
    booklet: Booklet
    pdf: Path | None = None
    no_logo: list[str] = field(default_factory=list)  # branches shown without a logo
    withdrawn: list[str] = field(default_factory=list)  # branches their stamps would take, left out: 已退出

    def to_json(self) -> dict[str, Any]:
        return {"booklet": str(self.path), "pdf": str(self.pdf) if self.pdf else None, "title": self.booklet.title,
                "chosen": self.booklet.chosen, "sections": [s.heading for s in self.booklet.sections],
                "no_logo": self.no_logo, "withdrawn": self.withdrawn}


def booklet(master: Path, output: Path, *, stage: str | None = None, status: str | None = None,
            date: dt.date | None = None, pdf: bool = False) -> BookletResult:
    """Write the booklet of the master's brands to `output` (.docx), and with `pdf` its PDF beside it."""
    from toolkit.files.atomic import write_atomic
    from toolkit.files.masterfile import load_master

    if output.suffix.lower() != ".docx":
        raise UsageProblem(f"汇编请存为 Word 文档（.docx），而不是 {output.name}")
    soffice = _soffice() if pdf else None
    snap = load_master(master)
    if snap.ledger is None:
        raise UsageProblem(f"{master.name} 中没有找到台账，请先运行 brandkit init 和 brandkit merge")
    profile, day = snap.profile, date or china_today()
    counted = [dataclasses.replace(r, values=counted_values(profile, r.values)) for r in snap.ledger.rows]
    plan = plan_booklet(profile, counted, snap.groups, snap.roster, day, stage, status)
    taken = {s.branch for s in plan.sections}
    withdrawn = [s.branch for s in plan_booklet(profile, snap.ledger.rows, snap.groups, snap.roster, day, stage,
                                                status).sections if s.branch not in taken]
    if not plan.sections:
        left = f"（{'、'.join(withdrawn)} {WITHDRAWN}，未收录）" if withdrawn else ""
        raise UsageProblem(f"台账中没有{plan.chosen}的品牌{left}，汇编未生成"
                           + ("" if stage else "（可用 --stage 和 --status 选择其他阶段，如 --stage 评选 --status 入选）"))
    logos = ledger_logos(snap)
    result = BookletResult(output, plan, withdrawn=withdrawn)
    pictures = {s.branch: _logo(snap, s, logos) for s in plan.sections}
    result.no_logo = [b for b, pic in pictures.items() if pic is None] if snap.profile.ledger.logo_column else []
    output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(output, render_docx(plan, pictures))
    if soffice:
        result.pdf = output.with_suffix(".pdf")
        write_atomic(result.pdf, _pdf(soffice, output, plan, pictures))
    return result


def _pdf(soffice: str, output: Path, plan: Booklet, pictures: dict[str, bytes | None]) -> bytes:
    """The PDF LibreOffice makes of the booklet. LibreOffice keeps a TOC field's result as it finds it, so
    when the pages its layout gives the sections differ from the contents' numbers, the contents are
    written again with its numbers (the same lines: the layout does not move) and converted once more."""
    from toolkit.files.atomic import write_atomic
    from toolkit.readers.wordconvert import convert_own_file

    data = convert_own_file(soffice, output, "pdf", PDF_TIMEOUT_S)
    pages = _bookmark_pages(data) if data else None
    if data and pages and len(pages) == len(plan.sections) and pages != _guessed_pages(plan):
        write_atomic(output, render_docx(plan, pictures, pages))
        data = convert_own_file(soffice, output, "pdf", PDF_TIMEOUT_S)
    if data is None:
        raise UsageProblem(f"已生成 {output}，但 LibreOffice 未能把它转为 PDF；请用 Word 或 WPS 打开后另存为 PDF")
    return data


def _bookmark_pages(pdf: bytes) -> list[int] | None:
    """The page number (1-based: the cover is page 1) each top-level bookmark points at."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        pages = [reader.get_destination_page_number(o) for o in reader.outline if not isinstance(o, list)]
    except (PdfReadError, ValueError, KeyError):
        return None
    return None if None in pages else [n + 1 for n in pages if n is not None]


def _soffice() -> str:
    from toolkit.readers.wordconvert import find_soffice

    found = find_soffice()
    if found is None:
        raise UsageProblem("生成 PDF 需要 LibreOffice，本机没有找到。请安装 LibreOffice（https://zh-cn.libreoffice.org），"
                           "或去掉 --pdf 只生成 Word 文档，再用 Word 或 WPS 另存为 PDF")
    return found


# -- logos ------------------------------------------------------------------------------------------

def ledger_logos(snap: MasterSnapshot) -> dict[int, bytes]:
    """The thumbnails embedded in the ledger's logo column, by sheet row (for branches whose original
    beside the master is gone)."""
    from toolkit.readers.pictures import find_pictures

    column = snap.profile.ledger.logo_column
    if not column or snap.ledger is None or column not in snap.ledger.columns:
        return {}
    kind = "xlsm" if snap.path.suffix.lower() == ".xlsm" else "xlsx"
    col = snap.ledger.columns[column]
    return {p.row: p.data for p in find_pictures(snap.path.read_bytes(), kind)
            if p.sheet == snap.ledger.sheet and p.col == col and p.data}


def _logo(snap: MasterSnapshot, section: Section, thumbnails: dict[int, bytes]) -> bytes | None:
    """The branch's logo: the original merge kept beside the master (<台账>_标识/<支部>.png), else the
    ledger's thumbnail; None without either."""
    from toolkit.commands.merge import kept_original

    if not snap.profile.ledger.logo_column or snap.ledger is None:
        return None
    if (original := kept_original(snap.path, section.branch)) is not None:
        return _printable_picture(original.read_bytes())
    row = snap.ledger.by_branch().get(normalize_branch(section.branch))
    data = thumbnails.get(row.row) if row else None
    return _printable_picture(data) if data else None


def _printable_picture(data: bytes) -> bytes | None:
    """PNG or JPEG bytes Word embeds, no larger than LOGO_MAX_SIDE (None: not a picture)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format in ("PNG", "JPEG") and max(im.size) <= LOGO_MAX_SIDE:
                return data
            im.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = io.BytesIO()
            im.convert("RGBA" if "A" in im.getbands() or im.mode == "P" else "RGB").save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        return None


# -- the document -----------------------------------------------------------------------------------

def render_docx(plan: Booklet, pictures: dict[str, bytes | None], pages: list[int] | None = None) -> bytes:
    """The booklet as .docx bytes; `pages`: each section's page as a layout gave it (else a guess, until
    Word, WPS or LibreOffice update the contents)."""
    from docx import Document

    doc = Document()
    _page_setup(doc)
    _styles(doc)
    _font_alternates(doc)
    doc.core_properties.title = plan.title
    doc.core_properties.author = plan.issuer
    _cover(doc, plan)
    doc.add_paragraph("目　录", style="Booklet Contents")
    _toc(doc, plan, pages or _guessed_pages(plan))
    for n, s in enumerate(plan.sections):
        _section(doc, s, pictures.get(s.branch), n)
    return _save(doc)


def _save(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _page_setup(doc: Any) -> None:
    """A4 with the 公文 margins (GB/T 9704: 上 37 mm, 下 35 mm, 左 28 mm, 右 26 mm); the cover has no page
    number, the other pages "— n —" centred in the footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(3.7), Cm(3.5), Cm(2.8), Cm(2.6)
    sec.different_first_page_header_footer = True
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    _field(footer, "PAGE", "1")
    footer.add_run(" —")
    for run in footer.runs:
        run.font.size = Pt(14)


def _set_fonts(font_owner: Any, east: str, size: float, bold: bool = False) -> None:
    """A style's fonts: Latin in Times New Roman, Chinese (w:eastAsia) in `east`; theme fonts removed."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = font_owner.font
    font.name, font.size, font.bold = LATIN_FONT, Pt(size), bold
    font.color.rgb = RGBColor(0, 0, 0)
    fonts = font_owner.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def _styles(doc: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Pt

    def paragraph_style(name: str, east: str, size: float, *, align: Any = None, bold: bool = False,
                        before: float = 0, after: float = 0, base: Any = None) -> Any:
        style = doc.styles[name] if name in [s.name for s in doc.styles] else \
            doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if base is not None:
            style.base_style = base
        _set_fonts(style, east, size, bold)
        fmt = style.paragraph_format
        fmt.alignment, fmt.space_before, fmt.space_after = align, Pt(before), Pt(after)
        return style

    normal = paragraph_style("Normal", BODY_FONT, 16)  # 三号仿宋, fixed 28-pt lines
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28)
    heading = paragraph_style("Heading 1", TITLE_FONT, 22, align=WD_ALIGN_PARAGRAPH.CENTER, after=18)
    heading.paragraph_format.page_break_before = True
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.line_spacing = Pt(36)
    paragraph_style("Booklet Title", TITLE_FONT, 26, align=WD_ALIGN_PARAGRAPH.CENTER, base=normal).paragraph_format \
        .line_spacing = Pt(44)
    paragraph_style("Booklet Cover Line", BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.CENTER, base=normal)
    contents = paragraph_style("Booklet Contents", TITLE_FONT, 22, align=WD_ALIGN_PARAGRAPH.CENTER, after=18,
                               base=normal)
    contents.paragraph_format.page_break_before = True
    contents.paragraph_format.line_spacing = Pt(36)
    paragraph_style("Booklet Label", LABEL_FONT, 16, before=6, base=normal).paragraph_format.keep_with_next = True
    paragraph_style("Booklet Body", BODY_FONT, 16, base=normal).paragraph_format.first_line_indent = Pt(32)
    paragraph_style("Booklet Table", BODY_FONT, 14, base=normal).paragraph_format.line_spacing = Pt(24)
    paragraph_style("Booklet Logo", BODY_FONT, 16, align=WD_ALIGN_PARAGRAPH.CENTER, after=12, base=normal) \
        .paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    toc = paragraph_style("toc 1", BODY_FONT, 16, base=normal)
    page = doc.sections[0]
    toc.paragraph_format.tab_stops.add_tab_stop(page.page_width - page.left_margin - page.right_margin,
                                                WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)


def _font_alternates(doc: Any) -> None:
    """Name each 公文 font's alternate in the font table (w:altName, with the GB2312 charset), which Word
    and WPS use on a PC that lacks the font."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    part = doc.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    w = root.nsmap.get("w") or "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    for name, alternate in FALLBACKS.items():
        font = etree.SubElement(root, f"{{{w}}}font", {f"{{{w}}}name": name})
        for tag, value in (("altName", alternate), ("charset", "86"), ("family", "auto"), ("pitch", "variable")):
            etree.SubElement(font, f"{{{w}}}{tag}", {f"{{{w}}}val": value})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _cover(doc: Any, plan: Booklet) -> None:
    for _ in range(5):
        doc.add_paragraph(style="Booklet Cover Line")
    doc.add_paragraph(plan.title, style="Booklet Title")
    doc.add_paragraph(style="Booklet Cover Line")
    if plan.campaign and plan.campaign not in plan.title:
        doc.add_paragraph(f"（{plan.campaign}）", style="Booklet Cover Line")
    doc.add_paragraph(f"共收录 {len(plan.sections)} 个品牌（{plan.chosen}）", style="Booklet Cover Line")
    for _ in range(8):
        doc.add_paragraph(style="Booklet Cover Line")
    if plan.issuer:
        doc.add_paragraph(plan.issuer, style="Booklet Cover Line")
    doc.add_paragraph(official_date(plan.date), style="Booklet Cover Line")


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    """A field (PAGE, PAGEREF …) as its runs: begin, the instruction, separate, the text shown until the
    reader updates it, end."""
    _fld_char(paragraph, "begin")
    _instr(paragraph, instruction)
    _fld_char(paragraph, "separate")
    paragraph.add_run(shown)
    _fld_char(paragraph, "end")


def _fld_char(paragraph: Any, kind: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


def _instr(paragraph: Any, instruction: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    paragraph.add_run()._r.append(text)


def _guessed_pages(plan: Booklet) -> list[int]:
    """One page per section after the cover and a page of contents."""
    return [n + 3 for n in range(len(plan.sections))]


def _toc(doc: Any, plan: Booklet, pages: list[int]) -> None:
    """The TOC field over the Heading 1 paragraphs, its result filled in: one line per section, its page
    (`pages`) in a PAGEREF to the section's bookmark. Word and WPS rebuild it when they open the file
    (w:updateFields); LibreOffice on 工具 › 更新 › 全部更新."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from lxml import etree

    for n, s in enumerate(plan.sections):
        line = doc.add_paragraph(style="toc 1")
        if n == 0:
            _fld_char(line, "begin")
            _instr(line, 'TOC \\o "1-1" \\h \\z \\u')
            _fld_char(line, "separate")
        line.add_run(s.heading)
        line.add_run("\t")
        _field(line, f"PAGEREF {_bookmark(n)} \\h", str(pages[n]))
        if n == len(plan.sections) - 1:
            _fld_char(line, "end")
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings = doc.settings.element  # in the schema's order, which Word insists on
    later = next((e for e in settings if etree.QName(e).localname in SETTINGS_AFTER_UPDATE_FIELDS), None)
    settings.append(update) if later is None else later.addprevious(update)


def _bookmark(n: int) -> str:
    return f"_Toc{n + 1:08d}"


def _section(doc: Any, s: Section, logo: bytes | None, n: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    heading = doc.add_paragraph(style="Heading 1")
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(n + 1))
    start.set(qn("w:name"), _bookmark(n))
    end.set(qn("w:id"), str(n + 1))
    heading._p.append(start)
    heading.add_run(s.heading)
    heading._p.append(end)
    if logo is not None:
        doc.add_paragraph(style="Booklet Logo").add_run().add_picture(io.BytesIO(logo), width=Cm(LOGO_WIDTH_CM))
    if s.facts:
        _table(doc, [[label, value] for label, value in s.facts], widths=(4.0, 11.6))
    for label, texts in s.texts:
        doc.add_paragraph(label, style="Booklet Label")
        for text in texts:
            doc.add_paragraph(text, style="Booklet Body")
    if s.outcomes:
        doc.add_paragraph("各阶段情况", style="Booklet Label")
        _table(doc, [["阶段", "结果", "日期"],
                     *[[stage, status, official_date(day) if day else ""] for stage, status, day in s.outcomes]],
               widths=(5.0, 5.0, 5.6))


def _table(doc: Any, rows: list[list[str]], widths: tuple[float, ...]) -> None:
    from docx.shared import Cm

    table = doc.add_table(rows=len(rows), cols=len(widths))
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.width = Cm(widths[c])
            cell.paragraphs[0].style = "Booklet Table"
            cell.paragraphs[0].add_run(value)
