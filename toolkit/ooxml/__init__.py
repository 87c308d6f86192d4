"""The file backend: apply a ChangeSet to an .xlsx/.xlsm by patching its OOXML package.

Every zip member the change does not need is copied byte for byte; inside a touched worksheet, rows
and cells nobody changed keep their exact XML. Nothing here touches the file system.
"""

from __future__ import annotations

from .apply import apply_changeset
from .errors import PackageError


def sheet_names(src: bytes) -> list[str]:
    """Sheet names in workbook order (worksheets, chart sheets and the rest); parses only the workbook
    part and its relationships."""
    from .package import Package
    from .workbook import Workbook

    return [s.name for s in Workbook(Package(src)).sheets()]


def active_sheet(src: bytes) -> str | None:
    """The name of the sheet the workbook opens on (its active tab), None when the package does not say
    or cannot be read."""
    from .package import Package
    from .workbook import Workbook

    try:
        return Workbook(Package(src)).active_sheet()
    except PackageError:
        return None


__all__ = ["apply_changeset", "active_sheet", "sheet_names", "PackageError"]
