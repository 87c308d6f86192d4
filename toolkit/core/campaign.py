"""A campaign is an instance of its profile (pure): the profile prints month-days, a year makes them dates.

`--year` is the year of the first dated stage; each later stage runs in the year of the one before it,
or the next year when its month-day falls before that stage's (a 11月 申报 followed by an 8月 验收 runs
into the next year). A stage's start before its own due date is in the due date's year, or the year
before when its month-day comes later. A date the profile writes with a year (a profile from before
month-days, or a master's stored copy of one) keeps its distance from the first one.

The resolved dates go into the master's 填报规则 sheet (`stage_rows`); read back (`apply_stage_dates`),
that sheet wins, so everything that compares dates uses the campaign's own.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.core.datetext import parse_date

if TYPE_CHECKING:
    from toolkit.core.profile import Profile, Stage

STAGE_COLUMNS = ("阶段", "开始日期", "截止日期", "工作日数", "本阶段要求（通知原文，仅供参考）")
_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")


@dataclass(frozen=True, order=True)
class MonthDay:
    month: int
    day: int

    def on(self, year: int) -> dt.date:
        """The date in `year`; 02-29 in a year without one is 02-28 (the notice meant 2月底)."""
        return dt.date(year, self.month, min(self.day, calendar.monthrange(year, self.month)[1]))

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class PrintedDate:
    """A stage date as the profile writes it: a month-day, and the year when it names one."""

    when: MonthDay
    year: int | None = None


def printed_date(value: Any) -> PrintedDate:
    """A profile's start/due: "MM-DD" (the notice's month-day), or a full date "YYYY-MM-DD"."""
    if isinstance(value, dt.date):
        return PrintedDate(MonthDay(value.month, value.day), value.year)
    text = str(value).strip()
    if m := _MONTH_DAY.fullmatch(text):
        md = MonthDay(int(m[1]), int(m[2]))
        dt.date(2028, md.month, md.day)  # a leap year: the month and day exist at all
        return PrintedDate(md)
    day = dt.date.fromisoformat(text)
    return PrintedDate(MonthDay(day.month, day.day), day.year)


def first_printed_year(stages: Sequence[Stage]) -> int | None:
    """The year the first dated stage prints, when it prints one (an older, dated profile)."""
    for stage in stages:
        for p in stage.printed:
            if p is not None:
                return p.year
    return None


def default_year(profile: Profile, today: dt.date) -> int:
    """The campaign year when none is given: the notice's printed year, else this year."""
    return profile.notice_year or first_printed_year(profile.stages) or today.year


def resolve(profile: Profile, year: int) -> Profile:
    """`profile` with its stages' dates in the campaign that starts in `year`."""
    base = first_printed_year(profile.stages)
    prev: dt.date | None = None
    stages = []
    for stage in profile.stages:
        start, due = stage.printed
        key = due or start
        if key is None:
            stages.append(stage)
            continue
        if key.year is not None and base is not None:
            y = year + key.year - base
        elif prev is None:
            y = year + (1 if start is not None and due is not None and due.when < start.when else 0)
        else:
            y = prev.year + (1 if key.when < MonthDay(prev.month, prev.day) else 0)
        resolved = key.when.on(y)
        begin = None
        if due is not None and start is not None:
            if start.year is not None and base is not None:
                begin = start.when.on(year + start.year - base)
            else:
                begin = start.when.on(y - (start.when > due.when))
        stages.append(dataclasses.replace(stage, start=resolved if due is None else begin,
                                          due=resolved if due is not None else None))
        prev = resolved
    return dataclasses.replace(profile, stages=tuple(stages), year=year)


def infer_year(profile: Profile, dates: dict[str, tuple[dt.date | None, dt.date | None]]) -> int | None:
    """The campaign year that puts the first stage given a date (--date) in that date's year."""
    probe = resolve(profile, 2000)
    for stage in probe.stages:
        given = dates.get(stage.name)
        if given is None:
            continue
        mine, theirs = (stage.due, given[1]) if given[1] and stage.due else (stage.start, given[0])
        if mine is not None and theirs is not None:
            return theirs.year - (mine.year - 2000)
    return None


def set_dates(profile: Profile, dates: dict[str, tuple[dt.date | None, dt.date | None]]) -> Profile:
    """`profile` with the given stages' start/due replaced (None keeps the one it has)."""
    stages = tuple(dataclasses.replace(s, start=dates[s.name][0] or s.start, due=dates[s.name][1] or s.due)
                   if s.name in dates else s for s in profile.stages)
    return dataclasses.replace(profile, stages=stages)


def parse_date_options(profile: Profile, options: Sequence[str]) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    """`--date 阶段=2027-03-31` (the due date; the start when the stage has only a start) or
    `--date 阶段=2027-04-01~2027-12-31` (start and due), by stage name or id -> stage name -> (start, due)."""
    from toolkit.core.errors import UsageProblem

    out: dict[str, tuple[dt.date | None, dt.date | None]] = {}
    for option in options:
        name, sep, value = option.partition("=")
        stage = profile.stage(name.strip())
        if not sep or stage is None:
            names = "、".join(s.name for s in profile.stages)
            raise UsageProblem(f"--date {option}：应写成 阶段名=日期（如 {profile.stages[0].name}=2027-03-31）；"
                               f"可用的阶段：{names}")
        parts = re.split(r"\s*(?:~|～|至)\s*", value.strip())
        days = [parse_date(p) for p in parts]
        if len(parts) > 2 or any(d is None for d in days):
            raise UsageProblem(f"--date {option}：日期应写成 2027-03-31，或 开始日期~截止日期")
        if len(days) == 2:
            out[stage.name] = (days[0], days[1])
        elif stage.due is None and stage.start is not None:
            out[stage.name] = (days[0], None)
        else:
            out[stage.name] = (None, days[0])
    return out


def campaign(profile: Profile, year: int | None, dates: dict[str, tuple[dt.date | None, dt.date | None]],
             today: dt.date) -> Profile:
    """The campaign `init` sets up: the profile's month-days in `year` (else the year the first --date
    implies, else the notice's printed year, else this year), then the --date values."""
    year = year or infer_year(profile, dates) or default_year(profile, today)
    return set_dates(resolve(profile, year), dates)


# -- the 填报规则 sheet ---------------------------------------------------------------------------

def stage_rows(profile: Profile) -> list[list[Any]]:
    """The stage-date table of the 填报规则 sheet: a header, then one row per stage."""
    return [list(STAGE_COLUMNS), *([s.name, s.start, s.due, s.workdays, s.note] for s in profile.stages)]


def stage_dates_table(rows: list[list[Any]]) -> list[list[Any]]:
    """The stage-date table in the 填报规则 sheet's rows: from its header (a row starting 阶段) to the
    first blank row or the 字段 table; [] when the sheet has none (a master made before)."""
    start = next((r for r, row in enumerate(rows) if row and _text(row[0]) == STAGE_COLUMNS[0]), None)
    if start is None:
        return []
    out = [rows[start]]
    for row in rows[start + 1:]:
        if not row or not any(_text(v) for v in row) or _text(row[0]) == "字段":
            break
        out.append(row)
    return out


def apply_stage_dates(profile: Profile, rows: list[list[Any]]) -> Profile:
    """Apply the 填报规则 sheet's stage dates (`stage_dates_table` rows): they win, a blank cell meaning no
    date; a stage the table does not list keeps the profile's. An unknown stage or a date that does not
    read names its row in the error."""
    from toolkit.core.profile import ProfileError

    if not rows:
        return profile
    header = [_text(h) for h in rows[0]]
    col = {name: header.index(name) for name in STAGE_COLUMNS[:4] if name in header}
    found: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows[1:], start=2):
        def cell(name: str, row: list[Any] = row) -> Any:
            c = col.get(name)
            return row[c] if c is not None and c < len(row) else None

        stage = profile.stage(_text(cell("阶段")))
        if stage is None:
            raise ProfileError(f"填报规则 阶段表第 {n} 行：阶段 {_text(cell('阶段'))!r} 不在活动方案中")
        changes: dict[str, Any] = {}
        for title, attr in (("开始日期", "start"), ("截止日期", "due")):
            raw = cell(title)
            if title not in col:
                continue
            day = parse_date(raw) if _text(raw) else None
            if _text(raw) and day is None:
                raise ProfileError(f"填报规则 阶段表“{stage.name}”的{title} {_text(raw)!r} 不是日期（应写成 2027-03-31）")
            changes[attr] = day
        if "工作日数" in col:
            raw = cell("工作日数")
            try:
                changes["workdays"] = int(float(_text(raw))) if _text(raw) else None
            except ValueError as exc:
                raise ProfileError(f"填报规则 阶段表“{stage.name}”的工作日数 {_text(raw)!r} 不是数字") from exc
        found[stage.name] = changes
    stages = tuple(dataclasses.replace(s, **found[s.name]) if s.name in found else s for s in profile.stages)
    year = next((d.year for s in stages if (d := s.start or s.due) is not None), profile.year)
    return dataclasses.replace(profile, stages=stages, year=year)


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def date_lines(profile: Profile) -> list[str]:
    """The resolved dates, one line per dated stage ("申报：截止 2027-08-10"), for `init` to print."""
    lines = []
    for s in profile.stages:
        span = (f"{s.start} 至 {s.due}" if s.start and s.due else f"截止 {s.due}" if s.due
                else f"{s.start} 起" if s.start else "")
        if s.workdays:
            span += f"{'，' if span else ''}公示 {s.workdays} 个工作日"
        if span:
            lines.append(f"{s.name}：{span}")
    return lines
