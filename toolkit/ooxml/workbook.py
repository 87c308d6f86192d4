"""xl/workbook.xml and the document properties: sheet list, new sheets, recalc flag, defined names,
docProps/app.xml titles and docProps/core.xml modified time."""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from toolkit.core.changeset import sheet_name_problem

from .errors import PackageError
from .package import Package, resolve
from .xmltools import MAIN, PKG_RELS, STRICT_MAIN, R, insert_in_order, local, parse, serialize

if TYPE_CHECKING:
    from lxml import etree

OFFICE_DOC = "officeDocument"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_WORKBOOK_ORDER = ["fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
                   "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
                   "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
                   "fileRecoveryPr", "webPublishObjects", "extLst"]


@dataclass
class SheetEntry:
    name: str
    part: str | None  # None for a broken relationship
    kind: str  # worksheet, chartsheet, dialogsheet, macrosheet...
    index: int  # position in <sheets> (localSheetId)


def workbook_part(pkg_read: Callable[[str], bytes | None]) -> str:
    """Name of the workbook part, found through the package relationships."""
    from lxml import etree

    data = pkg_read("_rels/.rels")
    if data is not None:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        for el in root.iter(f"{{{PKG_RELS}}}Relationship"):
            if el.get("Type", "").endswith("/" + OFFICE_DOC) and el.get("TargetMode") != "External":
                return resolve("", el.get("Target", ""))
        if any(el.get("Type", "").startswith("http://purl.oclc.org/ooxml/") for el in root):
            raise PackageError(_STRICT)
    raise PackageError("工作簿缺少主部件（xl/workbook.xml）：文件已损坏或不是 Excel 工作簿，请用 Excel 或 WPS 另存为 .xlsx 后再试")


_STRICT = ("工作簿以“Strict Open XML”格式保存，brandkit 不支持：请在 Excel 中另存为“Excel 工作簿(*.xlsx)”后再试")


def check_namespace(root: etree._Element, part: str) -> None:
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if ns == STRICT_MAIN:
        raise PackageError(_STRICT)
    if ns != MAIN:
        raise PackageError(f"工作簿部件 {part} 不是 SpreadsheetML（命名空间 {ns or '无'}）：请用 Excel 或 WPS 另存为 .xlsx 后再试")


class Workbook:
    """The parsed workbook part with its sheet list; saved back only when changed."""

    def __init__(self, pkg: Package):
        self.pkg = pkg
        self.part = workbook_part(pkg.read)
        data = pkg.read(self.part)
        if data is None:
            raise PackageError(f"工作簿缺少主部件 {self.part}：文件已损坏，请用 Excel 或 WPS 打开后另存再试")
        self.prolog, self.root = parse(data, self.part)
        check_namespace(self.root, self.part)
        self.rels = pkg.rels(self.part)
        self.dirty = False

    def _child(self, name: str) -> etree._Element | None:
        return self.root.find(f"{{{MAIN}}}{name}")

    def _ensure_child(self, name: str) -> etree._Element:
        from lxml import etree

        el = self._child(name)
        if el is None:
            el = etree.Element(f"{{{MAIN}}}{name}")
            insert_in_order(self.root, el, _WORKBOOK_ORDER)
        return el

    def sheets(self) -> list[SheetEntry]:
        sheets = self._child("sheets")
        out = []
        for i, el in enumerate(sheets if sheets is not None else []):
            rid = el.get(f"{{{R}}}id")
            target = self.rels.target(rid) if rid else None
            kind = "worksheet"
            for item in self.rels.items():
                if item.get("Id") == rid:
                    kind = item.get("Type", "").rsplit("/", 1)[-1]
            out.append(SheetEntry(el.get("name", ""), target, kind, i))
        return out

    def sheet_part(self, name: str) -> str:
        for entry in self.sheets():
            if entry.name == name and entry.kind == "worksheet" and entry.part:
                return entry.part
        names = "、".join(s.name for s in self.sheets())
        raise PackageError(f"工作簿中没有名为“{name}”的工作表（现有：{names}）：请检查台账工作表名称")

    def add_sheet(self, name: str, hidden: bool) -> str:
        """Register a new worksheet after the existing ones; returns its part name (not yet written)."""
        from lxml import etree

        check_sheet_name(name, [s.name for s in self.sheets()])
        part = self.pkg.unique_name(posixpath.join(posixpath.dirname(self.part), "worksheets", "sheet{}.xml"))
        rid = self.rels.add("worksheet", part)
        sheets = self._ensure_child("sheets")
        ids = [int(el.get("sheetId", "0")) for el in sheets if (el.get("sheetId") or "").isdigit()]
        el = etree.SubElement(sheets, f"{{{MAIN}}}sheet", name=name, sheetId=str(max(ids + [0]) + 1))
        if hidden:
            el.set("state", "hidden")
        el.set(f"{{{R}}}id", rid)
        self.pkg.set_override(part, WORKSHEET_CT)
        self.dirty = True
        return part

    def full_calc_on_load(self) -> None:
        calc = self._ensure_child("calcPr")
        if calc.get("fullCalcOnLoad") != "1":
            calc.set("fullCalcOnLoad", "1")
            self.dirty = True

    def defined_names(self) -> list[etree._Element]:
        names = self._child("definedNames")
        return [el for el in names if local(el.tag) == "definedName"] if names is not None else []

    def add_defined_name(self, name: str, sheet: str, value: str, hidden: bool = False) -> None:
        """A name local to `sheet` (e.g. _xlnm.Print_Titles), replacing one of the same name there."""
        from lxml import etree

        index = next(s.index for s in self.sheets() if s.name == sheet)
        names = self._ensure_child("definedNames")
        for el in self.defined_names():
            if el.get("name") == name and el.get("localSheetId") == str(index):
                names.remove(el)
        el = etree.SubElement(names, f"{{{MAIN}}}definedName", name=name, localSheetId=str(index))
        if hidden:
            el.set("hidden", "1")
        el.text = value
        self.dirty = True

    def drop_calc_chain(self) -> None:
        for rid, target in self.rels.by_type("calcChain"):
            self.rels.remove(rid)
            self.pkg.delete(target)
            self.pkg.set_override(target, None)

    def save(self) -> None:
        if self.dirty:
            self.pkg.write(self.part, serialize(self.prolog, self.root))


def check_sheet_name(name: str, existing: list[str]) -> None:
    if problem := sheet_name_problem(name, existing):
        raise PackageError(problem)


_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_SHEET_HEADINGS = {"worksheets", "工作表", "工作表名称"}


def add_app_titles(pkg: Package, names: list[str]) -> None:
    """List new worksheets in docProps/app.xml (HeadingPairs count, TitlesOfParts) when it has them."""
    from lxml import etree

    part = "docProps/app.xml"
    data = pkg.read(part)
    if data is None or not names:
        return
    prolog, root = parse(data, part)
    heads = root.find(f"{{*}}HeadingPairs/{{{_VT}}}vector")
    titles = root.find(f"{{*}}TitlesOfParts/{{{_VT}}}vector")
    if heads is None or titles is None:
        return
    variants = [v[0] for v in heads if len(v)]
    pairs = list(zip(variants[::2], variants[1::2], strict=False))
    pos = 0
    for label, count in pairs:
        if (label.text or "").strip().lower() in _SHEET_HEADINGS:
            count.text = str(int(count.text or 0) + len(names))
            pos += int(count.text) - len(names)
            break
        pos += int(count.text or 0)
    else:
        return
    for i, name in enumerate(names):
        el = etree.Element(f"{{{_VT}}}lpstr")
        el.text = name
        titles.insert(pos + i, el)
    titles.set("size", str(len(titles)))
    pkg.write(part, serialize(prolog, root))


def touch_core(pkg: Package, now: dt.datetime) -> None:
    """Set dcterms:modified in docProps/core.xml (when present) to `now` (UTC)."""
    part = "docProps/core.xml"
    data = pkg.read(part)
    if data is None:
        return
    prolog, root = parse(data, part)
    el = root.find("{http://purl.org/dc/terms/}modified")
    if el is None:
        return
    el.text = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pkg.write(part, serialize(prolog, root))
