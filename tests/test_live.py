"""The live backend (toolkit.excel.live) against the file backend: the same ChangeSet applied through xlwings'
remote engine (the actions Excel would run, replayed) and through the OOXML patcher (read back by
LibreOffice) gives the same cells; fills, row heights, pictures and hidden sheets come out as actions."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.forms import BRANDS, form_values, logo_bytes, write_filled_form
from tests.libreoffice import roundtrip_values
from tests.test_merge import cli
from tests.xlremote import Replay, remote_book
from toolkit.core.changeset import (
    CellWrite,
    ChangeSet,
    NewColumn,
    NewRow,
    NewSheet,
    PicturePlacement,
    RowHeight,
)

ROOT = Path(__file__).resolve().parents[1]
LEDGER = "品牌台账"


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed hospital-brand 台账.xlsm with one branch merged in by the CLI (file backend)."""
    folder = tmp_path_factory.mktemp("live")
    path = folder / "台账.xlsm"
    shutil.copyfile(ROOT / "workbook_templates/hospital-brand/台账.xlsm", path)
    branch, brand, topic = BRANDS[0]
    (folder / "inbox").mkdir()
    write_filled_form(folder / "inbox" / f"{branch}.xlsx", form_values(branch, brand, topic), logo=logo_bytes())
    cli("merge", str(path), str(folder / "inbox"))
    return path


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None if value == "" else value


def _table(rows: list[list[Any]]) -> list[list[Any]]:
    out = [[_norm(v) for v in row] for row in rows]
    while out and not any(v is not None for v in out[-1]):
        out.pop()
    width = max((max((c for c, v in enumerate(r) if v is not None), default=-1) + 1 for r in out), default=0)
    return [r[:width] + [None] * (width - len(r)) for r in out]


def _changes(logo: bytes) -> ChangeSet:
    return ChangeSet(
        new_sheets=[NewSheet("导入说明", [["项目", "说明"], ["公式样文本", "=1+1"]], [12, 30], hidden=True)],
        new_columns=[NewColumn(LEDGER, 16, 0, "备注", 20)],
        new_rows=[NewRow(LEDGER, 2, 1)],
        writes=[CellWrite(LEDGER, 2, 0, 2), CellWrite(LEDGER, 2, 2, "护理部党支部"),
                CellWrite(LEDGER, 2, 3, 31), CellWrite(LEDGER, 2, 4, "=HYPERLINK(\"x\")"),
                CellWrite(LEDGER, 2, 12, dt.date(2024, 8, 1), number_format="yyyy-mm-dd"),
                CellWrite(LEDGER, 2, 14, "已提交 2024-08-01 张三", fill="C6EFCE"),
                CellWrite(LEDGER, 2, 16, "补充材料待交")],
        row_heights=[RowHeight(LEDGER, 2, 60.0)],
        pictures=[PicturePlacement(LEDGER, 2, 5, logo, "png", 80, 60, "brandkit:护理部党支部")],
    )


def test_live_and_file_backends_give_the_same_cells(master: Path, tmp_path: Path) -> None:
    from toolkit.excel.live import apply_live
    from toolkit.ooxml import apply_changeset

    logo = logo_bytes((80, 60), (30, 120, 200))
    changes = _changes(logo)
    patched = tmp_path / "file.xlsm"
    patched.write_bytes(apply_changeset(master.read_bytes(), changes))
    by_file = roundtrip_values(patched)

    book = remote_book(master)
    apply_live(book, changes)
    actions = book.json()["actions"]
    live = Replay.of(master).play(actions)

    assert _table(live.rows(LEDGER)) == _table(by_file[LEDGER])
    assert _table(live.rows("导入说明")) == _table(by_file["导入说明"]) == [["项目", "说明"], ["公式样文本", "=1+1"]]
    assert live.rows(LEDGER)[2][4] == '=HYPERLINK("x")'  # text, never a formula
    assert live.fills[(LEDGER, 2, 14)] == "C6EFCE"
    assert live.heights[(LEDGER, 2)] == 60.0
    assert [a["args"] for a in actions if a["func"] == "setSheetVisibility"] == [["Hidden"]]
    assert [a["args"] for a in actions if a["func"] == "setNumberFormat"] == [["yyyy-mm-dd"]]
    [picture] = live.added_pictures(LEDGER)
    assert (picture["row"], picture["col"]) == (2, 5)
    assert (picture["width"], picture["height"], picture["name"]) == (60.0, 45.0, "brandkit:护理部党支部")
    assert picture["data"] == logo


def test_new_row_copies_the_like_rows_format_and_clears_its_constants(master: Path) -> None:
    from toolkit.excel.live import apply_live

    book = remote_book(master)
    apply_live(book, ChangeSet(new_rows=[NewRow(LEDGER, 2, 1)]))
    actions = book.json()["actions"]
    copy, clear = actions
    assert copy["func"] == "copyRange" and (copy["start_row"], copy["row_count"]) == (1, 1)
    assert copy["args"][1].replace("$", "").startswith("A3:")
    assert clear["func"] == "rangeClearContents" and clear["start_row"] == 2


def test_a_replaced_logo_is_deleted_before_the_new_one_is_added(master: Path) -> None:
    """Re-merging a branch replaces its logo instead of stacking a second picture on the cell."""
    from toolkit.excel.live import apply_live

    book = remote_book(master)
    [existing] = [p.name for p in book.sheets[LEDGER].pictures]
    logo = logo_bytes((40, 40))
    apply_live(book, ChangeSet(pictures=[PicturePlacement(LEDGER, 1, 5, logo, "png", 40, 40, existing)]))
    funcs = [a["func"] for a in book.json()["actions"]]
    assert funcs[:2] == ["deletePicture", "addPicture"]
