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


__all__ = ["apply_changeset", "sheet_names", "PackageError"]
