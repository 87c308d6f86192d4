"""Working days for any year (pure): the official Chinese calendar where the installed chinese-calendar
has it, weekends past its last year, and the days the office lists in the master's 节假日 sheet on top.

A `WorkCalendar` is a plain value built from the master (`holiday_calendar`) and passed into the pure
date functions of `stages.py`; `OFFICIAL` is the calendar of a master that lists no day. Nothing here
raises for a year the official data does not cover: `unknown_years` says which years a deadline only
guessed, and `calendar_warning` is the one sentence to show for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from toolkit.core.datetext import parse_date
from toolkit.core.text import normalize_label

if TYPE_CHECKING:
    from toolkit.core.grid import Grid

HOLIDAY_SHEET = "节假日"
HOLIDAY_COLUMNS = ("日期", "类型", "说明")
DAY_OFF, DAY_ON = "放假", "调休上班"
# What an officer may write in 类型: a day off, or a (make-up) working day.
_ON_WORDS = ("调休上班", "上班", "补班", "工作日", "调休工作")
_OFF_WORDS = ("放假", "休息", "休假", "假日", "节假日", "调休", "休")
HOLIDAY_NOTE = ("国务院公布次年放假安排之前（或已安装的 chinese-calendar 尚未收录时），请在此列出本单位的放假日和调休上班日；"
                "列出的日子在任何年份都以本表为准。类型填“放假”或“调休上班”。")

OFFICIAL_SOURCE = "国家法定节假日安排"
OFFICE_SOURCE = "台账“节假日”工作表"
WEEKEND_SOURCE = "周末"


@cache
def official_years() -> tuple[int, int]:
    """First and last year the installed chinese-calendar has official holiday data for."""
    from chinese_calendar.constants import holidays

    years = {d.year for d in holidays}
    return min(years), max(years)


def official_known(year: int) -> bool:
    first, last = official_years()
    return first <= year <= last


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: the office's listed days first (`off`: 放假, `on`: 调休上班), then the official
    calendar in the years it covers, else Monday to Friday."""

    off: frozenset[dt.date] = frozenset()
    on: frozenset[dt.date] = frozenset()

    def is_workday(self, day: dt.date) -> bool:
        if day in self.on:
            return True
        if day in self.off:
            return False
        if official_known(day.year):
            import chinese_calendar

            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def listed(self, first: dt.date, last: dt.date) -> int:
        """How many office-listed days fall in [first, last]."""
        return sum(first <= d <= last for d in self.off | self.on)

    def unknown_years(self, first: dt.date, last: dt.date) -> list[int]:
        """The years of [first, last] the official calendar does not cover."""
        lo, hi = sorted((first, last))
        return [y for y in range(lo.year, hi.year + 1) if not official_known(y)]

    def source(self, first: dt.date, last: dt.date) -> str:
        """Which calendar counted the working days of [first, last], in the officer's words."""
        lo, hi = sorted((first, last))
        unknown = self.unknown_years(lo, hi)
        parts = [OFFICIAL_SOURCE] if len(unknown) < hi.year - lo.year + 1 else []
        if unknown:
            parts.append(f"{WEEKEND_SOURCE}（{'、'.join(map(str, unknown))} 年国家安排尚未收录）")
        if self.listed(lo, hi):
            parts.append(OFFICE_SOURCE)
        return "＋".join(parts)


OFFICIAL = WorkCalendar()


def calendar_warning(calendar: WorkCalendar, years: list[int]) -> str | None:
    """One sentence for the years whose official calendar is not known yet (None when there are none)."""
    if not years:
        return None
    _, last = official_years()
    shown = "、".join(str(y) for y in sorted(set(years)))
    listed = sum(d.year in years for d in calendar.off | calendar.on)
    office = (f"按周末及台账“{HOLIDAY_SHEET}”工作表列出的 {listed} 天计算" if listed else
              f"暂按周末计算（台账“{HOLIDAY_SHEET}”工作表未列出这些年份的放假日）")
    return (f"{shown} 年的国家法定节假日安排尚未收录（已安装的 chinese-calendar 收录到 {last} 年），工作日{office}"
            f"；公布后请升级 chinese-calendar（pip install -U chinese-calendar），或在“{HOLIDAY_SHEET}”工作表中列出放假和调休上班日")


def day_kind(text: Any) -> bool | None:
    """An officer's 类型 cell -> True (a working day), False (a day off), None (not understood)."""
    word = normalize_label(str(text or ""))
    if not word:
        return None
    if any(w in word for w in _ON_WORDS):
        return True
    if any(w in word for w in _OFF_WORDS):
        return False
    return None


def holiday_calendar(grid: Grid | None) -> tuple[WorkCalendar, list[str]]:
    """The master's 节假日 sheet as a calendar (a header row with 日期 and 类型, in the first rows), and
    a problem per row it could not read (named by its row number); no sheet: the official calendar."""
    if grid is None:
        return OFFICIAL, []
    header = next(((r, row) for r, row in enumerate(grid.rows[:10])
                   if "日期" in [normalize_label(str(v or "")) for v in row]), None)
    if header is None:
        return OFFICIAL, [f"“{HOLIDAY_SHEET}”工作表中没有“日期”列，未采用"]
    r0, cells = header
    names = [normalize_label(str(v or "")) for v in cells]
    date_col = names.index("日期")
    kind_col = next((c for c, n in enumerate(names) if n.startswith("类型")), None)
    off: set[dt.date] = set()
    on: set[dt.date] = set()
    problems = []
    for r in range(r0 + 1, len(grid.rows)):
        row = grid.rows[r]
        raw = row[date_col] if date_col < len(row) else None
        if raw in (None, ""):
            continue
        day = parse_date(raw)
        written = row[kind_col] if kind_col is not None and kind_col < len(row) else None
        kind = day_kind(written) if str(written or "").strip() else False  # a date alone is a day off
        if day is None or kind is None:
            problems.append(f"“{HOLIDAY_SHEET}”第 {r + 1} 行无法识别（日期填如 2027-10-01，类型填“{DAY_OFF}”或“{DAY_ON}”），未采用")
            continue
        (on if kind else off).add(day)
    return WorkCalendar(frozenset(off), frozenset(on)), problems


def holiday_sheet_rows() -> list[list[Any]]:
    """The 节假日 sheet a new master starts with: the header and what to write in it."""
    return [list(HOLIDAY_COLUMNS), [None, None, HOLIDAY_NOTE]]
