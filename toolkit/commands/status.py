"""Where a campaign stands (pure): one record per branch read from the ledger's stamps, counted per
党总支 and per stage, with the next due date. `render_status` is the terminal view; the summary
workbook is built from the same records.

The counts (报送情况, 提交率, 完成率, per stage) come from `toolkit.core.progress`, where their
definitions are written down; this module adds what the office must do next and the open problems.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.commands.next_steps import StageTask, calendar_gaps, render_tasks, stage_tasks
from toolkit.commands.paper import paper_followups, paper_lines
from toolkit.core.deliverables import Owed, owed
from toolkit.core.ledger import ambiguous_columns
from toolkit.core.master import MasterSnapshot, duplicate_rows, unlisted_rows
from toolkit.core.model import china_today
from toolkit.core.profile import Profile, Stage
from toolkit.core.progress import (
    COUNT_COLUMNS,
    DONE_KINDS,
    SUBMITTED,
    WITHDRAWN,
    BranchRecord,
    branch_records,
    contact,
    group_counts,
    group_rows,
    progress_frame,
    stage_counts,
    total_row,
)
from toolkit.core.stages import Publicity, current_stages, publicities, stage_due, stamp_note, stamps_as_of
from toolkit.core.text import normalize_branch, normalize_choice
from toolkit.core.vocabulary import KIND_ZH, NOT_SUBMITTED, PUBLICITY_OVER, UNHANDLED, LogAction

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BranchRecord", "contact", "progress", "render_status", "status", "status_json"]
MUST_JOIN_MARK = "【必须参与】"
RATES = ("提交率", "完成率")


@dataclass(frozen=True)
class Counts:
    """A 党总支's (or the 合计) row of `group_counts`, for the web page."""

    branches: int
    submitted: int

    @property
    def missing(self) -> int:
        return self.branches - self.submitted


@dataclass
class StageProgress:
    stage: Stage
    due: dt.date | None
    days_left: int | None
    counts: dict[str, int]  # the stage's row of `stage_counts`: 通过 待办 退回 逾期 其他 未办理 -> branches


@dataclass(frozen=True)
class Issue:
    group: str
    branch: str
    stage: str
    status: str
    text: str


@dataclass
class Progress:
    profile: Profile
    today: dt.date
    records: list[BranchRecord]
    frame: pd.DataFrame  # core.progress.progress_frame: one row per branch, the source of every count
    counts: pd.DataFrame  # core.progress.group_counts: per 党总支 and 合计
    stages: list[StageProgress]
    issues: list[Issue]
    warnings: list[str] = field(default_factory=list)
    stage: Stage | None = None  # the submission stage
    current: list[Stage] = field(default_factory=list)  # the stages under way today (本阶段要求)
    tasks: list[StageTask] = field(default_factory=list)  # what the office must do next, per stage
    owed: list[Owed] = field(default_factory=list)  # deliverables branches in the ledger still owe
    paper: list[tuple[BranchRecord, str]] = field(default_factory=list)  # paper copies to chase (toolkit.commands.paper)
    publicity: list[Publicity] = field(default_factory=list)  # 公示 under way or ended

    @property
    def groups(self) -> dict[str, Counts]:
        return {str(g): Counts(int(row["支部数"]), int(row[SUBMITTED])) for g, row in group_rows(self.counts).iterrows()}

    @property
    def total(self) -> Counts:
        row = total_row(self.counts)
        return Counts(int(row["支部数"]), int(row[SUBMITTED]))

    @property
    def missing(self) -> list[BranchRecord]:
        """Not submitted yet (催报), by 党总支 (in the order the counts list them; whatever it is called)
        then roster order."""
        order = {group: n for n, group in enumerate(self.groups)}
        return sorted((r for r in self.records if not r.submitted), key=lambda r: order.get(r.group, len(order)))

    @property
    def withdrawn(self) -> list[BranchRecord]:
        """Branches that have left one or more stages (a declined status on a stage those require)."""
        return [r for r in self.records if r.withdrawn]

    @property
    def must_join_missing(self) -> list[BranchRecord]:
        """必须参与 branches that have not submitted."""
        return [r for r in self.missing if r.must_join]

    @property
    def submission_due(self) -> StageProgress | None:
        return next((s for s in self.stages if s.stage == self.stage), None)

    @property
    def next_due(self) -> StageProgress | None:
        upcoming = [s for s in self.stages if s.days_left is not None and s.days_left >= 0]
        return min(upcoming, key=lambda s: s.days_left or 0) if upcoming else None


def progress(snap: MasterSnapshot, today: dt.date, log_rows: list[list[Any]] | None = None) -> Progress:
    """Count the ledger's stamps; `log_rows` (the 操作记录 sheet, header first) give returned forms' reasons."""
    profile = snap.profile
    records = branch_records(snap, today)
    frame = progress_frame(snap, today, records)
    by_stage = stage_counts(frame)
    stages = []
    for stage in profile.stages:
        due = stage_due(stage, snap.calendar)
        counts = {str(k): int(v) for k, v in by_stage.loc[stage.name].items()}
        stages.append(StageProgress(stage, due, (due - today).days if due else None, counts))
    overdue = {s.stage.name for s in stages if s.days_left is not None and s.days_left < 0}
    issues = find_issues(profile, records, returned_reasons(log_rows or []), overdue)
    under_way = current_stages(profile, today)
    tasks = stage_tasks(profile, records, today, snap.calendar)
    ledger = [*duplicate_rows(snap.ledger), *ambiguous_columns(snap.ledger), *unlisted_rows(snap)] if snap.ledger else []
    warnings = [*snap.calendar_problems, *ledger, *filter(None, [calendar_gaps(profile, tasks, today, snap.calendar)])]
    public = publicities(profile, {r.branch: r.values for r in records}, today, snap.calendar)
    left = {r.branch: r.withdrawn for r in records}
    owing = [o for o in owed(profile, ((r.branch, r.group, r.values) for r in records if r.values), today)
             if o.stage not in left.get(o.branch, {})]  # a stage the branch has left asks nothing of it
    return Progress(profile, today, records, frame, group_counts(frame), stages, issues, warnings,
                    profile.submission_stage if profile.stages else None, under_way, tasks, owing,
                    paper_followups(profile, records), public)


def returned_reasons(log_rows: list[list[Any]]) -> dict[tuple[str, str], tuple[str, dt.date | None]]:
    """(normalised branch, stage) -> (the reasons the latest 退回 row of the 操作记录 gave, the day it was
    logged or None) — a merge writes a rejected form's findings there, while the ledger cell only says
    退回 — unless a form of the branch was merged since: those reasons were about a file the branch has
    replaced."""
    from toolkit.core.datetext import parse_date

    if not log_rows:
        return {}
    header = [str(h).strip() if h is not None else "" for h in log_rows[0]]
    try:
        act, branch, stage, new = (header.index(h) for h in ("操作", "党支部", "阶段", "新值"))
    except ValueError:
        return {}  # not brandkit's log layout: no reasons rather than wrong ones
    time = header.index("时间") if "时间" in header else None
    out: dict[tuple[str, str], tuple[str, dt.date | None]] = {}
    for row in log_rows[1:]:
        cells = [row[i] if i < len(row) else None for i in (act, branch, stage, new)]
        key = (normalize_branch(str(cells[1] or "")), str(cells[2] or "").split("：")[0])
        if cells[0] == LogAction.RETURNED and cells[1] and cells[3]:
            out[key] = (str(cells[3]), parse_date(row[time]) if time is not None and time < len(row) else None)
        elif cells[0] in (LogAction.ADDED, LogAction.UPDATED):
            out.pop(key, None)
    return out


def find_issues(profile: Profile, records: list[BranchRecord],
                reasons: dict[tuple[str, str], tuple[str, dt.date | None]] | None = None,
                overdue: set[str] | frozenset[str] = frozenset()) -> list[Issue]:
    """Open problems for 问题汇总: returned stamps (with the reason: `returned_reason`), late stamps
    after the form's stage (a late form did arrive: 报送情况 says so), statuses a stage does not know
    (hand-typed cells), stamps on a stage the branch has left (kept in the master, not counted), broken
    党总支 quotas, and branches that must take part (must_join) with nothing done on a stage past its due
    date (`overdue` stage names)."""
    from toolkit.core.master import RETURN_REASON
    from toolkit.core.stages import campaign_year, is_date_text, stamp_date

    year = campaign_year(profile)

    def returned_reason(rec: BranchRecord, stage: Stage, note: str) -> str:
        """Why a stage was returned: the stamp's bracketed note; else the 退回原因 cell (brandkit writes
        it with every reason, and the office may type or edit it there), unless the log gave a reason
        after the day of the 退回 stamp; else the log's reason."""
        if note:
            return note
        cell = _text(rec.values.get(RETURN_REASON))
        logged, day = (reasons or {}).get((normalize_branch(rec.branch), stage.name), ("", None))
        stamped = stamp_date(rec.values.get(stage.column), year)
        newer = bool(logged) and day is not None and stamped is not None and day > stamped
        return logged if newer or not cell else cell

    issues = []
    form = profile.submission_stage if profile.stages else None
    for rec in records:
        for stage in profile.stages:
            status, kind = rec.statuses[stage.name], rec.kinds[stage.name]
            if not status:
                continue
            note = stamp_note(rec.values.get(stage.column))
            note = "" if is_date_text(note) else note  # '退回（8.30）': the stamp's date, not a note
            if (why := rec.withdrawn.get(stage.name)) is not None:
                issues.append(Issue(rec.group, rec.branch, stage.name, status,
                                    f"{WITHDRAWN}：{why.text}，不再参与“{stage.name}”；此处的“{status}”仍留在台账中，"
                                    f"但不计入统计。如该支部确应参加，请改正“{why.stage}”阶段的状态"))
            elif status not in stage.statuses:
                issues.append(Issue(rec.group, rec.branch, stage.name, status,
                                    f"“{status}”不是“{stage.name}”阶段的状态（可用：{'、'.join(stage.statuses)}），请改正"))
            elif kind == "returned":
                issues.append(Issue(rec.group, rec.branch, stage.name, status, returned_reason(rec, stage, note) or "—"))
            elif kind == "late" and stage != form:
                issues.append(Issue(rec.group, rec.branch, stage.name, status, note or "—"))
    for stage in profile.stages:
        for c in stage.constraints:
            if c.kind == "must_join" and stage.name in overdue:
                named = {normalize_choice(v) for v in c.values}
                for r in records:
                    cat = r.category or _text(r.values.get(c.field) if c.field else None)
                    if normalize_choice(cat) in named and r.kinds[stage.name] not in DONE_KINDS \
                            and stage.name not in r.withdrawn:
                        issues.append(Issue(r.group, r.branch, stage.name, r.statuses[stage.name] or UNHANDLED,
                                            f"属于“{cat}”，必须参与“{stage.name}”，已过截止日期仍未完成"))
            if c.kind != "per_group":
                continue
            for group in dict.fromkeys(r.group for r in records):
                members = [r for r in records if r.group == group]
                chosen = [r.branch for r in members if r.counted(stage.name) == c.status]
                decided = all(r.counted(stage.name) for r in members)
                if c.max is not None and len(chosen) > c.max:
                    text = f"{len(chosen)} 个支部为“{c.status}”（{'、'.join(chosen)}），每个党总支最多 {c.max} 个"
                elif c.min is not None and decided and len(chosen) < c.min:
                    text = f"没有足够的“{c.status}”支部（{len(chosen)} 个），每个党总支至少 {c.min} 个"
                else:
                    continue
                issues.append(Issue(group, "", stage.name, c.status or "", text))
    if form is not None and form.name in overdue:  # marked 必须参与 in the roster itself
        listed = {(i.branch, i.stage) for i in issues}
        issues += [Issue(r.group, r.branch, form.name, r.statuses[form.name] or NOT_SUBMITTED,
                         f"名单中标为必须参与，“{form.name}”已过截止日期仍未提交")
                   for r in records if r.must_join and not r.submitted and (r.branch, form.name) not in listed]
    return issues


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


# -- the terminal view -------------------------------------------------------------------------------

def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    from toolkit.core.display import display_width

    cells = [[str(v) for v in row] for row in [header, *rows]]
    widths = [max(display_width(r[i]) for r in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(v + " " * (w - display_width(v)) for v, w in zip(row, widths, strict=True)).rstrip()

    return [line(cells[0]), "  ".join("─" * w for w in widths), *map(line, cells[1:])]


def group_table(p: Progress, compact: bool = True, rates_as_text: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Per 党总支 (and 合计): the 总体进度 figures of `group_counts`, then each later stage's done branches.
    `compact` leaves out the count columns that are zero throughout; rates are "42.9%" (or "—") as text,
    else fractions (None when no branch is expected)."""
    import pandas as pd

    counts = p.counts
    later = [s.name for s in p.profile.stages if p.stage is None or s.name != p.stage.name]
    header = ["党总支", *COUNT_COLUMNS, *later]
    if compact:
        header = [h for h in header if h in ("党总支", "支部数", *RATES) or int(total_row(counts)[h])]

    def cell(row: pd.Series, column: str) -> Any:
        value = row[column]
        if column in RATES:
            return rate_text(value) if rates_as_text else (None if pd.isna(value) else float(value))
        return int(value)

    # by position: a 党总支 may be called 合计 like the total row below it
    rows = [[str(name), *(cell(row, h) for h in header[1:])] for name, row in counts.iterrows()]
    return header, rows


def rate_text(value: Any) -> str:
    """A rate as people read it: 42.9%, or — when there is nothing to divide by."""
    import pandas as pd

    return "—" if pd.isna(value) else f"{float(value):.1%}".replace(".0%", "%")


def days_text(days_left: int | None) -> str:
    """Days to a due date: 还有 5 天, 今天截止, 已逾期 3 天 (never a negative number)."""
    if days_left is None:
        return "—"
    return f"还有 {days_left} 天" if days_left > 0 else "今天截止" if days_left == 0 else f"已逾期 {-days_left} 天"


def stage_table(p: Progress, compact: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Per stage: its due date, the days to it, and its branches by status kind, 已退出 and 未办理 (zero
    columns left out when `compact`)."""
    names = [*KIND_ZH.values(), "其他", WITHDRAWN, UNHANDLED]
    if compact:
        names = [n for n in names if any(s.counts.get(n) for s in p.stages)]
    if compact:
        header = ["阶段", "截止日期", "距截止", *names]
        rows = [[s.stage.name, s.due.isoformat() if s.due else "—", days_text(s.days_left), *(s.counts[k] for k in names)]
                for s in p.stages]
    else:  # `status --json`: 剩余天数 a number of days, never negative (已逾期 N 天)
        header = ["阶段", "截止日期", "剩余天数", *names]
        rows = [[s.stage.name, s.due.isoformat() if s.due else "—",
                 "—" if s.days_left is None else s.days_left if s.days_left >= 0 else days_text(s.days_left),
                 *(s.counts[k] for k in names)] for s in p.stages]
    return header, rows


def stage_line(p: Progress) -> list[str]:
    """The form's stage and its due date, then what the stages under way ask (本阶段要求)."""
    lines = []
    due = p.submission_due
    if due is not None:
        left = due.days_left
        when = "" if left is None else (f"，截止 {due.due}（还有 {left} 天）" if left >= 0
                                        else f"，截止 {due.due}（已逾期 {-left} 天）")
        lines.append(f"申报表所属阶段：“{due.stage.name}”{when}")
    if p.current:
        lines.append(f"当前阶段：{'、'.join(s.name for s in p.current)}")
    return lines


def render_status(p: Progress) -> str:
    lines = [f"{p.profile.title}（{p.profile.id}） {p.today.isoformat()}", *stage_line(p), ""]
    lines += [*render_tasks(p.tasks), "按党总支：", *_table(*group_table(p)), "", "按阶段：", *_table(*stage_table(p))]
    nxt = p.next_due
    if nxt:
        lines += ["", f"下一个截止：“{nxt.stage.name}” {nxt.due}，还有 {nxt.days_left} 天"]
    if p.missing:
        lines += ["", f"未提交 {len(p.missing)} 个支部" + (f"（其中必须参与 {len(p.must_join_missing)} 个）"
                                                       if p.must_join_missing else "") + "："]
        for r in p.missing:
            state = f"（{r.statuses[p.stage.name]}）" if p.stage and r.statuses.get(p.stage.name) else ""
            late = f"，已逾期 {r.days_late} 天" if r.days_late else ""
            lines.append(f"  {r.group}  {r.branch}{MUST_JOIN_MARK if r.must_join else ''}{state}{late}")
    if p.must_join_missing:
        lines += ["", f"必须参与但未提交：{'、'.join(r.branch for r in p.must_join_missing)}"]
    if p.withdrawn:
        lines += ["", f"{WITHDRAWN} {len(p.withdrawn)} 个支部（此后阶段不计入统计，台账中的记录保留）："]
        lines += [f"  {r.group}  {r.branch}：{r.left_text()}" for r in p.withdrawn]
    if p.owed:
        lines += ["", f"待交材料 {len(p.owed)} 项："]
        lines += [f"  {o.group}  {o.branch}  {o.deliverable}（{o.stage}）：{o.state}" for o in p.owed]

    if p.publicity:
        lines += ["", *(f"{x.branch}（{x.stage}）{x.start} 起公示，" + (f"{PUBLICITY_OVER}（{x.end}），请盖章确定结果"
                                                                    if x.over else f"至 {x.end} 止")
                        for x in p.publicity)]
    if p.paper:
        lines += ["", *paper_lines(p.paper)]
    if p.issues:
        lines += ["", f"待处理问题 {len(p.issues)} 条（详见 brandkit summary 的“问题汇总”）"]
    lines += [f"注意：{w}" for w in p.warnings]
    return "\n".join(lines)


def status_json(p: Progress) -> dict[str, Any]:
    """`brandkit status --json`: the tables, then who has not submitted (names, and each with its state)."""
    tables = {name: [dict(zip(header, row, strict=False)) for row in rows]
              for name, (header, rows) in (("groups", group_table(p, compact=False, rates_as_text=False)),
                                           ("stages", stage_table(p, compact=False)))}
    for group in tables["groups"]:
        group[NOT_SUBMITTED] = group["支部数"] - group[SUBMITTED]
    due = p.submission_due
    return {
        "date": p.today.isoformat(), **tables,
        "submission_stage": None if due is None else {
            "name": due.stage.name, "due": due.due.isoformat() if due.due else None, "days_left": due.days_left},
        "current_stages": [{"name": s.name, "note": s.note} for s in p.current],
        "next_steps": [t.to_json() for t in p.tasks],
        "warnings": p.warnings,
        "missing": [r.branch for r in p.missing],
        "must_join_missing": [r.branch for r in p.must_join_missing],
        "owed": [{"deliverable": o.deliverable, "stage": o.stage, "branch": o.branch, "group": o.group,
                  "state": o.state} for o in p.owed],
        "late": [r.branch for r in p.missing if r.days_late],
        "withdrawn": [{"branch": r.branch, "group": r.group, "stage": why.stage, "status": why.status, "left": stages}
                      for r in p.withdrawn for why, stages in r.left().items()],
        "paper": [{"branch": r.branch, "group": r.group, "problem": why} for r, why in p.paper],
        "publicity": [{"branch": x.branch, "stage": x.stage, "start": x.start.isoformat(), "end": x.end.isoformat(),
                       "over": x.over} for x in p.publicity],
        "missing_details": [{"branch": r.branch, "group": r.group, "category": r.category, "must_join": r.must_join,
                             "status": r.statuses.get(p.stage.name) if p.stage else None, "days_late": r.days_late,
                             "contact": contact(r)[0] or None, "phone": contact(r)[1] or None,
                             "email": contact(r)[2] or None}
                            for r in p.missing],
    }


def status(master: Path, profile_name: str | None = None, today: dt.date | None = None) -> Progress:
    """`brandkit status MASTER [--date DAY]`: read the master and count (as of `today` when given)."""
    from toolkit.files.masterfile import load_master

    snap, log = as_of(load_master(master, profile_name), today)
    return progress(snap, today or china_today(), log)


def as_of(snap: MasterSnapshot, day: dt.date | None) -> tuple[MasterSnapshot, list[list[Any]]]:
    """(the master, its 操作记录) as they stood at the end of `day`: stamps dated later and log rows
    written later left out. `day` None: as they are."""
    log = read_log(snap)
    if day is None or snap.ledger is None:
        return snap, log
    rows = [dataclasses.replace(r, values=stamps_as_of(snap.profile, r.values, day)) for r in snap.ledger.rows]
    end = (day + dt.timedelta(days=1)).isoformat()
    log = log[:1] + [r for r in log[1:] if not r or not str(r[0] or "")[:10] or str(r[0])[:10] < end]
    return dataclasses.replace(snap, ledger=dataclasses.replace(snap.ledger, rows=rows)), log


def read_log(snap: MasterSnapshot) -> list[list[Any]]:
    """The 操作记录 sheet's rows (header first); [] when the master has none."""
    if snap.log_rows is None:
        return []
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(snap.path)).get_sheet_by_name(snap.profile.ledger.log_sheet).to_python()
