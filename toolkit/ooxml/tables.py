"""Table parts (xl/tables/tableN.xml) of a sheet: grow their ref for new rows and new columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .context import Context
from .errors import PackageError
from .refs import grow_range_cols, grow_sqref, parse_range
from .sheet import Sheet
from .xmltools import MAIN, parse, serialize

if TYPE_CHECKING:
    from lxml import etree


class Tables:
    def __init__(self, ctx: Context, sheet: Sheet):
        self.ctx = ctx
        self.parts = [part for _, part in ctx.pkg.rels(sheet.part).by_type("table") if ctx.pkg.exists(part)]

    def _each(self):
        for part in self.parts:
            data = self.ctx.pkg.read(part)
            if data is not None:  # deleted since
                prolog, root = parse(data, part)
                yield part, prolog, root

    def grow_rows(self, like: int, new: int) -> None:
        for part, prolog, root in self._each():
            if not root.get("ref"):
                continue
            if root.get("totalsRowCount") not in (None, "0"):
                if parse_range(root.get("ref"))[2] == like:  # the new row would copy the totals row, below it
                    name = root.get("displayName") or root.get("name") or ""
                    raise PackageError(f"台账的表格“{name}”带有汇总行（第 {like} 行），brandkit 不能把新支部的行插到汇总行"
                                       "上方：请在 Excel 中选中该表格，在“表设计”中取消勾选“汇总行”，保存后再运行，"
                                       "完成后可再勾选；台账未改动")
                continue  # new rows elsewhere never touch a table whose totals row sits under its data
            grown = grow_sqref(root.get("ref"), like, new)
            if grown == root.get("ref"):
                continue
            root.set("ref", grown)
            af = root.find(f"{{{MAIN}}}autoFilter")
            if af is not None and af.get("ref"):
                af.set("ref", grow_sqref(af.get("ref"), like, new))
            self.ctx.pkg.write(part, serialize(prolog, root))

    def grow_cols(self, header_row: int, col: int, title: str) -> str:
        """Widen a table whose header row is `header_row` and last column `col - 1`; returns the
        column name (made unique within that table, as Excel requires)."""
        for part, prolog, root in self._each():
            if root.get("headerRowCount") == "0" or not root.get("ref"):
                continue
            grown = grow_range_cols(root.get("ref"), header_row, col)
            if not grown:
                continue
            root.set("ref", grown)
            af = root.find(f"{{{MAIN}}}autoFilter")
            if af is not None and af.get("ref"):
                af.set("ref", grow_range_cols(af.get("ref"), header_row, col) or af.get("ref"))
            title = self._add_column(root, title)
            self.ctx.pkg.write(part, serialize(prolog, root))
        return title

    @staticmethod
    def _add_column(root: etree._Element, title: str) -> str:
        from lxml import etree

        cols = root.find(f"{{{MAIN}}}tableColumns")
        names = {(c.get("name") or "").lower() for c in cols}
        name, n = title, 2
        while name.lower() in names:
            name, n = f"{title}{n}", n + 1
        ids = [int(c.get("id", "0")) for c in cols]
        etree.SubElement(cols, f"{{{MAIN}}}tableColumn", id=str(max(ids + [0]) + 1), name=name)
        cols.set("count", str(len(cols)))
        return name
