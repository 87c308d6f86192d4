"""xl/styles.xml: derive cell formats (fill, number format, quote prefix, bold) from existing ones.

A derived xf is a copy of the cell's current xf with one thing changed; an identical xf already in
cellXfs is reused, and results are cached, so a thousand stamped cells add one xf at most.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING

from .package import Package
from .xmltools import MAIN, local, parse, serialize

if TYPE_CHECKING:
    from lxml import etree

STYLES_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_DATE_IDS = set(range(14, 23)) | set(range(27, 37)) | {45, 46, 47} | set(range(50, 59))
_BUILTIN = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
            "mm-dd-yy": 14, "m/d/yyyy": 14, "d-mmm-yy": 15, "h:mm": 20, "h:mm:ss": 21, "m/d/yy h:mm": 22,
            "@": 49}
_QUOTED = re.compile(r'"[^"]*"|\\.|\[(?!h\]|m\]|s\])[^\]]*\]', re.I)
_MINIMAL = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
            b'<fill><patternFill patternType="gray125"/></fill></fills>'
            b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
            b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            b'</styleSheet>')
_ORDER = ["numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
          "tableStyles", "colors", "extLst"]


def is_date_code(code: str) -> bool:
    return bool(re.search(r"[ymdhs]", _QUOTED.sub("", code), re.I))


def _canon(el: etree._Element) -> tuple:
    return (local(el.tag), tuple(sorted(el.attrib.items())), tuple(_canon(c) for c in el if local(c.tag)))


_LINK_STYLES = ("8", "9")  # the built-in cell styles Hyperlink and Followed Hyperlink


class Styles:
    def __init__(self, pkg: Package, workbook_part: str, wb_rels):
        self.pkg = pkg
        found = wb_rels.by_type("styles")
        if found:
            self.part = found[0][1]
        else:
            self.part = "xl/styles.xml" if workbook_part == "xl/workbook.xml" else \
                workbook_part.rsplit("/", 1)[0] + "/styles.xml"
            wb_rels.add("styles", self.part)
            pkg.set_override(self.part, STYLES_CT)
            pkg.write(self.part, _MINIMAL)
        self.prolog, self.root = parse(pkg.read(self.part) or _MINIMAL, self.part)
        self.cache: dict[tuple, int] = {}
        self.dirty = False

    def _list(self, name: str) -> etree._Element:
        from lxml import etree

        from .xmltools import insert_in_order

        el = self.root.find(f"{{{MAIN}}}{name}")
        if el is None:
            el = etree.Element(f"{{{MAIN}}}{name}", count="0")
            insert_in_order(self.root, el, _ORDER)
        return el

    def _append_unique(self, listname: str, item: etree._Element) -> int:
        """Index of an identical entry in the list, appending `item` when there is none."""
        lst = self._list(listname)
        children = [c for c in lst if local(c.tag)]
        key = _canon(item)
        for i, c in enumerate(children):
            if _canon(c) == key:
                return i
        lst.append(item)
        lst.set("count", str(len(children) + 1))
        self.dirty = True
        return len(children)

    def xf(self, index: int) -> etree._Element:
        xfs = [c for c in self._list("cellXfs") if local(c.tag)]
        if not xfs:
            from lxml import etree

            xfs = [etree.SubElement(self._list("cellXfs"), f"{{{MAIN}}}xf", numFmtId="0", fontId="0",
                                    fillId="0", borderId="0", xfId="0")]
            self._list("cellXfs").set("count", "1")
        return xfs[index] if 0 <= index < len(xfs) else xfs[0]

    def num_fmt_code(self, index: int) -> tuple[int, str | None]:
        fid = int(self.xf(index).get("numFmtId", "0"))
        for el in self._list("numFmts"):
            if el.get("numFmtId") == str(fid):
                return fid, el.get("formatCode")
        return fid, None

    def is_date(self, index: int) -> bool:
        fid, code = self.num_fmt_code(index)
        return is_date_code(code) if code is not None else fid in _DATE_IDS

    def _num_fmt_id(self, code: str) -> int:
        from lxml import etree

        lst = self._list("numFmts")
        ids = []
        for el in lst:
            if el.get("formatCode") == code:
                return int(el.get("numFmtId"))
            ids.append(int(el.get("numFmtId", "0")))
        if code in _BUILTIN:
            return _BUILTIN[code]
        new = max(ids + [163]) + 1
        etree.SubElement(lst, f"{{{MAIN}}}numFmt", numFmtId=str(new), formatCode=code)
        lst.set("count", str(len(lst)))
        self.dirty = True
        return new

    def derive(self, base: int, *, fill: str | None = None, number_format: str | int | None = None,
               quote: bool = False, bold: bool = False, wrap: bool = False, plain: bool = False) -> int:
        """Index of an xf like `base` with the given changes (reused when identical one exists); `wrap`:
        text wraps, top-aligned; `plain`: the General number format and, where `base` looks like a link
        (the Hyperlink cell style, an underlined font), the Normal style and its font: what a new column takes from its neighbour (its
        borders, fill and alignment), never the neighbour's date format or hyperlink look."""
        from lxml import etree

        key = (base, fill, number_format, quote, bold, wrap, plain)
        if key in self.cache:
            return self.cache[key]
        xf = copy.deepcopy(self.xf(base))
        if plain:
            if xf.get("numFmtId", "0") != "0":
                xf.set("numFmtId", "0")
            fonts = [c for c in self._list("fonts") if local(c.tag)]
            font = fonts[int(xf.get("fontId", "0"))] if int(xf.get("fontId", "0")) < len(fonts) else None
            links = {el.get("xfId") for el in self._list("cellStyles") if el.get("builtinId") in _LINK_STYLES}
            if xf.get("xfId") in links or font is not None and font.find(f"{{{MAIN}}}u") is not None:
                normal = [c for c in self._list("cellStyleXfs") if local(c.tag)]
                xf.set("fontId", normal[0].get("fontId", "0") if normal else "0")
                xf.set("xfId", "0")
        if fill:
            el = etree.Element(f"{{{MAIN}}}fill")
            pf = etree.SubElement(el, f"{{{MAIN}}}patternFill", patternType="solid")
            etree.SubElement(pf, f"{{{MAIN}}}fgColor", rgb="FF" + fill.upper().lstrip("#")[-6:])
            etree.SubElement(pf, f"{{{MAIN}}}bgColor", indexed="64")
            xf.set("fillId", str(self._append_unique("fills", el)))
            xf.set("applyFill", "1")
        if number_format is not None:
            fid = number_format if isinstance(number_format, int) else self._num_fmt_id(number_format)
            xf.set("numFmtId", str(fid))
            xf.set("applyNumberFormat", "1")
        if quote:
            xf.set("quotePrefix", "1")
        if bold:
            fonts = [c for c in self._list("fonts") if local(c.tag)]
            font = copy.deepcopy(fonts[int(xf.get("fontId", "0"))] if fonts else etree.Element(f"{{{MAIN}}}font"))
            if font.find(f"{{{MAIN}}}b") is None:
                font.insert(0, etree.Element(f"{{{MAIN}}}b"))
            xf.set("fontId", str(self._append_unique("fonts", font)))
            xf.set("applyFont", "1")
        if wrap:
            for old in xf.findall(f"{{{MAIN}}}alignment"):
                xf.remove(old)
            xf.insert(0, etree.Element(f"{{{MAIN}}}alignment", wrapText="1", vertical="top"))
            xf.set("applyAlignment", "1")
        result = self._append_unique("cellXfs", xf)
        self.cache[key] = result
        return result

    def save(self) -> None:
        if self.dirty:
            self.pkg.write(self.part, serialize(self.prolog, self.root))
