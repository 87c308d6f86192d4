"""`brandkit template`: the branch form (or the macro-enabled master) for a campaign: a profile's in the
notice's year or `--year`, or the campaign a master runs (`--from-master`: its stored profile and dates)."""

from __future__ import annotations

from pathlib import Path

from toolkit.commands.profiles import resolve_profile
from toolkit.core.errors import UsageProblem
from toolkit.core.model import china_today
from toolkit.core.profile import Profile

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".et", ".ods")


def campaign_profile(profile_name: str | None, from_master: Path | None = None, year: int | None = None) -> Profile:
    """The campaign the form is for; a workbook passed as --profile is refused with what to use instead."""
    if from_master is not None:
        if profile_name or year:
            raise UsageProblem("--from-master 已带有台账的活动方案和各阶段日期，不能再同时指定 --profile 或 --year")
        from toolkit.files.masterfile import load_master

        return load_master(from_master).profile
    if profile_name and Path(profile_name).suffix.lower() in WORKBOOK_SUFFIXES:
        raise UsageProblem(f"{Path(profile_name).name} 是表格（台账），不是活动方案：按台账的活动年度和日期生成申报表请用 "
                           f"brandkit template --from-master {profile_name} -o 申报表.xlsx")
    if not profile_name:
        raise UsageProblem("请用 --profile 指定活动方案（brandkit profiles 可列出全部），或用 --from-master 指定台账")
    profile = resolve_profile(profile_name)
    if year is None:
        return profile
    from toolkit.core.campaign import campaign

    return campaign(profile, year, {}, china_today())


def write_template(profile_name: str | None, output: Path, as_master: bool = False, *,
                   from_master: Path | None = None, year: int | None = None) -> Path:
    profile = campaign_profile(profile_name, from_master, year)
    output.parent.mkdir(parents=True, exist_ok=True)
    if as_master:
        from toolkit.excel.master_template import write_master_template

        return write_master_template(profile, output)
    from toolkit.files.templates import write_form

    write_form(profile, output)
    return output
