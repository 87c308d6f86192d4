"""The ledger sheet of a master, read as the office keeps it: which sheet it is, where its header is,
which column is which (by label, never by position), which rows are branches and which are the office's
own (totals, notes, section headings), and how far right the office has written anything.

Adopt, don't impose: a column the office renamed a little (推荐情况 for 推荐状态) is still the stage's; a
党总支 merged over its branches belongs to each of them; a column brandkit adds goes right of every cell
the office typed, header or not."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.grid import Grid, Merge
from toolkit.core.profile import PROFILE_SHEET, RULES_SHEET, Profile, history_sheet
from toolkit.core.roster import CATEGORY_LABELS, NOTE_LINE, ROSTER_SHEETS, TOTAL_WORDS
from toolkit.core.text import normalize_branch, normalize_label
from toolkit.core.vocabulary import PAPER_COLUMNS
from toolkit.core.workcal import HOLIDAY_SHEET

# Why a form was returned, in a column beside the status: a cell comment neither prints nor filters.
RETURN_REASON = "退回原因"
# Which 党总支's master a rolled-up row came from (brandkit rollup), in the upper master's ledger.
SOURCE_MASTER = "来源台账"
SERIAL = "序号"
# How far down a sheet the ledger's header is looked for: offices put a title, a 填报单位 line and often a
# block of instructions (说明1…说明10) above it. The header must still name the key column and two others,
# so a deeper search does not make a sheet a ledger that is not one.
LEDGER_HEADER_ROWS = 30
# The first cells of a ledger's total row (合计 in 序号/党总支 columns, often merged across them).
TOTAL_LABELS = frozenset(TOTAL_WORDS)
# What the office heads a stage's column with when not brandkit's "<stage>状态": 推荐情况, 推荐结果, 推荐进度.
STAGE_SUFFIXES = ("状态", "情况", "结果", "进度")
# A section line typed in the branch column between branch rows: "（以下为第二党总支）", "以下为机关党总支".
_SECTION = re.compile(r"^(?:以下|以上|下列|上列|下同|其中)")
_OPEN, _CLOSE = "([【〔〖<《", ")]】〕〗>》"
_OPEN_WIDE, _CLOSE_WIDE = _OPEN + "（［＜", _CLOSE + "）］＞"  # and the full-width forms NFKC would map
# A 党总支's (or 党委's) heading line: "第二党总支", "一、机关党总支（3个支部）" — no branch is called so.
_GROUP_HEADING = ("党总支", "总支", "党委", "分党委", "党工委")


@dataclass
class LedgerRow:
    row: int  # 0-based sheet row
    branch: str  # as written in the ledger
    values: dict[str, Any]  # canonical column -> value


@dataclass
class Ledger:
    sheet: str
    header_row: int
    columns: dict[str, int]  # canonical column name (profile column, stage status column) -> index
    rows: list[LedgerRow]
    last_row: int  # last used row (the header when empty)
    # columns the office uses from the header down: right of the last cell holding anything (a header, a
    # note typed in a column without one, a merged area): where a column brandkit adds goes
    width: int
    # The first row of the block under the branch rows that is the office's own: a total row (合计, or a
    # row of sums) or note lines (注：…). No branch row can be added below the data without crossing it.
    foot: int | None = None
    foot_text: str = ""  # what that row says, for the message
    # canonical column -> the office's header, where that header is one of the field's form labels
    # (党员人数 for 党员总数), or a stage's column under the office's name (推荐情况 for 推荐状态).
    labelled: dict[str, str] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)  # other sheets whose header made them look like ledgers
    # stage column -> the office's headers that each look like it (推荐情况 and 推荐结果, 推荐状态 absent):
    # brandkit cannot tell which one is the stage's, and adds no third one
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    # lines the office typed in the branch column between branch rows ("（以下为第二党总支）"): no branches
    notes: list[LedgerRow] = field(default_factory=list)
    merged: list[Merge] = field(default_factory=list)  # the sheet's merged areas below the header

    def by_branch(self) -> dict[str, LedgerRow]:
        return {normalize_branch(r.branch): r for r in self.rows}


def duplicate_rows(ledger: Ledger) -> list[str]:
    """What to tell the office of a branch listed in more than one ledger row: brandkit reads and writes
    only the last of them (Ledger.by_branch), never guessing which one the office means."""
    rows: dict[str, list[LedgerRow]] = {}
    for row in ledger.rows:
        rows.setdefault(normalize_branch(row.branch), []).append(row)
    return [f"台账“{ledger.sheet}”中“{same[0].branch}”有 {len(same)} 行（第 {'、'.join(str(r.row + 1) for r in same)} 行），"
            "brandkit 只读写其中最后一行：请在 Excel 中合并为一行" for same in rows.values() if len(same) > 1]


def ambiguous_columns(ledger: Ledger) -> list[str]:
    """What to tell the office of a stage whose column brandkit cannot tell among several."""
    return [ambiguous_problem(ledger, column) for column in ledger.ambiguous]


def ambiguous_problem(ledger: Ledger, column: str) -> str:
    heads = "、".join(f"“{h}”" for h in ledger.ambiguous[column])
    return (f"台账“{ledger.sheet}”中没有“{column}”列，而{heads}都像是它：brandkit 不知道该用哪一列，也不会再加一列"
            f"“{column}”。请在 Excel 中把要用的那一列的列名改为“{column}”（另一列改为别的名称），保存后再运行")


def merged_over(ledger: Ledger, row: int, col: int) -> Merge | None:
    """The merged area a write to (row, col) would fall in where it is not that cell's own: a cell hidden
    under a merge, or the top cell of one spanning several rows (its value shows on every row it spans, so
    writing it changes what other branches' rows say). None: the cell can be written."""
    for m in ledger.merged:
        r0, c0, r1, c1 = m
        if r0 <= row <= r1 and c0 <= col <= c1 and (r1 > r0 or (row, col) != (r0, c0)):
            return m
    return None


def header_columns(row: list[Any], lookup: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, int]:
    """A candidate header row's known columns: canonical name -> index (the first cell of each name).
    `labels` (normalised form label -> field, `label_columns`) name a field's column only where no cell
    of the row has the field's own name or alias: 党员人数 is 党员总数's column unless 党员总数 is there."""
    columns: dict[str, int] = {}
    for c, value in enumerate(row):
        name = lookup.get(normalize_label(value)) if isinstance(value, str) else None
        if name and name not in columns:
            columns[name] = c
    for c, value in enumerate(row if labels else ()):
        name = labels.get(normalize_label(value)) if labels and isinstance(value, str) else None
        if name and name not in columns and c not in columns.values():
            columns[name] = c
    return columns


def canonical_columns(profile: Profile) -> dict[str, str]:
    """normalised header label -> canonical column name (profile columns, aliases, stage columns, and
    the parts of a split box, which a master made before the box was one column may have)."""
    lookup: dict[str, str] = {}
    parts = [part for f in profile.fields for part in f.parts]
    names = list(profile.ledger.columns) + [s.column for s in profile.stages] + [RETURN_REASON, SOURCE_MASTER] + parts
    names += [d.column for d in profile.deliverables]
    names += list(PAPER_COLUMNS) if profile.paper else []
    for name in names:
        lookup.setdefault(normalize_label(name), name)
    for name, aliases in profile.ledger.aliases.items():
        for alias in aliases:
            lookup.setdefault(normalize_label(alias), name)
    return lookup


def label_columns(profile: Profile) -> dict[str, str]:
    """normalised form label -> ledger column, for the labels of the fields the ledger keeps (党员人数,
    品牌简介): the office's ledger often heads a column as the form it copied did. Never a label two fields
    share, nor one that is a column's own name or alias, any field's or table column's name."""
    lookup = canonical_columns(profile)
    specs = [*profile.fields, *(c for t in profile.tables for c in t.columns)]
    taken = set(lookup) | {normalize_label(f.name) for f in specs}
    owners: dict[str, set[str]] = {}
    for spec in specs:
        for label in spec.all_labels:
            owners.setdefault(normalize_label(label), set()).add(spec.name)
    columns = set(profile.ledger.columns)
    return {label: next(iter(names)) for label, names in owners.items()
            if label and label not in taken and len(names) == 1 and next(iter(names)) in columns}


def stage_variants(profile: Profile) -> dict[str, frozenset[str]]:
    """stage column -> the normalised headers the office may give it instead: the stage's name with
    状态/情况/结果/进度, and the bare name (推荐) unless that is another column's name or a form label.
    Never a header that is a known column's own name or alias."""
    known = set(canonical_columns(profile)) | set(label_columns(profile))
    out: dict[str, frozenset[str]] = {}
    for stage in profile.stages:
        names = {normalize_label(stage.name + suffix) for suffix in STAGE_SUFFIXES} | {normalize_label(stage.name)}
        out[stage.column] = frozenset(n for n in names if n and n not in known)
    return out


def _stage_columns(rows: list[list[Any]], columns: dict[str, int], variants: dict[str, frozenset[str]]
                   ) -> tuple[dict[str, tuple[int, str]], dict[str, list[str]]]:
    """In the header rows `rows`, the office's column of each stage whose own column is missing: stage
    column -> (index, header as written) where one header looks like it, and stage column -> the headers
    where several do (ambiguous: none is taken)."""
    taken = set(columns.values())
    found: dict[str, tuple[int, str]] = {}
    ambiguous: dict[str, list[str]] = {}
    for column, names in variants.items():
        if column in columns:
            continue
        hits: dict[int, str] = {}
        for row in rows:
            for c, value in enumerate(row):
                if isinstance(value, str) and c not in taken and normalize_label(value) in names:
                    hits.setdefault(c, value.strip())
        if len(hits) == 1:
            found[column] = next(iter(hits.items()))
        elif hits:
            ambiguous[column] = list(hits.values())
    return found, ambiguous


def table_sheets(profile: Profile) -> list[str]:
    """Sheets brandkit keeps for the profile's tables: each table's own and its 历史 sheet."""
    return [name for t in profile.tables for name in (t.sheet_name, history_sheet(t))]


def find_ledger(grids: dict[str, Grid], profile: Profile, prefer: str | None = None) -> Ledger | None:
    """The sheet whose header row (in the first rows, under merged titles) holds the key column and
    at least two other known columns. Of several: not a roster sheet (名单, read as the roster), then the
    one with the most known columns (a sheet adopted before has brandkit's status columns too), then the
    profile's own ledger sheet name, then the sheet `prefer` names (the workbook's active sheet: this
    year's, when the office keeps one sheet a year), then the last of them."""
    lookup, labels, variants = canonical_columns(profile), label_columns(profile), stage_variants(profile)
    spread = {profile.group} | {name for name in profile.ledger.columns if normalize_label(name) in CATEGORY_LABELS}
    found: list[tuple[tuple[bool, int, bool, bool, int], Ledger]] = []
    skipped = {RULES_SHEET, PROFILE_SHEET, HOLIDAY_SHEET, profile.ledger.log_sheet, *table_sheets(profile)}
    for index, grid in enumerate(grids.values()):
        if grid.name in skipped:
            continue
        for r, row in enumerate(grid.rows[:LEDGER_HEADER_ROWS]):
            columns = header_columns(row, lookup, labels)
            if profile.key in columns and len(columns) >= 3:
                last = r + _second_header_row(grid, r, columns, lookup, profile.key, labels)
                for name, c in header_columns(grid.rows[last], lookup, labels).items() if last > r else ():
                    columns.setdefault(name, c)
                renamed, ambiguous = _stage_columns(grid.rows[r:last + 1], columns, variants)
                columns.update({name: c for name, (c, _) in renamed.items()})
                ledger = _ledger(grid, r, last, columns, profile.key, spread)
                ledger.labelled = {name: str(grid.rows[h][c]).strip() for name, c in columns.items()
                                   for h in (r, last) if c < len(grid.rows[h]) and isinstance(grid.rows[h][c], str)
                                   and normalize_label(grid.rows[h][c]) in labels}
                ledger.labelled.update({name: text for name, (_, text) in renamed.items()})
                ledger.ambiguous = ambiguous
                found.append(((normalize_label(grid.name) not in ROSTER_SHEETS, len(columns),
                               grid.name == profile.ledger.sheet, grid.name == prefer, index), ledger))
                break
    if not found:
        return None
    best = max(found, key=lambda item: item[0])[1]
    best.others = [ledger.sheet for _, ledger in found if ledger is not best]
    return best


def ledger_misses(grids: dict[str, Grid], profile: Profile) -> list[str]:
    """What to tell an office whose workbook has no ledger brandkit recognised: each sheet with a row
    naming the key column (in its first 100 rows) and why that row is not taken for the ledger's header."""
    lookup, labels = canonical_columns(profile), label_columns(profile)
    own = {RULES_SHEET, PROFILE_SHEET, HOLIDAY_SHEET, profile.ledger.log_sheet, *table_sheets(profile)}
    said = []
    for grid in grids.values():
        if grid.name in own or normalize_label(grid.name) in ROSTER_SHEETS:
            continue
        for r, row in enumerate(grid.rows[:100]):
            columns = header_columns(row, lookup, labels)
            if profile.key not in columns:
                continue
            why = (f"在第 {r + 1} 行，超出了查找表头的前 {LEDGER_HEADER_ROWS} 行，未作为台账接管；如要接管它：brandkit "
                   f"undo 恢复后，删去表头上方多余的行，再运行 brandkit init" if r >= LEDGER_HEADER_ROWS
                   else f"（第 {r + 1} 行）只认出 {'、'.join(columns)} {len(columns)} 列，至少要 3 列，未作为台账接管；"
                   "如要接管它：brandkit undo 恢复后，把列名改为申报表的栏目名（如党总支、品牌名称），再运行 brandkit init")
            said.append(f"工作表“{grid.name}”有“{profile.key}”列的表头{why}")
            break
    return said


def _second_header_row(grid: Grid, r: int, columns: dict[str, int], lookup: dict[str, str], key: str,
                       labels: dict[str, str] | None = None) -> int:
    """1 when the header goes on in row r + 1 under group headings (品牌情况 over 品牌名称 and 党员总数,
    the key's cell merged down, so empty there), else 0."""
    if r + 1 >= len(grid.rows):
        return 0
    below = grid.rows[r + 1]
    if columns[key] < len(below) and below[columns[key]] not in (None, ""):
        return 0
    return int(any(name not in columns for name in header_columns(below, lookup, labels)))


def _ledger(grid: Grid, top: int, header_row: int, columns: dict[str, int], key: str,
            spread: set[str] | frozenset[str] = frozenset()) -> Ledger:
    """The ledger under its header, rows `top` to `header_row` (two under group headings). Total rows
    (合计, 小计, a row of sums), note lines and section lines ("（以下为第二党总支）" in the branch column,
    nothing else in the branch's data columns) are never branches; the first total or note row after the
    last branch row is the ledger's foot. A merged cell of a `spread` column (党总支, 类别) belongs to every
    row it spans."""
    rows: list[LedgerRow] = []
    notes: list[LedgerRow] = []
    last = header_row
    feet: list[tuple[int, str]] = []  # total and note rows, in sheet order
    spread_at = {columns[name] for name in spread if name in columns}
    merged = grid.merged_below(header_row + 1, spread_at)
    outside = {columns[key], *spread_at, *([columns[SERIAL]] if SERIAL in columns else [])}
    for r in range(header_row + 1, len(grid.rows)):
        row = grid.rows[r]
        if not any(v not in (None, "") for v in row):
            continue
        last = r
        said = _foot_text(row, columns, key)
        if said is not None:
            feet.append((r, said))
            continue
        branch = row[columns[key]] if columns[key] < len(row) else None
        if not (isinstance(branch, str) and branch.strip()):
            continue
        values = {name: (row[c] if c < len(row) else None) for name, c in columns.items()}
        for name, c in columns.items() if merged else ():
            if values[name] in (None, "") and (r, c) in merged:
                values[name] = merged[(r, c)]
        line = section_line(branch) and all(v in (None, "") for c, v in enumerate(row) if c not in outside)
        (notes if line else rows).append(LedgerRow(r, branch.strip(), values))
    after = rows[-1].row if rows else header_row
    foot = next(((r, said) for r, said in feet if r > after), None)
    return Ledger(grid.name, header_row, columns, rows, last, used_width(grid, top),
                  foot=foot[0] if foot else None, foot_text=foot[1] if foot else "", notes=notes,
                  merged=[m for m in grid.merged if m[2] > header_row])


def section_line(text: str) -> bool:
    """The branch cell reads as a line the office typed to head or explain the rows below, not a branch:
    wholly in brackets ("（以下为第二党总支）"), "以下为…", or a 党总支's heading ("第二党总支")."""
    t = text.strip()
    if t[:1] in _OPEN_WIDE and t[-1:] in _CLOSE_WIDE or _SECTION.match(t):
        return True
    if not t or "支部" in t:  # a branch's name, not a heading: the common case, decided without NFKC
        return False
    label = normalize_label(unicodedata.normalize("NFKC", t))
    return bool(label) and label.endswith(_GROUP_HEADING) and "支部" not in label


def _foot_text(row: list[Any], columns: dict[str, int], key: str) -> str | None:
    """What makes the row a total or a note rather than a branch (its label, or its sums), else None: 合计
    (总计, 小计 …) in a cell up to the key column; a first cell reading "注：", "说明1：", "制表人："; or, with
    no branch name, only numbers outside the first and 序号 columns (a row of SUM formulas)."""
    k = columns[key]
    for v in row[:k + 1]:  # every total label has 计 or 总: a branch name is not normalised for nothing
        if isinstance(v, str) and ("计" in v or "总" in v) and normalize_label(v) in TOTAL_LABELS:
            return v.strip()
    first = row[0] if row[0] not in (None, "") else next((v for v in row if v not in (None, "")), None)
    if isinstance(first, str) and NOTE_LINE.match(first.strip()):
        return first.strip()
    if k < len(row) and row[k] not in (None, ""):
        return None
    serial = columns.get(SERIAL, 0)
    cells = [(c, v) for c, v in enumerate(row) if v not in (None, "")]
    numbers = [v for c, v in cells if c not in (0, serial)]
    if numbers and all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in cells):
        return "、".join(f"{v:g}" for v in numbers)
    return None


def foot_problem(ledger: Ledger) -> str:
    """Why no branch row can be added: the ledger's total or note row stands under its data."""
    assert ledger.foot is not None
    row = ledger.foot + 1
    if NOTE_LINE.match(ledger.foot_text):
        kind, below, table = "注释行", "会把注释夹在支部行中间，并落在筛选和下拉列表的范围之外", ""
    else:
        kind, below = "合计/汇总行", "又会落在合计公式、筛选和下拉列表的范围之外"
        table = "；若是 Excel“表格”自带的汇总行，则选中该表格，在“表设计”中取消勾选“汇总行”（合并后可再勾选）"
    return (f"台账“{ledger.sheet}”的支部行下面有{kind}（第 {row} 行）“{ledger.foot_text[:30]}”。新支部的行只能加在数据下方，"
            f"brandkit 不能在{kind}上方插入行，写在它下面{below}。请在 Excel 中把第 {row} 行及其下的合计、注释行移走"
            f"（剪切到另一张工作表，或删除后在表格外另写合计公式）{table}。保存后再运行；台账未改动")


def used_width(grid: Grid, top: int) -> int:
    """Columns the office uses from row `top` (the header's first) down: right of the last cell holding
    any value — a header, or a note typed in a column without one — and of every merged area there. A
    column added at this index overwrites nothing the office typed."""
    cells = -1
    for row in grid.rows[top:]:  # only the columns right of the widest so far are looked at
        c = len(row) - 1
        while c > cells and row[c] in (None, ""):
            c -= 1
        cells = max(cells, c)
    merges = max((c1 for _, _, r1, c1 in grid.merged if r1 >= top), default=-1)
    return max(cells, merges) + 1
