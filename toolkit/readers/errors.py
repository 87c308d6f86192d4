"""The one exception readers raise for a file they will not or cannot read."""

from __future__ import annotations

from typing import Any


class Unreadable(Exception):
    """`reason` is a stable key of the catalogue (encrypted, corrupt, empty, not_spreadsheet, too_large,
    too_many_cells, zip_bomb, timeout, crashed, xml_attack); `params` fill its message template."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params
