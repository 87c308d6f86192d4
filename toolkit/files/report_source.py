"""Which submission a returned report (`<原文件名>_校验结果.xlsx`) was made from.

Every branch may call its file 申报表.xlsx, so a report's name cannot say whose it is: validate records the
source file's sha256 and path in the report's custom document properties, and notify finds a branch's
report by the sha256 its 退回 was logged with. The errors a report lists are the 退回's reasons as a list
(the ledger's 退回原因 joins them with "；", which a reason itself may hold).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.core.model import Provenance
from toolkit.ooxml.xmltools import clean_text

SOURCE_SHA256, SOURCE_PATH = "brandkit.source.sha256", "brandkit.source.path"
_CUSTOM_PART = "docProps/custom.xml"
_ISSUES_HEADER = ("序号", "严重程度", "字段", "单元格", "规则", "问题说明")  # report._issues_sheet's row 3


@dataclass(frozen=True)
class FoundReport:
    path: Path
    sha256: str  # the source file's, as validate recorded it
    source: str  # the source file's path, as validate saw it


def mark_source(wb: Any, source: Provenance) -> None:
    """Record in the report's workbook the file it was made from (replacing what a copied workbook held)."""
    from openpyxl.packaging.custom import StringProperty

    props = wb.custom_doc_props
    # a file name that is not UTF-8 (surrogate escapes) or holds control characters is no XML text
    path = clean_text(source.path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    for name, value in ((SOURCE_SHA256, source.sha256), (SOURCE_PATH, path)):
        if name in props.names:
            del props[name]
        props.append(StringProperty(name=name, value=value or "-"))  # an empty lpwstr is not read back


def read_source(path: Path) -> FoundReport | None:
    """The source a report records; None for a file that records none (not validate's, or older)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read(_CUSTOM_PART)
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None
    values = {str(p.get("name")): "".join(p.itertext()).strip() for p in root}
    sha = values.get(SOURCE_SHA256, "")
    if len(sha) != 64:
        return None
    return FoundReport(path, sha.lower(), values.get(SOURCE_PATH, ""))


def reports_in(folder: Path, suffix: str) -> list[FoundReport]:
    """The reports in `folder` (names ending in `suffix`) that record their source, newest first."""
    if not folder.is_dir():
        return []
    files = sorted((p for p in folder.iterdir() if p.name.endswith(suffix) and p.is_file()),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    return [found for p in files if (found := read_source(p)) is not None]


def report_for(reports: list[FoundReport], sha256: str) -> FoundReport | None:
    """The newest report made from the file whose sha256 is (or, the log keeping a prefix, starts with)
    `sha256`; None when there is none."""
    sha = sha256.strip().lower()
    if len(sha) < 8:  # no sha256 logged: nothing says which report is this file's
        return None
    return next((r for r in reports if r.sha256.startswith(sha)), None)


def report_errors(path: Path) -> list[str]:
    """The errors a report's 问题清单 lists, in its order; [] when it cannot be read."""
    from openpyxl import load_workbook

    from toolkit.core.vocabulary import SEVERITY_ZH

    try:
        wb = load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - a report the office broke: the ledger's text stands alone
        return []
    try:
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            head = [next(rows, ()) for _ in range(3)][-1]
            if tuple(head[:6]) != _ISSUES_HEADER:
                continue
            return [str(r[5]) for r in rows if len(r) > 5 and r[1] == SEVERITY_ZH["error"] and r[5]]
        return []
    finally:
        wb.close()
