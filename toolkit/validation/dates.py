"""Dates as branches write them, completed with what the campaign knows. Pure.

A date written without a year — "4月14日" on a signature line, "3月25日" in an activity 台帐 — takes the
campaign's year (`stages.campaign_year`), with a `date` warning that says how it was read. A date field
or table column then holds that date (so the ledger stores 2024-04-14); a signature keeps its text, the
warning says which date it means.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from toolkit.core.datetext import date_in, parse_month_day, signature_text
from toolkit.core.model import Finding, Submission, Value
from toolkit.core.profile import FieldSpec, Profile
from toolkit.core.stages import campaign_year
from toolkit.validation.findings import make_finding


def complete_dates(sub: Submission, profile: Profile) -> tuple[Submission, list[Finding]]:
    """`sub` with its yearless dates given the campaign's year, and a warning for each."""
    year = campaign_year(profile)
    if year is None or not sub.readable:
        return sub, []
    found: list[Finding] = []
    fields = dict(sub.fields)
    for spec in profile.fields:
        v = fields.get(spec.name)
        if v is not None:
            fields[spec.name] = _complete(spec, v, year, spec.name, found)
    tables = {}
    for table in profile.tables:
        rows = []
        for n, row in enumerate(sub.tables.get(table.name, []), start=1):
            row = dict(row)
            for col in table.columns:
                if (v := row.get(col.name)) is not None:
                    row[col.name] = _complete(col, v, year, f"{table.name}第{n}项·{col.name}", found)
            rows.append(row)
        tables[table.name] = rows
    if not found:
        return sub, []
    return replace(sub, fields=fields, tables={**sub.tables, **tables}), found


def _complete(spec: FieldSpec, v: Value, year: int, label: str, found: list[Finding]) -> Value:
    """The value completed (a date field) or as it was, adding the warning to `found`."""
    if spec.type == "date" and not isinstance(v.value, dt.date) and (md := parse_month_day(v.raw)):
        when = _on(year, *md)
        if when is not None:
            found.append(_warning(spec, v, label, when))
            return replace(v, value=when)
    elif spec.type == "signature" and isinstance(v.raw, str) and signature_text(v.raw):
        written = date_in(v.raw)  # a date-only line is reported as unsigned by the rules instead
        if written is not None and written[1] is None and (when := _on(year, written[2], written[3])):
            found.append(_warning(spec, v, label, when, written[0]))
    return v


def _on(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:  # 2月29日 in a year without one
        return None


def _warning(spec: FieldSpec, v: Value, label: str, when: dt.date, written: str | None = None) -> Finding:
    return make_finding("date", "warning", field=spec.name, cell=v.cell, label=label, variant="yearless",
                        value=(written or str(v.raw)).strip(), date=f"{when.year}年{when.month}月{when.day}日")
