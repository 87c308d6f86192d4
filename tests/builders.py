"""Plain-data builders for the pure planners: a master snapshot, checked submissions, findings, logos.

Nothing here reads or writes a file. Field names come from the loaded profile (`content_fields`,
`sample_values`), so a test written over these builders follows a profile's changes instead of
hard-coding its columns. Rows and columns are 0-based, as everywhere in the code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.core.master import Ledger, LedgerRow, MasterSnapshot
from toolkit.core.model import Checked, Finding, Logo, Provenance, Submission, Value
from toolkit.core.plan import SOURCE_FILE, SUBMITTED_AT, Incoming, submission_stage
from toolkit.core.profile import Profile, load_profile

SNAPSHOT_PATH = Path("台账.xlsx")  # a name only: the planner never opens the master


@cache
def profile(name: str = "hospital-brand") -> Profile:
    """A built-in profile, loaded once per session (profiles are frozen dataclasses)."""
    return load_profile(name)


def ledger_columns(p: Profile) -> list[str]:
    """The columns a fresh master's ledger has: the profile's, then one status column per stage."""
    return [*p.ledger.columns, *(s.column for s in p.stages if s.column not in p.ledger.columns)]


def content_fields(p: Profile) -> list[str]:
    """Form fields that land in a ledger column of their own (not the key, not a picture)."""
    return [f.name for f in p.fields
            if f.name in p.ledger.columns and f.name != p.key and f.type != "image"]


def sample_value(p: Profile, name: str, n: int = 0) -> Any:
    """A valid-looking value for field `name`, distinct per `n`."""
    spec = p.field(name)
    kind = spec.type if spec else "text"
    if kind == "integer":
        low = int(spec.min) if spec and spec.min is not None else 1
        return low + 10 + n
    if kind == "number":
        return 10.5 + n
    if kind == "phone":
        return f"1381234{5670 + n:04d}"
    if kind == "email":
        return f"branch{n}@example.cn"
    if kind == "date":
        return dt.date(2024, 7, 1) + dt.timedelta(days=n)
    if kind == "enum":
        return spec.choices[n % len(spec.choices)]
    limit = spec.max_chars if spec and spec.max_chars else 40
    return f"{n}{name}"[:limit]


def sample_values(p: Profile, n: int = 0) -> dict[str, Any]:
    return {name: sample_value(p, name, n) for name in content_fields(p)}


def finding(rule: str, severity: str = "error", message: str | None = None, field: str | None = None) -> Finding:
    return Finding(rule, severity, message or f"{rule} message", field)  # type: ignore[arg-type]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def submission(p: Profile, branch: str | None, values: Mapping[str, Any] | None = None, *, n: int = 0,
               path: str | None = None, received: str | None = None, sha256: str | None = None,
               findings: Iterable[Finding] = ()) -> Submission:
    """A read submission of `branch` with `values` (default: `sample_values(p, n)`); the path defaults to
    `<branch>-<n>.xlsx` and the sha256 to a hash of the path and values, so different content differs."""
    values = dict(sample_values(p, n) if values is None else values)
    if branch is not None:
        values[p.key] = branch
    path = path or f"/inbox/{branch or 'unnamed'}-{n}.xlsx"
    fields = {name: Value(name, v, v, None) for name, v in values.items()}
    prov = Provenance(path=path, sha256=sha256 or sha(f"{path}{sorted(values.items(), key=str)}"),
                      sheet="申报表", received=received)
    return Submission(prov, fields, findings=list(findings))


def checked(p: Profile, branch: str | None, values: Mapping[str, Any] | None = None, *,
            findings: Iterable[Finding] = (), **kwargs: Any) -> Checked:
    """A checked submission: reader findings that make it unreadable go into the submission, every
    other finding is a validation finding. The matched branch is the form's own name."""
    findings = list(findings)
    reading = [f for f in findings if f.rule == "unreadable"]
    sub = submission(p, branch, values, findings=reading, **kwargs)
    return Checked(sub, findings, branch)


def incoming(p: Profile, branch: str | None, values: Mapping[str, Any] | None = None, *,
             logo: Logo | None = None, **kwargs: Any) -> Incoming:
    return Incoming(checked(p, branch, values, **kwargs), logo)


def unreadable(path: str = "/inbox/broken.xlsx", received: str | None = None) -> Incoming:
    """A file no reader could open: no fields, no branch, one `unreadable` error (as the readers give)."""
    bad = Finding("unreadable", "error", "文件无法读取")
    sub = Submission(Provenance(path=path, sha256=sha(path), received=received), findings=[bad])
    return Incoming(Checked(sub, [bad], None))


def logo(key: str = "logo-0") -> Logo:
    """A ledger-ready logo; the planner only carries its bytes, so they need not decode."""
    return Logo(b"\x89PNG\r\n\x1a\n" + key.encode(), "png", 96, 72, key, "png")


def ledger(p: Profile, rows: Iterable[Mapping[str, Any]] = (), *, columns: Iterable[str] | None = None,
           header_row: int = 0, sheet: str | None = None) -> Ledger:
    """A ledger with `columns` (default `ledger_columns(p)`) in that order from column A, the header at
    `header_row` and one sheet row per mapping in `rows` (column name -> value)."""
    names = list(ledger_columns(p) if columns is None else columns)
    positions = {name: c for c, name in enumerate(names)}
    body = []
    for r, values in enumerate(rows, start=header_row + 1):
        unknown = set(values) - set(positions)
        if unknown:
            raise ValueError(f"ledger has no column {sorted(unknown)}")
        body.append(LedgerRow(r, str(values[p.key]), {name: values.get(name) for name in names}))
    return Ledger(sheet or p.ledger.sheet, header_row, positions, body,
                  last_row=header_row + len(body), width=len(names))


def ledger_row(p: Profile, branch: str, *, n: int = 0, received: str | None = None,
               source: str | None = None, **values: Any) -> dict[str, Any]:
    """A ledger row as a merge of `submission(p, branch, n=n, received=received)` would have left it."""
    row = {p.key: branch, **sample_values(p, n)}
    row[SUBMITTED_AT] = received.replace("T", " ")[:16] if received else None
    row[SOURCE_FILE] = source or f"{branch}-{n}.xlsx"
    row.update(values)
    return {k: v for k, v in row.items() if k in ledger_columns(p)}


def snapshot(p: Profile, rows: Iterable[Mapping[str, Any]] = (), *, led: Ledger | None = None,
             log_rows: int | None = None, merged: Iterable[tuple[str, str]] = (),
             groups: Mapping[str, str] | None = None) -> MasterSnapshot:
    """A master snapshot: the ledger from `rows` (or `led`), `log_rows` rows in 操作记录 (None: no log
    sheet yet), (normalised branch, sha256) pairs the log says were merged, and branch -> 党总支."""
    from toolkit.core.text import normalize_branch

    led = led if led is not None else ledger(p, rows)
    sheets = [led.sheet] + ([p.ledger.log_sheet] if log_rows is not None else [])
    return MasterSnapshot(SNAPSHOT_PATH, p, sheets, led, log_rows,
                          roster=[r.branch for r in led.rows], groups=dict(groups or {}),
                          merged={(normalize_branch(b), s) for b, s in merged})


def stage_column(p: Profile) -> str:
    """The status column a merge stamps."""
    return submission_stage(p).column


def load_quietly(path: Path) -> Any:
    """openpyxl's workbook of a master brandkit wrote, without the warning about its print area (a defined
    name openpyxl does not read)."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)

