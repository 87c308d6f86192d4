"""Stages as rules (pure): stamp text and colour, transition and constraint checks, due dates and
working days on the master's calendar (`workcal.WorkCalendar`).

Nothing here reads a file. `stamp.py` plans a batch with these checks; `status.py` and `summary.py`
read stamps back with `parse_stamp`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from toolkit.errors import UsageProblem
from toolkit.profile import Constraint, Profile, Stage, StatusKinds
from toolkit.text import normalize_choice
from toolkit.workcal import OFFICIAL, WorkCalendar

KIND_FILLS = {"passed": "C6EFCE", "pending": "FFEB9C", "returned": "FFC7CE", "late": "FFC7CE"}
NEUTRAL_FILL = "F2F2F2"  # a status with no kind (e.g. 未推荐): overwrite the previous colour, stay quiet
# A stage counts as reached when its status is of one of these kinds (a late submission still arrived).
DONE_KINDS = ("passed", "late")
# Moving a stage's status to a lower rank is "going backwards" and needs --force.
KIND_RANK = {"passed": 2, "late": 1, "pending": 0, "returned": 0, None: 0}


# -- stamp text and colour -------------------------------------------------------------------------

def stamp_text(status: str, date: dt.date, by: str | None = None, note: str | None = None) -> str:
    """'已通过 2024-08-12 张三', with the note in brackets: '退回 2024-08-12 张三（缺少品牌标识）'."""
    text = " ".join(p for p in (status, date.isoformat(), (by or "").strip()) if p)
    note = (note or "").strip()
    return f"{text}（{note}）" if note else text


def parse_stamp(value: Any) -> str | None:
    """The status of a stamp cell: its first word ('已通过 2024-08-12 张三' -> '已通过'); None when blank."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return text.split()[0].split("（")[0]


def stamp_note(value: Any) -> str:
    """The bracketed note of a stamp cell ('' when none)."""
    text = str(value or "")
    start = text.find("（")
    return text[start + 1:].rstrip("）") if start >= 0 else ""


def status_fill(kinds: StatusKinds, status: str) -> str:
    return KIND_FILLS.get(kinds.kind_of(status) or "", NEUTRAL_FILL)


# -- working days ----------------------------------------------------------------------------------
# Every function takes the master's WorkCalendar (workcal.py); OFFICIAL when the master lists no day.

def is_workday(day: dt.date, calendar: WorkCalendar = OFFICIAL) -> bool:
    """Working day: the office's 节假日 sheet, else the official calendar (weekdays except holidays, plus
    make-up 调休 weekend workdays), else Monday to Friday in a year the official data does not cover."""
    return calendar.is_workday(day)


def add_workdays(start: dt.date, days: int, count_start_day: bool = False,
                 calendar: WorkCalendar = OFFICIAL) -> dt.date:
    """The last day of a period of `days` working days beginning at `start`.

    count_start_day=False (民法典 §201: the start day is not counted): the `days`-th workday after start.
    count_start_day=True (common 公示 practice): start counts as day 1 when it is a workday.
    (chinese_calendar.find_workday counts from the first workday on or after start, which is neither.)
    """
    if days < 1:
        raise ValueError("days must be >= 1")
    day = start if count_start_day else start + dt.timedelta(days=1)
    left = days
    while True:
        if calendar.is_workday(day):
            left -= 1
            if not left:
                return day
        day += dt.timedelta(days=1)


def workdays_between(start: dt.date, end: dt.date, calendar: WorkCalendar = OFFICIAL) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    return sum(calendar.is_workday(start + dt.timedelta(days=n)) for n in range(1, (end - start).days + 1))


# -- due dates -------------------------------------------------------------------------------------

def stage_due(stage: Stage, calendar: WorkCalendar = OFFICIAL) -> dt.date | None:
    """The stage's due date: `due`, else `start` plus its `workdays` (公示 5 个工作日)."""
    if stage.due is not None:
        return stage.due
    if stage.start is not None and stage.workdays:
        return add_workdays(stage.start, stage.workdays, stage.count_start_day, calendar)
    return None


def campaign_year(profile: Profile) -> int | None:
    """The year a date written without one ("4月14日" on a signature line) belongs to: the year the form
    is due, in the campaign's resolved dates (the master's 填报规则 when read from a master)."""
    if not profile.stages:
        return None
    stage = profile.submission_stage
    when = stage.due or stage.start
    return when.year if when else profile.year


def current_stages(profile: Profile, today: dt.date) -> list[Stage]:
    """The stages under way on `today`, for 本阶段要求. A stage's window runs from its start to its due
    date; one without a start opens the day after the previous stage's due date, or alongside the
    previous stage when that would leave it no days (项目申报 "11月10日前" during 品牌酝酿). Between
    windows: the next stage to come; after the last due date: none."""
    running: list[Stage] = []
    upcoming: list[Stage] = []
    prev_start: dt.date | None = None
    prev_due: dt.date | None = None
    for stage in profile.stages:
        due = stage.due
        start = stage.start
        if start is None and prev_due is not None:
            start = prev_due + dt.timedelta(days=1)
            if due is not None and start > due:
                start = prev_start
        if due is not None and (start is None or start <= today) and today <= due:
            running.append(stage)
        elif start is not None and today < start:
            upcoming.append(stage)
        prev_start, prev_due = start, due or prev_due
    return running or upcoming[:1]


def days_late(stage: Stage, when: dt.date, calendar: WorkCalendar = OFFICIAL) -> int:
    """Calendar days past the stage's due date (0 when on time or no due date)."""
    due = stage_due(stage, calendar)
    return max((when - due).days, 0) if due else 0


def late_variant(kinds: StatusKinds, stage: Stage, status: str, when: dt.date) -> str:
    """A passed-kind status stamped after the due date becomes the stage's late status (已提交 -> 逾期提交);
    unchanged when on time, when the stage has no late status, or for other kinds."""
    if kinds.kind_of(status) != "passed" or not days_late(stage, when):
        return status
    late = [s for s in stage.statuses if kinds.kind_of(s) == "late"]
    return late[0] if late else status


# -- transitions -----------------------------------------------------------------------------------

def resolve_stage(profile: Profile, stage: str, status: str) -> Stage:
    """The profile's stage by name or id, checked to allow `status`; a UsageProblem naming the choices."""
    found = profile.stage(stage)
    if found is None:
        names = "、".join(s.name for s in profile.stages)
        raise UsageProblem(f"活动方案“{profile.title}”中没有“{stage}”阶段；可用：{names}")
    if status not in found.statuses:
        raise UsageProblem(f"“{found.name}”阶段没有“{status}”这一状态；可用：{'、'.join(found.statuses)}")
    return found


def check_transition(profile: Profile, stage: Stage, status: str, current: Mapping[str, str | None],
                     force: bool = False) -> str | None:
    """Why stamping `status` (one of the stage's statuses) on `stage` is refused for a branch whose
    stages hold `current` (stage name -> status or None); None when allowed. `force` allows going
    backwards, never skipping a required stage."""
    kinds = profile.statuses
    for name in stage.requires:
        before = current.get(name)
        if kinds.kind_of(before or "") not in DONE_KINDS:
            shown = f"目前是“{before}”" if before else "尚未盖章"
            return f"须先完成“{name}”阶段（{shown}），不能跳过"
    if force:
        return None
    names = [s.name for s in profile.stages]
    later = [n for n in names[names.index(stage.name) + 1:] if current.get(n)]
    if later:
        return (f"已进入后续阶段“{later[-1]}”（{current[later[-1]]}），回改“{stage.name}”需加 --force")
    old = current.get(stage.name)
    if old and KIND_RANK[kinds.kind_of(old)] > KIND_RANK[kinds.kind_of(status)]:
        return f"“{stage.name}”已是“{old}”，改为“{status}”属于回退，需加 --force"
    return None


def check_constraint(c: Constraint, stage: Stage, status: str, branch: str, group: str | None,
                     group_after: Mapping[str, str | None], category: str | None,
                     kinds: StatusKinds) -> str | None:
    """Why one constraint refuses the stamp; None when it holds.

    `group_after`: every branch of the same 党总支 -> its status on this stage once this stamp is made.
    per_group: the count of `c.status` in the group stays <= max, and a group whose branches are all
    decided keeps >= min. must_join: branches of the listed categories (类别) must take part, so they
    cannot be stamped `c.status` (when given) or a status with no kind (未推荐, 放弃 …).
    """
    if c.kind == "per_group":
        if group is None:
            return f"台账中没有填写“{branch}”所属的党总支，无法核对每个党总支的名额；请先在“党总支”列填写"
        chosen = [b for b, s in group_after.items() if s == c.status]
        if c.max is not None and len(chosen) > c.max:
            others = "、".join(b for b in chosen if b != branch)
            return (f"党总支“{group}”已有 {len(chosen) - 1} 个支部为“{c.status}”（{others}），"
                    f"每个党总支最多 {c.max} 个")
        undecided = [b for b, s in group_after.items() if not s]
        if c.min is not None and not undecided and len(chosen) < c.min:
            return (f"党总支“{group}”的支部将全部定为非“{c.status}”，每个党总支至少需 {c.min} 个"
                    f"“{c.status}”")
        return None
    if c.kind == "must_join":
        refused = status == c.status if c.status else kinds.kind_of(status) is None
        if category and normalize_choice(category) in {normalize_choice(v) for v in c.values} and refused:
            return f"“{branch}”属于“{category}”，按要求必须参与“{stage.name}”，不能标记为“{status}”"
        return None
    return f"活动方案中的约束类型 {c.kind!r} 无法识别（可用：per_group、must_join）"


def branch_statuses(profile: Profile, values: Mapping[str, Any]) -> dict[str, str | None]:
    """A ledger row's values -> stage name -> its stamped status (None when blank or no column)."""
    return {s.name: parse_stamp(values.get(s.column)) for s in profile.stages}
