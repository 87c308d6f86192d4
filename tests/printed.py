"""A workbook as it prints: one sheet rendered to PDF by LibreOffice, its text per page (pdftotext -raw:
each cell's lines together, and a line cut off by a too-short row is not there) and PNG pages for a person
to look at (pdftoppm), kept with the PDF in test-artifacts/<name>/ (git-ignored)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.libreoffice import convert
from tests.paths import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@dataclass
class Printed:
    pdf: Path
    pages: list[str]  # pdftotext -raw, page by page
    pngs: list[Path]

    def squeezed(self, page: int | None = None) -> str:
        """The text without any whitespace (a wrapped cell's lines join up)."""
        text = "".join(self.pages) if page is None else self.pages[page]
        return re.sub(r"\s+", "", text)


def squeeze(value: object) -> str:
    return re.sub(r"\s+", "", str(value))


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
                data = re.sub(r"<sheet [^>]*>", hide, data.decode("utf-8")).encode("utf-8")
            dst.writestr(info, data)
    return out


def print_sheet(workbook: Path, sheet: str, name: str) -> Printed:
    """Print `sheet` of `workbook` into test-artifacts/`name`/ (emptied first)."""
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    copy = only_sheet(workbook, sheet, folder / f"{workbook.stem}-{sheet}.xlsx")
    pdf = convert(copy, "pdf", folder)
    count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                             text=True, check=True).stdout).group(1))
    pages = [subprocess.run(["pdftotext", "-raw", "-f", str(n), "-l", str(n), str(pdf), "-"],
                            capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / copy.stem)], check=True)
    return Printed(pdf, pages, sorted(folder.glob(f"{copy.stem}*.png")))


def font_scale(pdf: Path, word: str, font_pt: float = 11.0) -> float:
    """The print scale, from the width of a word of CJK characters (each one em wide) set in `font_pt`."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">' + re.escape(word) + "</word>",
                  out)
    assert m, f"{word} not found in {pdf.name}"
    return (float(m.group(2)) - float(m.group(1))) / (len(word) * font_pt)
