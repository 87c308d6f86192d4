"""Where a campaign stands, as data (pure): one record per branch read from the master snapshot, and
the progress frame built from them — one row per branch, typed columns, one column per stage, as of a
date. Every count that `status`, `summary` and `export` show comes from `progress_frame` through
`group_counts` and `stage_counts`, so no two views can disagree.

Definitions (the leaders read these, so they are fixed here):
- 报送情况: the submission stage's status — 按时提交 (a passed status), 逾期提交 (a late one: it still
  arrived), 退回待重报 (returned), 未报送 (nothing, or anything else). 已提交 = 按时提交 + 逾期提交.
- 已退出: a branch whose status on a stage is a declined one (the profile's `declined`: 未推荐, 未立项 …)
  takes no part in the stages that require that one (directly or through others, `stages.dependents`):
  there it counts as 已退出, whatever its cell still holds (the master keeps every stamp as made). The
  frame's 已退出 says so for the stage 完成率 measures.
- 应参与: the branches the roster (or a must-join 类别) marks 必须参与; every branch when none is marked;
  either way not one 已退出 on the stage 完成率 measures.
- 提交率 = 应参与 branches with an accepted form (on time or late) ÷ 应参与 branches.
- 完成率 = 应参与 branches whose status on the campaign's current stage (`completion_stage`: the last
  stage due by the date, else the submission stage) is a positive final one (passed or late) ÷ the same.
- per stage: each status's kind (通过/待办/退回/逾期/未入选, other), 已退出 and 未办理 (nothing recorded yet).

pandas is imported inside the functions: `brandkit --help` and the Excel buttons never load it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.core.master import MasterSnapshot
from toolkit.core.profile import Profile, Stage
from toolkit.core.roster import must_join, must_join_categories
from toolkit.core.stages import branch_statuses, days_late, dependents, stage_due
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import KIND_ZH, UNHANDLED, Receipt, ReportState

if TYPE_CHECKING:
    import pandas as pd

UNGROUPED = "（未填党总支）"
SUBMITTED = Receipt.SUBMITTED.value  # the column of branches with an accepted form (on time or late)
TOTAL = "合计"
LEDGER_CONTACTS = ("填表人", "联系人", "负责人", "品牌实施负责人")  # ledger columns naming whom to ask
LEDGER_PHONES = ("联系方式", "联系电话", "电话")
LEDGER_MAILS = ("邮箱", "电子邮箱")
DONE_KINDS = ("passed", "late")  # a stage's positive final statuses: done (on time or late)
# What a stage a branch no longer takes part in shows (the frame's stage column, the booklet, the counts),
# and the kind the frame gives it: counted apart, never as done.
WITHDRAWN = "已退出"
WITHDRAWN_KIND = "withdrawn"
# The frame's fixed columns; the stages' columns (one per stage, its status) follow 已完成.
COLUMNS = ("党总支", "党支部", "类别", "必须参与", "应参与", WITHDRAWN, "报送情况", SUBMITTED, "逾期天数", "已完成")
CONTACT_COLUMNS = ("联系人", "联系方式", "邮箱")
# group_counts' columns, in the order the summary and status print them.
COUNT_COLUMNS = ("支部数", "应参与", WITHDRAWN, *(s.value for s in ReportState), SUBMITTED, "提交率", "已完成",
                 "完成率")


@dataclass(frozen=True)
class Withdrawal:
    """Why a branch takes no part in a stage: its status on an earlier stage that stage requires is a
    declined one (`stage` holds `status`)."""

    stage: str
    status: str

    @property
    def text(self) -> str:
        """“推荐”为“未推荐”"""
        return f"“{self.stage}”为“{self.status}”"


def withdrawals(profile: Profile, statuses: Mapping[str, str | None]) -> dict[str, Withdrawal]:
    """Stage name -> why the branch takes no part in it, for every stage that requires (directly or
    through others) a stage where `statuses` (stage name -> status) hold a declined status. The first
    such stage, in the profile's order, is the one named."""
    out: dict[str, Withdrawal] = {}
    for stage in profile.stages:
        status = statuses.get(stage.name)
        if status and profile.statuses.kind_of(status) == "declined":
            for later in dependents(profile, stage):
                out.setdefault(later, Withdrawal(stage.name, status))
    return out


def counted_values(profile: Profile, values: Mapping[str, Any]) -> dict[str, Any]:
    """A ledger row's values as the campaign counts them: the cell of each stage the branch has left
    (`withdrawals`) reads 已退出 with the reason in brackets, whatever was stamped there. For the
    outputs only: the master keeps its cells as they are."""
    out = dict(values)
    left = withdrawals(profile, branch_statuses(profile, values))
    for stage in profile.stages:
        if stage.name in left:
            out[stage.column] = f"{WITHDRAWN}（{left[stage.name].text}）"
    return out


@dataclass(frozen=True)
class BranchRecord:
    branch: str
    group: str
    values: dict[str, Any]  # ledger values by canonical column ({} for a roster-only branch)
    statuses: dict[str, str | None]  # stage name -> status
    kinds: dict[str, str | None]  # stage name -> passed/pending/returned/late/None
    current: str | None  # kind of the latest stamped stage's status
    submitted: bool
    days_late: int  # past the submission stage's due date and not submitted
    category: str | None = None  # 类别 from the 名单 sheet (must_join constraints)
    must_join: bool = False  # 必须参与 (the roster's flag, or a must-join 类别)
    contacts: dict[str, str] = field(default_factory=dict)  # the roster's 支部书记/联系人/电话/邮箱
    # stage name -> why the branch takes no part in it (`withdrawals`); `statuses` and `kinds` keep what
    # the cells hold, every count reads these stages as 已退出
    withdrawn: dict[str, Withdrawal] = field(default_factory=dict)

    def counted(self, stage: str) -> str | None:
        """The stage's status as the counts read it: 已退出 for a stage the branch has left."""
        return WITHDRAWN if stage in self.withdrawn else self.statuses.get(stage)

    def left(self) -> dict[Withdrawal, list[str]]:
        """Each reason the branch has left stages -> those stages (what the reports say of it)."""
        out: dict[Withdrawal, list[str]] = {}
        for stage, why in self.withdrawn.items():
            out.setdefault(why, []).append(stage)
        return out

    def left_text(self) -> str:
        """“推荐”为“未推荐”，不再参与“评选”"""
        return "；".join(f"{why.text}，不再参与{'、'.join(f'“{s}”' for s in stages)}" for why, stages in self.left().items())


def branch_records(snap: MasterSnapshot, today: dt.date) -> list[BranchRecord]:
    profile = snap.profile
    first = profile.submission_stage if profile.stages else None
    rows = snap.ledger.by_branch() if snap.ledger else {}
    categories = must_join_categories(profile)
    fields = [c.field for s in profile.stages for c in s.constraints if c.kind == "must_join" and c.field]
    records = []
    for branch in snap.roster:
        row = rows.get(normalize_branch(branch))
        values = dict(row.values) if row else {}
        statuses = branch_statuses(profile, values)
        kinds = {s: (profile.statuses.kind_of(v) if v else None) for s, v in statuses.items()}
        left = withdrawals(profile, statuses)
        stamped = [s.name for s in profile.stages if statuses[s.name] and s.name not in left]
        current = kinds[stamped[-1]] if stamped else None
        submitted = first is not None and kinds[first.name] in DONE_KINDS
        late = 0 if submitted or first is None else days_late(first, today, snap.calendar)
        entry = snap.roster_entries.get(branch)
        category = snap.categories.get(branch) or next((_text(values.get(f)) for f in fields if values.get(f)), None)
        records.append(BranchRecord(branch, snap.groups.get(branch) or UNGROUPED, values, statuses, kinds,
                                    current, submitted, late, snap.categories.get(branch),
                                    must_join(entry, category, categories), dict(entry.contacts) if entry else {},
                                    left))
    return records


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone typed as a number
    return str(value).strip() if value is not None else ""


def contact(rec: BranchRecord) -> tuple[str, str, str]:
    """(who, phone, mail) to chase a branch: the form's 填表人/负责人, 联系方式 and 邮箱 in the ledger,
    else the roster's 联系人 (or 支部书记), 电话 and 邮箱."""
    def first(values: dict[str, Any], names: tuple[str, ...]) -> str:
        return next((text for n in names if (text := _text(values.get(n)))), "")

    return (first(rec.values, LEDGER_CONTACTS) or first(rec.contacts, ("联系人", "支部书记")),
            first(rec.values, LEDGER_PHONES) or first(rec.contacts, ("电话",)),
            first(rec.values, LEDGER_MAILS) or first(rec.contacts, ("邮箱",)))


def report_state(kind: str | None) -> ReportState:
    """报送情况 of a branch from the kind of its submission stage's status."""
    return {"passed": ReportState.ON_TIME, "late": ReportState.LATE,
            "returned": ReportState.RETURNED}.get(kind or "", ReportState.MISSING)


def completion_stage(profile: Profile, as_of: dt.date, snap: MasterSnapshot | None = None) -> Stage | None:
    """The stage 完成率 measures: the last stage due by `as_of`, else the submission stage."""
    if not profile.stages:
        return None
    calendar = snap.calendar if snap is not None else None
    due = [s for s in profile.stages
           if (d := stage_due(s, calendar) if calendar is not None else stage_due(s)) is not None and d <= as_of]
    return due[-1] if due else profile.submission_stage


def progress_frame(snap: MasterSnapshot, as_of: dt.date, records: list[BranchRecord] | None = None) -> pd.DataFrame:
    """The campaign as of `as_of`: one row per branch on the roster (roster order), the columns of
    `COLUMNS`, one column per stage (its status; 已退出 on a stage the branch has left; <NA> when nothing
    is recorded), then the contacts. 已退出: the branch has left the stage 完成率 measures (not 应参与).
    `records` are `branch_records(snap, as_of)` when the caller has them already. The frame's `attrs`
    keep the date, the stage names, the stage 完成率 measures and each status's kind."""
    import pandas as pd

    profile = snap.profile
    records = branch_records(snap, as_of) if records is None else records
    first = profile.submission_stage if profile.stages else None
    done_stage = completion_stage(profile, as_of, snap)
    anyone_must = any(r.must_join for r in records)
    stages = [s.name for s in profile.stages]
    rows = []
    for r in records:
        kind = r.kinds[first.name] if first else None
        left = done_stage is not None and done_stage.name in r.withdrawn
        rows.append({"党总支": r.group, "党支部": r.branch, "类别": r.category, "必须参与": r.must_join,
                     "应参与": (r.must_join or not anyone_must) and not left, WITHDRAWN: left,
                     "报送情况": report_state(kind).value, SUBMITTED: r.submitted, "逾期天数": r.days_late,
                     "已完成": done_stage is not None and not left and r.kinds[done_stage.name] in DONE_KINDS,
                     **{s: r.counted(s) for s in stages}, **dict(zip(CONTACT_COLUMNS, contact(r), strict=True))})
    frame = pd.DataFrame(rows, columns=[*COLUMNS, *stages, *CONTACT_COLUMNS])
    groups = list(dict.fromkeys(r.group for r in records))
    frame = frame.astype({"党总支": pd.CategoricalDtype(groups), "党支部": "string", "类别": "string",
                          "必须参与": "bool", "应参与": "bool", WITHDRAWN: "bool", SUBMITTED: "bool", "已完成": "bool",
                          "逾期天数": "Int64",
                          **dict.fromkeys([*stages, *CONTACT_COLUMNS], "string")})
    frame["报送情况"] = pd.Categorical(frame["报送情况"], categories=[s.value for s in ReportState], ordered=True)
    for column in CONTACT_COLUMNS:
        frame[column] = frame[column].replace("", pd.NA)
    seen = {v for r in records for s in stages if (v := r.counted(s))}
    frame.attrs.update({"as_of": as_of, "stages": stages, "submission_stage": first.name if first else None,
                        "completion_stage": done_stage.name if done_stage else None,
                        "kinds": {v: WITHDRAWN_KIND if v == WITHDRAWN else profile.statuses.kind_of(v)
                                  for v in sorted(seen)}})
    return frame


def group_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Per 党总支 (frame order) and 合计 (always the last row: a 党总支 named 合计 is a row of its own
    above it, so read rows by position, `group_rows` and `total_row`): 支部数, 应参与, 已退出, each
    报送情况, 已提交, 提交率, 已完成, 完成率 (rates as fractions, <NA> when no branch is expected), then each
    stage's done branches (passed or late; never one that has left the stage)."""
    import pandas as pd

    stages = frame.attrs.get("stages", [])
    expected = frame["应参与"]
    parts = pd.DataFrame({
        "党总支": frame["党总支"], "支部数": 1, "应参与": expected.astype(int), WITHDRAWN: frame[WITHDRAWN].astype(int),
        **{s.value: (frame["报送情况"] == s.value).astype(int) for s in ReportState},
        SUBMITTED: frame[SUBMITTED].astype(int), "应参与已提交": (frame[SUBMITTED] & expected).astype(int),
        "已完成": (frame["已完成"] & expected).astype(int)})
    kinds: dict[str, str | None] = frame.attrs.get("kinds", {})
    done = [status for status, kind in kinds.items() if kind in DONE_KINDS]
    for stage in stages:
        parts[stage] = frame[stage].isin(done).fillna(False).astype(int)
    by_group = parts.groupby("党总支", observed=False, sort=False).sum()
    # the total is the last row, appended: a 党总支 may itself be called 合计 (its row is kept, never
    # overwritten by the total's), so read the groups as every row but the last (`group_rows`)
    by_group = pd.concat([by_group, by_group.sum().to_frame(TOTAL).T])
    by_group["提交率"] = (by_group["应参与已提交"] / by_group["应参与"].where(by_group["应参与"] > 0)).astype("Float64")
    by_group["完成率"] = (by_group["已完成"] / by_group["应参与"].where(by_group["应参与"] > 0)).astype("Float64")
    by_group.index.name = "党总支"
    return by_group[[*COUNT_COLUMNS, *stages]]


def group_rows(counts: pd.DataFrame) -> pd.DataFrame:
    """The 党总支 rows of `group_counts` (every row but the 合计)."""
    return counts.iloc[:-1]


def total_row(counts: pd.DataFrame) -> pd.Series:
    """The 合计 row of `group_counts` (its last)."""
    return counts.iloc[-1]


def stage_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Per stage: branches by the kind of their status (通过 待办 退回 逾期 未入选, 其他), 已退出 (branches
    that have left the stage) and 未办理."""
    import pandas as pd

    kinds: dict[str, str | None] = frame.attrs.get("kinds", {})
    labels = {**KIND_ZH, WITHDRAWN_KIND: WITHDRAWN}
    names = [*KIND_ZH.values(), "其他", WITHDRAWN, UNHANDLED]
    rows = {}
    for stage in frame.attrs.get("stages", []):
        shown = frame[stage].map(lambda v: labels.get(kinds.get(v) or "", "其他"), na_action="ignore")
        counts = shown.fillna(UNHANDLED).value_counts()
        rows[stage] = [int(counts.get(name, 0)) for name in names]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=names) if rows else pd.DataFrame(columns=names)
    out.index.name = "阶段"
    return out

