"""The fidelity promise: after an apply every part the change did not need is byte-identical, every
untouched row of a touched sheet keeps its XML text, every original sheet keeps its values, and
LibreOffice still opens the result."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.fixtures_masters import CORPUS, HEADER, ledger, members, part, png, row_texts
from tests.libreoffice import require_soffice
from tests.paths import corpus_files
from toolkit.core.changeset import CellWrite, ChangeSet, NewColumn, NewRow, NewSheet, PicturePlacement
from toolkit.ooxml import PackageError, apply_changeset, sheet_names
from toolkit.ooxml.package import Package
from toolkit.ooxml.workbook import Workbook

CORPUS_FILES = corpus_files(".xlsx", ".xlsm")
ENCRYPTED = {"pass_protected.xlsx"}
ALWAYS_ALLOWED = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "docProps/app.xml",
                  "docProps/core.xml", "xl/styles.xml", "xl/sharedStrings.xml", "xl/calcChain.xml"}


def sheet_values(data: bytes) -> dict[str, list[list]]:
    """Values of every sheet: python-calamine, or openpyxl read-only where calamine refuses the file."""
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}
    except Exception:  # noqa: BLE001 - calamine rejects macro-sheet workbooks (see FACTS)
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True)
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def libreoffice_opens(files: list[Path]) -> None:
    """Have one LibreOffice run convert every file; each must come out."""
    soffice = require_soffice()
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile, \
            tempfile.TemporaryDirectory(prefix="lo-out-") as outdir:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                        "--convert-to", "ods", "--outdir", outdir, *map(str, files)],
                       capture_output=True, timeout=600, env={**os.environ, "HOME": profile})
        missing = [f.name for f in files if not (Path(outdir) / f"{f.stem}.ods").exists()]
    assert not missing, f"LibreOffice could not open {missing}"


def two_applies(src: bytes) -> tuple[bytes, bytes]:
    """First add the ledger and log sheets, then merge three branches into the new ledger."""
    first = apply_changeset(src, ChangeSet(new_sheets=[
        NewSheet("品牌台账", [HEADER], [6, 24, 18, 12, 10]),
        NewSheet("操作记录", [["时间", "操作人", "操作"]])]))
    writes = []
    for r in (1, 2, 3):
        writes += [CellWrite("品牌台账", r, 0, r), CellWrite("品牌台账", r, 1, f"第{r}党支部"),
                   CellWrite("品牌台账", r, 2, f"=品牌{r}"), CellWrite("品牌台账", r, 3, dt.date(2024, 8, r)),
                   CellWrite("品牌台账", r, 4, 10 * r, fill="C6EFCE")]
    second = apply_changeset(first, ChangeSet(
        new_rows=[NewRow("品牌台账", 2, 1), NewRow("品牌台账", 3, 1)], writes=writes,
        pictures=[PicturePlacement("品牌台账", 1, 2, png(), "png", 40, 30, "第1党支部")]))
    return first, second


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_master_survives_two_applies(path, tmp_path):
    src = path.read_bytes()
    if path.name in ENCRYPTED:
        with pytest.raises(PackageError, match="加密"):
            two_applies(src)
        return
    first, second = two_applies(src)
    before, after = members(src), members(second)
    new_parts = set(after) - set(before)
    assert not set(before) - set(after) - {"xl/calcChain.xml"}, "no part may disappear"
    changed = {n for n in before if n in after and before[n] != after[n]}
    allowed = ALWAYS_ALLOWED | {n for n in before if n.startswith("docProps/")}
    allowed.add(Workbook(Package(src)).part)
    assert changed <= allowed, changed - allowed
    assert all(n.startswith(("xl/worksheets/", "xl/drawings/", "xl/media/brandkit_")) for n in new_parts), new_parts
    old_values = sheet_values(src)
    new_values = sheet_values(second)
    for name, grid in old_values.items():
        assert new_values[name] == grid, name
    assert sheet_names(second)[-2:] == ["品牌台账", "操作记录"]
    assert new_values["品牌台账"][1][:3] == [1, "第1党支部", "=品牌1"]
    (tmp_path / f"{path.stem}{path.suffix}").write_bytes(second)
    libreoffice_opens([tmp_path / f"{path.stem}{path.suffix}"])


def _into_existing_ledger(src: bytes, sheet: str, last: int, header_row: int, new_col: int, pic: tuple[int, int]):
    return apply_changeset(src, ChangeSet(
        new_columns=[NewColumn(sheet, new_col, header_row, "申报状态", 12)],
        new_rows=[NewRow(sheet, last + 1, last)],
        writes=[CellWrite(sheet, last + 1, 1, "新增党支部"), CellWrite(sheet, last, 1, "改名党支部"),
                CellWrite(sheet, last + 1, new_col, "已提交", fill="C6EFCE")],
        pictures=[PicturePlacement(sheet, last + 1, 2, png(), "png", 40, 30, "新增党支部")]))


BUILT = {
    "ledger-with-extras.xlsx": (lambda: ledger(rows=6, extras=True), "台账", 6, 0, 6, "xl/worksheets/sheet1.xml"),
    "ledger-with-button.xlsm": (lambda: ledger(rows=6, extras=True, vba=True), "台账", 6, 0, 6,
                                "xl/worksheets/sheet1.xml"),
    "wps_image.xlsx": (lambda: (CORPUS / "sheetjs/wps_image.xlsx").read_bytes(), "Sheet1", 14, 14, 7,
                       "xl/worksheets/sheet1.xml"),
}


@pytest.mark.parametrize("name", list(BUILT))
def test_writing_into_an_existing_ledger_keeps_everything_else(name, tmp_path):
    build, sheet, last, header_row, new_col, sheet_part = BUILT[name]
    src = build()
    out = _into_existing_ledger(src, sheet, last, header_row, new_col, (last + 1, 2))
    before, after = members(src), members(out)
    drawing = "xl/drawings/drawing1.xml"
    allowed = ALWAYS_ALLOWED | {sheet_part, drawing, "xl/drawings/_rels/drawing1.xml.rels"}
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed <= allowed, changed - allowed
    assert drawing in changed and sheet_part in changed
    for keep in ("xl/vbaProject.bin", "xl/cellimages.xml", "xl/_rels/cellimages.xml.rels",
                 "xl/threadedComments/threadedComment1.xml", "xl/comments1.xml", "xl/tables/table1.xml"):
        if keep in before:
            assert after[keep] == before[keep], keep
    touched = {str(header_row + 1), str(last + 1), str(last + 2)}
    old_rows, new_rows = row_texts(part(src, sheet_part)), row_texts(part(out, sheet_part))
    assert len(old_rows) > len(touched) - 1 or name == "wps_image.xlsx"
    for r, text in old_rows.items():
        if r not in touched:
            assert new_rows[r] == text, f"row {r} changed"
    old_anchors = part(src, drawing).decode()
    body = old_anchors[old_anchors.index(">", old_anchors.index("wsDr")) + 1:old_anchors.rindex("</")]
    assert body in part(out, drawing).decode()  # existing shapes, buttons, pictures: same XML
    if "x14:dataValidation" in part(src, sheet_part).decode():
        assert "<xm:sqref>B2:B8</xm:sqref>" in part(out, sheet_part).decode()  # grown with the new row
    values_before, values_after = sheet_values(src), sheet_values(out)
    for other in values_before:
        if other != sheet:
            assert values_after[other] == values_before[other]
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(out), read_only=True)[sheet]
    assert ws.cell(last + 2, 2).value == "新增党支部" and ws.cell(last + 1, 2).value == "改名党支部"
    assert ws.cell(header_row + 1, new_col + 1).value == "申报状态"
    path = tmp_path / name
    path.write_bytes(out)
    libreoffice_opens([path])
