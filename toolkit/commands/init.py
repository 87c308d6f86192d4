"""`brandkit init`: create a master for a campaign, or adopt the officers' existing workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import io
from pathlib import Path
from typing import Any

from toolkit.core.adoption import InitResult, plan_adoption
from toolkit.core.campaign import campaign, parse_date_options
from toolkit.core.changeset import ChangeSet
from toolkit.core.display import one_line
from toolkit.core.errors import UsageProblem
from toolkit.core.master import MasterSnapshot
from toolkit.core.messages import roster_message
from toolkit.core.profile import RULES_SHEET
from toolkit.core.profile_sheets import OFFICE_LABEL
from toolkit.core.roster import RosterReading, RosterSource, roster_reading
from toolkit.core.text import normalize_branch
from toolkit.excel.master_template import write_new_sheets
from toolkit.files.atomic import write_atomic


class RosterRows(list[dict[str, Any]]):
    """The roster's branch rows (what plan_adoption takes), with where they came from and what the
    office should hear about reading them (`notes`: another sheet that looked like a roster, hidden rows
    read, total and note rows left out)."""

    def __init__(self, rows: list[dict[str, Any]], source: RosterSource | None = None,
                 notes: list[str] | None = None) -> None:
        super().__init__(rows)
        self.source = source
        self.notes = notes or []


def with_roster(result: InitResult, roster: list[dict[str, Any]]) -> InitResult:
    """`result`, telling where the roster came from (its sheet, its branches) and the roster's notes
    first among the warnings."""
    if isinstance(roster, RosterRows) and roster.source is not None:
        result.roster = roster.source
        result.warnings[:0] = roster.notes
    return result


def roster_rows(path: Path | None) -> list[dict[str, Any]]:
    """The branch rows of the roster file at `path` (none without one). When several sheets look like
    rosters (one a year), the sheet the file opens on is taken, else the first visible one; the others
    are named in the notes."""
    if path is None:
        return []
    from toolkit.readers.errors import Unreadable
    from toolkit.readers.grid import read_grids
    from toolkit.readers.sheetview import sheet_view
    from toolkit.readers.sniff import sniff

    try:
        data = path.read_bytes()
        kind = sniff(data, roster=True)
        grids = read_grids(data, kind)
    except OSError as exc:
        raise UsageProblem(f"名单文件 {path.name} 无法读取：{exc.strerror or exc}") from exc
    except Unreadable as exc:
        raise UsageProblem(roster_message(exc.reason, **{**exc.params, "file": path.name})) from exc
    found = [(name, reading) for name, grid in grids.items() if (reading := roster_reading(grid)).rows]
    if not found:
        raise UsageProblem(roster_message("no_branch_column", file=path.name))
    listed = [(name, reading) for name, reading in found if _branches_listed(reading.rows)]
    if not listed:
        names = [str(r["党支部名称"]).strip() for r in found[0][1].rows]
        raise UsageProblem(roster_message("not_branches", file=path.name,
                                          names="、".join(f"“{one_line(n)[:20]}”" for n in names[:3])))
    view = sheet_view(data, kind)
    active = [x for x in listed if x[0] == view.active]
    visible = [x for x in listed if not grids[x[0]].hidden]
    sheet, reading = (active or visible or listed)[0]
    count = len({normalize_branch(str(r["党支部名称"])) for r in reading.rows})
    notes = []
    if len(listed) > 1:
        notes.append(roster_message("several_sheets", file=path.name, n=len(listed), sheet=sheet, count=count,
                                    sheets="、".join(f"“{name}”" for name, _ in listed),
                                    which="active" if active else "first"))
    notes += _reading_notes(reading, view.hidden_rows.get(sheet, set()))
    return RosterRows(reading.rows, RosterSource(path.name, None if kind == "csv" else sheet, count), notes)


def _reading_notes(reading: RosterReading, hidden: set[int]) -> list[str]:
    """What the office should hear about rows of the roster: hidden ones read as branches (a branch
    the office hid may be one it dissolved), totals and notes left out."""
    notes = []
    shown = [(line, str(row["党支部名称"]).strip()) for line, row in zip(reading.lines, reading.rows, strict=True)
             if line in hidden]
    if shown:
        notes.append(roster_message("hidden_rows", rows="、".join(str(line + 1) for line, _ in shown),
                                    names="、".join(_short(name) for _, name in shown)))
    if reading.skipped:
        notes.append(roster_message("skipped_rows", rows="、".join(str(line + 1) for line, _ in reading.skipped),
                                    texts="；".join(f"“{_short(text)}”" for _, text in reading.skipped)))
    return notes


def _short(text: str, most: int = 20) -> str:
    text = one_line(text)
    return text if len(text) <= most else text[:most - 1] + "…"


def _branches_listed(rows: list[dict[str, Any]]) -> bool:
    """The rows are branches: a 申报表 or a notice picked as the roster by mistake has a “党支部名称”
    label too, and the labels below it ("品牌名称", "填表人") would become branches."""
    names = [str(r["党支部名称"]).strip() for r in rows]
    return sum("支部" in n for n in names) * 2 >= len(names)


def init_master(path: Path, profile_name: str | None, roster_file: Path | None,
                operator: str | None = None, year: int | None = None, dates: tuple[str, ...] = (),
                office: str | None = None) -> InitResult:
    """`brandkit init`: a new master for the campaign of `year` (the year of its first dated stage; else
    the year the first of `dates` implies, else the notice's, else this year), `dates` setting stages one
    by one (阶段=2027-03-31), `office` signing the mails to branches (填报规则's 落款单位); or adopt an
    existing workbook."""
    from toolkit.files.masterfile import load_master
    from toolkit.files.transaction import update

    operator = operator or getpass.getuser()
    now = dt.datetime.now().replace(microsecond=0)
    roster = roster_rows(roster_file)
    if not path.exists():
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise UsageProblem(f"台账文件名应以 .xlsx 结尾：{path.name}")
        from toolkit.commands.profiles import resolve_profile

        profile = resolve_profile(profile_name)
        profile = campaign(profile, year, parse_date_options(profile, dates), now.date())
        profile = dataclasses.replace(profile, office=(office or "").strip())
        if path.suffix.lower() == ".xlsm":  # the master with buttons; then adopt it like any workbook
            from toolkit.excel.master_template import write_master_template

            write_master_template(profile, path)
            snap = load_master(path, profile.id)
            snap.profile = dataclasses.replace(snap.profile, office=profile.office)
            changes, result = plan_adoption(snap, roster, operator, now)
            result.backup = None
            write_atomic(path, _patched(path.read_bytes(), changes))
            result.created = True
            return with_roster(result, roster)
        changes, result = plan_adoption(MasterSnapshot(path, profile, [], None, None), roster, operator, now)
        _write_new_master(path, changes)
        result.created = True
        return with_roster(result, roster)
    def plan(snap: MasterSnapshot) -> tuple[ChangeSet, InitResult]:
        if year or dates:
            if snap.has_rules_sheet:
                raise UsageProblem(f"台账 {path.name} 已有“{RULES_SHEET}”工作表，各阶段日期以其中的阶段表为准：请在 Excel 中"
                                   f"直接修改；新一年的活动请新建台账（brandkit init 新台账.xlsx --profile … --year …）")
            snap.profile = campaign(snap.profile, year, parse_date_options(snap.profile, dates), now.date())
        if office:
            if snap.has_rules_sheet:
                raise UsageProblem(f"台账 {path.name} 已有“{RULES_SHEET}”工作表：落款单位请在其中“{OFFICE_LABEL}”一行直接修改"
                                   f"（没有这一行时，在第 2 行 A 列写“{OFFICE_LABEL}”，B 列写单位名称）")
            snap.profile = dataclasses.replace(snap.profile, office=office.strip())
        return plan_adoption(snap, roster, operator, now)

    (_, result), backup = update(path, plan, lambda planned: planned[0], snap=_adopted_snapshot(path, profile_name),
                                 profile_name=profile_name)
    result.backup = backup
    return with_roster(result, roster)


def _adopted_snapshot(path: Path, profile_name: str | None) -> MasterSnapshot:
    """The existing workbook's snapshot, the sheet it opens on winning a tie between sheets that look
    like ledgers (one sheet a year, this year's in front). `update` takes it again, without that
    preference, only if the file changes meanwhile; once adopted, the ledger's status columns decide."""
    from toolkit.core.master import snapshot
    from toolkit.files.masterfile import digest, master_bytes, master_grids
    from toolkit.readers.sheetview import active_sheet

    data = master_bytes(path)
    grids = master_grids(path.name, data)
    snap = snapshot(path, grids, profile_name, prefer=active_sheet(data))
    snap.sha256 = digest(data)
    return snap


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
