"""Workbooks on paper: render them to PDF with LibreOffice and check what a printed page shows.

`render(paths, folder)` converts a batch of workbooks in one LibreOffice start and reads each PDF back
with poppler (`pdftotext -bbox`: every word with its page and box), keeping the pages as PNGs for a person
to look at. `cut_cells` is the "no text cut" check: every text cell of a sheet must be found in the PDF,
line after line, and its lines must fit in the cell's printed height — LibreOffice draws wrapped text
past a row that is too short (over the next rows), so presence alone would not show it.
"""

from __future__ import annotations

import html
import re
import shutil
import statistics
import subprocess
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.libreoffice import convert_all

# poppler's word box is the font's ascent + descent: 1.30 em for the CJK and Latin fonts LibreOffice
# prints with here (Noto Sans CJK, Carlito), measured on the form, whose print scale is 100 %
BOX_EM = 1.30
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


@dataclass(frozen=True)
class Word:
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Printed:
    """One workbook on paper: its PDF, the words of each page, the PNG pages."""

    source: Path
    pdf: Path
    pages: list[list[Word]]
    pngs: list[Path]

    def text(self, page: int) -> str:
        return "".join(w.text for w in self.pages[page])

    @cached_property
    def raw(self) -> list[str]:
        """Each page's text in the order it was printed (pdftotext -raw): a cell's lines stay together."""
        return [subprocess.run(["pdftotext", "-raw", "-f", str(n), "-l", str(n), str(self.pdf), "-"],
                               capture_output=True, text=True, check=True, timeout=300).stdout
                for n in range(1, len(self.pages) + 1)]

    def squeezed(self, page: int | None = None) -> str:
        """The printed text without whitespace, of one page or all; a line a too-short row cut off is
        not there."""
        return squeeze("".join(self.raw) if page is None else self.raw[page])

    def pages_with(self, text: str) -> list[int]:
        key = squeeze(text)
        return [n for n in range(len(self.pages)) if key in self.text(n)]


def render(paths: list[Path], folder: Path, artifacts: Path | None = None) -> dict[Path, Printed]:
    """Each workbook printed to PDF (one LibreOffice start for the batch) and read back; with
    `artifacts`, its pages are kept there as <stem>-<n>.png."""
    pdfs = convert_all(paths, "pdf", folder)
    out = {}
    for path, pdf in pdfs.items():
        pngs: list[Path] = []
        if artifacts is not None:
            artifacts.mkdir(parents=True, exist_ok=True)
            for old in artifacts.glob(f"{path.stem}-*.png"):
                old.unlink()
            subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(artifacts / path.stem)], check=True,
                           timeout=300)
            pngs = sorted(artifacts.glob(f"{path.stem}-*.png"))
        out[path] = Printed(path, pdf, words(pdf), pngs)
    return out


def require_poppler() -> None:
    if not shutil.which("pdftotext") or not shutil.which("pdftoppm"):
        raise AssertionError("poppler-utils (pdftotext, pdftoppm) is not installed; run `make test`, which installs it")


def words(pdf: Path) -> list[list[Word]]:
    """Every word of every page, as poppler sees it."""
    require_poppler()
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True,
                         timeout=300).stdout
    pages = []
    for n, page in enumerate(xml.split("<page ")[1:]):
        pages.append([Word(n, float(a), float(b), float(c), float(d), squeeze(html.unescape(t)))
                      for a, b, c, d, t in _WORD.findall(page)])
    return pages


def squeeze(text: object) -> str:
    """Text without any whitespace (a wrapped cell's lines join up)."""
    return re.sub(r"\s+", "", str(text))


# -- finding a cell's text on paper -------------------------------------------------------------------

def find(printed: Printed, text: str) -> list[Word] | None:
    """The words that print `text` — on one page, each next piece right of the last on the same line or
    on a following line under the same cell — or None when the text is not there whole."""
    target = squeeze(text)
    if not target:
        return []
    for page in printed.pages:
        for start in (w for w in page if w.text and target.startswith(w.text)):
            chain = _extend(page, [start], target[len(start.text):], start.x0, start.x1)
            if chain is not None:
                return chain
        for start in (w for w in page if target in w.text):  # a short text inside a longer "word"
            return [start]
    return None


def _extend(page: list[Word], chain: list[Word], rest: str, left: float, right: float) -> list[Word] | None:
    if not rest:
        return chain
    last = chain[-1]
    h = last.height
    for w in page:
        if not w.text or not (rest.startswith(w.text) or w.text.startswith(rest)):
            continue
        same_line = abs(w.y0 - last.y0) < 0.4 * h and last.x1 - 2 <= w.x0 <= last.x1 + 3 * h
        next_line = 0.5 * h < w.y0 - last.y0 < 2.2 * h and w.x0 < right + 2 and w.x1 > left - 2
        if same_line or next_line:
            took = rest[:len(w.text)]
            found = _extend(page, [*chain, w], rest[len(took):], min(left, w.x0) if same_line else w.x0,
                            max(right, w.x1) if same_line else w.x1)
            if found is not None:
                return found
    return None


def scale_of(chain: list[Word], font_pt: float) -> float:
    """The print scale a cell's text shows: its printed font size over the size the cell asks for."""
    return statistics.median(w.height for w in chain) / BOX_EM / font_pt


# -- the cells of a sheet ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    ref: str
    text: str
    height_pt: float  # the rows it spans
    font_pt: float


def text_cells(path: Path, sheet: str) -> list[Cell]:
    """Every text cell a sheet prints (in its print area; hidden rows and columns left out), with the
    height of the rows it spans."""
    import openpyxl
    from openpyxl.utils import range_boundaries

    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    default = ws.sheet_format.defaultRowHeight or 15.0
    merged = {(m.min_row, m.min_col): (m.max_row, m.max_col) for m in ws.merged_cells.ranges}
    area: Any = None
    if ws.print_area:
        area = range_boundaries(str(ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area)
                                .split("!")[-1].replace("$", ""))
    cells = []
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or not cell.value.strip() or cell.value.startswith("="):
                continue
            r, c = cell.row, cell.column
            if area and not (area[1] <= r <= area[3] and area[0] <= c <= area[2]):
                continue
            if ws.row_dimensions[r].hidden or ws.column_dimensions[cell.column_letter].hidden:
                continue
            r2 = merged.get((r, c), (r, c))[0]
            height = sum(ws.row_dimensions[i].height or default for i in range(r, r2 + 1))
            cells.append(Cell(cell.coordinate, cell.value, height, float(cell.font.sz or 11)))
    return cells


def cut_cells(printed: Printed, sheet: str) -> list[str]:
    """The sheet's text cells that do not print whole: text missing from the PDF, or wrapped lines
    taller than the cell's rows (so they run over the next rows, or off the page)."""
    problems = []
    for cell in text_cells(printed.source, sheet):
        chain = find(printed, cell.text)
        if chain is None:
            problems.append(f"{sheet}!{cell.ref} not printed whole: {cell.text[:40]!r}")
            continue
        if not chain:
            continue
        scale = scale_of(chain, cell.font_pt)
        span = max(w.y1 for w in chain) - min(w.y0 for w in chain)
        room = cell.height_pt * scale
        if span > room * 1.03 + 1.5:
            problems.append(f"{sheet}!{cell.ref} needs {span / scale:.0f} pt, its rows give {cell.height_pt:.0f}: "
                            f"{cell.text[:40]!r}")
    return problems


# -- one sheet on paper ---------------------------------------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def only_sheet(src: Path, keep: str, out: Path) -> Path:
    """A copy of `src` with every sheet but `keep` hidden (LibreOffice prints visible sheets only)."""
    def hide(m: re.Match[str]) -> str:
        tag = m.group(0)
        if re.search(r'\bname="' + re.escape(keep) + '"', tag):
            return tag
        return re.sub(r'\sstate="[^"]*"', "", tag).replace("<sheet ", '<sheet state="hidden" ', 1)

    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                names = re.findall(r'<sheet [^>]*\bname="([^"]*)"', text)
                active = f' activeTab="{names.index(keep)}"' if keep in names else ""  # a hidden active sheet prints
                text = re.sub(r"<workbookView\b([^>]*?)\s*(/?)>", lambda m, active=active: "<workbookView" + re.sub(
                    r'\sactiveTab="\d+"', "", m.group(1)) + active + m.group(2) + ">", text, count=1)
                data = re.sub(r"<sheet [^>]*>", hide, text).encode("utf-8")
            dst.writestr(info, data)
    return out


def print_sheet(workbook: Path, sheet: str, name: str) -> Printed:
    """Print `sheet` of `workbook` alone, PDF and PNG pages kept in test-artifacts/`name`/ (emptied first)."""
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copy = only_sheet(workbook, sheet, folder / f"{workbook.stem}-{sheet}.xlsx")
    return render([copy], folder, artifacts=folder)[copy]
