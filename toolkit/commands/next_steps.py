"""What the office must do next (pure): per stage under way, or past its deadline with branches still
open, what the notice asks (本阶段要求), the deadline in working days left or days overdue, the calendar
that counted them, and the branches that block it.

A branch blocks a stage while its status there is not done (passed or late), not a final decision (a
declined one: 未推荐, 未入选 …, or a word without a kind) and the branch has not left the stage (a
declined status on one it requires, `progress.withdrawals`): nothing stamped, pending, or returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.core.profile import Profile, Stage
from toolkit.core.stages import DONE_KINDS, current_stages, stage_due, workdays_between
from toolkit.core.workcal import WorkCalendar, calendar_warning

if TYPE_CHECKING:
    from toolkit.commands.status import BranchRecord

SHOWN_BRANCHES = 12  # the terminal lists this many blocking branches, then a count


@dataclass(frozen=True)
class StageTask:
    stage: Stage
    due: dt.date | None
    workdays_left: int | None  # working days after today up to the due date; None when overdue or no due
    days_overdue: int  # calendar days past the due date (0 when not)
    due_today: bool
    calendar: str  # which calendar counted the working days ("" without a due date)
    blocking: tuple[str, ...]  # branches not done on this stage, in roster order

    @property
    def deadline(self) -> str:
        """"截止 2027-03-31，还剩 5 个工作日", "截止 2027-03-31，今天截止", "已逾期 3 天（截止 …）"."""
        if self.due is None:
            return "未定截止日期"
        if self.days_overdue:
            return f"已逾期 {self.days_overdue} 天（截止 {self.due}）"
        if self.due_today:
            return f"今天截止（{self.due}）"
        if not self.workdays_left:
            return f"截止 {self.due}，之前已没有工作日"
        return f"截止 {self.due}，还剩 {self.workdays_left} 个工作日"

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage.name, "requirement": self.stage.note, "due": self.due.isoformat() if self.due else None,
                "workdays_left": self.workdays_left, "days_overdue": self.days_overdue, "calendar": self.calendar or None,
                "deadline": self.deadline, "blocking": list(self.blocking)}


def blocks(rec: BranchRecord, stage: Stage) -> bool:
    status, kind = rec.statuses.get(stage.name), rec.kinds.get(stage.name)
    return (kind not in (*DONE_KINDS, "declined") and not (status and kind is None)
            and stage.name not in rec.withdrawn)


def stage_tasks(profile: Profile, records: Sequence[BranchRecord], today: dt.date,
                calendar: WorkCalendar) -> list[StageTask]:
    """The stages under way today (or the next to come), and every stage past its due date that branches
    still block (the form's stage, one the office stamps, or one a branch has done the prerequisites of;
    the office's own 宣传发动 that nobody was stamped on is not chased), in the profile's order."""
    under_way = {s.name for s in current_stages(profile, today)}
    tasks = []
    for stage in profile.stages:
        due = stage_due(stage, calendar)
        blocking = tuple(r.branch for r in records if blocks(r, stage))
        overdue = due is not None and due < today
        tracked = stage == profile.submission_stage or any(
            r.statuses.get(stage.name) or any(r.kinds.get(name) in DONE_KINDS for name in stage.requires) for r in records)
        if stage.name not in under_way and not (overdue and blocking and tracked):
            continue
        left = None if due is None or overdue else workdays_between(today, due, calendar)
        tasks.append(StageTask(stage, due, left, (today - due).days if overdue and due else 0, due == today,
                               calendar.source(today, due) if due else "", blocking))
    return tasks


def calendar_gaps(profile: Profile, tasks: Sequence[StageTask], today: dt.date, calendar: WorkCalendar) -> str | None:
    """The one warning for the years working days were counted in without official data: the days left
    to a task's deadline, and a due date counted in working days (公示 N 个工作日)."""
    spans = [(today, t.due) for t in tasks if t.due and not t.days_overdue]
    spans += [(s.start, due) for s in profile.stages
              if s.due is None and s.start and s.workdays and (due := stage_due(s, calendar))]
    return calendar_warning(calendar, sorted({y for a, b in spans for y in calendar.unknown_years(a, b)}))


def render_tasks(tasks: Sequence[StageTask]) -> list[str]:
    """The terminal's 下一步 section, a blank line after it."""
    if not tasks:
        return []
    lines = ["下一步："]
    for t in tasks:
        lines.append(f"  “{t.stage.name}”：{t.deadline}" + (f"；工作日依据：{t.calendar}" if t.calendar and not t.days_overdue else ""))
        if t.stage.note:
            lines.append(f"    本阶段要求：{t.stage.note}")
        if t.blocking:
            shown = "、".join(t.blocking[:SHOWN_BRANCHES]) + (f" 等 {len(t.blocking)} 个" if len(t.blocking) > SHOWN_BRANCHES else "")
            lines.append(f"    尚未完成（{len(t.blocking)} 个支部）：{shown}")
        else:
            lines.append("    各支部均已完成")
    return [*lines, ""]
