"""The office's roster (名单) of branches: 党总支, 党支部名称, 类别, 必须参与 and contacts (支部书记,
联系人, 电话, 邮箱), under whatever headings the office gave them. `init --roster` keeps it in the master
as the 支部名单 sheet; status and the summary flag 必须参与 branches and take their contacts from it."""

from __future__ import annotations

import re
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
    "党总支": ("所属党总支", "党总支名称", "总支", "所属总支", "所属基层党委", "基层党委", "所属党委", "上级党组织",
              "所属党组织", "上级党委"),
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
ROSTER_KNOWN = (*ROSTER_COLUMNS, *ROSTER_CONTACTS)
# Columns of the office's roster brandkit does not know (备注, 换届时间, a second 电话) are kept under
# their own headings; a row number is not (the kept sheet lists the branches in its own order).
_ROW_NUMBERS = frozenset(normalize_label(x) for x in ("序号", "编号", "序", "No."))
# Under a two-row header, a sub-heading naming a person (姓名) takes its group heading's column
# (联系人 over 姓名 | 电话: 姓名 is the 联系人, 电话 the phone).
_PERSON = frozenset(normalize_label(x) for x in ("姓名", "名字", "人员"))
# Rows under the header that are no branch: a total (合计 / 共 7 个党支部) or a note (注：名单以…为准).
# What a total row's label starts with (合计, 总计 …), in a roster and in a ledger (toolkit.core.ledger).
TOTAL_WORDS = ("合计", "总计", "小计", "共计", "总数", "总共")
_COUNT = re.compile(r"^(?:共计?|合计|总计|小计|计)?\s*[:：]?\s*\d+\s*个")
# A note or signature line under a list: "注：…", "备注", "说明1：…", "制表人：…", "填报日期：…" (a roster's and
# a ledger's, toolkit.core.ledger).
NOTE_LINE = re.compile(r"^(?:注|备注|附注|说明|填表说明|填报说明|注意|提示|制表|制表人|制表日期|审核|审核人|填报人|填表人|"
                       r"填报日期|填表日期|统计日期|更新日期)\s*[0-9０-９一二三四五六七八九十①-⑩]*\s*(?:[:：.．、]|$)")
_SENTENCE = re.compile(r"[。，；！？]")
_BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)")
_CONTACT_PHONES = frozenset(normalize_label(f"{who}{what}") for who in ("联系人", "联络人")
                            for what in ("电话", "联系电话", "联系方式", "手机", "手机号码"))


@dataclass(frozen=True)
class RosterEntry:
    """What the roster says of a branch beyond its 党总支: its 类别, whether it must take part, and
    the contacts listed (支部书记, 联系人, 电话, 邮箱 -> value)."""

    category: str | None = None
    must_join: bool = False
    contacts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RosterSource:
    """Where init read the roster: the file, the sheet taken and the branches it lists."""

    file: str
    sheet: str | None  # None for a CSV file (no sheets)
    branches: int


@dataclass
class RosterSheet:
    """The master's roster sheet: where its header is and which branches it lists (adoption adds rows)."""

    name: str
    header_row: int
    columns: dict[str, int]  # canonical roster column -> index
    last_row: int
    branches: set[str]  # normalised


def roster_header(grid: Grid) -> tuple[int, dict[str, int]] | None:
    """(last header row, roster column -> index) of a roster sheet: the first of the first rows that
    names the branch column, with the row under it when that is a second header row (联系人 merged over
    姓名 | 电话). Each known column (党总支, 党支部名称, 类别, 必须参与, contacts) by its own heading first,
    then by the other headings; every other headed column under its own heading (a repeated heading
    numbered: 电话2), so the roster is kept as the office gave it. A row-number column (序号) is left out."""
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        own = {c: v.strip() for c, v in enumerate(row) if isinstance(v, str) and v.strip()}
        if not own or _match({c: (t,) for c, t in own.items()}).get("党支部名称") is None:
            continue
        last, headings = _headings(grid, r, own)
        columns = _match({c: labels for c, (_, labels) in headings.items()})
        taken = set(columns.values())
        for c, (heading, _) in sorted(headings.items()):
            if c in taken or normalize_label(heading) in _ROW_NUMBERS:
                continue
            key, n = heading, 1
            while key in columns or key in ROSTER_KNOWN:
                n += 1
                key = f"{heading}{n}"
            columns[key] = c
        return last, columns
    return None


def _headings(grid: Grid, r: int, own: dict[int, str]) -> tuple[int, dict[int, tuple[str, tuple[str, ...]]]]:
    """(last header row, column -> (heading, labels to match it by)) for a header in row `r` (`own`: its
    texts). The row below is a second header row when its branch cell is blank and it has texts under a
    heading merged across columns, or under a blank heading; its columns are then headed by both rows."""
    groups = dict(own)  # a heading merged across columns heads each of them
    grouped: set[int] = set()
    for r0, c0, _, c1 in grid.merged:
        if r0 == r and c1 > c0 and c0 in own:
            for c in range(c0, c1 + 1):
                groups.setdefault(c, own[c0])
                grouped.add(c)
    cells = {c: v for c, v in enumerate(grid.rows[r + 1] if r + 1 < len(grid.rows) else []) if v not in (None, "")}
    below = {c: v.strip() for c, v in cells.items() if isinstance(v, str) and v.strip()}
    branch = _match({c: (t,) for c, t in own.items()})["党支部名称"]
    two_rows = (bool(below) and len(below) == len(cells) and branch not in below
                and any(c in grouped or c not in own for c in below))
    if not two_rows:
        return r, {c: (t, (t,)) for c, t in own.items()}
    out: dict[int, tuple[str, tuple[str, ...]]] = {}
    for c in sorted({*own, *below}):
        top, sub = groups.get(c), below.get(c)
        if sub is None:
            out[c] = (str(top), (str(top),))
        elif top is None or top == sub:
            out[c] = (sub, (sub,))
        else:
            person = (top,) if normalize_label(sub) in _PERSON else ()
            out[c] = (f"{top}{sub}", (f"{top}{sub}", sub, *person))
    return r + 1, out


def _match(labels: dict[int, tuple[str, ...]]) -> dict[str, int]:
    """Known roster column -> the column whose labels name it: its own heading before its other
    headings, a column's full heading before its second-row part, each column used once."""
    normal = {c: [normalize_label(x) for x in texts] for c, texts in labels.items()}
    depth = max((len(v) for v in normal.values()), default=0)
    columns: dict[str, int] = {}
    # under a two-row header giving both the 支部书记's and the 联系人's phone, the 联系人's is the one
    # reminders are sent with
    two_rows = {c: texts[0] for c, texts in normal.items() if len(texts) > 1}
    phone = next((c for c, full in two_rows.items() if full in _CONTACT_PHONES), None)
    if phone is not None:
        columns["电话"] = phone
    for name in ROSTER_KNOWN:
        if name in columns:
            continue
        for label in (normalize_label(x) for x in (name, *ROSTER_ALIASES.get(name, ()))):
            col = next((c for level in range(depth) for c, texts in sorted(normal.items())
                        if level < len(texts) and texts[level] == label and c not in columns.values()), None)
            if col is not None:
                columns[name] = col
                break
    return columns


@dataclass
class RosterReading:
    """A roster sheet read: one dict per branch row (`rows`, the sheet's row index of each in `lines`),
    and the rows under the header that are no branch (a total, a note): (row index, its text)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def read_roster(grid: Grid) -> list[dict[str, Any]]:
    """A roster sheet or file: one dict per branch row, keyed by the roster columns it has (党总支,
    党支部名称, 类别, 必须参与, 支部书记, 联系人, 电话, 邮箱, and the office's own columns under their
    headings), header found by label. See `roster_reading`."""
    return roster_reading(grid).rows


def roster_reading(grid: Grid) -> RosterReading:
    """A roster sheet read row by row. A merged cell's value belongs to every row it spans (the 党总支
    merged over its branches), the branch name's own cell excepted; a 党总支 column written only on each
    group's first row is filled down to the next value written; a total (合计 / 7个党支部) or note row
    (注：…) is no branch."""
    out = RosterReading()
    found = roster_header(grid)
    if found is None:
        return out
    header_row, cols = found
    spread = grid.merged_below(header_row + 1)
    branch_col, group_col = cols["党支部名称"], cols.get("党总支")
    written: list[bool] = []  # each row's 党总支 typed in its own cell (not merged, not blank)
    breaks: set[int] = set()  # rows a total or note row stands above: no fill-down across it
    for r in range(header_row + 1, len(grid.rows)):
        row = grid.rows[r]
        get = {k: (row[c] if c < len(row) else None) for k, c in cols.items()}
        name = get["党支部名称"]
        if not (isinstance(name, str) and name.strip()):
            continue
        if (said := _not_a_branch(row, branch_col, name.strip())) is not None:
            out.skipped.append((r, said))
            breaks.add(len(out.rows))
            continue
        written.append(group_col is not None and get["党总支"] not in (None, ""))
        for k, c in cols.items():
            if get[k] in (None, "") and k != "党支部名称":
                get[k] = spread.get((r, c))
        out.rows.append(get)
        out.lines.append(r)
    if group_col is not None and _first_rows_only(out.rows, written, breaks):
        group: Any = None
        for n, item in enumerate(out.rows):
            if n in breaks:
                group = None
            if item["党总支"] not in (None, ""):
                group = item["党总支"]
            elif group is not None:
                item["党总支"] = group
    return out


def _first_rows_only(rows: list[dict[str, Any]], written: list[bool], breaks: set[int]) -> bool:
    """The 党总支 column is written once per group (blank below its first branch): no two branches in a
    row have it typed the same. An office that types it on every row means a blank as blank."""
    for n in range(1, len(rows)):
        if n not in breaks and written[n] and written[n - 1]:
            if str(rows[n]["党总支"]).strip() == str(rows[n - 1]["党总支"]).strip():
                return False
    return True


def _not_a_branch(row: list[Any], branch_col: int, name: str) -> str | None:
    """What a row under the header says when it is no branch: a total (合计, 共 7 个党支部, 7个党支部)
    or a note (注：…, 说明：…, a sentence); None for a branch. A 党总支 may be called anything, 合计
    included: only the branch cell and the cells before it are read."""
    if ("计" in name or "总" in name or "个" in name) and (
            normalize_label(name).startswith(TOTAL_WORDS) or _COUNT.match(name)):  # every total says 计, 总 or 个
        return name
    before = [v.strip() for v in row[:branch_col + 1] if isinstance(v, str) and v.strip()]
    bare = _BRACKETED.sub("", name)  # 内科党支部（心内科，消化内科） is a branch; a sentence outside brackets is not
    if any(NOTE_LINE.match(v) for v in before) or (_SENTENCE.search(bare) and not bare.endswith("支部")):
        return "".join(before)
    return None


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
    contacts and the office's own columns the file has) and one row per branch; a 必须参与 left blank is
    是 for a must-join 类别."""
    own = dict.fromkeys(k for r in roster for k in r if k not in ROSTER_KNOWN)  # the office's columns, in order
    columns = [*ROSTER_COLUMNS, *(c for c in (*ROSTER_CONTACTS, *own) if any(_text(r.get(c)) for r in roster))]
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
