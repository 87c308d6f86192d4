"""Stages as the notices run them (issue #11 item 2): lateness for receipts only, a revised 定稿 never
late, 公示 ends N working days after its stamp, prerequisites in the notice's order (000: 申报 and
党总支审批 either way round), 推荐 and 入选 in columns of their own, a quota's minimum overridden with a
reason the log keeps. Pure rules first, then the planner's decision, then the commands in process."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import pytest

from tests import builders as b
from tests.notice_forms import university_project, write_xlsx
from tests.test_stamp import BRANCHES, log_rows, make_master
from toolkit.core.model import CHINA_TZ
from toolkit.core.plan import decide, plan_merge
from toolkit.core.profile import load_profile
from toolkit.core.stages import late_variant, merge_receipt, publicity_end
from toolkit.core.vocabulary import PUBLICITY_OVER, LogAction, Receipt
from toolkit.files.masterfile import load_master

D = dt.date
UNI = load_profile("university-project")
HOSPITAL = load_profile("hospital-brand")
DECLARE = UNI.stage("项目申报")  # due 2023-11-10
APPROVE = UNI.stage("项目立项")  # 公示 5 个工作日
ONE = ("医学院党委", "内科第一党支部", "孙一", "13712345670")
APPROVED = {"内科第一党支部": {"项目申报": "审核通过"}}


# -- receipts and decisions (pure) ---------------------------------------------------------------------

def test_lateness_turns_a_receipt_late_never_a_decision() -> None:
    kinds = UNI.statuses
    assert late_variant(kinds, DECLARE, "已提交", D(2023, 11, 12)) == "逾期提交"
    assert late_variant(kinds, DECLARE, "审核通过", D(2023, 11, 12)) == "审核通过"
    assert late_variant(kinds, DECLARE, "定稿", D(2023, 11, 12)) == "定稿"
    assess = load_profile("hospital-annual").stage("年终考核评比")  # 优秀 is the 党委's grade, not a delivery
    assert late_variant(load_profile("hospital-annual").statuses, assess, "优秀", D(2030, 1, 1)) == "优秀"


@pytest.mark.parametrize("current, day, expect", [
    (None, D(2023, 11, 10), Receipt.SUBMITTED),
    (None, D(2023, 11, 11), Receipt.LATE),
    ("退回", D(2023, 11, 11), Receipt.LATE),  # a returned form sent again is a first copy again
    ("已提交", D(2023, 11, 15), None),  # a revision: the first copy settled the lateness
    ("逾期提交", D(2023, 11, 15), None),
    ("审核通过", D(2023, 11, 15), Receipt.FINAL),  # after the decision: the 定稿
    ("待审核", D(2023, 11, 15), Receipt.FINAL),
    ("定稿", D(2023, 11, 16), Receipt.FINAL),
], ids=["first on time", "first late", "after 退回", "revision", "revision of a late one", "after 审核通过",
        "during review", "second 定稿"])
def test_what_a_merge_stamps(current: str | None, day: dt.date, expect: str | None) -> None:
    assert merge_receipt(UNI.statuses, DECLARE, current, day) == expect


def test_a_stage_without_finals_keeps_its_decision() -> None:
    stage = dataclasses.replace(DECLARE, statuses=tuple(s for s in DECLARE.statuses if s != Receipt.FINAL))
    assert merge_receipt(UNI.statuses, stage, "审核通过", D(2023, 11, 15)) is None


# -- the planner's decision (pure, as tests/test_plan.py) ------------------------------------------------

def _received(day: dt.date) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


@pytest.mark.parametrize("held, receipt", [("已提交", None), ("审核通过", "定稿")])
def test_decide_a_revision_after_the_due_date_is_not_late(held: str, receipt: str | None) -> None:
    p, branch = b.profile("university-project"), "内科第一党支部"
    row = b.ledger_row(p, branch, n=0, received=_received(D(2023, 11, 8)),
                       **{DECLARE.column: f"{held} 2023-11-09 组织科"})
    snap = b.snapshot(p, [row])
    now = dt.datetime(2023, 11, 20, 9, 0)
    item = b.incoming(p, branch, n=1, received=_received(D(2023, 11, 15)))
    (decision,) = decide(snap, [item], accept_warnings=False, now=now)
    assert (decision.action, decision.receipt) == ("updated", receipt)
    plan = plan_merge(snap, [item], accept_warnings=False, operator="王五", now=now)
    stage_col = snap.ledger.columns[DECLARE.column]
    stamped = [w.value for w in plan.changes.writes if w.sheet == p.ledger.sheet and w.col == stage_col]
    assert stamped == ([] if receipt is None else ["定稿 2023-11-15 王五"])
    assert plan.outcomes[0].changes  # the content was replaced


# -- 公示: N working days after the stamp -------------------------------------------------------------

def test_publicity_counts_working_days_on_the_official_calendar() -> None:
    assert publicity_end(APPROVE, D(2026, 11, 13)) == D(2026, 11, 20)  # Friday + 5 working days
    # over National Day 2025: Sunday 09-28 was a make-up working day, 10-01..10-08 holidays
    assert publicity_end(APPROVE, D(2025, 9, 26)) == D(2025, 10, 10)


def test_publicity_in_2027() -> None:
    assert publicity_end(APPROVE, D(2027, 11, 12)) == D(2027, 11, 19)


def _office_master(cli, path: Path, profile_id: str, **kw) -> Path:
    """The office's own ledger (tests/test_stamp.py's), adopted by `brandkit init` as a master."""
    make_master(path, load_profile(profile_id), **kw)
    assert cli("init", str(path), "--profile", profile_id).returncode == 0
    return path


# -- university-project through the commands --------------------------------------------------------------

def _send(cli, master: Path, folder: Path, branch: str, n: int, day: dt.date) -> dict:
    folder.mkdir(parents=True)
    path = write_xlsx(university_project(branch, n), folder / f"{branch}申报书.xlsx")
    when = dt.datetime.combine(day, dt.time(10), CHINA_TZ).timestamp()
    os.utime(path, (when, when))
    return json.loads(cli("--json", "merge", str(master), str(folder)).stdout)


def _cells(master: Path, column: str) -> dict[str, str | None]:
    snap = load_master(master)
    assert snap.ledger is not None
    return {r.branch: r.values.get(column) for r in snap.ledger.rows}


def test_university_project_decisions_and_revisions(cli, tmp_path: Path) -> None:
    master, roster = tmp_path / "台账.xlsx", tmp_path / "名单.csv"
    first, second = "内科第一党支部", "护理部党支部"
    roster.write_text(f"所属基层党委,党支部名称\n医学院党委,{first}\n医学院党委,{second}\n", encoding="utf-8")
    cli("init", str(master), "--profile", "university-project", "--roster", str(roster))
    assert _send(cli, master, tmp_path / "in1", first, 0, D(2023, 11, 8))["added"] == [first]  # a roster row: its first form is 新增
    assert _send(cli, master, tmp_path / "in2", second, 1, D(2023, 11, 9))["added"] == [second]
    # the 基层党委's 审核通过 two days after the due date is kept as stamped
    done = cli("stamp", str(master), "--stage", "项目申报", "--status", "审核通过", "--branch", first,
               "--date", "2023-11-12", "--by", "组织科")
    assert done.returncode == 0, done.stdout
    assert _cells(master, DECLARE.column)[first] == "审核通过 2023-11-12 组织科"
    # the revised 定稿 after review replaces the first without 逾期; so does a revision of a receipt
    assert _send(cli, master, tmp_path / "in3", first, 2, D(2023, 11, 15))["updated"] == [first]
    assert _send(cli, master, tmp_path / "in4", second, 3, D(2023, 11, 16))["updated"] == [second]
    stamps = _cells(master, DECLARE.column)
    assert stamps[first].startswith("定稿 2023-11-15 ") and stamps[second].startswith("已提交 2023-11-09 ")
    assert _cells(master, "品牌名称")[first] == university_project(first, 2).expected["品牌名称"]
    assert not any("逾期" in str(v) for v in stamps.values())


def test_publicity_ends_and_status_says_so(cli, tmp_path: Path) -> None:
    """公示中 stamped on Friday 2025-09-26: five working days end on 2025-10-10 (National Day between);
    status says 公示期满 from the next day; nothing is stamped by itself."""
    master = _office_master(cli, tmp_path / "台账.xlsx", UNI.id, branches=[ONE], stamps=APPROVED)
    assert cli("stamp", str(master), "--stage", "项目立项", "--status", "公示中", "--branch", "内科第一党支部",
               "--date", "2025-09-26").returncode == 0
    before = master.read_bytes()
    during = json.loads(cli("--json", "status", str(master), "--date", "2025-10-10").stdout)["publicity"]
    assert during == [{"branch": "内科第一党支部", "stage": "项目立项", "start": "2025-09-26", "end": "2025-10-10",
                       "over": False}]
    text = cli("status", str(master), "--date", "2025-10-11").stdout
    assert f"{PUBLICITY_OVER}（2025-10-10）" in text
    assert master.read_bytes() == before


def test_publicity_with_a_holiday_sheet(cli, tmp_path: Path) -> None:
    """The issue's case: 公示 stamped on a Friday (2025-11-14), the Tuesday after (2025-11-18, a 校庆 no
    official calendar knows) listed in the master's 节假日 sheet: it ends on Monday 2025-11-24. (A stamp
    is dated on or before today, so the case is in a past year.)"""
    import openpyxl

    master = _office_master(cli, tmp_path / "台账.xlsx", UNI.id, branches=[ONE], stamps=APPROVED)
    wb = openpyxl.load_workbook(master)
    sheet = wb["节假日"]  # init adds it, headed 日期 | 类型 | 说明
    sheet.append([dt.datetime(2025, 11, 18), "放假", "校庆"])
    wb.save(master)
    cli("stamp", str(master), "--stage", "项目立项", "--status", "公示中", "--branch", "内科第一党支部",
        "--date", "2025-11-14")
    during = json.loads(cli("--json", "status", str(master), "--date", "2025-11-21").stdout)["publicity"]
    assert during[0]["end"] == "2025-11-24"


# -- hospital-brand: the notice's order, 推荐 and 入选, the quota's minimum ----------------------------------

def _stamp(cli, master: Path, stage: str, status: str, *branches: str, extra: tuple[str, ...] = ()) -> dict:
    args = [a for br in branches for a in ("--branch", br)]
    return json.loads(cli("--json", "stamp", str(master), "--stage", stage, "--status", status, "--by", "党办",
                          "--date", "2024-08-20", *args, *extra).stdout)


def test_creation_needs_the_form_and_the_approval_in_either_order(cli, tmp_path: Path) -> None:
    master = _office_master(cli, tmp_path / "台账.xlsx", HOSPITAL.id,
                            stamps={"心内科党支部": {"申报": "已提交"}, "普外科党支部": {"党总支审批": "已通过"}})
    refused = _stamp(cli, master, "创建", "创建中", "心内科", "普外科")["refused"]
    assert [r["branch"] for r in refused] == ["心内科党支部", "普外科党支部"]
    assert "须先完成“党总支审批”" in refused[0]["reason"] and "须先完成“申报”" in refused[1]["reason"]
    # the 党总支 approves before the form is sent up, or after: either order completes the pair
    assert _stamp(cli, master, "党总支审批", "已通过", "心内科")["stamped"] == ["心内科党支部"]
    assert _stamp(cli, master, "申报", "已提交", "普外科")["stamped"] == ["普外科党支部"]
    assert _stamp(cli, master, "创建", "创建中", "心内科", "普外科")["stamped"] == ["心内科党支部", "普外科党支部"]


def _created(rows: list[tuple[str, str, str, str]]) -> dict[str, dict[str, str]]:
    return {br: {"申报": "已提交", "党总支审批": "已通过", "创建": "已完成"} for _, br, *_ in rows}


def test_recommended_by_the_group_and_selected_by_the_committee_are_separate_columns(cli, tmp_path: Path) -> None:
    master = _office_master(cli, tmp_path / "台账.xlsx", HOSPITAL.id, stamps=_created(BRANCHES))
    assert _stamp(cli, master, "推荐", "已推荐", "心内科", "普外科", "党办")["stamped"] == [
        "心内科党支部", "普外科党支部", "党办党支部"]
    assert _stamp(cli, master, "推荐", "未推荐", "消化内科")["stamped"] == ["消化内科党支部"]
    assert _stamp(cli, master, "评选", "入选", "心内科")["stamped"] == ["心内科党支部"]
    refused = _stamp(cli, master, "评选", "入选", "消化内科")["refused"]
    assert "须先完成“推荐”阶段（目前是“未推荐”）" in refused[0]["reason"]
    recommended, selected = _cells(master, "推荐状态"), _cells(master, "评选状态")
    assert recommended["心内科党支部"].startswith("已推荐 ") and selected["心内科党支部"].startswith("入选 ")
    assert recommended["普外科党支部"].startswith("已推荐 ") and selected["普外科党支部"] is None


def test_a_quota_minimum_is_overridden_with_a_reason_in_the_log(cli, tmp_path: Path) -> None:
    master = _office_master(cli, tmp_path / "台账.xlsx", HOSPITAL.id, stamps=_created(BRANCHES))
    refused = _stamp(cli, master, "推荐", "未推荐", "党办")["refused"]
    assert "至少需 1 个“已推荐”" in refused[0]["reason"] and "--quota-reason" in refused[0]["reason"]
    reason = "机关党总支本年度仅一个支部，创建未满一年，经党委同意不推荐"
    done = _stamp(cli, master, "推荐", "未推荐", "党办", extra=("--quota-reason", reason))
    assert done["stamped"] == ["党办党支部"] and not done["refused"]
    (exception,) = [r for r in log_rows(master, HOSPITAL) if r[2] == LogAction.QUOTA_EXCEPTION]
    assert exception[3:5] == ["党办党支部", "推荐"] and reason in exception[6] and "至少 1 个" in exception[6]
    # the maximum is never overridden
    _stamp(cli, master, "推荐", "已推荐", "心内科", "消化内科")
    over = _stamp(cli, master, "推荐", "已推荐", "呼吸内科", extra=("--quota-reason", "特殊情况"))
    assert "最多 2 个" in over["refused"][0]["reason"]
