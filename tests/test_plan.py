"""`plan_merge` in process, over plain-data snapshots: every outcome (added, updated, unchanged, rejected,
held, superseded), the 已提交/逾期提交 stamp, logos, new columns and the 操作记录 rows it appends.

Column names come from the loaded profile (tests/builders.py), so a profile that merges or renames its
fields changes the data these tests feed in, not the tests. No file is read or written here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from toolkit.core.changeset import CellWrite, NewColumn, NewRow, NewSheet, PicturePlacement, RowHeight
from toolkit.core.logsheet import LOG_COLUMNS
from toolkit.core.master import Ledger, MasterSnapshot
from toolkit.core.model import ROW_HEIGHT_PT
from toolkit.core.plan import (
    LOGO_COLUMN_WIDTH,
    RETURN_REASON,
    SERIAL,
    SOURCE_FILE,
    SUBMITTED_AT,
    Incoming,
    MergePlan,
    plan_merge,
    submission_stage,
)
from toolkit.core.profile import Profile, builtin_profiles
from toolkit.core.stages import status_fill

NOW = dt.datetime(2024, 9, 1, 9, 30)
OPERATOR = "王五"
A, B, C = "内科第一党支部", "护理部党支部", "外科第一党支部"


@pytest.fixture(scope="module")
def p() -> Profile:
    return b.profile("hospital-brand")


def due(p: Profile) -> dt.date:
    stage = submission_stage(p)
    assert stage.due, f"{p.id}: the submission stage {stage.name} has no due date"
    return stage.due


def on_time(p: Profile, hour: int = 10) -> str:
    """A received time a few days before the submission stage's due date (Beijing time)."""
    return f"{due(p) - dt.timedelta(days=3)}T{hour:02d}:00:00+08:00"


def run(snap: MasterSnapshot, *items: Incoming, accept_warnings: bool = False) -> MergePlan:
    return plan_merge(snap, list(items), accept_warnings=accept_warnings, operator=OPERATOR, now=NOW)


@dataclass
class View:
    """A plan read back by column name: ledger cell writes per row, fills, and the log rows."""

    plan: MergePlan
    ledger: Ledger
    log_sheet: str
    names: dict[int, str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = {c: name for name, c in self.ledger.columns.items()}
        self.names.update({n.col: n.title for n in self.plan.changes.new_columns})

    def writes(self, row: int) -> list[CellWrite]:
        return [w for w in self.plan.changes.writes if w.sheet == self.ledger.sheet and w.row == row]

    def row(self, row: int) -> dict[str, Any]:
        """Column name -> value written in `row` (a new row's 序号 too, which its NewRow numbers); a cell
        written twice fails (the apply order would decide)."""
        out: dict[str, Any] = {self.names[n.serial[0]]: n.serial[1] for n in self.plan.changes.new_rows
                               if n.row == row and n.serial is not None}
        for w in self.writes(row):
            name = self.names[w.col]
            assert name not in out, f"{name} written twice in row {row}: {out[name]!r}, {w.value!r}"
            out[name] = w.value
        return out

    def fill(self, row: int, column: str) -> str | None:
        (write,) = [w for w in self.writes(row) if self.names[w.col] == column]
        return write.fill

    def rows_written(self) -> set[int]:
        return {w.row for w in self.plan.changes.writes if w.sheet == self.ledger.sheet}

    def log(self) -> list[dict[str, str]]:
        rows: dict[int, dict[str, str]] = {}
        for w in self.plan.changes.writes:
            if w.sheet == self.log_sheet:
                rows.setdefault(w.row, {})[LOG_COLUMNS[w.col]] = w.value
        return [rows[r] for r in sorted(rows)]

    def outcomes(self) -> dict[str, str]:
        """Source file name -> action."""
        return {Path(o.path).name: o.action for o in self.plan.outcomes}


def view(snap: MasterSnapshot, *items: Incoming, accept_warnings: bool = False) -> View:
    assert snap.ledger is not None
    return View(run(snap, *items, accept_warnings=accept_warnings), snap.ledger, snap.profile.ledger.log_sheet)


def stamp(status: str, day: dt.date) -> str:
    return f"{status} {day.isoformat()} {OPERATOR}"


# -- outcomes, table-driven ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """A master (ledger rows, merged sha256s) and a batch; `expect` maps each file name to its outcome."""

    id: str
    rows: Callable[[Profile], list[dict[str, Any]]]
    batch: Callable[[Profile], list[Incoming]]
    expect: dict[str, str]
    accept_warnings: bool = False
    merged: Callable[[Profile], list[tuple[str, str]]] = lambda p: []


def _similar(p: Profile) -> b.Finding:
    assert "similar_text" in p.confirm_rules
    return b.finding("similar_text", "warning", "与另一份申报表的内容高度相似")


CASES = [
    Case("added: a branch the ledger lacks", lambda p: [],
         lambda p: [b.incoming(p, A, received=on_time(p))], {f"{A}-0.xlsx": "added"}),
    Case("updated: a listed branch with a changed value", lambda p: [b.ledger_row(p, A, n=0)],
         lambda p: [b.incoming(p, A, n=1, received=on_time(p))], {f"{A}-1.xlsx": "updated"}),
    Case("unchanged: the log already holds this sha256", lambda p: [b.ledger_row(p, A, n=0)],
         lambda p: [b.incoming(p, A, n=0, sha256="f" * 64, received=on_time(p))], {f"{A}-0.xlsx": "unchanged"},
         merged=lambda p: [(A, "f" * 64)]),
    Case("rejected: a validation error", lambda p: [],
         lambda p: [b.incoming(p, A, findings=[b.finding("required")])], {f"{A}-0.xlsx": "rejected"}),
    Case("rejected: no branch name", lambda p: [],
         lambda p: [b.incoming(p, None)], {"unnamed-0.xlsx": "rejected"}),
    Case("rejected: unreadable", lambda p: [b.ledger_row(p, A)],
         lambda p: [b.unreadable()], {"broken.xlsx": "rejected"}),
    Case("held: a warning that needs confirming", lambda p: [],
         lambda p: [b.incoming(p, A, findings=[_similar(p)])], {f"{A}-0.xlsx": "held"}),
    Case("merged: the same warning, confirmed", lambda p: [],
         lambda p: [b.incoming(p, A, findings=[_similar(p)])], {f"{A}-0.xlsx": "added"}, accept_warnings=True),
    Case("merged: a warning that never blocks", lambda p: [],
         lambda p: [b.incoming(p, A, findings=[b.finding("required", "warning", field="党支部意见")])],
         {f"{A}-0.xlsx": "added"}),
    Case("superseded: an older copy in the same batch", lambda p: [],
         lambda p: [b.incoming(p, A, n=0, received=on_time(p, 9)), b.incoming(p, A, n=1, received=on_time(p, 11))],
         {f"{A}-0.xlsx": "superseded", f"{A}-1.xlsx": "added"}),
    Case("superseded: older than the ledger's submission",
         lambda p: [b.ledger_row(p, A, n=5, received=on_time(p, 12))],
         lambda p: [b.incoming(p, A, n=1, received=on_time(p, 11))], {f"{A}-1.xlsx": "superseded"}),
    Case("several branches at once", lambda p: [b.ledger_row(p, A, n=0), b.ledger_row(p, B, n=1)],
         lambda p: [b.incoming(p, A, n=0, received=on_time(p)), b.incoming(p, B, n=7, received=on_time(p)),
                    b.incoming(p, C, n=2, received=on_time(p))],
         {f"{A}-0.xlsx": "updated", f"{B}-7.xlsx": "updated", f"{C}-2.xlsx": "added"}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_outcome(p: Profile, case: Case) -> None:
    snap = b.snapshot(p, case.rows(p), merged=case.merged(p))
    batch = case.batch(p)
    for items in (batch, batch[::-1]):  # the order files arrive in never matters
        got = view(snap, *items, accept_warnings=case.accept_warnings)
        assert got.outcomes() == case.expect
        assert len(got.plan.outcomes) == len(items)


# -- what each outcome writes -------------------------------------------------------------------------

def test_added_row_below_an_empty_header_gets_every_value_and_the_stamp(p: Profile) -> None:
    values = b.sample_values(p, 3)
    snap = b.snapshot(p, groups={A: "内科党总支"})
    got = view(snap, b.incoming(p, A, values, n=3, received=on_time(p)))
    row = snap.ledger.header_row + 1
    written = got.row(row)
    assert written == {**values, p.key: A, p.group: "内科党总支", SERIAL: 1,
                       SUBMITTED_AT: dt.datetime.fromisoformat(on_time(p)[:16]), SOURCE_FILE: f"{A}-3.xlsx",
                       b.stage_column(p): stamp("已提交", due(p) - dt.timedelta(days=3))}
    assert got.fill(row, b.stage_column(p)) == status_fill(p.statuses, "已提交")
    # nothing to copy the format from (the header is the last row): the row keeps its own, numbered
    assert got.plan.changes.new_rows == [NewRow(p.ledger.sheet, row, row, (snap.ledger.columns[SERIAL], 1))]
    assert got.plan.changes.new_columns == []
    (outcome,) = got.plan.outcomes
    assert outcome.action == "added" and outcome.branch == A
    assert {k for k, before, _ in outcome.changes} == {k for k in written if k not in (b.stage_column(p), SERIAL)}
    assert all(before is None for _, before, _ in outcome.changes)


def test_added_rows_copy_the_last_row_and_number_on(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A, **{SERIAL: 1}), b.ledger_row(p, B, **{SERIAL: 2})])
    last = snap.ledger.last_row
    got = view(snap, b.incoming(p, C, n=1, received=on_time(p, 10)),
               b.incoming(p, "机关第二党支部", n=2, received=on_time(p, 11)))
    serial = snap.ledger.columns[SERIAL]
    assert got.plan.changes.new_rows == [NewRow(p.ledger.sheet, last + 1, last, (serial, 3)),
                                         NewRow(p.ledger.sheet, last + 2, last, (serial, 4))]
    assert got.rows_written() == {last + 1, last + 2}
    # newest first: the later arrival takes the first new row
    assert got.row(last + 1)[p.key] == "机关第二党支部" and got.row(last + 1)[SERIAL] == 3
    assert got.row(last + 2)[p.key] == C and got.row(last + 2)[SERIAL] == 4


def test_a_new_form_after_a_later_stage_decided_waits_for_the_offices_word(p: Profile) -> None:
    """The branch's brand was approved (or selected) at a later stage: a new form would change what was
    approved, silently. It is held, saying which decisions stand; --accept-warnings merges it."""
    later = [s for s in p.stages if s is not submission_stage(p)]
    if not later:
        pytest.skip(f"{p.id} has no stage after the form's")
    passed = next(t for t in later[0].statuses if p.statuses.kind_of(t) == "passed")
    name = b.content_fields(p)[0]
    before = b.ledger_row(p, A, n=0, received=on_time(p, 8), **{later[0].column: stamp(passed, due(p))})
    snap = b.snapshot(p, [before], log_rows=4)
    item = b.incoming(p, A, {**b.sample_values(p, 0), name: b.sample_value(p, name, 1)}, received=on_time(p, 10))
    (held,) = run(snap, item).outcomes
    assert held.action == "held" and f"{later[0].name}：{passed}" in held.reasons[0]
    (merged,) = run(snap, item, accept_warnings=True).outcomes
    assert merged.action == "updated"


def test_updated_writes_only_the_changed_values_and_lists_them(p: Profile) -> None:
    name = b.content_fields(p)[0]
    before = b.ledger_row(p, A, n=0, received=on_time(p, 8))
    after = {**b.sample_values(p, 0), name: b.sample_value(p, name, 1)}
    snap = b.snapshot(p, [before], log_rows=4)
    item = b.incoming(p, A, after, received=on_time(p, 10))
    got = view(snap, item)
    row = snap.ledger.rows[0].row
    assert got.row(row) == {name: after[name], SUBMITTED_AT: dt.datetime.fromisoformat(on_time(p, 10)[:16]),
                            SOURCE_FILE: f"{A}-0.xlsx", b.stage_column(p): stamp("已提交", due(p) - dt.timedelta(days=3))}
    (outcome,) = got.plan.outcomes
    assert (outcome.action, outcome.changes) == ("updated", [(name, before[name], after[name])])
    assert got.plan.changes.new_rows == [] and got.plan.changes.new_sheets == []
    (log,) = got.log()
    assert log["操作"] == "更新" and log["党支部"] == A and log["操作人"] == OPERATOR
    assert log["原值"] == f"{name}：{before[name]}" and log["新值"] == f"{name}：{after[name]}"
    assert log["阶段"] == f"{submission_stage(p).name}：已提交"
    assert log["时间"] == NOW.strftime("%Y-%m-%d %H:%M:%S")
    assert (log["来源文件"], log["SHA256"]) == (f"{A}-0.xlsx", item.checked.submission.provenance.sha256)
    assert min(w.row for w in got.plan.changes.writes if w.sheet == p.ledger.log_sheet) == 5  # below 4 rows


def test_values_read_back_as_other_types_are_not_changes(p: Profile) -> None:
    """calamine gives integers as floats and dates as datetimes; the same value is not a change."""
    numbers = [f.name for f in p.fields if f.name in b.content_fields(p) and f.type in ("integer", "number")]
    assert numbers, f"{p.id}: no numeric ledger column to compare"
    values = b.sample_values(p, 0)
    stored = b.ledger_row(p, A, n=0, **{n: float(values[n]) for n in numbers})
    got = view(b.snapshot(p, [stored]), b.incoming(p, A, values, received=on_time(p)))
    (outcome,) = got.plan.outcomes
    assert (outcome.action, outcome.changes) == ("updated", [])


def test_same_values_in_a_new_file_only_refresh_time_source_and_stamp(p: Profile) -> None:
    """A resubmission with identical content (new sha256) is recorded, with no field listed as changed."""
    snap = b.snapshot(p, [b.ledger_row(p, A, n=0, received=on_time(p, 8), source="old.xlsx")])
    got = view(snap, b.incoming(p, A, n=0, received=on_time(p, 10)))
    assert set(got.row(snap.ledger.rows[0].row)) == {SUBMITTED_AT, SOURCE_FILE, b.stage_column(p)}
    (outcome,) = got.plan.outcomes
    assert outcome.changes == []


def test_unchanged_by_sha256_plans_nothing(p: Profile) -> None:
    item = b.incoming(p, A, n=1, received=on_time(p))
    snap = b.snapshot(p, [b.ledger_row(p, A, n=0)], log_rows=3,
                      merged=[("中共" + A, item.checked.submission.provenance.sha256)])  # normalised on both sides
    plan = run(snap, item)
    assert [o.action for o in plan.outcomes] == ["unchanged"]
    assert not plan.changes and plan.logos == {}


def test_merging_the_same_batch_twice_changes_nothing_the_second_time(p: Profile) -> None:
    items = [b.incoming(p, A, n=1, received=on_time(p)), b.incoming(p, B, n=2, received=on_time(p))]
    first = run(b.snapshot(p, [b.ledger_row(p, A, n=0)]), *items)
    assert sorted(o.action for o in first.outcomes) == ["added", "updated"]
    logged = [(i.checked.branch, i.checked.submission.provenance.sha256) for i in items]  # what the log keeps
    second = run(b.snapshot(p, [b.ledger_row(p, A, n=1), b.ledger_row(p, B, n=2)], log_rows=2, merged=logged), *items)
    assert [o.action for o in second.outcomes] == ["unchanged", "unchanged"] and not second.changes


def test_rejected_branch_in_the_ledger_is_stamped_returned_with_the_reasons(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A)])
    errors = [b.finding("required", message="缺少品牌名称"), b.finding("max_chars", message="品牌内涵超过字数")]
    got = view(snap, b.incoming(p, A, findings=[*errors, b.finding("similar_text", "warning")]))
    row = snap.ledger.rows[0].row
    # the reasons beside the status, where they print and filter (a comment does neither)
    assert got.row(row) == {b.stage_column(p): stamp("退回", NOW.date()), RETURN_REASON: "缺少品牌名称；品牌内涵超过字数"}
    assert got.fill(row, b.stage_column(p)) == status_fill(p.statuses, "退回")
    (outcome,) = got.plan.outcomes
    assert (outcome.action, outcome.reasons) == ("rejected", ["缺少品牌名称", "品牌内涵超过字数"])
    (log,) = got.log()
    assert (log["操作"], log["党支部"], log["阶段"], log["新值"]) == ("退回", A, submission_stage(p).name,
                                                                 "缺少品牌名称；品牌内涵超过字数")
    assert got.plan.changes.new_sheets == [NewSheet(p.ledger.log_sheet, [list(LOG_COLUMNS)], got.plan.changes.new_sheets[0].widths)]


@pytest.mark.parametrize("item", [
    lambda p: b.incoming(p, B, findings=[b.finding("required")]),  # a branch the ledger lacks
    lambda p: b.incoming(p, None),  # no name at all
    lambda p: b.unreadable(),
], ids=["unlisted branch", "no branch", "unreadable"])
def test_rejected_without_a_ledger_row_writes_nothing(p: Profile, item: Callable[[Profile], Incoming]) -> None:
    plan = run(b.snapshot(p, [b.ledger_row(p, A)]), item(p))
    assert [o.action for o in plan.outcomes] == ["rejected"]
    assert not plan.changes


def test_held_writes_nothing_and_names_the_warning(p: Profile) -> None:
    warning = _similar(p)
    plan = run(b.snapshot(p, [b.ledger_row(p, A)]), b.incoming(p, A, n=1, findings=[warning]))
    (outcome,) = plan.outcomes
    assert (outcome.action, outcome.reasons) == ("held", [warning.message])
    assert not plan.changes


@pytest.mark.parametrize("rule", ["similar_text", "duplicate_brand_name"])
def test_every_confirm_rule_holds(p: Profile, rule: str) -> None:
    assert rule in p.confirm_rules
    plan = run(b.snapshot(p), b.incoming(p, A, findings=[b.finding(rule, "warning")]))
    assert [o.action for o in plan.outcomes] == ["held"]


def test_superseded_copy_is_logged_and_the_newest_values_win(p: Profile) -> None:
    name = b.content_fields(p)[0]
    old = b.incoming(p, A, n=0, received=on_time(p, 9))
    new = b.incoming(p, A, n=1, received=on_time(p, 11))
    snap = b.snapshot(p, [b.ledger_row(p, A, n=5, received=on_time(p, 8))], log_rows=0)
    got = view(snap, old, new)
    assert got.outcomes() == {f"{A}-0.xlsx": "superseded", f"{A}-1.xlsx": "updated"}
    assert got.row(snap.ledger.rows[0].row)[name] == b.sample_value(p, name, 1)
    assert [(r["操作"], r["来源文件"]) for r in got.log()] == [("更新", f"{A}-1.xlsx"), ("旧版本", f"{A}-0.xlsx")]


def test_older_than_the_ledger_writes_no_cell(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A, n=5, received=on_time(p, 12))], log_rows=1)
    got = view(snap, b.incoming(p, A, n=1, received=on_time(p, 11)))
    assert got.rows_written() == set()
    assert [r["操作"] for r in got.log()] == ["旧版本"]


def test_a_branch_spelled_differently_is_the_same_branch(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A, n=0)])
    plan = run(snap, b.incoming(p, "中共" + A, n=1, received=on_time(p)))
    assert [o.action for o in plan.outcomes] == ["updated"]
    assert plan.changes.new_rows == []


@pytest.mark.parametrize("name", builtin_profiles())
def test_every_campaign_adds_then_updates_a_branch(name: str) -> None:
    """Every built-in profile, with its own fields and submission stage: a new branch gets each value
    and the stamp; a second submission with other values lists every field as changed."""
    q = b.profile(name)
    stage = submission_stage(q)
    day = stage.due or dt.date(2024, 5, 1)
    first = view(b.snapshot(q), b.incoming(q, A, n=0, received=f"{day}T09:00:00+08:00"))
    assert first.outcomes() == {f"{A}-0.xlsx": "added"}
    written = first.row(1)
    assert {k: written[k] for k in b.content_fields(q)} == b.sample_values(q, 0)
    assert written[stage.column] == stamp("已提交", day)
    snap = b.snapshot(q, [b.ledger_row(q, A, n=0, received=f"{day}T09:00:00+08:00")])
    second = view(snap, b.incoming(q, A, n=1, received=f"{day}T10:00:00+08:00"))
    (outcome,) = second.plan.outcomes
    assert outcome.action == "updated"
    assert {k for k, _, _ in outcome.changes} == set(b.content_fields(q))


# -- the stamp: on time or late -----------------------------------------------------------------------

@pytest.mark.parametrize("when, status", [
    (lambda d: f"{d - dt.timedelta(days=1)}T10:00:00+08:00", "已提交"),
    (lambda d: f"{d}T23:59:00+08:00", "已提交"),  # the due day itself counts
    (lambda d: f"{d + dt.timedelta(days=1)}T00:01:00+08:00", "逾期提交"),
    (lambda d: f"{d + dt.timedelta(days=30)}T10:00:00", "逾期提交"),  # file time: no offset
], ids=["day before", "due day", "day after", "a month late"])
def test_received_after_the_due_date_is_stamped_late(p: Profile, when: Callable[[dt.date], str], status: str) -> None:
    received = when(due(p))
    snap = b.snapshot(p, [b.ledger_row(p, A)])
    got = view(snap, b.incoming(p, A, n=1, received=received))
    row = snap.ledger.rows[0].row
    assert got.row(row)[b.stage_column(p)] == stamp(status, dt.date.fromisoformat(received[:10]))
    assert got.fill(row, b.stage_column(p)) == status_fill(p.statuses, status)
    assert got.log()[0]["阶段"] == f"{submission_stage(p).name}：{status}"


def test_no_received_time_stamps_today_and_leaves_the_time_blank(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A, n=0, received=None)])
    got = view(snap, b.incoming(p, A, n=1, received=None))
    written = got.row(snap.ledger.rows[0].row)
    assert NOW.date() > due(p)  # counted as arriving now, and now is past the due date
    assert written[b.stage_column(p)] == stamp("逾期提交", NOW.date())
    assert written[SUBMITTED_AT] is None


def test_a_stage_without_due_date_is_never_late(p: Profile) -> None:
    stages = tuple(dataclasses.replace(s, due=None) for s in p.stages)
    q = dataclasses.replace(p, stages=stages)
    got = view(b.snapshot(q), b.incoming(q, A, received="2099-01-01T10:00:00+08:00"))
    assert got.row(1)[b.stage_column(q)].startswith("已提交 ")


def test_the_submission_stage_is_the_first_that_knows_submitted() -> None:
    """dangjian-plus opens with a survey stage; the merge stamps the written-material stage."""
    q = b.profile("dangjian-plus")
    assert "已提交" not in q.stages[0].statuses
    stage = submission_stage(q)
    got = view(b.snapshot(q), b.incoming(q, A, received=f"{stage.due}T10:00:00+08:00"))
    assert got.row(1)[stage.column] == stamp("已提交", stage.due)
    assert q.stages[0].column not in got.row(1)


# -- times with different offsets or formats ----------------------------------------------------------
# Received times come from the intake manifest (the mail's own offset: +08:00 from QQ/163, +00:00 or -07:00
# from other servers) or, without a manifest, from the file's mtime (no offset, local time).

EARLY_BEIJING = "2024-08-01T10:00:00+08:00"  # 02:00 UTC
LATER_UTC = "2024-08-01T03:00:00+00:00"  # 11:00 Beijing: one hour after EARLY_BEIJING


def test_newest_by_instant_wins_across_offsets(p: Profile) -> None:
    got = view(b.snapshot(p), b.incoming(p, A, n=0, received=EARLY_BEIJING), b.incoming(p, A, n=1, received=LATER_UTC))
    assert got.outcomes() == {f"{A}-0.xlsx": "superseded", f"{A}-1.xlsx": "added"}


def test_a_later_submission_in_another_offset_is_not_older_than_the_ledger(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A, n=0, received=EARLY_BEIJING)])
    got = view(snap, b.incoming(p, A, n=1, received=LATER_UTC))
    assert got.outcomes() == {f"{A}-1.xlsx": "updated"}


def test_lateness_is_judged_in_beijing_time(p: Profile) -> None:
    received = f"{due(p)}T17:00:00+00:00"
    got = view(b.snapshot(p), b.incoming(p, A, received=received))
    assert got.row(1)[b.stage_column(p)] == stamp("逾期提交", due(p) + dt.timedelta(days=1))


def test_a_file_time_without_offset_and_a_beijing_time_order_correctly(p: Profile) -> None:
    """Naive times are Beijing time (as rules.py reads them); same-offset strings order correctly."""
    got = view(b.snapshot(p), b.incoming(p, A, n=0, received="2024-08-01T10:30:00"),
               b.incoming(p, A, n=1, received=EARLY_BEIJING))
    assert got.outcomes() == {f"{A}-0.xlsx": "added", f"{A}-1.xlsx": "superseded"}


# -- logos and missing columns ------------------------------------------------------------------------

def test_a_logo_is_placed_in_its_column_and_the_row_made_tall(p: Profile) -> None:
    assert p.ledger.logo_column
    pic = b.logo("logo-a")
    snap = b.snapshot(p, [b.ledger_row(p, A)])
    got = view(snap, b.incoming(p, A, n=1, logo=pic, received=on_time(p)))
    row, col = snap.ledger.rows[0].row, snap.ledger.columns[p.ledger.logo_column]
    assert got.plan.changes.pictures == [PicturePlacement(p.ledger.sheet, row, col, pic.data, pic.format,
                                                          pic.width, pic.height, f"brandkit:{A}",
                                                          alt=f"{A}的品牌标识")]
    assert got.plan.changes.row_heights == [RowHeight(p.ledger.sheet, row, ROW_HEIGHT_PT)]
    assert got.plan.logos == {A: pic}
    assert p.ledger.logo_column not in got.row(row)  # the picture, not a value, fills the cell
    (outcome,) = got.plan.outcomes
    assert (p.ledger.logo_column, None, f"图片（{A}-1.xlsx）") in outcome.changes


def test_without_a_logo_no_picture_and_no_row_height(p: Profile) -> None:
    plan = run(b.snapshot(p, [b.ledger_row(p, A)]), b.incoming(p, A, n=1, received=on_time(p)))
    assert plan.changes.pictures == [] and plan.changes.row_heights == [] and plan.logos == {}


def test_a_campaign_without_logo_column_ignores_a_logo() -> None:
    q = b.profile("college-feature")
    assert not q.ledger.logo_column
    plan = run(b.snapshot(q), b.incoming(q, A, logo=b.logo(), received=f"{submission_stage(q).due}T10:00:00+08:00"))
    assert [o.action for o in plan.outcomes] == ["added"]
    assert plan.changes.pictures == [] and plan.logos == {}


def test_missing_columns_are_added_right_of_the_header(p: Profile) -> None:
    """An adopted master without the status and logo columns: both appended, the logo one widened."""
    columns = [c for c in b.ledger_columns(p) if c not in (b.stage_column(p), p.ledger.logo_column)]
    led = b.ledger(p, [{p.key: A}], columns=columns, header_row=2)
    got = view(b.snapshot(p, led=led), b.incoming(p, A, logo=b.logo(), received=on_time(p)))
    assert got.plan.changes.new_columns == [
        NewColumn(p.ledger.sheet, len(columns), 2, b.stage_column(p), None),
        NewColumn(p.ledger.sheet, len(columns) + 1, 2, p.ledger.logo_column, LOGO_COLUMN_WIDTH)]
    assert got.row(3)[b.stage_column(p)].startswith("已提交 ")
    assert got.plan.changes.pictures[0].col == len(columns) + 1


def test_a_snapshot_without_ledger_is_refused(p: Profile) -> None:
    snap = dataclasses.replace(b.snapshot(p), ledger=None)
    with pytest.raises(ValueError, match="no ledger"):
        run(snap, b.incoming(p, A))


# -- combinations that today go wrong -----------------------------------------------------------------

def test_an_older_erroneous_copy_does_not_return_the_merged_newer_one(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A)])
    got = view(snap, b.incoming(p, A, n=1, received=on_time(p, 11)),
               b.incoming(p, A, n=0, received=on_time(p, 9), findings=[b.finding("required")]))
    assert got.row(snap.ledger.rows[0].row)[b.stage_column(p)].startswith("已提交 ")


def test_a_newer_erroneous_copy_is_not_overtaken_by_an_older_valid_one(p: Profile) -> None:
    snap = b.snapshot(p, [b.ledger_row(p, A)])
    got = view(snap, b.incoming(p, A, n=1, received=on_time(p, 11), findings=[b.finding("required")]),
               b.incoming(p, A, n=0, received=on_time(p, 9)))
    assert got.outcomes() == {f"{A}-1.xlsx": "rejected", f"{A}-0.xlsx": "superseded"}


def test_a_held_newer_copy_keeps_an_older_one_out(p: Profile) -> None:
    got = view(b.snapshot(p), b.incoming(p, A, n=1, received=on_time(p, 11), findings=[_similar(p)]),
               b.incoming(p, A, n=0, received=on_time(p, 9)))
    assert got.outcomes() == {f"{A}-1.xlsx": "held", f"{A}-0.xlsx": "superseded"}


def test_a_stamp_dated_after_the_due_date_is_late(p: Profile) -> None:
    assert NOW.date() > due(p)
    got = view(b.snapshot(p), b.incoming(p, A, received=None))
    assert got.row(1)[b.stage_column(p)] == stamp("逾期提交", NOW.date())
