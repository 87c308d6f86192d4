"""Drive brandkit's buttons through xlwings' own remote engine, without Excel.

`remote_book(path)` makes the JSON payload Excel's VBA client sends (xlwings/addin/Remote.bas builds it:
client, version, book{name, active_sheet_index, selection}, names, sheets[{name, values, pictures,
tables}]) from a real workbook file, opens it with `xw.Book(json=...)` and sets it as the mock caller.
`Replay` plays the actions the engine returns back onto the file's values, so a test can compare what
the button wrote with what the file backend wrote.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _json_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()).isoformat(timespec="milliseconds") + "Z"
    return value


def payload_from_file(path: Path, *, selection: str | None = None, active: str | None = None) -> dict:
    import xlwings

    from toolkit.readers.grid import read_grids
    from toolkit.readers.pictures import find_pictures

    data = Path(path).read_bytes()
    grids = read_grids(data, "xlsx")
    pictures: dict[str, list[dict]] = {}
    for n, pic in enumerate(find_pictures(data, "xlsx"), start=1):
        pictures.setdefault(pic.sheet, []).append({"name": pic.name or f"Picture {n}", "width": pic.width,
                                                   "height": pic.height})
    sheets = []
    for grid in grids.values():
        width = max(grid.width, 1)
        values = [[_json_value(v) for v in row] + [""] * (width - len(row)) for row in grid.rows] or [[""]]
        sheets.append({"name": grid.name, "values": values, "pictures": pictures.get(grid.name, []),
                       "tables": [], "visibility": "Hidden" if grid.hidden else "Visible"})
    names = [s["name"] for s in sheets]
    return {"client": "VBA", "version": xlwings.__version__,
            "book": {"name": str(Path(path).resolve()), "active_sheet_index": names.index(active) if active else 0,
                     "selection": selection},
            "names": [], "sheets": sheets}


def remote_engine() -> Any:
    """xlwings with its remote engine registered. The engine registers at import when the license key is
    set (PolyForm Noncommercial covers government and public-health users); if xlwings was imported
    before the key was set, it is registered now."""
    os.environ["XLWINGS_LICENSE_KEY"] = "noncommercial"
    import xlwings as xw

    if "remote" not in [engine.name for engine in xw.engines]:
        from xlwings.pro import _xlremote

        xw.engines.add(xw.main.Engine(impl=_xlremote.engine))
    return xw


def remote_book(path: Path, settings: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """The workbook at `path` as Excel would hand it to a button, set as `xw.Book.caller()`. `settings`
    fill 控制台 cells (label -> value), as the officer types them before clicking."""
    xw = remote_engine()
    payload = payload_from_file(path, **kwargs)
    for sheet in payload["sheets"]:
        for row in sheet["values"] if sheet["name"] == "控制台" else []:
            if row[0] in (settings or {}):
                row[1] = settings[row[0]]
    book = xw.Book(json=payload)
    book.set_mock_caller()
    return book


# Actions that change formats only (checked by the tests that care), not values, fills or pictures.
FORMAT_ONLY = {"copyRange", "setFontProperty", "setColumnWidth", "setNumberFormat", "setSheetVisibility",
               "setPictureLockAspectRatio"}


@dataclass
class Replay:
    """The workbook as it would be after Excel ran the actions: values, fills, row heights, pictures."""

    sheets: list[str]
    values: dict[tuple[str, int, int], Any]  # (sheet, row, col) 0-based
    fills: dict[tuple[str, int, int], str] = field(default_factory=dict)
    heights: dict[tuple[str, int], float] = field(default_factory=dict)
    # per sheet, in Excel's order: the pictures already there ({"name"}), then those added (row, col, data…)
    pictures: dict[str, list[dict]] = field(default_factory=dict)
    saved: bool = False

    @classmethod
    def of(cls, path: Path) -> Replay:
        from toolkit.readers.grid import read_grids

        payload = payload_from_file(path)
        grids = read_grids(Path(path).read_bytes(), "xlsx")
        values = {(g.name, r, c): v for g in grids.values() for r, row in enumerate(g.rows)
                  for c, v in enumerate(row) if v is not None}
        return cls(list(grids), values, pictures={s["name"]: list(s["pictures"]) for s in payload["sheets"]})

    def added_pictures(self, sheet: str) -> list[dict]:
        return [p for p in self.pictures.get(sheet, []) if "data" in p]

    def play(self, actions: list[dict]) -> Replay:
        """Any action not known here fails the test: a button must not do what nobody checks."""
        for a in actions:
            if a["func"] not in FORMAT_ONLY:
                getattr(self, "_" + a["func"])(a)
        return self

    def rows(self, sheet: str) -> list[list[Any]]:
        cells = [(r, c) for s, r, c in self.values if s == sheet]
        height = max((r for r, _ in cells), default=-1) + 1
        width = max((c for _, c in cells), default=-1) + 1
        return [[self.values.get((sheet, r, c)) for c in range(width)] for r in range(height)]

    def _cells(self, a: dict) -> list[tuple[str, int, int]]:
        sheet = self.sheets[a["sheet_position"]]
        return [(sheet, a["start_row"] + r, a["start_column"] + c)
                for r in range(a["row_count"]) for c in range(a["column_count"])]

    def _setValues(self, a: dict) -> None:
        sheet = self.sheets[a["sheet_position"]]
        for r, row in enumerate(a["values"]):
            for c, v in enumerate(row):
                key = (sheet, a["start_row"] + r, a["start_column"] + c)
                if v in ("", None):
                    self.values.pop(key, None)
                else:
                    self.values[key] = v[1:] if isinstance(v, str) and v.startswith("'") else v

    def _setRangeColor(self, a: dict) -> None:
        for key in self._cells(a):
            self.fills[key] = a["args"][0].lstrip("#").upper()

    def _setRowHeight(self, a: dict) -> None:
        self.heights[(self.sheets[a["sheet_position"]], a["start_row"])] = a["args"][0]

    def _addSheet(self, a: dict) -> None:
        self.sheets.insert(a["args"][0], a["args"][1])

    def _rangeClearContents(self, a: dict) -> None:
        for key in self._cells(a):
            self.values.pop(key, None)

    def _addPicture(self, a: dict) -> None:
        data, col, row, _left, _top = a["args"]
        self._pictures(a).append({"row": row, "col": col, "data": base64.b64decode(data)})

    def _pictures(self, a: dict) -> list[dict]:
        return self.pictures.setdefault(self.sheets[a["sheet_position"]], [])

    def _setPictureName(self, a: dict) -> None:
        self._pictures(a)[a["args"][0]]["name"] = a["args"][1]

    def _setPictureWidth(self, a: dict) -> None:
        self._pictures(a)[a["args"][0]]["width"] = a["args"][1]

    def _setPictureHeight(self, a: dict) -> None:
        self._pictures(a)[a["args"][0]]["height"] = a["args"][1]

    def _deletePicture(self, a: dict) -> None:
        del self._pictures(a)[a["args"][0]]

    def _save(self, a: dict) -> None:
        self.saved = True
