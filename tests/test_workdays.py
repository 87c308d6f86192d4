"""Working days for any year: chinese-calendar where it has data, weekends past its last year, the
master's 节假日 sheet on top (and over the official days it lists); never an error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from toolkit.core.grid import Grid
from toolkit.core.stages import add_workdays, is_workday, stage_due, workdays_between
from toolkit.core.workcal import (
    OFFICIAL,
    WorkCalendar,
    calendar_warning,
    day_kind,
    holiday_calendar,
    official_years,
)

D = dt.date
FIRST, LAST = official_years()
BEYOND = LAST + 1  # a year the installed chinese-calendar does not know yet


def _first(year: int, weekday: int) -> dt.date:
    day = D(year, 1, 1)
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def test_past_the_official_data_weekends_count_and_nothing_raises() -> None:
    saturday, friday = _first(BEYOND, 5), _first(BEYOND, 4)
    assert not is_workday(saturday) and is_workday(friday)  # not an error: Monday to Friday
    assert add_workdays(D(LAST, 12, 28), 5) > D(LAST, 12, 31)  # runs into the unknown year
    assert workdays_between(D(BEYOND, 3, 1), D(BEYOND, 3, 31)) == sum(
        (D(BEYOND, 3, d).weekday() < 5) for d in range(2, 32))
    assert not is_workday(D(FIRST - 1, 12, 31), WorkCalendar(off=frozenset({D(FIRST - 1, 12, 31)})))


def test_the_office_list_adds_holidays_and_make_up_days_and_wins_over_the_official_calendar() -> None:
    holiday, make_up = _first(BEYOND, 2), _first(BEYOND, 5)  # a Wednesday off, a Saturday worked
    cal = WorkCalendar(off=frozenset({holiday}), on=frozenset({make_up}))
    assert not is_workday(holiday, cal) and is_workday(make_up, cal)
    assert is_workday(holiday) and not is_workday(make_up)  # the official calendar alone: weekends only
    national_day = D(2024, 10, 1)
    assert not is_workday(national_day) and is_workday(national_day, WorkCalendar(on=frozenset({national_day})))


def test_publicity_of_five_working_days_skips_a_listed_holiday() -> None:
    """university-project: 公示 stamped on Friday 2027-11-12, 2027-11-16 listed as a holiday: it ends on
    Monday 2027-11-22 (a Tuesday holiday only the office knows about)."""
    cal = WorkCalendar(off=frozenset({D(2027, 11, 16)}))
    assert add_workdays(D(2027, 11, 12), 5, calendar=cal) == D(2027, 11, 22)
    assert workdays_between(D(2027, 11, 12), D(2027, 11, 22), cal) == 5
    from toolkit.core.profile import Stage

    publicity = Stage(id="p", name="公示", statuses=("公示中",), start=D(2027, 11, 12), workdays=5)
    assert stage_due(publicity, cal) == D(2027, 11, 22) and stage_due(publicity) == D(2027, 11, 19)


def test_the_holiday_sheet_reads_dates_kinds_and_names_rows_it_cannot_read() -> None:
    grid = Grid("节假日", [["说明：本单位放假安排"], ["日期", "类型(放假/调休上班)", "说明"],
                           [dt.datetime(2027, 10, 1), "放假", "国庆"], ["2027/10/9", "调休上班", ""],
                           ["2027年10月4日", None, "类型空：放假"], ["十月", "放假", ""], [None, None, "备注行"]])
    cal, problems = holiday_calendar(grid)
    assert cal.off == {D(2027, 10, 1), D(2027, 10, 4)} and cal.on == {D(2027, 10, 9)}
    assert len(problems) == 1 and "第 6 行" in problems[0]
    assert holiday_calendar(None) == (OFFICIAL, [])
    assert [day_kind(w) for w in ("放假", "休息", "调休上班", "补班", "上班", "开会")] == [False, False, True, True, True, None]


def test_the_calendar_names_its_sources_and_warns_once_for_the_unknown_years() -> None:
    cal = WorkCalendar(off=frozenset({D(BEYOND, 5, 3)}))
    assert cal.source(D(LAST, 6, 1), D(LAST, 6, 30)) == "国家法定节假日安排"
    mixed = cal.source(D(LAST, 12, 1), D(BEYOND, 6, 1))
    assert mixed.startswith("国家法定节假日安排＋周末") and f"{BEYOND} 年国家安排尚未收录" in mixed and "节假日" in mixed
    warning = calendar_warning(cal, [BEYOND, BEYOND])
    assert warning is not None and warning.count(str(BEYOND)) == 1 and "列出的 1 天" in warning
    assert calendar_warning(cal, []) is None


def _holidays(master: Path, rows: list[tuple[str, str]]) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(master)
    ws = wb["节假日"]
    for n, (day, kind) in enumerate(rows, start=3):
        ws.cell(n, 1, day)
        ws.cell(n, 2, kind)
    wb.save(master)


@pytest.mark.skipif(LAST >= 2027, reason="the installed chinese-calendar knows 2027")
def test_a_2027_campaign_counts_with_and_without_a_holiday_sheet(tmp_path: Path, cli) -> None:
    master = tmp_path / "台账.xlsx"
    out = cli("init", master, "--profile", "university-project", "--year", "2027")
    assert out.returncode == 0 and "2027、2028 年的国家法定节假日安排尚未收录" in out.stdout
    doc = json.loads(cli("--json", "status", master, "--date", "2027-11-12").stdout)
    [task] = [t for t in doc["next_steps"] if t["stage"] == "项目立项"]
    assert (task["due"], task["workdays_left"], task["days_overdue"]) == ("2027-11-20", 5, 0)
    assert "周末（2027 年国家安排尚未收录）" in task["calendar"] and "节假日" not in task["calendar"]
    assert sum("尚未收录" in w for w in doc["warnings"]) == 1

    _holidays(master, [("2027-11-16", "放假"), ("2027-11-20", "调休上班")])
    doc = json.loads(cli("--json", "status", master, "--date", "2027-11-12").stdout)
    [task] = [t for t in doc["next_steps"] if t["stage"] == "项目立项"]
    assert task["workdays_left"] == 5 and task["calendar"].endswith("台账“节假日”工作表")  # -1 holiday, +1 Saturday
    text = cli("status", master, "--date", "2027-11-12").stdout
    assert "“项目立项”：截止 2027-11-20，还剩 5 个工作日；工作日依据：" in text
    assert "本阶段要求：评审、修改完善，公示 5 个工作日后立项" in text
    assert "台账“节假日”工作表列出的 2 天" in text
