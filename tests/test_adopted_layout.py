"""An adopted master keeps its own columns and print settings (issue 17): after brandkit adopts a workbook
Excel or WPS wrote, and after every merge, the ledger sheet's <cols>, <pageSetup>, <pageMargins> and
<headerFooter> and the workbook's _xlnm.Print_Titles are the bytes they were; the columns adoption adds
only add <col> entries beside the office's own."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from tests.forms import BRANDS
from tests.paths import CORPUS
from toolkit.commands.init import init_master
from toolkit.commands.merge import merge
from toolkit.core.changeset import CellWrite, ChangeSet
from toolkit.core.profile import load_profile
from toolkit.ooxml import apply_changeset

HEADER = list(load_profile("hospital-brand").ledger.columns)  # the office's ledger has every column the form fills
# (corpus file, the sheet that becomes the ledger): Excel with print titles on Sheet2's first row and an
# A4 page setup; WPS with its own column widths, margins and header/footer; Excel with <cols> and a setup.
MASTERS = [("poi/RepeatingRowsCols.xlsx", "Sheet2"), ("sheetjs/artifacts_wps_write.xlsx", "Sheet1"),
           ("sheetjs/cell_style_simple.xlsx", "Sheet1")]
PARTS = {"cols": r"<cols>.*?</cols>", "pageSetup": r"<pageSetup\b[^>]*/>",
         "pageMargins": r"<pageMargins\b[^>]*/>", "headerFooter": r"<headerFooter\b[^>]*/>|<headerFooter\b.*?</headerFooter>"}


def print_settings(data: bytes, sheet: str) -> dict[str, list[str]]:
    """The sheet's layout elements and the workbook's print titles, as bytes (text) in the package."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="(rId\d+)"', book).group(1)
        target = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
        xml = z.read("xl/" + target.lstrip("/").removeprefix("xl/")).decode("utf-8")
    found = {name: re.findall(pattern, xml, re.S) for name, pattern in PARTS.items()}
    found["Print_Titles"] = re.findall(r'<definedName name="_xlnm\.Print_Titles"[^>]*>[^<]*</definedName>', book)
    return found


def as_ledger(data: bytes, sheet: str) -> bytes:
    """The corpus workbook with a ledger header written into `sheet`'s first row (cells only: its
    layout stays the producer's) and the rows below emptied."""
    writes = [CellWrite(sheet, 0, c, h) for c, h in enumerate(HEADER)]
    writes += [CellWrite(sheet, r, c, None) for r in range(1, 12) for c in range(len(HEADER) + 2)]
    return apply_changeset(data, ChangeSet(writes=writes))


@pytest.mark.parametrize(("name", "sheet"), MASTERS, ids=[m[0] for m in MASTERS])
def test_adopting_and_merging_leave_the_masters_columns_and_print_settings_byte_identical(
        name: str, sheet: str, tmp_path: Path, make_form: Callable[..., Path]) -> None:
    master = tmp_path / "台账.xlsx"
    master.write_bytes(as_ledger((CORPUS / name).read_bytes(), sheet))
    own = print_settings(master.read_bytes(), sheet)
    assert any(own.values()), "the corpus file has print settings to keep"
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["党总支", "党支部名称"])
    for branch, _, _ in BRANDS:
        wb.active.append(["第一党总支", branch])
    wb.save(roster)

    result = init_master(master, "hospital-brand", roster, operator="党办")
    assert "退回原因" in result.added_columns and not result.added_sheets.count("品牌台账")
    adopted = print_settings(master.read_bytes(), sheet)
    assert {k: v for k, v in adopted.items() if k != "cols"} == {k: v for k, v in own.items() if k != "cols"}
    for col in re.findall(r"<col\b[^>]*/>", "".join(own["cols"])):  # the office's own widths, as they were
        assert col in "".join(adopted["cols"])

    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox)
    make_form(1, folder=inbox, 联系方式="139471234")  # returned: its reason goes in the adopted 退回原因
    merged = merge(master, [inbox], operator="党办")
    assert sorted(o.action for o in merged.outcomes) == ["added", "rejected"]  # a roster row filled: 新增
    assert print_settings(master.read_bytes(), sheet) == adopted
