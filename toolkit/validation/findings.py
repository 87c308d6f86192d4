"""A finding built from the message catalogue: the one constructor every rule module uses."""

from __future__ import annotations

from typing import Any

from toolkit.core.messages import message
from toolkit.core.model import Finding, Severity
from toolkit.core.values import cell_text

_CLIP = 30  # longest value quoted back in a message


def make_finding(rule: str, severity: Severity, *, field: str | None = None, cell: str | None = None,
                 variant: str | None = None, label: str | None = None, cells: tuple[str, ...] = (),
                 **params: Any) -> Finding:
    """A Finding whose message is the catalogue's `rule` (or `rule.variant`) filled with `params`;
    the message's {field} is `label` (e.g. "申报工程第2行·工程名称"), else the field name."""
    key = f"{rule}.{variant}" if variant else rule
    text = message(key, field=label or field, **params)
    return Finding(rule=rule, severity=severity, message=text, field=field, cell=cell, cells=cells)


def clip(value: Any) -> str:
    """A value as quoted back in a message: one line, at most _CLIP characters."""
    text = cell_text(value).replace("\n", " ")
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"
