"""Plain data shared by every layer: positions, findings, pictures, submissions.

Everything here is a frozen dataclass or a small helper over one; nothing touches files.
Rows and columns are 0-based everywhere in code; A1 references only appear in user-facing text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
# "attachment": a picture file sent in the same mail as the form (no sheet, no cell; `name` is the file).
PictureScheme = Literal["drawing", "wps_cell_image", "excel_in_cell", "xls_blip", "ods_frame", "docx_drawing",
                        "docx_vml", "attachment"]


def col_letter(col: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based (row, col) -> 'B3'."""
    return f"{col_letter(col)}{row + 1}"


_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def parse_a1(ref: str) -> tuple[int, int]:
    """'B3' -> (2, 1), 0-based (row, col)."""
    m = _A1.match(ref.strip())
    if not m:
        raise ValueError(f"not an A1 reference: {ref!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def cell_ref(sheet: str | None, row: int, col: int) -> str:
    """'Sheet!B3' as shown to users and stored in findings."""
    return f"{sheet}!{a1(row, col)}" if sheet else a1(row, col)


def split_cell_ref(ref: str) -> tuple[str | None, int, int]:
    """'Sheet!B3' -> ('Sheet', 2, 1)."""
    sheet, _, addr = ref.rpartition("!")
    row, col = parse_a1(addr)
    return (sheet or None), row, col


WORD_KINDS = ("docx", "doc", "wps", "rtf")  # Provenance.kind of a Word file (read by readers.docx)

@dataclass(frozen=True)
class Finding:
    """One problem found in a submission: a stable rule id, where, and a message for people."""

    rule: str
    severity: Severity
    message: str
    field: str | None = None
    cell: str | None = None
    cells: tuple[str, ...] = ()  # every cell the problem spans (a box split into parts), `cell` first

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"field": self.field, "rule": self.rule, "severity": self.severity,
                               "cell": self.cell, "message": self.message}
        if len(self.cells) > 1:
            doc["cells"] = list(self.cells)
        return doc

    @property
    def all_cells(self) -> tuple[str, ...]:
        return self.cells or ((self.cell,) if self.cell else ())


@dataclass(frozen=True)
class Picture:
    """A picture found in a workbook, with the cell it is anchored at (0-based)."""

    sheet: str
    row: int
    col: int
    scheme: PictureScheme
    format: str  # png, jpeg, gif, bmp, tiff, emf, wmf, svg, webp, unknown
    width: int | None  # pixels, read from the image header without decoding
    height: int | None
    data: bytes = field(repr=False, compare=False)
    name: str = ""

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)

    def to_json(self) -> dict[str, Any]:
        if self.scheme == "attachment":
            return {"sheet": None, "cell": None, "scheme": self.scheme, "format": self.format,
                    "width": self.width, "height": self.height, "file": self.name}
        return {"sheet": self.sheet, "cell": self.cell, "scheme": self.scheme, "format": self.format,
                "width": self.width, "height": self.height}


@dataclass(frozen=True)
class Value:
    """A field's value as found: the typed value, the raw cell content, and its cell ('Sheet!B3')."""

    field: str
    value: Any
    raw: Any
    cell: str | None
    # A box the form split into labelled parts: (part label, its text, its cell) in the notice's order.
    parts: tuple[tuple[str, str, str | None], ...] = ()


CHINA_TZ = dt.timezone(dt.timedelta(hours=8))  # the offices' clock: a time without offset is Beijing time


def china_today() -> dt.date:
    """Today in Beijing: the day deadlines, stamps and as-of views are counted in, as a received form's day
    is (its China day), whatever time zone the computer is set to."""
    return dt.datetime.now(CHINA_TZ).date()


def parse_instant(text: object) -> dt.datetime | None:
    """'2024-08-01T10:00:00+08:00', '2024-08-01 10:00' or a datetime -> an aware datetime; None if not a time."""
    if isinstance(text, dt.datetime):
        when = text
    else:
        try:
            when = dt.datetime.fromisoformat(str(text or "").strip())
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=CHINA_TZ)


@dataclass(frozen=True)
class Provenance:
    """Where a submission came from."""

    path: str
    sha256: str
    sheet: str | None = None
    sender: str | None = None
    received: str | None = None  # ISO 8601; from the intake manifest, else the file's mtime
    kind: str | None = None  # sniffed format: xlsx, xls, ods, csv, html

    @property
    def received_at(self) -> dt.datetime | None:
        """The received time as an instant: a mail's own offset kept (a file's mtime carries its PC's),
        a time without one read as Beijing time. Every comparison of received times goes through here."""
        return parse_instant(self.received)


def oldest_first(provenances: list[Provenance]) -> list[int]:
    """Positions of the copies of one branch's form, oldest first: by received instant when every copy
    has one, equal instants (and any copy without one) by position, a later one counting as newer.
    Validation (duplicate_submission) and merging (newest wins) both order copies by this, so the copy
    validation calls the newest is the one a merge takes. Forms of one branch in one file (its sheets) get
    an order here too, by position, but it means nothing: validation makes them an error on that file
    (toolkit.validation.rules.cross_check), so none of them is merged on this order."""
    times = [p.received_at for p in provenances]
    if any(t is None for t in times):
        return list(range(len(times)))
    return sorted(range(len(times)), key=lambda i: (times[i], i))


@dataclass
class Submission:
    """One branch's form (one sheet of one file). An unreadable file is a Submission with no fields
    and an `unreadable` finding, so every file yields at least one row in every report."""

    provenance: Provenance
    fields: dict[str, Value] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Value]]] = field(default_factory=dict)
    pictures: list[Picture] = field(default_factory=list)
    logo: Picture | None = None
    findings: list[Finding] = field(default_factory=list)  # found while reading
    notes: list[str] = field(default_factory=list)  # said to the user, not problems (e.g. skipped sheets)

    def value(self, name: str, default: Any = None) -> Any:
        v = self.fields.get(name)
        return default if v is None or v.value in (None, "") else v.value

    @property
    def readable(self) -> bool:
        return not any(f.rule == "unreadable" for f in self.findings)


ROW_HEIGHT_PT = 60.0  # ledger row height for rows with a logo (72 px at 96 dpi = 54 pt, plus padding)


@dataclass(frozen=True)
class Logo:
    """A ledger-ready logo: `data` in `format` (png/jpeg), displayed at width × height px; `key` names
    the original picture (the caller's choice: unique per submission) and `original_format` its format."""

    data: bytes = field(repr=False)
    format: str
    width: int
    height: int
    key: str
    original_format: str


@dataclass
class Checked:
    """A submission with every finding about it and the ledger branch it matched (if a roster was given)."""

    submission: Submission
    findings: list[Finding] = field(default_factory=list)
    branch: str | None = None

    @property
    def status(self) -> str:
        if not self.submission.readable:
            return "unreadable"
        severities = {f.severity for f in self.findings}
        return "error" if "error" in severities else "warning" if "warning" in severities else "ok"

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]
