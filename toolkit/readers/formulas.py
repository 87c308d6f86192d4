"""Form cells of an .xlsx that hold a formula whose result was never saved.

A file written by a program (openpyxl, a web export) keeps `=SUM(…)` with no cached value until Excel
or WPS opens and saves it; the value reader then sees an empty cell. The branch did fill the cell, so
it is told what happened and what to do, not that the field is empty. Only the sheet of a form with a
blank field is streamed, and only down to that field's row.
"""

from __future__ import annotations

import zipfile

from toolkit.core.messages import message
from toolkit.core.model import Finding, Submission, parse_a1, split_cell_ref
from toolkit.core.profile import FieldSpec, Profile
from toolkit.readers.pictures import MediaBudget
from toolkit.readers.pictures_xlsx import _Package, _sheets, _workbook_part, children, iter_xml

_SHOWN = 40  # characters of a formula quoted back


def unsaved_formula_findings(zf: zipfile.ZipFile, subs: list[Submission], profile: Profile) -> None:
    """A finding on each blank form field whose cell holds a formula with no saved result (validation
    then says nothing more about that field)."""
    parts: dict[str, str] | None = None
    for sub in subs:
        blank: dict[tuple[int, int], FieldSpec] = {}
        for name, value in sub.fields.items():
            spec = profile.field(name)
            # a blank signature box is usual (signed on paper) and never a formula: no stream for it
            if value.raw in (None, "") and value.cell and spec is not None and spec.type not in ("image", "signature"):
                sheet, row, col = split_cell_ref(value.cell)
                if sheet == sub.provenance.sheet:
                    blank[(row, col)] = spec
        if not blank:
            continue
        if parts is None:
            pkg = _Package(zf, MediaBudget(0))
            parts = dict(_sheets(pkg, _workbook_part(pkg)))
        part = parts.get(sub.provenance.sheet or "")
        for at, formula in _formulas(zf, part, set(blank)).items() if part else ():
            spec = blank[at]
            shown = formula if len(formula) <= _SHOWN else formula[:_SHOWN] + "…"
            sub.findings.append(Finding(
                "required", spec.severity if spec.required else "warning",
                message("required.formula", field=spec.name, formula=shown),
                field=spec.name, cell=sub.fields[spec.name].cell))


def _formulas(zf: zipfile.ZipFile, part: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """`cells` of the sheet `part` holding a formula without a saved result: cell -> "=formula" ("=…"
    for a cell sharing another cell's formula)."""
    found: dict[tuple[int, int], str] = {}
    last = max(r for r, _ in cells)
    for _, el in iter_xml(zf, part, ("end",), ("{*}c",)):
        ref = el.get("r")
        try:
            at = parse_a1(ref) if ref else None
        except ValueError:
            at = None
        if at is not None and at[0] > last:
            break  # rows come in order: the form's cells are behind
        if at in cells:
            formula = children(el, "f")
            if formula and not any((v.text or "").strip() for v in children(el, "v")):
                found[at] = "=" + ((formula[0].text or "").strip() or "…")
        el.clear()
    return found
