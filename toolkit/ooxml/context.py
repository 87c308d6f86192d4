"""State shared by the operations of one apply: the package, workbook, styles, strings and the
worksheets being patched (each loaded once, saved once)."""

from __future__ import annotations

from typing import Any

from .package import Package
from .sheet import Sheet
from .strings import SharedStrings
from .styles import Styles
from .workbook import Workbook
from .zipio import deflate

SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


class Context:
    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.wb = Workbook(pkg)
        self._styles: Styles | None = None
        self._sst: SharedStrings | None = None
        sst = self.wb.rels.by_type("sharedStrings")
        self.sst_part = sst[0][1] if sst and pkg.exists(sst[0][1]) else None
        self.sst_refs = 0
        self.sheets: dict[str, Sheet] = {}  # by part name
        self.drawings: dict[str, Any] = {}  # drawing.Drawing by part name
        self._parts_by_name: dict[str, str] = {}
        self.formulas_changed = False  # formulas added or removed: calcChain must go
        self.values_changed = False  # cells changed: dependants must recalculate on open
        # cells.py: a text's encoding by format, and a new cell's text after its reference, by column
        self.texts: dict[tuple, tuple[int, str | None, str]] = {}
        self.new_cells: dict[tuple, tuple[str, bool]] = {}

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            self._styles = Styles(self.pkg, self.wb.part, self.wb.rels)
        return self._styles

    @property
    def strings(self) -> SharedStrings | None:
        """The shared-string table, or None when the workbook keeps its strings inline."""
        if self._sst is None and self.sst_part:
            self._sst = SharedStrings(self.pkg, self.sst_part)
        return self._sst

    def sheet(self, name: str) -> Sheet:
        if name not in self._parts_by_name:  # sheet_part parses the workbook's sheet list each time
            self._parts_by_name[name] = self.wb.sheet_part(name)
        return self.sheet_at(self._parts_by_name[name])

    def sheet_at(self, part: str) -> Sheet:
        if part not in self.sheets:
            self.sheets[part] = Sheet(part, self.pkg.read(part) or b"")
        return self.sheets[part]

    def save(self) -> None:
        for drawing in self.drawings.values():
            drawing.save()
        for part, sheet in self.sheets.items():
            self.pkg.write(part, deflate(sheet.chunks(), sheet.rows.size()))
        if self._sst is not None:
            self._sst.save(self.sst_refs)
        if self._styles is not None:
            self._styles.save()
        if self.formulas_changed:
            self.wb.drop_calc_chain()
        if self.values_changed:
            self.wb.full_calc_on_load()
        self.wb.save()
