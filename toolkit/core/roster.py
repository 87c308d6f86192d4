"""The office's roster (名单) of branches: 党总支, 党支部名称, 类别, 必须参与 and contacts (支部书记,
联系人, 电话, 邮箱), under whatever headings the office gave them. `init --roster` keeps it in the master
as the 支部名单 sheet; status and the summary flag 必须参与 branches and take their contacts from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from toolkit.core.grid import Grid
from toolkit.core.profile import Profile
from toolkit.core.text import integral_text, normalize_choice, normalize_label

HEADER_SEARCH_ROWS = 10  # a header row is looked for in the first rows (the ledger's too)

# The roster (名单) an office keeps: its columns, under the headings offices give them. init --roster
# copies it into the master's ROSTER_SHEET; a sheet named like ROSTER_SHEETS is read as one too.
ROSTER_SHEET = "支部名单"
ROSTER_SHEETS = ("名单", "支部名单", "花名册", "roster")
ROSTER_COLUMNS = ("党总支", "党支部名称", "类别", "必须参与")
ROSTER_CONTACTS = ("支部书记", "联系人", "电话", "邮箱")
ROSTER_ALIASES = {
    "党总支": ("所属党总支", "党总支名称", "总支", "所属基层党委", "基层党委", "所属党委"),
    "党支部名称": ("支部名称", "党支部"),
    "类别": ("支部类别", "支部类型", "类型"),
    "必须参与": ("是否必须参与", "必须申报", "是否必须申报", "必须参加"),
    "支部书记": ("书记", "党支部书记"),
    "联系人": ("联络人", "填表人"),
    "电话": ("联系电话", "联系方式", "手机", "手机号码", "办公电话"),
    "邮箱": ("电子邮箱", "邮件", "email", "e-mail"),
}
# A form field headed like the roster's 类别 (支部类别, 支部类型) takes the roster's value where the form has none.
CATEGORY_LABELS = frozenset(normalize_label(x) for x in ("类别", *ROSTER_ALIASES["类别"]))
_YES = ("是", "必须", "必须参与", "√", "✓", "✔", "y", "yes", "true", "1", "需要")


@dataclass(frozen=True)
class RosterEntry:
    """What the roster says of a branch beyond its 党总支: its 类别, whether it must take part, and
    the contacts listed (支部书记, 联系人, 电话, 邮箱 -> value)."""

    category: str | None = None
    must_join: bool = False
    contacts: dict[str, str] = field(default_factory=dict)


@dataclass
class RosterSheet:
    """The master's roster sheet: where its header is and which branches it lists (adoption adds rows)."""

    name: str
    header_row: int
    columns: dict[str, int]  # canonical roster column -> index
    last_row: int
    branches: set[str]  # normalised


def roster_header(grid: Grid) -> tuple[int, dict[str, int]] | None:
    """(header row, canonical roster column -> index) of a roster sheet: the first of the first rows
    that names the branch column; each column by its own heading first, then by the other headings."""
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        labels: dict[str, int] = {}
        for c, v in enumerate(row):
            if isinstance(v, str):
                labels.setdefault(normalize_label(v), c)
        columns: dict[str, int] = {}
        for name in (*ROSTER_COLUMNS, *ROSTER_CONTACTS):
            for label in (name, *ROSTER_ALIASES.get(name, ())):
                col = labels.get(normalize_label(label))
                if col is not None and col not in columns.values():
                    columns[name] = col
                    break
        if "党支部名称" in columns:
            return r, columns
    return None


def read_roster(grid: Grid) -> list[dict[str, Any]]:
    """A roster sheet or file: one dict per branch row, keyed by the roster columns it has (党总支,
    党支部名称, 类别, 必须参与, 支部书记, 联系人, 电话, 邮箱), header found by label."""
    found = roster_header(grid)
    if found is None:
        return []
    header_row, cols = found
    out = []
    for row in grid.rows[header_row + 1:]:
        get = {k: (row[c] if c < len(row) else None) for k, c in cols.items()}
        if isinstance(get["党支部名称"], str) and get["党支部名称"].strip():
            out.append(get)
    return out


def _text(value: Any) -> str:
    """A roster cell as text (a phone typed as a number keeps its digits)."""
    return (integral_text(value) or str(value)).strip() if value not in (None, "") else ""


def roster_entry(item: dict[str, Any]) -> RosterEntry:
    """A roster row as plain data; 必须参与 is yes for 是/必须/√/Y/1 and the like."""
    contacts = {k: _text(item.get(k)) for k in ROSTER_CONTACTS if _text(item.get(k))}
    return RosterEntry(_text(item.get("类别")) or None, _text(item.get("必须参与")).lower() in _YES, contacts)


def must_join_categories(profile: Profile) -> frozenset[str]:
    """The 类别 the campaign says must take part (its must_join constraints), compared loosely."""
    return frozenset(normalize_choice(v) for s in profile.stages for c in s.constraints
                     if c.kind == "must_join" for v in c.values)


def must_join(entry: RosterEntry | None, category: str | None, categories: frozenset[str]) -> bool:
    """The roster marks the branch 必须参与, or its 类别 is one the campaign says must take part."""
    return bool(entry and entry.must_join) or bool(category and normalize_choice(category) in categories)


def roster_table(roster: list[dict[str, Any]], profile: Profile) -> tuple[list[str], list[list[Any]]]:
    """The roster as the master keeps it: its columns (党总支, 党支部名称, 类别, 必须参与, then the
    contacts the file has) and one row per branch; a 必须参与 left blank is 是 for a must-join 类别."""
    columns = [*ROSTER_COLUMNS, *(c for c in ROSTER_CONTACTS if any(_text(r.get(c)) for r in roster))]
    categories = must_join_categories(profile)
    rows = []
    for item in roster:
        row = {c: _text(item.get(c)) or None for c in columns}
        if row["必须参与"] is None and must_join(None, row["类别"], categories):
            row["必须参与"] = "是"
        rows.append([row[c] for c in columns])
    return columns, rows


def roster_heading(column: str, profile: Profile) -> str:
    """The heading a kept roster gives a column: the campaign's own word for the 党总支 (所属基层党委)."""
    return profile.group if column == "党总支" else column
