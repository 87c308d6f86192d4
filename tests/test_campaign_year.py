"""A campaign is an instance: `init --year 2027` (or `--date 阶段=…`) turns the profile's month-days into
the campaign's dates, rolling into the next year where the notice does; the master's 填报规则 carries
them and wins; lateness, status and the yearless dates of forms use them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from tests.notice_forms import BUILDERS, write_xlsx
from toolkit.core.campaign import MonthDay, parse_date_options, resolve
from toolkit.core.errors import UsageProblem
from toolkit.core.model import CHINA_TZ
from toolkit.core.profile import load_profile, parse_profile
from toolkit.core.stages import campaign_year, parse_stamp

D = dt.date
BRANCHES = ["内科第一党支部", "护理部党支部", "机关第二党支部"]  # the last one comes two days late


def _dates(profile_id: str, year: int) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    return {s.name: (s.start, s.due) for s in resolve(load_profile(profile_id), year).stages}


def test_month_days_roll_into_the_next_year_where_the_notice_does() -> None:
    college = _dates("college-feature", 2027)  # 002: 4月 申报 … 2028 年 1 月底 验收, 2 月 表彰
    assert college["申报"] == (None, D(2027, 4, 15)) and college["培育创建"] == (D(2027, 4, 1), D(2027, 12, 31))
    assert college["评估验收"] == (None, D(2028, 1, 31)) and college["交流表彰"] == (D(2028, 2, 1), D(2028, 2, 29))
    assert _dates("college-feature", 2028)["交流表彰"][1] == D(2029, 2, 28)  # 2月底 in a year without 02-29
    project = _dates("university-project", 2027)  # 003: 2027-10 申报 … 2028-08 验收
    assert project["项目申报"] == (None, D(2027, 11, 10)) and project["项目立项"] == (None, D(2027, 11, 20))
    assert project["培育建设"] == (D(2027, 11, 21), D(2028, 8, 31)) and project["考核验收"] == (D(2028, 8, 1), D(2028, 8, 31))
    assert _dates("dangjian-plus", 2027)["总结汇报"] == (D(2027, 11, 1), D(2027, 12, 31))
    assert _dates("hospital-annual", 2027)["年终考核评比"] == (D(2027, 12, 1), D(2027, 12, 10))
    # without a year: the notice's printed one (000 prints 2024), else this year (001 prints none)
    assert load_profile("hospital-brand").stage("申报").due == D(2024, 8, 10)
    assert load_profile("hospital-annual").year == dt.date.today().year
    assert campaign_year(resolve(load_profile("university-project"), 2027)) == 2027
    assert MonthDay(2, 29).on(2027) == D(2027, 2, 28)


def test_a_profile_with_full_dates_keeps_their_distance_and_dates_are_given_one_by_one() -> None:
    data = {"id": "x", "title": "x", "source": "x", "form_title": "x", "key": "党支部名称", "group": "党总支",
            "fields": [{"name": "党支部名称"}],
            "ledger": {"sheet": "台账", "log_sheet": "操作记录", "columns": ["党支部名称"], "logo_column": None},
            "stages": [{"id": "a", "name": "申报", "due": "2023-04-15", "statuses": ["已提交"]},
                       {"id": "b", "name": "验收", "start": "2024-05-01", "due": "2024-05-31", "statuses": ["通过"]}]}
    old = parse_profile(data)  # a profile (or a master's stored copy) from before month-days
    assert (old.year, old.stage("验收").due) == (2023, D(2024, 5, 31))
    assert resolve(old, 2027).stage("验收").start == D(2028, 5, 1)
    college = load_profile("college-feature")
    given = parse_date_options(college, ["申报=2029-04-20", "培育创建=2029-04-01~2029-12-20", "build=2029-04-02至2029-12-21"])
    assert given == {"申报": (None, D(2029, 4, 20)), "培育创建": (D(2029, 4, 2), D(2029, 12, 21))}
    for bad in ("申报", "无此阶段=2029-01-01", "申报=明天", "申报=2029-01-01~2029-02-01~2029-03-01"):
        with pytest.raises(UsageProblem):
            parse_date_options(college, [bad])


def _arrive(path: Path, day: dt.date) -> None:
    when = dt.datetime.combine(day, dt.time(12), CHINA_TZ).timestamp()
    os.utime(path, (when, when))


def _receipts(master: Path, stage_column: str) -> dict[str, str | None]:
    from toolkit.files.masterfile import load_master

    snap = load_master(master)
    assert snap.ledger is not None
    return {row.branch: parse_stamp(row.values.get(stage_column)) for row in snap.ledger.rows}


def _inbox(folder: Path, profile_id: str, due: dt.date) -> Path:
    folder.mkdir(exist_ok=True)
    for n, branch in enumerate(BRANCHES):
        path = write_xlsx(BUILDERS[profile_id](branch, n), folder / f"{branch}申报表.xlsx")
        _arrive(path, due - dt.timedelta(days=1) if n < 2 else due + dt.timedelta(days=2))
    return folder


@pytest.mark.parametrize("profile_id", list(BUILDERS))
def test_each_campaign_runs_in_2027(tmp_path: Path, cli, profile_id: str) -> None:
    master = tmp_path / "台账.xlsx"
    out = cli("init", master, "--profile", profile_id, "--year", "2027")
    campaign = resolve(load_profile(profile_id), 2027)
    stage = campaign.submission_stage
    assert out.returncode == 0 and "活动日期（2027 年起" in out.stdout and f"{stage.name}：" in out.stdout
    assert str(stage.due) in out.stdout and stage.due is not None and stage.due.year == 2027

    merged = json.loads(cli("--json", "merge", master, _inbox(tmp_path / "收件箱", profile_id, stage.due)).stdout)
    assert sorted(merged["added"]) == sorted(BRANCHES), merged
    assert _receipts(master, stage.column) == {BRANCHES[0]: "已提交", BRANCHES[1]: "已提交", BRANCHES[2]: "逾期提交"}

    doc = json.loads(cli("--json", "status", master, "--date", (stage.due + dt.timedelta(days=3)).isoformat()).stdout)
    assert doc["submission_stage"]["due"] == stage.due.isoformat() and doc["missing"] == []
    assert [r["截止日期"] for r in doc["stages"]] == [s.due.isoformat() if s.due else "—" for s in campaign.stages]
    assert all(isinstance(r["剩余天数"], int) and r["剩余天数"] >= 0 or isinstance(r["剩余天数"], str)
               for r in doc["stages"])  # never a negative number: "已逾期 N 天"


@pytest.mark.libreoffice
def test_the_rules_sheet_carries_the_dates_and_an_edit_there_changes_lateness(tmp_path: Path, cli) -> None:
    import openpyxl

    from tests.libreoffice import roundtrip_values

    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "university-project", "--year", "2027").returncode == 0
    rules = roundtrip_values(master)["填报规则"]  # as Excel (here LibreOffice) shows them to the officer
    header = next(i for i, r in enumerate(rules) if r and r[0] == "阶段")
    rows = {r[0]: r for r in rules[header + 1:] if r and r[0]}
    day = lambda v: v.date() if isinstance(v, dt.datetime) else v  # noqa: E731
    assert (day(rows["项目申报"][2]), day(rows["培育建设"][1]), day(rows["培育建设"][2])) == (
        D(2027, 11, 10), D(2027, 11, 21), D(2028, 8, 31))
    assert rules[header + 1:].index(rows["项目申报"]) < rules.index(next(r for r in rules if r and r[0] == "字段"))

    wb = openpyxl.load_workbook(master)  # the office moves the 申报 deadline by three days
    ws = wb["填报规则"]
    cell = next(r for r in ws.iter_rows() if r[0].value == "项目申报")[2]
    cell.value = dt.datetime(2027, 11, 13)
    wb.save(master)
    merged = json.loads(cli("--json", "merge", master, _inbox(tmp_path / "收件箱", "university-project",
                                                              D(2027, 11, 10))).stdout)
    assert sorted(merged["added"]) == sorted(BRANCHES), merged
    assert set(_receipts(master, "项目申报状态").values()) == {"已提交"}  # 11-12 is on time now
    doc = json.loads(cli("--json", "status", master, "--date", "2027-11-15").stdout)
    assert doc["submission_stage"]["due"] == "2027-11-13"
    # what to do next: 项目立项 is under way, every branch still blocks it; 项目申报 is done by all
    tasks = {t["stage"]: t for t in doc["next_steps"]}
    assert list(tasks) == ["项目立项"] and sorted(tasks["项目立项"]["blocking"]) == sorted(BRANCHES)
    assert tasks["项目立项"]["requirement"].startswith("评审、修改完善") and tasks["项目立项"]["workdays_left"] == 4  # Tue–Fri
    text = cli("status", master, "--date", "2027-11-23").stdout
    blocked = next(line for line in text.splitlines() if "尚未完成（3 个支部）：" in line)
    assert "“项目立项”：已逾期 3 天（截止 2027-11-20）" in text and all(b in blocked for b in BRANCHES)


def test_init_without_a_year_and_with_dates_one_by_one(tmp_path: Path, cli) -> None:
    out = cli("init", tmp_path / "a.xlsx", "--profile", "hospital-brand").stdout
    assert "活动日期（2024 年起" in out and "申报：截止 2024-08-10" in out
    out = cli("init", tmp_path / "b.xlsx", "--profile", "college-feature", "--date", "申报=2029-04-20").stdout
    assert "申报：截止 2029-04-20" in out and "评估验收：截止 2030-01-31" in out and "2030-02-01 至 2030-02-28" in out
    again = cli("init", tmp_path / "b.xlsx", "--profile", "college-feature", "--year", "2031")
    assert again.returncode != 0 and "填报规则" in again.stderr + again.stdout
