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
from toolkit.core.master import MasterSnapshot, read_roster
from toolkit.core.messages import unreadable_reason
from toolkit.core.profile import RULES_SHEET
from toolkit.core.profile_sheets import OFFICE_LABEL
from toolkit.excel.master_template import write_new_sheets
from toolkit.files.atomic import write_atomic


def roster_rows(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    from toolkit.readers.errors import Unreadable
    from toolkit.readers.grid import read_grids
    from toolkit.readers.sniff import sniff

    try:
        data = path.read_bytes()
        grids = read_grids(data, sniff(data))
    except OSError as exc:
        raise UsageProblem(f"名单文件 {path.name} 无法读取：{exc.strerror or exc}") from exc
    except Unreadable as exc:
        raise UsageProblem("名单文件 " + unreadable_reason(exc.reason, file=path.name, **exc.params)) from exc
    for grid in grids.values():
        rows = read_roster(grid)
        if rows:
            return _branches_listed(path, rows)
    raise UsageProblem(f"名单文件 {path.name} 中没有找到“党支部名称”列：支部名单应是一张表，第一行写“党总支”“党支部名称”等"
                       "列名，每个支部一行")


def _branches_listed(path: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows`, unless they are no branches: a 申报表 or a notice picked as the roster by mistake has a
    “党支部名称” label too, and the labels below it ("品牌名称", "填表人") would become branches."""
    names = [str(r["党支部名称"]).strip() for r in rows]
    if sum("支部" in n for n in names) * 2 >= len(names):
        return rows
    shown = "、".join(f"“{one_line(n)[:20]}”" for n in names[:3])
    raise UsageProblem(f"名单文件 {path.name} 不像支部名单：“党支部名称”下是{shown}等，不是支部名称（可能选成了申报表或通知）。"
                       "请选择每个支部一行、含“党总支”“党支部名称”列的名单")


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
        if office:
            if snap.has_rules_sheet:
                raise UsageProblem(f"台账 {path.name} 已有“{RULES_SHEET}”工作表：落款单位请在其中“{OFFICE_LABEL}”一行直接修改"
                                   f"（没有这一行时，在第 2 行 A 列写“{OFFICE_LABEL}”，B 列写单位名称）")
            snap.profile = dataclasses.replace(snap.profile, office=office.strip())
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
