"""The master as data: which sheet is the ledger, where its header is, which column is which, which
branches it lists. Adopt, don't impose: everything is found by label, nothing by position."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import UsageProblem
from toolkit.profile import RULES_SHEET, Profile, ProfileError, apply_rule_overrides, load_profile
from toolkit.readers.grid import Grid
from toolkit.text import normalize_branch, normalize_label

HEADER_SEARCH_ROWS = 10
PROFILE_LABEL = "活动方案"
ROSTER_COLUMNS = ("党总支", "党支部名称", "类别", "必须参与")


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
    width: int  # columns used in the header row

    def by_branch(self) -> dict[str, LedgerRow]:
        return {normalize_branch(r.branch): r for r in self.rows}


@dataclass
class MasterSnapshot:
    path: Path
    profile: Profile
    sheets: list[str]
    ledger: Ledger | None
    log_rows: int | None  # data rows in 操作记录 (None: no log sheet yet)
    roster: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # branch -> 党总支
    categories: dict[str, str] = field(default_factory=dict)  # branch -> 类别
    has_rules_sheet: bool = False
    merged: set[tuple[str, str]] = field(default_factory=set)  # (normalised branch, sha256) already merged


def canonical_columns(profile: Profile) -> dict[str, str]:
    """normalised header label -> canonical column name (profile columns, aliases, stage columns)."""
    lookup: dict[str, str] = {}
    names = list(profile.ledger.columns) + [s.column for s in profile.stages]
    for name in names:
        lookup.setdefault(normalize_label(name), name)
    for name, aliases in profile.ledger.aliases.items():
        for alias in aliases:
            lookup.setdefault(normalize_label(alias), name)
    return lookup


def find_ledger(grids: dict[str, Grid], profile: Profile) -> Ledger | None:
    """The sheet whose header row (in the first rows, under merged titles) holds the key column and
    at least two other known columns. The profile's own ledger sheet name wins a tie."""
    lookup = canonical_columns(profile)
    best: tuple[int, Ledger] | None = None
    for grid in grids.values():
        if grid.name in (RULES_SHEET, profile.ledger.log_sheet):
            continue
        for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
            columns: dict[str, int] = {}
            for c, value in enumerate(row):
                name = lookup.get(normalize_label(value)) if isinstance(value, str) else None
                if name and name not in columns:
                    columns[name] = c
            if profile.key in columns and len(columns) >= 3:
                score = len(columns) * 2 + (grid.name == profile.ledger.sheet)
                if best is None or score > best[0]:
                    best = (score, _ledger(grid, r, columns, profile.key))
                break
    return best[1] if best else None


def _ledger(grid: Grid, header_row: int, columns: dict[str, int], key: str) -> Ledger:
    rows = []
    last = header_row
    for r in range(header_row + 1, len(grid.rows)):
        row = grid.rows[r]
        if any(v not in (None, "") for v in row):
            last = r
        branch = row[columns[key]] if columns[key] < len(row) else None
        if isinstance(branch, str) and branch.strip():
            values = {name: (row[c] if c < len(row) else None) for name, c in columns.items()}
            rows.append(LedgerRow(r, branch.strip(), values))
    width = max((c for c, v in enumerate(grid.rows[header_row]) if v not in (None, "")), default=-1) + 1
    return Ledger(grid.name, header_row, columns, rows, last, width)


def profile_id_in(grids: dict[str, Grid]) -> str | None:
    grid = grids.get(RULES_SHEET)
    if grid is None:
        return None
    for row in grid.rows[:5]:
        for c, value in enumerate(row[:-1]):
            if isinstance(value, str) and normalize_label(value) == PROFILE_LABEL and row[c + 1]:
                return str(row[c + 1]).strip()
    return None


def rule_rows(grids: dict[str, Grid]) -> list[list[Any]]:
    """The 填报规则 table: from its header row (the one starting with 字段) down."""
    grid = grids.get(RULES_SHEET)
    if grid is None:
        return []
    for r, row in enumerate(grid.rows):
        if row and isinstance(row[0], str) and row[0].strip() == "字段":
            return grid.rows[r:]
    return []


def read_roster(grid: Grid) -> list[dict[str, Any]]:
    """A roster sheet or file: rows of 党总支 / 党支部名称 / 类别 / 必须参与, header found by label."""
    for r, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        labels = {normalize_label(v): c for c, v in enumerate(row) if isinstance(v, str)}
        if "党支部名称" in labels or "支部名称" in labels:
            cols = {name: labels.get(normalize_label(name)) for name in ROSTER_COLUMNS}
            cols["党支部名称"] = labels.get("党支部名称", labels.get("支部名称"))
            out = []
            for row2 in grid.rows[r + 1:]:
                get = {k: (row2[c] if c is not None and c < len(row2) else None) for k, c in cols.items()}
                if isinstance(get["党支部名称"], str) and get["党支部名称"].strip():
                    out.append(get)
            return out
    return []


def snapshot(path: Path, grids: dict[str, Grid], profile_name: str | None) -> MasterSnapshot:
    """Pure: the master's grids -> what brandkit needs to know about it."""
    recorded = profile_id_in(grids)
    name = profile_name or recorded
    if not name:
        raise UsageProblem(f"台账 {path.name} 中没有“{RULES_SHEET}”工作表记录活动方案，请加 --profile 指定"
                           f"（或先运行 brandkit init {path.name} --profile …）")
    try:
        profile = load_profile(name)
        profile = apply_rule_overrides(profile, rule_rows(grids))
    except ProfileError as exc:
        raise UsageProblem(f"{path.name}：{exc}") from exc
    ledger = find_ledger(grids, profile)
    log = grids.get(profile.ledger.log_sheet)
    snap = MasterSnapshot(path, profile, list(grids), ledger,
                          log_rows=(max(len(log.rows) - 1, 0) if log else None),
                          has_rules_sheet=RULES_SHEET in grids)
    if log is not None:
        snap.merged = merged_files(log)
    seen: set[str] = set()
    for row in ledger.rows if ledger else []:
        _add_branch(snap, seen, row.branch, row.values.get(profile.group), None)
    for grid in grids.values():
        if ledger and grid.name == ledger.sheet or grid.name in (RULES_SHEET, profile.ledger.log_sheet):
            continue
        if normalize_label(grid.name) in ("名单", "支部名单", "花名册", "roster"):
            for item in read_roster(grid):
                _add_branch(snap, seen, item["党支部名称"], item.get("党总支"), item.get("类别"))
    return snap


def merged_files(log: Grid) -> set[tuple[str, str]]:
    """(branch, sha256) pairs the 操作记录 says were merged (新增/更新/未变), for idempotent re-merges."""
    if not log.rows:
        return set()
    header = {str(v).strip(): c for c, v in enumerate(log.rows[0]) if v}
    b, s, a = header.get("党支部"), header.get("SHA256"), header.get("操作")
    if b is None or s is None or a is None:
        return set()
    return {(normalize_branch(str(row[b])), str(row[s])) for row in log.rows[1:]
            if len(row) > max(a, b, s) and row[a] in ("新增", "更新") and row[b] and row[s]}


def _add_branch(snap: MasterSnapshot, seen: set[str], branch: str, group: Any, category: Any) -> None:
    branch = branch.strip()
    key = normalize_branch(branch)
    if key not in seen:
        seen.add(key)
        snap.roster.append(branch)
    if group not in (None, ""):
        snap.groups.setdefault(branch, str(group).strip())
    if category not in (None, ""):
        snap.categories.setdefault(branch, str(category).strip())


def load_master(path: Path, profile_name: str | None = None) -> MasterSnapshot:
    """Read the master's values (python-calamine) and snapshot it. The master is the office's own file,
    but its size is still checked before parsing."""
    from toolkit.readers.errors import Unreadable
    from toolkit.readers.grid import read_grids
    from toolkit.readers.limits import check_size, check_zip
    from toolkit.readers.sniff import sniff

    if not path.exists():
        raise UsageProblem(f"找不到台账文件：{path}")
    try:
        data = path.read_bytes()
        check_size(len(data))
        kind = sniff(data)
        if kind != "xlsx":
            raise UsageProblem(f"台账 {path.name} 不是 .xlsx/.xlsm 文件（识别为 {kind}）。请在 Excel/WPS 中另存为 .xlsx 后再用")
        check_zip(data)
        grids = read_grids(data, kind)
    except Unreadable as exc:
        from toolkit.messages import unreadable_reason

        raise UsageProblem(f"台账 {path.name} 无法读取：{unreadable_reason(exc.reason, **exc.params)}") from exc
    except OSError as exc:
        raise UsageProblem(f"台账 {path.name} 无法读取：{exc.strerror}") from exc
    return snapshot(path, grids, profile_name)
