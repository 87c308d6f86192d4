"""Stages as rules (pure): stamp text and colour, transition and constraint checks, due dates and
working days on the master's calendar (`workcal.WorkCalendar`).

Nothing here reads a file. `stamp.py` plans a batch with these checks; `status.py` and `summary.py`
read stamps back with `parse_stamp`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.core.datetext import date_in
from toolkit.core.errors import UsageProblem
from toolkit.core.profile import Constraint, Profile, Stage, StatusKinds
from toolkit.core.text import normalize_choice
from toolkit.core.vocabulary import Receipt
from toolkit.core.workcal import OFFICIAL, WorkCalendar

# One colour per kind: done green, waiting yellow, returned red, late orange (a late form did arrive),
# declined grey (未入选 is an outcome, nothing to fix).
KIND_FILLS = {"passed": "C6EFCE", "pending": "FFEB9C", "returned": "FFC7CE", "late": "FFD8B1", "declined": "D9D9D9"}
NEUTRAL_FILL = "F2F2F2"  # a status with no kind (a word the office added): overwrite the previous colour, stay quiet
# A stage counts as reached when its status is of one of these kinds (a late submission still arrived).
DONE_KINDS = ("passed", "late")
# Moving a stage's status to a lower rank is "going backwards" and needs --force (what the reasons say;
# the web page, whose control is a checkbox, puts its own words in its place).
FORCE_HINT = "需加 --force"
KIND_RANK = {"passed": 2, "late": 1, "pending": 0, "returned": 0, "declined": 0, None: 0}
# A returned (退回) form is due back this many working days after the 退回: what `notify`'s 退回 mail asks
# unless its --by says otherwise, and what a merge allows when no mail recorded its deadline.
RESEND_WORKDAYS = 5


# -- stamp text and colour -------------------------------------------------------------------------

def stamp_text(status: str, date: dt.date, by: str | None = None, note: str | None = None) -> str:
    """'已通过 2024-08-12 张三', with the note in brackets: '退回 2024-08-12 张三（缺少品牌标识）'."""
    text = " ".join(p for p in (status, date.isoformat(), (by or "").strip()) if p)
    note = (note or "").strip()
    return f"{text}（{note}）" if note else text


def parse_stamp(value: Any) -> str | None:
    """The status of a stamp cell: its first word ('已通过 2024-08-12 张三' -> '已通过'); None when blank.

    Read as officers type it too: the word ends at a space (half- or full-width), a bracket of either
    width ('已通过(8.12)', '已通过（8.12）') or a date typed against it ('已通过2024-08-30')."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    word = _WORD_END.split(text, maxsplit=1)[0]
    digit = _DIGIT.search(word)
    if digit is not None and digit.start() > 0 and _date_at(word[digit.start():]) is not None:
        return word[:digit.start()]
    return word


# Where a stamp's status word ends: a space or a bracket, half- or full-width.
_WORD_END = re.compile(r"[\s（(]")
_DIGIT = re.compile(r"[0-9０-９]")
# A day written as month.day without its year ("（8.12）", "8/12"), as officers date a hand-typed stamp.
_MONTH_DAY = re.compile(r"(?<![\d./\-])(\d{1,2})\s*[./]\s*(\d{1,2})(?![\d./\-])")
# A bracketed part of a stamp, half- or full-width: brandkit's note, or a date typed in brackets.
_BRACKETED = re.compile(r"[（(]([^（()）]*)[）)]?")


def _date_at(text: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of a date written at the start of `text` (NFKC), else None."""
    text = unicodedata.normalize("NFKC", text)
    found = date_in(text)
    if found is not None and text.startswith(found[0]):
        return found[1], found[2], found[3]
    m = _MONTH_DAY.match(text)
    return (None, int(m[1]), int(m[2])) if m else None


def _written_date(text: str, whole: bool = False) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of the first date in `text` (`toolkit.core.datetext.date_in`, or a
    month.day "8.12"); with `whole`, only when the date is all the text holds."""
    text = unicodedata.normalize("NFKC", text).strip()
    found = date_in(text)
    if found is not None and (not whole or found[0].strip() == text):
        return found[1], found[2], found[3]
    m = _MONTH_DAY.fullmatch(text) if whole else _MONTH_DAY.search(text)
    return (None, int(m[1]), int(m[2])) if m else None


def stamp_date(value: Any, year: int | None = None) -> dt.date | None:
    """The date of a stamp cell ('公示中 2027-11-12 张三' -> 2027-11-12); None when it carries none.

    brandkit writes the ISO date as the second word. A hand-typed stamp may date itself otherwise:
    '已提交 2024/8/9', '已通过2024-8-30', '已通过　２０２４－０８－３０', '通过 8月12日', or in brackets
    '已通过（8.12）' — any date outside the brackets, else a bracket holding nothing but a date (a note
    that mentions a day is not the stamp's date). A date without its year takes `year` (the campaign's,
    `campaign_year`); without one, it is undated."""
    words = str(value or "").split("（")[0].split()
    if len(words) > 1:  # brandkit's own: read exactly so
        try:
            return dt.date.fromisoformat(words[1])
        except ValueError:
            pass
    text = str(value or "") if isinstance(value, str) else ""
    outside = _BRACKETED.sub(" ", text)
    found = _written_date(outside) or next(
        (d for m in _BRACKETED.finditer(text) if (d := _written_date(m[1], whole=True))), None)
    if found is None:
        return None
    written_year, month, day = found
    when_year = written_year if written_year is not None else year
    if when_year is None:
        return None
    try:
        return dt.date(when_year, month, day)
    except ValueError:  # 2月30日, 13.1: not a day
        return None


def is_date_text(text: str) -> bool:
    """The text is a date and nothing else ("8.12", "2024/8/12", "8月12日"): a bracket holding it dates
    a hand-typed stamp ('已通过（8.12）'), it is not a note."""
    return _written_date(text, whole=True) is not None


def stamps_as_of(profile: Profile, values: Mapping[str, Any], day: dt.date) -> dict[str, Any]:
    """A ledger row's values as they stood at the end of `day`: a stamp dated later is not made yet
    (blank). A stamp without a date is kept: nothing says when it was made. A hand-typed date without
    its year ("已通过（8.12）") is in the campaign's year."""
    year = campaign_year(profile)
    later = [s.column for s in profile.stages
             if (d := stamp_date(values.get(s.column), year)) is not None and d > day]
    return {**values, **dict.fromkeys(later)}


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
    """A receipt (`StatusKinds.receipts`: 已提交) stamped after the due date becomes the stage's late status
    (逾期提交); unchanged when on time, when the stage has no late status, and always for a decision
    (审核通过, 已推荐): a decision is kept as stamped whatever the date."""
    if status not in kinds.receipts or kinds.kind_of(status) != "passed" or not days_late(stage, when):
        return status
    late = [s for s in stage.statuses if kinds.kind_of(s) == "late"]
    return late[0] if late else status


@dataclass(frozen=True)
class Resend:
    """What the master says of a returned (退回) branch sending its form again (plain data, gathered by
    the planner from the snapshot): the deadline the 退回 mail gave (`by`, None when no mail after the
    last 退回 recorded one), the day of the 退回 stamp (`returned_on`, None when the cell has no date),
    and whether the branch's form had already arrived late (`late`, None when the master cannot tell)."""

    by: dt.date | None = None
    returned_on: dt.date | None = None
    late: bool | None = None


def resend_deadline(resend: Resend, calendar: WorkCalendar = OFFICIAL) -> dt.date | None:
    """The last day a returned form counts as sent back on time: the deadline its 退回 mail gave; without
    one recorded, RESEND_WORKDAYS working days after the 退回 stamp (what the mail says by default when
    sent that day); None when neither is known."""
    if resend.by is not None:
        return resend.by
    if resend.returned_on is not None:
        return add_workdays(resend.returned_on, RESEND_WORKDAYS, calendar=calendar)
    return None


def resent_receipt(kinds: StatusKinds, stage: Stage, day: dt.date, resend: Resend,
                   calendar: WorkCalendar = OFFICIAL) -> str:
    """The receipt of a form sent again on `day` after a 退回: 已提交 by the stage's due date, or by the
    deadline the 退回 gave (`resend_deadline`); the late receipt after that deadline, and always when
    the form had already arrived late before (a 退回 does not undo lateness). When the master cannot
    tell (`late` None), a 退回 stamped after the stage's due date (or undated) counts as late: the
    returned copy arrived by that day at the latest."""
    receipt = late_variant(kinds, stage, Receipt.SUBMITTED, day)
    if receipt == Receipt.SUBMITTED:
        return receipt
    late = resend.late
    if late is None:
        due = stage_due(stage, calendar)
        late = resend.returned_on is None or (due is not None and resend.returned_on > due)
    deadline = resend_deadline(resend, calendar)
    return receipt if late or deadline is None or day > deadline else Receipt.SUBMITTED


def merge_receipt(kinds: StatusKinds, stage: Stage, current: str | None, day: dt.date,
                  resend: Resend | None = None, calendar: WorkCalendar = OFFICIAL) -> str | None:
    """What a merge stamps on the form's stage for a copy received on `day` when the branch's cell there
    holds `current`; None leaves the cell as it is.

    A first copy (nothing stamped, or a word the stage does not know) is 已提交, or the late receipt
    after the due date. A copy after a 退回 is the same, except that with `resend` (what the master says
    of that 退回) it is on time until the deadline the 退回 gave (`resent_receipt`). A copy replacing
    one already received leaves that receipt as stamped: the first copy settled the lateness, a revision
    is never late. A copy after a decision (审核通过, 待审核) is the branch's 定稿: stamped so where the
    stage knows 定稿, else the decision stays."""
    if current is not None and kinds.kind_of(current) == "returned" and resend is not None:
        return resent_receipt(kinds, stage, day, resend, calendar)
    if current is None or current not in stage.statuses or kinds.kind_of(current) == "returned":
        return late_variant(kinds, stage, Receipt.SUBMITTED, day)
    if current in kinds.receipts or kinds.kind_of(current) == "late" or Receipt.FINAL not in stage.statuses:
        return None
    return Receipt.FINAL


def publicity_end(stage: Stage, stamped: dt.date, calendar: WorkCalendar = OFFICIAL) -> dt.date:
    """The last day of the 公示 opened by stamping `stage.publicity` on `stamped`: `stage.workdays`
    working days later (the stamp's own day counted only with `count_start_day`)."""
    if not stage.workdays:
        raise ValueError(f"stage {stage.name!r} has no workdays")
    return add_workdays(stamped, stage.workdays, stage.count_start_day, calendar)


@dataclass(frozen=True)
class Publicity:
    """A branch's 公示 on a stage: stamped `start`, ending `end` (`over` once that day has passed)."""

    branch: str
    stage: str
    start: dt.date
    end: dt.date
    over: bool


def publicities(profile: Profile, rows: Mapping[str, Mapping[str, Any]], today: dt.date,
                calendar: WorkCalendar = OFFICIAL) -> list[Publicity]:
    """Every 公示 under way or ended on `today`: branches (branch -> ledger values) whose cell on a stage
    with `publicity` still holds that status. Nothing is stamped by itself: the office decides the end."""
    out = []
    for stage in profile.stages:
        if stage.publicity is None:
            continue
        for branch, values in rows.items():
            cell = values.get(stage.column)
            start = stamp_date(cell, campaign_year(profile))
            if parse_stamp(cell) == stage.publicity and start is not None:
                end = publicity_end(stage, start, calendar)
                out.append(Publicity(branch, stage.name, start, end, today > end))
    return out


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
                     force: bool = False, *, later: Sequence[str] | None = None) -> str | None:
    """Why stamping `status` (one of the stage's statuses) on `stage` is refused for a branch whose
    stages hold `current` (stage name -> status or None); None when allowed. `force` allows going
    backwards, never skipping a required stage. `later`: dependents(profile, stage), when the caller
    checks many branches."""
    kinds = profile.statuses
    for name in stage.requires:
        before = current.get(name)
        if kinds.kind_of(before or "") not in DONE_KINDS:
            shown = f"目前是“{before}”" if before else "尚未盖章"
            return f"须先完成“{name}”阶段（{shown}），不能跳过"
    if force:
        return None
    entered = [n for n in (dependents(profile, stage) if later is None else later) if current.get(n)]
    if entered:
        return (f"已进入后续阶段“{entered[-1]}”（{current[entered[-1]]}），回改“{stage.name}”{FORCE_HINT}")
    old = current.get(stage.name)
    if old and KIND_RANK[kinds.kind_of(old)] > KIND_RANK[kinds.kind_of(status)]:
        return f"“{stage.name}”已是“{old}”，改为“{status}”属于回退，{FORCE_HINT}"
    return None


def dependents(profile: Profile, stage: Stage) -> list[str]:
    """The stages that need `stage` done first, directly or through others (`requires`): stamping
    `stage` again once one of them is stamped goes back. Stages the notice runs side by side (000: 申报
    and 党总支审批, in either order) do not depend on each other."""
    out: list[str] = []
    for s in profile.stages:  # `requires` names earlier stages only, so one pass finds them all
        if stage.name in s.requires or any(r in out for r in s.requires):
            out.append(s.name)
    return out


def below_min(c: Constraint, group_after: Mapping[str, str | None]) -> bool:
    """A per-group quota's minimum is unmet: every branch of the group is decided, too few `c.status`."""
    chosen = [b for b, s in group_after.items() if s == c.status]
    return c.min is not None and all(group_after.values()) and len(chosen) < c.min


def check_constraint(c: Constraint, stage: Stage, status: str, branch: str, group: str | None,
                     group_after: Mapping[str, str | None], category: str | None,
                     kinds: StatusKinds, allow_below_min: bool = False) -> str | None:
    """Why one constraint refuses the stamp; None when it holds.

    `group_after`: every branch of the same 党总支 -> its status on this stage once this stamp is made.
    per_group: the count of `c.status` in the group stays <= max, and a group whose branches are all
    decided keeps >= min (unless `allow_below_min`: the officer gave a reason). must_join: branches of
    the listed categories (类别) must take part, so they cannot be stamped `c.status` (when given) or a
    status that leaves them out (declined: 未推荐; or one with no kind: 放弃 …).
    """
    if c.kind == "per_group":
        if group is None:
            return f"台账中没有填写“{branch}”所属的党总支，无法核对每个党总支的名额；请先在“党总支”列填写"
        chosen = [b for b, s in group_after.items() if s == c.status]
        if c.max is not None and len(chosen) > c.max:
            others = "、".join(b for b in chosen if b != branch)
            return (f"党总支“{group}”已有 {len(chosen) - 1} 个支部为“{c.status}”（{others}），"
                    f"每个党总支最多 {c.max} 个")
        if below_min(c, group_after) and not allow_below_min:
            return (f"党总支“{group}”的支部将全部定为非“{c.status}”，每个党总支至少需 {c.min} 个"
                    f"“{c.status}”；确需如此，请加 --quota-reason 写明理由（记入操作记录）")
        return None
    if c.kind == "must_join":
        refused = status == c.status if c.status else kinds.kind_of(status) in (None, "declined")
        if category and normalize_choice(category) in {normalize_choice(v) for v in c.values} and refused:
            return f"“{branch}”属于“{category}”，按要求必须参与“{stage.name}”，不能标记为“{status}”"
        return None
    return f"活动方案中的约束类型 {c.kind!r} 无法识别（可用：per_group、must_join）"


def branch_statuses(profile: Profile, values: Mapping[str, Any]) -> dict[str, str | None]:
    """A ledger row's values -> stage name -> its stamped status (None when blank or no column)."""
    return {s.name: parse_stamp(values.get(s.column)) for s in profile.stages}


def stage_after_form(profile: Profile) -> Stage | None:
    """The first stage after the form's that a merged form may take next (it requires no other stage)."""
    if not profile.stages:
        return None
    submitted = profile.submission_stage
    later = profile.stages[profile.stages.index(submitted) + 1:]
    return next((s for s in later if set(s.requires) <= {submitted.name}), None)
