"""What officers type into the master by hand in Excel/WPS, read as they mean it: stamps typed without
brandkit's spacing or date format (已通过(8.12), 已通过2024-08-30, 2024/8/12, full-width digits), a
退回原因 typed in brandkit's own column, paper copies recorded as "8月9日" or "已收到"; and `export
--as-of` counting stamps as of the day, like `status --date` and `summary --as-of`.

Each test edits the `brandkit demo` master with openpyxl as an officer would, runs the real CLI and
reads the result back with openpyxl (or the command's JSON)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.builders import load_quietly
from toolkit.core.stages import parse_stamp, stamp_date, stamp_text
from toolkit.core.vocabulary import PAPER_MISSING

LEDGER = "品牌台账"
LOG = "操作记录"
KEY = "党支部名称"
APPROVAL = "党总支审批状态"
FORM = "申报状态"
REASON = "退回原因"
PAPER_DAY, PAPER_COPIES, PAPER_SEAL = "纸质版收到日期", "纸质版份数", "纸质版盖章"


@pytest.fixture
def master(demo_master: Path) -> Path:
    return demo_master





def edit(path: Path, cells: Mapping[tuple[str, str], Any]) -> None:
    """Type values into the ledger as an officer does in Excel: (branch, column header) -> value."""
    wb = load_quietly(path)
    ws = wb[LEDGER]
    header = {str(c.value): c.column for c in ws[1] if c.value is not None}
    rows = {str(r[header[KEY] - 1].value): r[0].row for r in ws.iter_rows(min_row=2) if r[header[KEY] - 1].value}
    for (branch, column), value in cells.items():
        ws.cell(rows[branch], header[column], value)
    wb.save(path)


def ledger_values(path: Path) -> dict[str, dict[str, Any]]:
    """branch -> column header -> value, read back with openpyxl."""
    ws = load_quietly(path)[LEDGER]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(v) if v is not None else "" for v in rows[0]]
    return {str(r[header.index(KEY)]): dict(zip(header, r, strict=False)) for r in rows[1:] if r[header.index(KEY)]}


def log_rows(path: Path) -> list[dict[str, Any]]:
    ws = load_quietly(path)[LOG]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def status_json(cli: Callable[..., Any], path: Path, *args: str) -> dict[str, Any]:
    result = cli("--json", "status", path, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def stage_row(report: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(s for s in report["stages"] if s["阶段"] == stage)


# -- D5: hand-typed stamps --------------------------------------------------------------------------

def test_hand_typed_approvals_count_as_passed_and_let_the_next_stage_be_stamped(cli, master: Path) -> None:
    """已通过(8.12) (half-width brackets), 已通过2024-08-30 (no space), 已通过（8.12）, full-width date:
    all 已通过, so 创建 may follow; before, the first two were 其他 and 创建 was refused."""
    edit(master, {("内科第一党支部", APPROVAL): "已通过（8.12）",
                  ("麻醉科党支部", APPROVAL): "已通过　２０２４－０８－３０　",
                  ("眼科党支部", APPROVAL): "已通过(8.12)",
                  ("康复医学科党支部", APPROVAL): "已通过2024-08-30"})
    approval = stage_row(status_json(cli, master), "党总支审批")
    assert (approval["通过"], approval["其他"]) == (5, 0)  # the four above and the demo's 护理部

    result = cli("--json", "stamp", master, "--stage", "创建", "--status", "创建中", "--branch", "眼科党支部",
                 "--branch", "康复医学科党支部", "--by", "王五", "--date", "2024-09-01")
    done = json.loads(result.stdout)
    assert done["refused"] == [] and done["stamped"] == ["眼科党支部", "康复医学科党支部"]
    back = ledger_values(master)
    assert back["眼科党支部"]["创建状态"] == "创建中 2024-09-01 王五"
    assert back["康复医学科党支部"]["创建状态"] == "创建中 2024-09-01 王五"
    assert back["眼科党支部"][APPROVAL] == "已通过(8.12)"  # the officer's text is left as typed


def test_hand_typed_dates_are_read_for_status_date(cli, master: Path) -> None:
    """2024/8/12, 2024-8-30, （8.12） (no year: the campaign's, 2024) and full-width digits are dates, so a
    `--date` view before them leaves those stamps out; before, each was undated and always counted."""
    edit(master, {("内科第一党支部", APPROVAL): "已通过（8.12）",
                  ("护理部党支部", APPROVAL): "已通过 2024/8/12",
                  ("眼科党支部", APPROVAL): "已通过(8.12)",
                  ("麻醉科党支部", APPROVAL): "已通过　２０２４－０８－３０　",
                  ("康复医学科党支部", APPROVAL): " 已通过 2024-8-30",
                  ("超声医学科党支部", FORM): "已提交 2024/8/9"})
    early = status_json(cli, master, "--date", "2024-08-05")
    assert stage_row(early, "党总支审批")["通过"] == 0
    assert stage_row(early, "申报")["通过"] == 2  # 内科第一 (07-25), 护理部 (07-27): 超声 came on 8/9
    assert "超声医学科党支部" in early["missing"]
    mid = status_json(cli, master, "--date", "2024-08-20")
    assert stage_row(mid, "党总支审批")["通过"] == 3  # the three of 8.12; those of 8-30 not yet
    assert stage_row(status_json(cli, master), "党总支审批")["通过"] == 5


@pytest.mark.parametrize("status,by,note", [
    ("已通过", "张三", None), ("退回", "党办干事", "缺少品牌标识"), ("逾期提交", "", None),
    ("公示中", "李四 王五", "请于8月20日前反馈"), ("退回", "张三", "8.12"), ("已提交", "", "2024-08-30")])
def test_stamps_brandkit_writes_read_exactly_as_before(status: str, by: str, note: str | None) -> None:
    """A guard (it passes on the code before the fix too): brandkit's own stamps, notes with dates
    included, read as they always did."""
    day = dt.date(2024, 8, 12)
    text = stamp_text(status, day, by, note)
    assert (parse_stamp(text), stamp_date(text)) == (status, day)


def test_the_campaign_year_never_replaces_a_written_year() -> None:
    assert stamp_date("退回 2024-08-12 张三（请于8月20日前重交）", 2031) == dt.date(2024, 8, 12)
    assert stamp_date("已通过 2024/8/12", 2031) == dt.date(2024, 8, 12)
    assert stamp_date("已通过（8.12）", 2031) == dt.date(2031, 8, 12)
    assert stamp_date("退回（请于8月20日前重交）", 2031) is None  # a note's day is not the stamp's
    assert stamp_date("已通过（8.12）") is None  # no campaign year: undated, as before


# -- D4: export --as-of -----------------------------------------------------------------------------

def test_export_as_of_counts_stamps_as_status_and_summary_do(cli, master: Path, tmp_path: Path) -> None:
    """The demo's forms merged on 08-27 and approvals of 08-29 are not made yet on 08-20."""
    edit(master, {("眼科党支部", APPROVAL): "已通过(8.12)"})  # hand-typed, dated by the campaign's year
    day = "2024-08-20"
    total = status_json(cli, master, "--date", day)["groups"][-1]
    assert cli("summary", master, "-o", tmp_path / "汇总.xlsx", "--as-of", day).returncode == 0
    rows = list(load_quietly(tmp_path / "汇总.xlsx")["总体进度"].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "党总支")
    summary = dict(zip(header, next(r for r in rows if r[0] == "合计"), strict=False))
    assert cli("export", master, "-o", tmp_path / "进展.csv", "--as-of", day).returncode == 0
    with open(tmp_path / "进展.csv", encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f))
    submitted = sum(r["已提交"] == "True" for r in exported)
    approved = sum(r["党总支审批"] == "已通过" for r in exported)
    counted = (summary["已提交"], summary.get("党总支审批", 0))  # a column of zeros is left out
    assert (submitted, approved) == (total["已提交"], total["党总支审批"]) == counted
    assert (submitted, approved) == (8, 1)  # the demo's 8 forms in by 08-20; 眼科's 8.12 approval
    late = next(r for r in exported if r["党支部"] == "心内科党支部")  # its form came on 08-26
    assert (late["已提交"], late["申报"]) == ("False", "")


# -- D7: the 退回原因 column ------------------------------------------------------------------------

def _issues(cli, path: Path, out: Path) -> dict[tuple[str, str], str]:
    assert cli("summary", path, "-o", out).returncode == 0
    rows = list(load_quietly(out)["问题汇总"].iter_rows(values_only=True))
    start = next(n for n, r in enumerate(rows) if r[0] == "党总支")
    return {(str(r[1]), str(r[2])): str(r[4]) for r in rows[start + 1:] if r[1]}


def test_reason_typed_in_the_reason_column_is_the_issue_text(cli, master: Path, tmp_path: Path) -> None:
    edit(master, {("儿科党支部", APPROVAL): "退回 2024-08-30", ("儿科党支部", REASON): "缺少党总支书记签字，请补签后重交"})
    assert _issues(cli, master, tmp_path / "汇总.xlsx")[("儿科党支部", "党总支审批")] == "缺少党总支书记签字，请补签后重交"


def test_office_rewording_a_merge_reason_is_what_the_summary_says(cli, master: Path, tmp_path: Path) -> None:
    """A merge's 退回 writes its findings to the log and to the 退回原因 cell; the office rewrites the cell:
    the log has nothing newer than that 退回, so the cell is the reason."""
    assert _issues(cli, master, tmp_path / "前.xlsx")[("心胸外科党支部", "申报")].startswith("“填表人”未填写")
    edit(master, {("心胸外科党支部", REASON): "请补填填表人并由支部书记签字"})
    assert _issues(cli, master, tmp_path / "后.xlsx")[("心胸外科党支部", "申报")] == "请补填填表人并由支部书记签字"


def test_a_stamp_replacing_the_office_reason_logs_the_old_one(cli, master: Path, tmp_path: Path) -> None:
    typed = "缺少党总支书记签字，请补签后重交"
    edit(master, {("儿科党支部", APPROVAL): "退回 2024-08-30", ("儿科党支部", REASON): typed})
    before = len(log_rows(master))
    result = cli("stamp", master, "--stage", "申报", "--status", "退回", "--branch", "儿科党支部", "--by", "张三",
                 "--date", "2024-08-31", "--note", "品牌内涵需修改", "--force")
    assert result.returncode == 0, result.stderr
    assert ledger_values(master)["儿科党支部"][REASON] == "品牌内涵需修改"
    added = log_rows(master)[before:]
    assert [(r["操作"], r["党支部"], r["阶段"], r["原值"], r["新值"]) for r in added] == [
        ("盖章", "儿科党支部", "申报", "已提交 2024-08-08 党办干事", "退回 2024-08-31 张三（品牌内涵需修改）"),
        ("盖章", "儿科党支部", "申报：退回原因", typed, "品牌内涵需修改")]
    issues = _issues(cli, master, tmp_path / "汇总.xlsx")
    assert issues[("儿科党支部", "申报")] == "品牌内涵需修改"
    # the same reason again: nothing replaced, nothing more logged
    before = len(log_rows(master))
    cli("stamp", master, "--stage", "申报", "--status", "退回", "--branch", "儿科党支部", "--by", "张三",
        "--date", "2024-09-02", "--note", "品牌内涵需修改", "--force")
    assert [r["阶段"] for r in log_rows(master)[before:]] == ["申报"]


# -- D8: paper copies recorded by hand --------------------------------------------------------------

def test_paper_copies_recorded_by_hand_are_not_chased(cli, master: Path) -> None:
    edit(master, {("内科第一党支部", PAPER_DAY): "8月9日",
                  ("儿科党支部", PAPER_DAY): "已收到",
                  ("超声医学科党支部", PAPER_DAY): " √ ",
                  ("麻醉科党支部", PAPER_DAY): "2024.8.13 已交",
                  ("眼科党支部", PAPER_DAY): "已报送",
                  ("护理部党支部", PAPER_DAY): "未收到",
                  ("心内科党支部", PAPER_DAY): "待补"})
    chased = {p["branch"] for p in status_json(cli, master)["paper"] if p["problem"] == PAPER_MISSING}
    assert chased.isdisjoint({"内科第一党支部", "儿科党支部", "超声医学科党支部", "麻醉科党支部", "眼科党支部"})
    assert {"护理部党支部", "心内科党支部"} <= chased


def test_a_yearless_paper_date_is_in_the_campaign_year(cli, master: Path) -> None:
    """"8月9日" with 1 份 is the copy `stamp --paper --date 2024-08-09` records: nothing to change. A copy
    marked 已收到 and then stamped keeps the officer's word in the log."""
    edit(master, {("内科第一党支部", PAPER_DAY): "8月9日", ("内科第一党支部", PAPER_COPIES): "1份",
                  ("内科第一党支部", PAPER_SEAL): "否", ("儿科党支部", PAPER_DAY): "已收到"})
    before = len(log_rows(master))
    result = cli("--json", "stamp", master, "--paper", "--by", "党办", "--date", "2024-08-09",
                 "--branch", "内科第一党支部", "--branch", "儿科党支部")
    done = json.loads(result.stdout)
    assert done["unchanged"] == ["内科第一党支部"] and done["stamped"] == ["儿科党支部"]
    back = ledger_values(master)
    assert back["内科第一党支部"][PAPER_DAY] == "8月9日"
    assert back["儿科党支部"][PAPER_DAY] == dt.datetime(2024, 8, 9)
    (row,) = log_rows(master)[before:]
    assert row["党支部"] == "儿科党支部" and "已收到" in str(row["原值"]) and str(row["新值"]).startswith("2024-08-09")
