"""Rows patched in place (toolkit/ooxml/sheetdata.py, cells.py): a cell found by its reference is edited
without splitting its row, a row is split when it must be, a row the sheet lacks is written whole, and
a big change is streamed; checked in the XML, with python-calamine and in LibreOffice."""

from __future__ import annotations

import gc
import io
import re
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from tests.fixtures_masters import inline_master, part, row_texts
from tests.libreoffice import roundtrip_values
from toolkit.core.changeset import CellWrite, ChangeSet, RowHeight
from toolkit.ooxml import apply_changeset
from toolkit.ooxml.sheetdata import Row, SheetData

SHEET = "xl/worksheets/sheet1.xml"
MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(("row", "col", "expected"), [
    # found by its reference: that cell changes, everything else (spacing too) stays as it was
    ('<row r="2" spans="1:3"><c r="A2" s="1"/>\n <c r="B2" s="1"/><c r="C2"/></row>', 2,
     '<row r="2" spans="1:3"><c r="A2" s="1"/>\n <c r="B2">新</c><c r="C2"/></row>'),
    # the reference written inside another attribute, or as cell text, is not the cell
    ("""<row r="2"><c r="A2" n=' r="B2"'/><c r="B2"/></row>""", 2,
     """<row r="2"><c r="A2" n=' r="B2"'/><c r="B2">新</c></row>"""),
    ('<row r="2"><c r="A2" t="inlineStr"><is><t> r="B2"</t></is></c><c r="B2"/></row>', 2,
     '<row r="2"><c r="A2" t="inlineStr"><is><t> r="B2"</t></is></c><c r="B2">新</c></row>'),
    # cells without references are counted; a missing cell goes in column order
    ('<row r="2"><c s="1"/><c s="1"/><c/></row>', 2, '<row r="2"><c s="1"/><c r="B2">新</c><c/></row>'),
    ('<row r="2" spans="1:3"><c r="A2"/><c r="C2"/></row>', 2,
     '<row r="2" spans="1:3"><c r="A2"/><c r="B2">新</c><c r="C2"/></row>'),
    # a cell beyond the row's spans widens them; an empty row gets its first cell
    ('<row r="2" spans="1:2"><c r="A2"/></row>', 5, '<row r="2" spans="1:5"><c r="A2"/><c r="E2">新</c></row>'),
    ('<row r="2" ht="30" customHeight="1"/>', 1, '<row r="2" ht="30" customHeight="1"><c r="A2">新</c></row>'),
    # single quotes, and a row that names no number (it is counted)
    ("<row r='2'><c r='A2'/><c r='B2'/></row>", 2, """<row r='2'><c r='A2'/><c r="B2">新</c></row>"""),
    ("<row><c/><c/></row>", 1, '<row r="2"><c r="A2">新</c><c/></row>'),
])
def test_a_cell_is_written_where_it_is_and_nothing_else_moves(row, col, expected):
    edited = Row(2, row, "")
    edited.put(col, f'<c r="{edited.ref(col)}">新</c>')
    assert edited.text() == expected


def test_a_prefixed_row_and_an_edit_kept_when_the_row_must_be_split():
    row = Row(2, '<x:row r="2"><x:c r="A2"/><x:c r="B2"><x:v>1</x:v></x:c><x:c r="C2"/></x:row>', "x:")
    row.put(2, '<x:c r="B2"><x:v>2</x:v></x:c>')  # found by its reference
    row.put(4, '<x:c r="D2"><x:v>4</x:v></x:c>')  # absent: the row is split, B2's edit kept
    assert row.text() == ('<x:row r="2"><x:c r="A2"/><x:c r="B2"><x:v>2</x:v></x:c><x:c r="C2"/>'
                          '<x:c r="D2"><x:v>4</x:v></x:c></x:row>')


def test_rows_are_found_by_their_tags_and_untouched_ones_kept_exactly():
    inner = ('\n  <row r="1" spans="1:2"><c r="A1"/><c r="B1"><v>1</v></c></row>\n  <row r="3" ht="20"/>'
             '<row><c t="inlineStr"><is><t>&lt;row r="9"&gt;</t></is></c></row>\n')
    rows = SheetData(inner, "")
    assert rows.order == [1, 3, 4]
    assert rows.original(3) == '<row r="3" ht="20"/>'
    assert rows.original(4) == '<row><c t="inlineStr"><is><t>&lt;row r="9"&gt;</t></is></c></row>'
    assert rows.text() == inner
    rows.touch(3).put(1, '<c r="A3"/>')
    assert rows.text() == inner.replace('<row r="3" ht="20"/>', '<row r="3" ht="20"><c r="A3"/></row>')


def workbook(rows: list[str]) -> bytes:
    """inline_master with its sheet's rows replaced by `rows` (inline strings, no shared strings)."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {MAIN}><dimension ref="A1"/><sheetData>'
             f'{"".join(rows)}</sheetData></worksheet>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(inline_master())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info, sheet.encode() if info.filename == SHEET else src.read(info))
    return out.getvalue()


def ledger_rows(n: int) -> list[str]:
    """A header and `n` branch rows of 12 cells (a name, then empty formatted cells), ~1 MB of XML at 3,000."""
    head = "".join(f'<c r="{chr(65 + c)}1" t="inlineStr"><is><t>列{c}</t></is></c>' for c in range(12))
    body = [f'<row r="{r}" spans="1:12"><c r="A{r}" t="inlineStr"><is><t>第{r}党支部</t></is></c>'
            + "".join(f'<c r="{chr(65 + c)}{r}"/>' for c in range(1, 12)) + "</row>" for r in range(2, n + 2)]
    return [f'<row r="1" spans="1:12">{head}</row>', *body]


def stamp_shaped(n: int, log_rows: int) -> ChangeSet:
    """What a stamp does, small: a status (with a fill) in every other row's 12th column, a taller row, and
    new rows of seven cells below the last."""
    writes = [CellWrite("台账", r, 11, f"已提交 2025-08-01 张三{r}", fill="C6EFCE") for r in range(1, n + 1, 2)]
    writes += [CellWrite("台账", n + 1 + i, c, v) for i in range(log_rows)
               for c, v in enumerate(["2025-08-01 12:00:00", "张三", "盖章", f"第{i}党支部", "申报", "", "已提交"]) if v]
    return ChangeSet(writes=writes, row_heights=[RowHeight("台账", 1, 40)])


def test_a_big_change_reads_back_and_leaves_the_rows_it_did_not_touch_as_they_were():
    rows = ledger_rows(3000)
    src = workbook(rows)
    out = apply_changeset(src, stamp_shaped(3000, 500))
    grid = CalamineWorkbook.from_filelike(io.BytesIO(out)).get_sheet_by_name("台账").to_python()
    assert len(grid) == 3501 and grid[2][0] == "第3党支部" and grid[2][11] == ""
    assert [grid[r][11] for r in (1, 3, 2999)] == [f"已提交 2025-08-01 张三{r}" for r in (1, 3, 2999)]
    assert grid[3001][:7] == ["2025-08-01 12:00:00", "张三", "盖章", "第0党支部", "申报", "", "已提交"]
    assert grid[3500][3] == "第499党支部"
    before, after = row_texts(part(src, SHEET)), row_texts(part(out, SHEET))
    assert all(after[str(r)] == before[str(r)] for r in range(3, 3002, 2))  # untouched rows, byte for byte
    assert 'ht="40" customHeight="1"' in after["2"] and "张三1" in after["2"]  # written, then made taller
    assert re.search(r'<dimension ref="A1:L3501"/>', part(out, SHEET).decode())


@pytest.mark.libreoffice
def test_libreoffice_reads_a_stamp_shaped_change(tmp_path):
    out = apply_changeset(workbook(ledger_rows(40)), stamp_shaped(40, 20))
    path = tmp_path / "out.xlsx"
    path.write_bytes(out)
    grid = roundtrip_values(path)["台账"]
    assert grid[1][11] == "已提交 2025-08-01 张三1" and grid[2][11] in (None, "")
    assert grid[41][:5] == ["2025-08-01 12:00:00", "张三", "盖章", "第0党支部", "申报"]
    assert grid[60][3] == "第19党支部"


@pytest.mark.parametrize("enabled", [True, False])
def test_the_transaction_gives_the_cycle_collector_back_as_it_found_it(new_master, enabled):
    from toolkit.files.transaction import update

    master = new_master()
    seen = []
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        update(master, lambda snap: seen.append(gc.isenabled()), lambda _: ChangeSet())
        assert seen == [False] and gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
