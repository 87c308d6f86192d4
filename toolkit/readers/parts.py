"""One form spread over several grids, joined before submissions are made, so that nothing the branch
typed is lost or reported missing.

- A Word form split at a page break into tables that each start with the form's title: the reader
  takes the repeated title for the next form. Consecutive parts that are each not a whole form, whose
  labels complement each other and whose shared fields agree, are one form: stacked into one grid.
- A sheet holding only the rest of a table (a 续表, its header repeated or not) belongs to the form
  sheet before it: its rows are added to that form's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from toolkit.core.grid import Grid
from toolkit.core.model import Picture, Value
from toolkit.core.profile import Profile
from toolkit.core.text import normalize_label
from toolkit.readers.form import FormFields, extract_form, label_lookup
from toolkit.readers.table import TableRows, continued_rows, extract_table


@dataclass
class SheetRead:
    """What one grid yielded as a form: its fields and its tables."""

    grid: Grid
    form: FormFields
    tables: dict[str, TableRows]
    notes: list[str] = field(default_factory=list)


def read_sheet(grid: Grid, profile: Profile) -> SheetRead:
    stop = label_lookup(profile.fields)
    tables = {spec.name: extract_table(grid, spec, stop) for spec in profile.tables}
    owned = {r for t in tables.values() for r in t.body()}
    return SheetRead(grid, extract_form(grid, profile.fields, owned), tables, [n for t in tables.values() for n in t.notes])


def looks_like_form(read: SheetRead, profile: Profile) -> bool:
    if any(t.header_row is not None for t in read.tables.values()):
        return True
    return len(read.form.labels) >= min(3, len(profile.fields))


def join_word_parts(reads: list[SheetRead], profile: Profile) -> tuple[list[SheetRead], dict[str, tuple[str, int]]]:
    """Consecutive parts of one Word document that complete each other, each read as one form; with
    where each joined part went: its grid's name -> (the form's grid, rows above the part)."""
    out: list[SheetRead] = []
    moves: dict[str, tuple[str, int]] = {}
    for read in reads:
        if not out or not _complements(out[-1], read, profile):
            out.append(read)
            continue
        first = out[-1].grid
        top = len(first.rows)
        grid = Grid(first.name, first.rows + read.grid.rows,
                    first.merged + [(r1 + top, c1, r2 + top, c2) for r1, c1, r2, c2 in read.grid.merged])
        out[-1] = read_sheet(grid, profile)
        moves[read.grid.name] = (first.name, top)
    return out, moves


def moved(pictures: list[Picture], moves: dict[str, tuple[str, int]]) -> list[Picture]:
    """`pictures` anchored where their part now stands in its joined form."""
    return [replace(p, sheet=moves[p.sheet][0], row=p.row + moves[p.sheet][1]) if p.sheet in moves else p
            for p in pictures]


def _labels(read: SheetRead) -> set[str]:
    return set(read.form.labels) | {name for name, t in read.tables.items() if t.header_row is not None}


def _complements(a: SheetRead, b: SheetRead, profile: Profile) -> bool:
    """`a` and `b` are parts of one form: neither holds every field, each has labels the other lacks,
    and a field both hold is filled alike (two branches' forms differ at least in the branch name)."""
    printed = {spec.name for spec in profile.printed_fields}
    if printed <= set(a.form.labels) or printed <= set(b.form.labels):
        return False
    la, lb = _labels(a), _labels(b)
    if not (la - lb and lb - la):
        return False
    for name in la & lb & set(a.form.values) & set(b.form.values):
        x, y = a.form.values[name].value, b.form.values[name].value
        if x not in (None, "") and y not in (None, "") and normalize_label(str(x)) != normalize_label(str(y)):
            return False
    return True


def attach_continued_tables(reads: list[SheetRead], profile: Profile) -> list[SheetRead]:
    """Sheets holding only rows of a table, added to that table on the form sheet before them (a note
    on the form says where they came from)."""
    out: list[SheetRead] = []
    host: SheetRead | None = None
    for read in reads:
        added = _continued(read, host, profile) if host is not None and not read.form.labels else {}
        if host is None or not added:
            out.append(read)
            host = read if read.form.labels and looks_like_form(read, profile) else host
            continue
        for name, rows in added.items():
            table = host.tables[name]
            if table.header_row is None:  # the form left its table to this sheet, header and all
                host.tables[name] = TableRows(read.tables[name].header_row, read.tables[name].columns)
            host.tables[name].rows.extend(rows)
            host.notes.append(f"工作表“{read.grid.name}”中的 {len(rows)} 行{name}已并入工作表“{host.grid.name}”的{name}")
    return out


def _continued(read: SheetRead, host: SheetRead, profile: Profile) -> dict[str, list[dict[str, Value]]]:
    """The rows `read` adds to `host`'s tables, by table: under a header of its own, or on the host's
    columns when it has none (the header stands on the form sheet only)."""
    stop = label_lookup(profile.fields)
    added: dict[str, list[dict[str, Value]]] = {}
    for spec in profile.tables:
        own, theirs = read.tables[spec.name], host.tables[spec.name]
        if own.header_row is not None:
            rows = own.rows
        elif theirs.header_row is not None:
            rows = continued_rows(read.grid, spec, stop, theirs.columns) or []
        else:
            rows = []
        if rows:
            added[spec.name] = rows
    return added
