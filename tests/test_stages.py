"""Stage rules: stamp text, working days on the official calendar, due dates, transitions, constraints."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from toolkit.core.profile import Constraint, Stage, load_profile
from toolkit.core.stages import (
    add_workdays,
    branch_statuses,
    check_constraint,
    check_transition,
    days_late,
    is_workday,
    late_variant,
    parse_stamp,
    stage_due,
    stamp_note,
    stamp_text,
    status_fill,
    workdays_between,
)

D = dt.date
HOSPITAL = load_profile("hospital-brand")


def test_stamp_text_round_trips() -> None:
    text = stamp_text("已通过", D(2024, 8, 12), "张三")
    assert text == "已通过 2024-08-12 张三"
    assert parse_stamp(text) == "已通过"
    noted = stamp_text("退回", D(2024, 8, 12), "张三", "缺少品牌标识")
    assert noted == "退回 2024-08-12 张三（缺少品牌标识）"
    assert (parse_stamp(noted), stamp_note(noted)) == ("退回", "缺少品牌标识")
    assert stamp_text("待审", D(2024, 8, 12), None) == "待审 2024-08-12"
    # an officer's own hand-typed cell still reads as a status
    assert parse_stamp("  已提交（纸质） ") == "已提交"
    assert parse_stamp(None) is None and parse_stamp("  ") is None


def test_fill_per_kind() -> None:
    kinds = HOSPITAL.statuses
    assert [status_fill(kinds, s) for s in ("已通过", "待审", "退回", "逾期提交", "未推荐", "未入选", "放弃")] == \
        ["C6EFCE", "FFEB9C", "FFC7CE", "FFD8B1", "D9D9D9", "D9D9D9", "F2F2F2"]  # declined grey; no kind: neutral


# -- working days ---------------------------------------------------------------------------------------

# 2024 National Day: 10-01..10-07 off, Sunday 09-29 and Saturday 10-12 are make-up workdays.
# 2026 Spring Festival: 02-15..02-23 off, Saturdays 02-14 and 02-28 are make-up workdays.
PUBLICITY = [
    # start,          not counting start, counting start
    (D(2024, 9, 27), D(2024, 10, 10), D(2024, 10, 9)),   # Fri: 09-29 (Sun) counts as a workday
    (D(2024, 9, 28), D(2024, 10, 10), D(2024, 10, 10)),  # a Saturday off: the start day cannot count
    (D(2024, 9, 30), D(2024, 10, 12), D(2024, 10, 11)),  # ends on the make-up Saturday 10-12
    (D(2024, 10, 1), D(2024, 10, 12), D(2024, 10, 12)),  # starts inside the holiday
    (D(2026, 2, 12), D(2026, 2, 26), D(2026, 2, 25)),    # 02-14 (Sat) is day 2 / day 3
    (D(2026, 2, 14), D(2026, 2, 28), D(2026, 2, 27)),    # starts on a make-up Saturday, ends on the other
    (D(2026, 2, 15), D(2026, 2, 28), D(2026, 2, 28)),
]


@pytest.mark.parametrize(("start", "plain", "counted"), PUBLICITY)
def test_publicity_end_dates(start: dt.date, plain: dt.date, counted: dt.date) -> None:
    assert add_workdays(start, 5, count_start_day=False) == plain
    assert add_workdays(start, 5, count_start_day=True) == counted
    assert workdays_between(start, plain) == 5


def test_make_up_days_are_workdays() -> None:
    assert is_workday(D(2024, 9, 29)) and is_workday(D(2024, 10, 12))
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 2, 28))
    assert not is_workday(D(2024, 10, 7)) and not is_workday(D(2026, 2, 23))
    assert add_workdays(D(2024, 9, 27), 1, count_start_day=True) == D(2024, 9, 27)


def test_stage_due_from_workdays_and_the_profile_option() -> None:
    publicity = Stage(id="publicity", name="立项公示", statuses=("已公示",), start=D(2024, 9, 27), workdays=5)
    assert stage_due(publicity) == D(2024, 10, 10)
    assert stage_due(dataclasses.replace(publicity, count_start_day=True)) == D(2024, 10, 9)
    assert stage_due(HOSPITAL.stage("申报")) == D(2024, 8, 10)
    assert stage_due(HOSPITAL.stage("创建")) is None


def test_lateness() -> None:
    declare = HOSPITAL.stage("申报")
    kinds = HOSPITAL.statuses
    assert days_late(declare, D(2024, 8, 10)) == 0 and days_late(declare, D(2024, 8, 13)) == 3
    assert late_variant(kinds, declare, "已提交", D(2024, 8, 11)) == "逾期提交"
    assert late_variant(kinds, declare, "已提交", D(2024, 8, 10)) == "已提交"
    assert late_variant(kinds, declare, "退回", D(2024, 8, 11)) == "退回"  # only passing stamps turn late
    approve = HOSPITAL.stage("党总支审批")
    assert late_variant(kinds, approve, "已通过", D(2030, 1, 1)) == "已通过"  # no due date


# -- transitions and constraints ----------------------------------------------------------------------

def _current(**stamps: str) -> dict[str, str | None]:
    return {s.name: stamps.get(s.id) for s in HOSPITAL.stages}


def test_transitions() -> None:
    approve, declare = HOSPITAL.stage("党总支审批"), HOSPITAL.stage("申报")
    build = HOSPITAL.stage("创建")
    both = {"declare": "已提交", "approve": "已通过"}
    assert check_transition(HOSPITAL, build, "创建中", _current(**both)) is None
    assert check_transition(HOSPITAL, build, "创建中", _current(**{**both, "declare": "逾期提交"})) is None  # late still arrived
    assert "须先完成“申报”" in check_transition(HOSPITAL, build, "创建中", _current(approve="已通过"))
    assert "须先完成“党总支审批”" in check_transition(HOSPITAL, build, "创建中", _current(declare="已提交"))
    assert "目前是“退回”" in check_transition(HOSPITAL, build, "创建中", _current(**{**both, "declare": "退回"}),
                                             force=True)
    # the 党总支 approves the form before it is sent up: 申报 and 党总支审批 in either order
    assert check_transition(HOSPITAL, approve, "已通过", _current()) is None
    assert check_transition(HOSPITAL, declare, "已提交", _current(approve="已通过")) is None
    # backwards within a stage and into an earlier stage
    assert "回退" in check_transition(HOSPITAL, declare, "退回", _current(declare="已提交"))
    assert check_transition(HOSPITAL, declare, "退回", _current(declare="已提交"), force=True) is None
    assert "后续阶段" in check_transition(HOSPITAL, declare, "已提交",
                                         _current(declare="退回", approve="待审", build="创建中"))
    # forward moves within a stage
    assert check_transition(HOSPITAL, declare, "已提交", _current(declare="退回")) is None
    assert check_transition(HOSPITAL, approve, "已通过", _current(declare="已提交", approve="待审")) is None
    assert check_transition(HOSPITAL, build, "已完成",
                            _current(declare="已提交", approve="已通过", build="逾期")) is None


def test_branch_statuses_reads_stamps() -> None:
    values = {"申报状态": "已提交 2024-08-09 张三", "党总支审批状态": None}
    assert branch_statuses(HOSPITAL, values) == {"申报": "已提交", "党总支审批": None, "创建": None,
                                                 "推荐": None, "评选": None, "推广": None}


def test_per_group_constraint() -> None:
    select = HOSPITAL.stage("推荐")
    quota = select.constraints[0]
    kinds = HOSPITAL.statuses
    ok = {"甲": "已推荐", "乙": None, "丙": None}
    assert check_constraint(quota, select, "已推荐", "甲", "内科", ok, None, kinds) is None
    over = {"甲": "已推荐", "乙": "已推荐", "丙": "已推荐"}
    assert "最多 2 个" in check_constraint(quota, select, "已推荐", "丙", "内科", over, None, kinds)
    none_left = {"甲": "未推荐", "乙": "未推荐"}
    assert "至少需 1 个" in check_constraint(quota, select, "未推荐", "乙", "内科", none_left, None, kinds)
    undecided = {"甲": "未推荐", "乙": None}
    assert check_constraint(quota, select, "未推荐", "甲", "内科", undecided, None, kinds) is None


def test_must_join_constraint() -> None:
    stage = Stage(id="declare", name="项目申报", statuses=("已申报", "退回", "不参与"))
    must = Constraint(kind="must_join", field="支部类别", values=("省级样板支部", "校级样板支部", "双带头人工作室"))
    kinds = dataclasses.replace(HOSPITAL.statuses, passed=("已申报",), returned=("退回",))
    assert "必须参与" in check_constraint(must, stage, "不参与", "甲", None, {}, "省级样板支部", kinds)
    assert check_constraint(must, stage, "不参与", "乙", None, {}, "其他", kinds) is None
    assert check_constraint(must, stage, "退回", "甲", None, {}, "双带头人工作室", kinds) is None
    named = dataclasses.replace(must, status="退回")
    assert "必须参与" in check_constraint(named, stage, "退回", "甲", None, {}, "双带头人工作室", kinds)
    odd = Constraint(kind="quota")
    assert "无法识别" in check_constraint(odd, stage, "已申报", "甲", None, {}, None, kinds)
