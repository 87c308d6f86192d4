"""`brandkit init`: create a master for a campaign, or adopt the officers' existing workbook."""

from __future__ import annotations

import datetime as dt
import getpass
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.atomic import write_atomic
from toolkit.campaign import campaign, date_lines, parse_date_options
from toolkit.changeset import CellWrite, ChangeSet, NewColumn, NewSheet
from toolkit.errors import UsageProblem
from toolkit.ledger import MasterSnapshot, read_roster
from toolkit.log import LOG_COLUMNS, LOG_WIDTHS, LogEntry, append_log
from toolkit.plan_tables import adopt_tables
from toolkit.profile import (
    PROFILE_SHEET,
    RULES_SHEET,
    Profile,
    profile_sheet,
    rules_sheet_rows,
    stored_profile_id,
    stored_text,
)
from toolkit.roster import ROSTER_SHEET, roster_heading, roster_table
from toolkit.text import normalize_branch
from toolkit.vocabulary import LogAction
from toolkit.workcal import HOLIDAY_SHEET, OFFICIAL, calendar_warning, holiday_sheet_rows


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

    def to_json(self) -> dict[str, Any]:
        return {"master": str(self.master), "created": self.created, "added_sheets": self.added_sheets,
                "added_columns": self.added_columns, "added_branches": self.added_branches,
                "backup": str(self.backup) if self.backup else None, "year": self.year, "dates": self.dates,
                "warnings": self.warnings}


def ledger_header(profile: Profile) -> list[str]:
    stage_columns = [s.column for s in profile.stages if s.column not in profile.ledger.columns]
    return [*profile.ledger.columns, *stage_columns]


def roster_rows(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    from toolkit.readers.errors import Unreadable
    from toolkit.readers.grid import read_grids
    from toolkit.readers.sniff import sniff

    try:
        data = path.read_bytes()
        grids = read_grids(data, sniff(data))
    except (OSError, Unreadable) as exc:
        raise UsageProblem(f"名单文件 {path.name} 无法读取：{exc}") from exc
    for grid in grids.values():
        rows = read_roster(grid)
        if rows:
            return rows
    raise UsageProblem(f"名单文件 {path.name} 中没有找到“党支部名称”列")


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
    known = {normalize_branch(b) for b in snap.roster}
    new_branches = [r for r in roster if normalize_branch(str(r["党支部名称"])) not in known]
    if snap.ledger is None:
        body = [_roster_line(header, r, profile, n) for n, r in enumerate(new_branches, start=1)]
        changes.new_sheets.append(NewSheet(profile.ledger.sheet, [header, *body], _widths(header)))
        result.added_sheets.append(profile.ledger.sheet)
    else:
        ledger = snap.ledger
        wanted = [s.column for s in profile.stages]
        if profile.ledger.logo_column:
            wanted.append(profile.ledger.logo_column)
        col = ledger.width
        for name in wanted:
            if name not in ledger.columns:
                changes.new_columns.append(NewColumn(ledger.sheet, col, ledger.header_row, name, 14))
                ledger.columns[name] = col
                result.added_columns.append(name)
                col += 1
        for n, r in enumerate(new_branches, start=ledger.last_row + 1):
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


def _widths(header: list[str]) -> list[float]:
    return [6 if h == "序号" else 24 if h in ("党支部名称", "党总支") else 30 if len(h) > 3 else 14 for h in header]


def init_master(path: Path, profile_name: str | None, roster_file: Path | None,
                operator: str | None = None, year: int | None = None, dates: tuple[str, ...] = ()) -> InitResult:
    """`brandkit init`: a new master for the campaign of `year` (the year of its first dated stage; else
    the year the first of `dates` implies, else the notice's, else this year), `dates` setting stages one
    by one (阶段=2027-03-31); or adopt an existing workbook."""
    from toolkit.journal import update
    from toolkit.ledger import load_master

    operator = operator or getpass.getuser()
    now = dt.datetime.now().replace(microsecond=0)
    roster = roster_rows(roster_file)
    if not path.exists():
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise UsageProblem(f"台账文件名应以 .xlsx 结尾：{path.name}")
        from toolkit.app import resolve_profile

        profile = resolve_profile(profile_name)
        profile = campaign(profile, year, parse_date_options(profile, dates), now.date())
        if path.suffix.lower() == ".xlsm":  # the master with buttons; then adopt it like any workbook
            from toolkit.master_template import write_master_template

            write_master_template(profile, path)
            snap = load_master(path, profile.id)
            changes, result = plan_adoption(snap, roster, operator, now)
            result.backup = None
            write_atomic(path, _patched(path.read_bytes(), changes))
            result.created = True
            return result
        changes, result = plan_adoption(MasterSnapshot(path, profile, [], None, None), roster, operator, now)
        _write_new_master(path, changes)
        result.created = True
        return result
    def plan(snap: MasterSnapshot) -> tuple[ChangeSet, InitResult]:
        if year or dates:
            if snap.has_rules_sheet:
                raise UsageProblem(f"台账 {path.name} 已有“{RULES_SHEET}”工作表，各阶段日期以其中的阶段表为准：请在 Excel 中"
                                   f"直接修改；新一年的活动请新建台账（brandkit init 新台账.xlsx --profile … --year …）")
            snap.profile = campaign(snap.profile, year, parse_date_options(snap.profile, dates), now.date())
        return plan_adoption(snap, roster, operator, now)

    (_, result), backup = update(path, plan, lambda planned: planned[0], profile_name=profile_name)
    result.backup = backup
    return result


def _patched(data: bytes, changes: ChangeSet) -> bytes:
    from toolkit.ooxml import apply_changeset

    return apply_changeset(data, changes)


def _write_new_master(path: Path, changes: ChangeSet) -> None:
    """A fresh master holds only what plan_adoption would add, written by xlsxwriter."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True})
    write_new_sheets(wb, changes)
    wb.close()
    write_atomic(path, buf.getvalue())


def write_new_sheets(wb: Any, changes: ChangeSet) -> None:
    """Render `changes.new_sheets` (and the writes that land on them) into an xlsxwriter workbook;
    shared by a new .xlsx master and the macro-enabled master template."""
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                          "align": "center", "valign": "vcenter"})
    body = wb.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    day = wb.add_format({"border": 1, "valign": "top", "num_format": "yyyy-mm-dd"})  # 填报规则's stage dates
    logged = {(w.sheet, w.row, w.col): w.value for w in changes.writes}
    for sheet in changes.new_sheets:
        ws = wb.add_worksheet(sheet.name)
        for c, width in enumerate(sheet.widths):
            ws.set_column(c, c, width)
        for r, row in enumerate(sheet.rows):
            for c, value in enumerate(row):
                ws.write(r, c, value, head if r == 0 else day if isinstance(value, dt.date) else body)
        for (name, r, c), value in logged.items():
            if name == sheet.name:
                ws.write(r, c, value, body)
        ws.freeze_panes(1, 0)
        if sheet.hidden:
            ws.hide()
        if sheet.protected:
            ws.protect()
