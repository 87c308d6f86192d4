"""The plan that turns a workbook into a brandkit master (adopting it) or builds a new one: the
ledger header, the roster kept or pasted, the sheets to add. Pure: a ChangeSet from a snapshot."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.campaign import date_lines
from toolkit.core.changeset import CellWrite, ChangeSet, NewColumn, NewSheet
from toolkit.core.display import wrapped_height
from toolkit.core.errors import UsageProblem
from toolkit.core.ledger import ambiguous_columns
from toolkit.core.logsheet import LOG_COLUMNS, LOG_WIDTHS, LogEntry, append_log
from toolkit.core.master import RETURN_REASON, SOURCE_FILE, SUBMITTED_AT, MasterSnapshot, duplicate_rows
from toolkit.core.model import ROW_HEIGHT_PT
from toolkit.core.plan import LOGO_COLUMN_WIDTH, REASON_COLUMN_WIDTH, SERIAL, new_branch_row
from toolkit.core.plan_tables import adopt_tables
from toolkit.core.profile import PROFILE_SHEET, RULES_SHEET, FieldSpec, Profile
from toolkit.core.profile_sheets import profile_sheet, rules_sheet_rows, stored_profile_id, stored_text
from toolkit.core.roster import ROSTER_SHEET, RosterSource, roster_heading, roster_table
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import PAPER_COLUMNS, LogAction
from toolkit.core.workcal import HOLIDAY_SHEET, OFFICIAL, calendar_warning, holiday_sheet_rows

# Ledger column widths (Excel character units) by what the column holds; long texts wrap in even rows
# (their full text is in the cell, and the booklet prints it). Narrow enough that the printed columns of
# a four-long-text campaign fit A4 landscape at a legible scale (tests/test_print_render.py measures it).
STATUS_WIDTH = 12.0  # "逾期提交", the date and who stamped it, a line each
WIDTHS = {SERIAL: 5.0, SUBMITTED_AT: 16.0, SOURCE_FILE: 20.0, RETURN_REASON: REASON_COLUMN_WIDTH}
TYPE_WIDTHS = {"integer": 7.0, "number": 8.0, "phone": 13.0, "date": 11.0, "email": 22.0, "enum": 12.0,
               "image": LOGO_COLUMN_WIDTH}
NAME_WIDTH, SHORT_WIDTH, LONG_WIDTH = 14.0, 12.0, 20.0
# What the office's desk keeps and a meeting does not read: after the 退回原因, off the printed page.
DESK_COLUMNS = (SUBMITTED_AT, SOURCE_FILE, *PAPER_COLUMNS)


def ledger_header(profile: Profile) -> list[str]:
    """The ledger's columns: the profile's, then each stage's status and the 退回原因 beside them, then
    the desk's (提交时间, 来源文件, and the paper copies' where the notice asks for paper)."""
    stage_columns = [s.column for s in profile.stages if s.column not in profile.ledger.columns]
    desk = [*profile.ledger.columns, *(PAPER_COLUMNS if profile.paper else ())]
    return [*(c for c in profile.ledger.columns if c not in DESK_COLUMNS), *stage_columns, RETURN_REASON,
            *(c for c in desk if c in DESK_COLUMNS)]


def column_width(profile: Profile, name: str) -> float:
    """A ledger column's width by its field's type: numbers narrow, names medium, the logo as wide as
    its picture, long texts wide (they wrap)."""
    if name in WIDTHS:
        return WIDTHS[name]
    if name in (profile.key, profile.group):
        return NAME_WIDTH
    if name in (s.column for s in profile.stages):
        return STATUS_WIDTH
    spec: FieldSpec | None = profile.field(name)
    if spec is None:
        return SHORT_WIDTH
    if spec.type in TYPE_WIDTHS:
        return TYPE_WIDTHS[spec.type]
    if spec.long:
        return LONG_WIDTH
    if spec.max_chars is not None and spec.max_chars <= 10:  # a name of at most 10 字 (品牌名称) on one line
        return min(NAME_WIDTH, 2 * spec.max_chars + 1.0)
    return SHORT_WIDTH


def new_ledger(profile: Profile, rows: list[list[Any]]) -> NewSheet:
    """The ledger sheet of a master brandkit creates: widths by type, a header tall enough for its
    wrapped titles, even rows (the logo's height), filtered and printed as a list up to the 退回原因."""
    header = ledger_header(profile)
    widths = [column_width(profile, h) for h in header]
    return NewSheet(profile.ledger.sheet, [header, *rows], widths, printed=True,
                    header_height=wrapped_height(zip(header, widths, strict=True)), row_height=ROW_HEIGHT_PT,
                    print_columns=header.index(RETURN_REASON) + 1)


def plan_adoption(snap: MasterSnapshot, roster: list[dict[str, Any]], operator: str,
                  now: dt.datetime) -> tuple[ChangeSet, InitResult]:
    """Pure: what an existing workbook needs to become a master (ledger, status columns, log, rules, and
    the profile's own text)."""
    profile = snap.profile
    if snap.stored_profile is not None and snap.stored_profile != stored_text(profile):
        raise UsageProblem(f"台账 {snap.path.name} 已存有建台账时的活动方案“{stored_profile_id(snap.stored_profile) or '?'}”"
                           f"（隐藏的“{PROFILE_SHEET}”工作表），之后的操作都按它运行；这次指定的活动方案 {profile.id} "
                           f"与它内容不同，台账未作改动。如确要改用新方案：在 Excel 中取消隐藏并删除“{PROFILE_SHEET}”"
                           f"工作表后，再运行 brandkit init")
    changes = ChangeSet()
    result = InitResult(snap.path, False, [], [], [], year=profile.year, dates=date_lines(profile))
    days = [d for s in profile.stages for d in (s.start, s.due) if d is not None]
    if days and (warning := calendar_warning(OFFICIAL, OFFICIAL.unknown_years(min(days), max(days)))):
        result.warnings.append(warning)
    header = ledger_header(profile)
    distinct, repeated = _once_each(roster)  # the roster sheet keeps every row as the office gave it
    result.warnings += repeated
    known = {normalize_branch(b) for b in snap.roster}
    new_branches = [r for r in distinct if normalize_branch(str(r["党支部名称"])) not in known]
    if snap.ledger is None:
        body = [_roster_line(header, r, profile, n) for n, r in enumerate(new_branches, start=1)]
        changes.new_sheets.append(new_ledger(profile, body))
        result.added_sheets.append(profile.ledger.sheet)
        result.warnings += [f"台账记在新增的“{profile.ledger.sheet}”工作表中：{miss}" for miss in snap.ledger_misses]
    else:
        ledger = snap.ledger
        result.ledger_sheet, result.header_row = ledger.sheet, ledger.header_row + 1
        result.labelled = [(office, name) for name, office in ledger.labelled.items()]
        if ledger.others:
            others = "、".join(f"“{name}”" for name in ledger.others)
            result.warnings.append(f"工作表{others}的表头也像台账，未接管；接管的是“{ledger.sheet}”（列名认出最多的，一样多时取"
                                   "打开工作簿时显示的那张，再取最后一张）。如应接管的是另一张：brandkit undo 恢复后，在 Excel 中"
                                   "切换到那张工作表并保存，再运行 brandkit init")
        result.warnings += duplicate_rows(ledger)
        wanted = [s.column for s in profile.stages] + [RETURN_REASON] + list(PAPER_COLUMNS if profile.paper else ())
        if profile.ledger.logo_column:
            wanted.append(profile.ledger.logo_column)
        col = ledger.width  # right of every cell the office uses (a note under no header included)
        result.warnings += ambiguous_columns(ledger)
        for name in wanted:
            if name not in ledger.columns and name not in ledger.ambiguous:  # never a second column for a stage
                changes.new_columns.append(NewColumn(ledger.sheet, col, ledger.header_row, name,
                                                     column_width(profile, name)))
                ledger.columns[name] = col
                result.added_columns.append(name)
                col += 1
        for n, r in enumerate(new_branches, start=ledger.last_row + 1):
            new_branch_row(changes, ledger, n)
            for name in (profile.group, profile.key, "类别"):
                value = r.get("党支部名称" if name == profile.key else name)
                if name in ledger.columns and value not in (None, ""):
                    changes.writes.append(CellWrite(ledger.sheet, n, ledger.columns[name], str(value).strip()))
    result.added_branches = [str(r["党支部名称"]).strip() for r in new_branches]
    result.added_sheets += _keep_roster(snap, roster, changes)
    sheets, columns = adopt_tables(snap, changes)  # a sheet of its own per table (申报工程, 活动台帐)
    result.added_sheets += sheets
    result.added_columns += columns
    if not snap.has_rules_sheet:
        changes.new_sheets.append(NewSheet(RULES_SHEET, rules_sheet_rows(profile), [16, 12, 12, 10, 8, 8, 30, 14, 30]))
        result.added_sheets.append(RULES_SHEET)
    if HOLIDAY_SHEET not in snap.sheets:  # where the office lists days off the official calendar lacks
        changes.new_sheets.append(NewSheet(HOLIDAY_SHEET, holiday_sheet_rows(), [14, 12, 60]))
        result.added_sheets.append(HOLIDAY_SHEET)
    if snap.log_rows is None:
        changes.new_sheets.append(NewSheet(profile.ledger.log_sheet, [list(LOG_COLUMNS)], LOG_WIDTHS))
        result.added_sheets.append(profile.ledger.log_sheet)
    stored = profile_sheet(profile) if snap.stored_profile is None else None
    if stored is not None:  # the campaign travels with the master (hidden; 填报规则 still wins)
        changes.new_sheets.append(stored)
        result.added_sheets.append(stored.name)
    append_log(changes, profile.ledger.log_sheet, snap.log_rows if snap.log_rows is not None else 0,
               [LogEntry(now, operator, LogAction.INIT, new=f"活动方案 {profile.id}；新增 {len(new_branches)} 个支部")])
    return changes, result


def _once_each(roster: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The roster with each branch once (its first row), and what to say of the branches listed more
    than once: the ledger gets one row per branch, never two rows every command would disagree on."""
    first: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[str]] = {}
    for row in roster:
        key = normalize_branch(str(row["党支部名称"]))
        first.setdefault(key, row)
        groups.setdefault(key, []).append(str(row.get("党总支") or "未填党总支").strip())
    said = [f"支部名单中“{str(first[key]['党支部名称']).strip()}”出现了 {len(seen)} 次（{'、'.join(seen)}），"
            f"台账只建一行，按第一次的党总支“{seen[0]}”；如有误请改正名单后在台账中修改"
            for key, seen in groups.items() if len(seen) > 1]
    return list(first.values()), said


def _keep_roster(snap: MasterSnapshot, roster: list[dict[str, Any]], changes: ChangeSet) -> list[str]:
    """The roster stays in the master, as the office gave it (类别, 必须参与, contacts): a 支部名单
    sheet of its own, so a merge never overwrites it and its headings never meet the ledger's (类别,
    联系人 and 电话 are aliases of form columns in several campaigns). A master that already has a
    roster sheet gets the branches it lacks appended. Returns the sheets added."""
    if not roster:
        return []
    columns, rows = roster_table(roster, snap.profile)
    sheet = snap.roster_sheet
    if sheet is None:
        header = [roster_heading(c, snap.profile) for c in columns]
        widths = [24 if c in ("党总支", "党支部名称", "类别", "邮箱") else 10 if c == "必须参与" else 14 for c in columns]
        changes.new_sheets.append(NewSheet(ROSTER_SHEET, [header, *rows], widths))
        return [ROSTER_SHEET]
    r = sheet.last_row
    for row in rows:
        if normalize_branch(str(row[1])) in sheet.branches:
            continue
        r += 1
        changes.writes += [CellWrite(sheet.name, r, sheet.columns[c], v) for c, v in zip(columns, row, strict=True)
                           if c in sheet.columns and v is not None]
    return []


def _roster_line(header: list[str], r: dict[str, Any], profile: Profile, n: int) -> list[Any]:
    values = {"序号": n, profile.key: str(r["党支部名称"]).strip(), profile.group: r.get("党总支")}
    return [values.get(name) for name in header]


@dataclass
class InitResult:
    master: Path
    created: bool
    added_sheets: list[str]
    added_columns: list[str]
    added_branches: list[str]
    backup: Path | None = None
    year: int | None = None  # the campaign year (of its first dated stage)
    dates: list[str] = field(default_factory=list)  # the stage dates resolved, one line each
    warnings: list[str] = field(default_factory=list)
    ledger_sheet: str | None = None  # the office's sheet adopted as the ledger (None: a ledger sheet was added)
    header_row: int | None = None  # its header row (1-based, the lower one under group headings)
    labelled: list[tuple[str, str]] = field(default_factory=list)  # (office's column, the field it holds)
    roster: RosterSource | None = None  # init --roster: the file and sheet read, and how many branches

    def to_json(self) -> dict[str, Any]:
        out = {"master": str(self.master), "created": self.created, "added_sheets": self.added_sheets,
               "added_columns": self.added_columns, "added_branches": self.added_branches,
               "backup": str(self.backup) if self.backup else None, "year": self.year, "dates": self.dates,
               "warnings": self.warnings, "ledger_sheet": self.ledger_sheet, "header_row": self.header_row,
               "columns_taken": [{"column": office, "field": name} for office, name in self.labelled]}
        if self.roster is not None:
            out["roster"] = dataclasses.asdict(self.roster)
        return out
