"""Stamping: the plan's cells, fills and log rows; refusals; each profile end to end; fidelity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.libreoffice import roundtrip_values
from tests.paths import corpus_files
from toolkit.commands.stamp import plan_stamps, stamp
from toolkit.core.errors import UsageProblem
from toolkit.core.logsheet import LOG_COLUMNS
from toolkit.core.profile import Profile, builtin_profiles, load_profile
from toolkit.core.stages import parse_stamp
from toolkit.files.masterfile import load_master

DAY = dt.date(2024, 8, 9)
NOW = dt.datetime(2024, 8, 9, 10, 30, 5)

# (党总支, 党支部名称, 填表人, 联系方式)
BRANCHES = [
    ("内科党总支", "心内科党支部", "王芳", "13800000001"),
    ("内科党总支", "消化内科党支部", "李强", "13800000002"),
    ("内科党总支", "呼吸内科党支部", "赵敏", "13800000003"),
    ("外科党总支", "普外科党支部", "孙伟", "13800000004"),
    ("外科党总支", "骨科党支部", "周杰", "13800000005"),
    ("机关党总支", "党办党支部", "吴昊", "13800000006"),
]


def make_master(path: Path, profile: Profile, branches: list[tuple[str, str, str, str]] = BRANCHES, *,
                status_columns: bool = True, log_sheet: bool = True, stamps: dict[str, dict[str, str]] | None = None,
                extra: dict[str, dict[str, Any]] | None = None) -> Path:
    """An office master built with xlsxwriter: a title row, the ledger header (the profile's columns,
    then the stage status columns when asked), one row per branch; `stamps[branch][stage]` pre-fills
    status cells, `extra[branch][column]` any other ledger value."""
    import xlsxwriter

    header = list(profile.ledger.columns) + ([s.column for s in profile.stages] if status_columns else [])
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(profile.ledger.sheet)
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    ws.merge_range(0, 0, 0, 5, f"{profile.title}台账", wb.add_format({"bold": True, "font_size": 14}))
    ws.write_row(1, 0, header, bold)
    key = profile.key
    for n, (group, branch, person, phone) in enumerate(branches, start=1):
        values: dict[str, Any] = {"序号": n, profile.group: group, key: branch, "填表人": person,
                                  "联系方式": phone, **(extra or {}).get(branch, {})}
        for stage, status in (stamps or {}).get(branch, {}).items():
            values[profile.stage(stage).column] = f"{status} 2024-08-01 测试"
        for col, title in enumerate(header):
            if title in values:
                ws.write(1 + n, col, values[title])
    ws.freeze_panes(2, 0)
    if log_sheet:
        wb.add_worksheet(profile.ledger.log_sheet).write_row(0, 0, LOG_COLUMNS, bold)
    wb.add_worksheet("说明").write(0, 0, "办公室自己的工作表，brandkit 不应改动")
    wb.close()
    return path


def apply_to_file(path: Path, changes) -> None:
    from toolkit.ooxml import apply_changeset

    path.write_bytes(apply_changeset(path.read_bytes(), changes))


@pytest.fixture
def hospital() -> Profile:
    return load_profile("hospital-brand")


def stamp_file(path: Path, stage: str, status: str, branches: list[str] | None, **kw: Any):
    snap = load_master(path, kw.pop("profile", "hospital-brand"))
    plan = plan_stamps(snap, stage, status, branches, by=kw.pop("by", "张三"), date=kw.pop("date", DAY),
                       now=NOW, **kw)
    apply_to_file(path, plan.changes)
    return plan


def ledger_cells(path: Path, profile: Profile) -> dict[str, dict[str, Any]]:
    snap = load_master(path, profile.id)
    return {r.branch: r.values for r in snap.ledger.rows}


def log_rows(path: Path, profile: Profile) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(profile.ledger.log_sheet).to_python()
    return rows[1:]


# -- the plan and what lands in the file -------------------------------------------------------------

def test_stamp_writes_text_fill_and_log_row(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital)
    plan = stamp_file(master, "申报", "已提交", ["心内科党支部", "骨科"])
    assert plan.stamped == ["心内科党支部", "骨科党支部"] and not plan.refused
    write = next(w for w in plan.changes.writes if w.sheet == hospital.ledger.sheet)
    assert (write.value, write.fill) == ("已提交 2024-08-09 张三", "C6EFCE")

    cells = ledger_cells(master, hospital)
    assert cells["心内科党支部"]["申报状态"] == "已提交 2024-08-09 张三"
    assert cells["骨科党支部"]["申报状态"] == "已提交 2024-08-09 张三"
    assert cells["普外科党支部"]["申报状态"] is None
    log = log_rows(master, hospital)
    assert [r[1:7] for r in log] == [
        ["张三", "盖章", "心内科党支部", "申报", "", "已提交 2024-08-09 张三"],
        ["张三", "盖章", "骨科党支部", "申报", "", "已提交 2024-08-09 张三"]]
    assert log[0][0] == "2024-08-09 10:30:05"

    lo = roundtrip_values(master)
    sheet = lo[hospital.ledger.sheet]
    assert sheet[2][sheet[1].index("申报状态")] == "已提交 2024-08-09 张三"
    assert lo[hospital.ledger.log_sheet][2][3] == "骨科党支部"


def test_fills_follow_status_kinds(tmp_path: Path, hospital: Profile) -> None:
    import openpyxl

    master = make_master(tmp_path / "台账.xlsx", hospital, stamps={b: {"申报": "已提交"} for _, b, *_ in BRANCHES})
    stamp_file(master, "党总支审批", "已通过", ["心内科党支部"])
    stamp_file(master, "党总支审批", "待审", ["普外科党支部"])
    stamp_file(master, "党总支审批", "退回", ["骨科党支部"], note="品牌内涵超过200字")
    ws = openpyxl.load_workbook(master)[hospital.ledger.sheet]
    col = [c.value for c in ws[2]].index("党总支审批状态") + 1
    by_branch = {ws.cell(r, 3).value: ws.cell(r, col) for r in range(3, ws.max_row + 1)}
    assert by_branch["心内科党支部"].fill.fgColor.rgb.endswith("C6EFCE")
    assert by_branch["普外科党支部"].fill.fgColor.rgb.endswith("FFEB9C")
    assert by_branch["骨科党支部"].fill.fgColor.rgb.endswith("FFC7CE")
    assert by_branch["骨科党支部"].value == "退回 2024-08-09 张三（品牌内涵超过200字）"


def test_second_stamp_records_old_and_new(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital, stamps={"心内科党支部": {"申报": "已提交"}})
    stamp_file(master, "党总支审批", "待审", ["心内科党支部"], by="李四", date=dt.date(2024, 8, 11))
    stamp_file(master, "党总支审批", "已通过", ["心内科党支部"], by="王五", date=dt.date(2024, 8, 12))
    log = log_rows(master, hospital)
    assert [r[1:7] for r in log] == [
        ["李四", "盖章", "心内科党支部", "党总支审批", "", "待审 2024-08-11 李四"],
        ["王五", "盖章", "心内科党支部", "党总支审批", "待审 2024-08-11 李四", "已通过 2024-08-12 王五"]]
    assert all(r[9] for r in log)  # 版本


def test_missing_status_column_and_log_sheet_are_added(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital, status_columns=False, log_sheet=False)
    plan = stamp_file(master, "申报", "已提交", ["党办"])
    assert [c.title for c in plan.changes.new_columns] == ["申报状态"]
    assert [s.name for s in plan.changes.new_sheets] == ["操作记录"]
    lo = roundtrip_values(master)
    header = lo[hospital.ledger.sheet][1]
    assert header[len(hospital.ledger.columns)] == "申报状态"
    row = lo[hospital.ledger.sheet][7]
    assert row[2] == "党办党支部" and row[len(hospital.ledger.columns)] == "已提交 2024-08-09 张三"
    assert lo["操作记录"][0] == list(LOG_COLUMNS)
    assert lo["操作记录"][1][3] == "党办党支部"
    # the next stamp finds the column and the log sheet the first one made
    plan = stamp_file(master, "申报", "已提交", ["骨科"])
    assert not plan.changes.new_columns and not plan.changes.new_sheets
    assert len(log_rows(master, hospital)) == 2


def test_late_submission_is_stamped_late(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital)
    plan = stamp_file(master, "申报", "已提交", ["骨科"], date=dt.date(2024, 8, 12))
    assert plan.stamped == ["骨科党支部"] and "2024-08-10" in plan.notes[0]
    assert ledger_cells(master, hospital)["骨科党支部"]["申报状态"] == "逾期提交 2024-08-12 张三"
    on_time = stamp_file(master, "申报", "已提交", ["普外科"], date=dt.date(2024, 8, 10))
    assert not on_time.notes
    assert ledger_cells(master, hospital)["普外科党支部"]["申报状态"].startswith("已提交 ")


# -- refusals ------------------------------------------------------------------------------------------

def test_skipping_a_required_stage_is_refused_and_the_batch_goes_on(tmp_path: Path, hospital: Profile) -> None:
    done = {"申报": "已提交", "党总支审批": "已通过"}
    master = make_master(tmp_path / "台账.xlsx", hospital, stamps={"心内科党支部": done,
                                                                  "骨科党支部": {**done, "申报": "退回"}})
    plan = stamp_file(master, "创建", "创建中", ["心内科", "普外科", "骨科", "不存在党支部"])
    assert plan.stamped == ["心内科党支部"]
    reasons = dict(plan.refused)
    assert "须先完成“申报”阶段（尚未盖章）" in reasons["普外科党支部"]
    assert "目前是“退回”" in reasons["骨科党支部"]
    assert "台账“品牌台账”中没有“不存在党支部”" in reasons["不存在党支部"]
    # --force never skips a stage
    plan = stamp_file(master, "创建", "创建中", ["普外科"], force=True)
    assert plan.refused and not plan.stamped
    assert ledger_cells(master, hospital)["普外科党支部"]["创建状态"] is None


def test_going_backwards_needs_force(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital,
                         stamps={"心内科党支部": {"申报": "已提交", "党总支审批": "已通过", "创建": "创建中"}})
    plan = stamp_file(master, "党总支审批", "待审", ["心内科"])
    assert "已进入后续阶段“创建”" in plan.refused[0][1] and "--force" in plan.refused[0][1]
    plan = stamp_file(master, "申报", "退回", ["心内科"])
    assert "已进入后续阶段“创建”" in plan.refused[0][1]
    assert not plan.changes
    plan = stamp_file(master, "党总支审批", "待审", ["心内科"], force=True)
    assert plan.stamped == ["心内科党支部"]
    assert parse_stamp(ledger_cells(master, hospital)["心内科党支部"]["党总支审批状态"]) == "待审"


def test_same_status_again_is_unchanged(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital, stamps={"心内科党支部": {"申报": "已提交"}})
    before = master.read_bytes()
    plan = stamp_file(master, "申报", "已提交", ["心内科"])
    assert plan.unchanged == ["心内科党支部"] and not plan.changes
    assert master.read_bytes() == before


def test_unknown_stage_or_status_stops_before_any_change(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital)
    with pytest.raises(UsageProblem, match="没有“立项”阶段；可用：申报、党总支审批"):
        stamp_file(master, "立项", "已通过", None)
    with pytest.raises(UsageProblem, match="“申报”阶段没有“已通过”这一状态；可用：已提交、逾期提交、退回"):
        stamp_file(master, "申报", "已通过", None)


def _through_creation(branches: list[tuple[str, str, str, str]]) -> dict[str, dict[str, str]]:
    return {b: {"申报": "已提交", "党总支审批": "已通过", "创建": "已完成"} for _, b, *_ in branches}


def test_one_to_two_recommended_per_group(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital, stamps=_through_creation(BRANCHES))
    plan = stamp_file(master, "推荐", "已推荐", ["心内科", "消化内科", "呼吸内科", "普外科"])
    assert plan.stamped == ["心内科党支部", "消化内科党支部", "普外科党支部"]
    assert plan.refused == [("呼吸内科党支部", "党总支“内科党总支”已有 2 个支部为“已推荐”（心内科党支部、消化内科党支部），"
                                               "每个党总支最多 2 个")]
    # 外科: 普外科 recommended, so 骨科 may be 未推荐; 机关's only branch may not
    plan = stamp_file(master, "推荐", "未推荐", ["骨科", "党办"])
    assert plan.stamped == ["骨科党支部"]
    assert plan.refused[0][0] == "党办党支部" and "至少需 1 个“已推荐”" in plan.refused[0][1]
    # un-recommending 普外科 would leave 外科党总支 with none
    plan = stamp_file(master, "推荐", "未推荐", ["普外科"], force=True)
    assert plan.refused and "外科党总支" in plan.refused[0][1]


def test_quota_needs_the_group_column(tmp_path: Path, hospital: Profile) -> None:
    rows = [("", "心内科党支部", "王芳", "13800000001")]
    master = make_master(tmp_path / "台账.xlsx", hospital, rows, stamps=_through_creation(rows))
    plan = stamp_file(master, "推荐", "已推荐", None)
    assert "没有填写“心内科党支部”所属的党总支" in plan.refused[0][1]


# -- every profile, first stage to last -----------------------------------------------------------------

def _passing_status(profile: Profile, stage) -> str:
    return next(s for s in stage.statuses if profile.statuses.kind_of(s) == "passed")


@pytest.mark.parametrize("profile_id", builtin_profiles())
def test_each_profile_stamped_end_to_end(tmp_path: Path, profile_id: str) -> None:
    """One branch per 党总支 goes through every stage with a passing status; a log row per stamp."""
    profile = load_profile(profile_id)
    rows = [(f"第{n}党总支", f"第{n}党支部", "张三", "13800000000") for n in range(1, 4)]
    master = make_master(tmp_path / "台账.xlsx", profile, rows, status_columns=False, log_sheet=False)
    for stage in profile.stages:
        status = _passing_status(profile, stage)
        plan = stamp_file(master, stage.name, status, None, profile=profile_id, date=stage.due or DAY)
        assert plan.stamped == [b for _, b, *_ in rows], (stage.name, plan.refused)
    cells = ledger_cells(master, profile)
    for _, branch, *_ in rows:
        assert [parse_stamp(cells[branch][s.column]) for s in profile.stages] == \
            [_passing_status(profile, s) for s in profile.stages]
    log = log_rows(master, profile)
    assert len(log) == len(rows) * len(profile.stages)
    assert {(r[3], r[4]) for r in log} == {(b, s.name) for _, b, *_ in rows for s in profile.stages}
    lo = roundtrip_values(master)
    assert len(lo[profile.ledger.log_sheet]) == 1 + len(log)


# -- fidelity ------------------------------------------------------------------------------------------

CORPUS_MASTERS = [p for p in corpus_files(".xlsx", ".xlsm") if not p.stem.startswith("pass_protected")]


@pytest.mark.parametrize("original", CORPUS_MASTERS, ids=lambda p: p.name)
def test_stamping_leaves_untouched_parts_byte_identical(tmp_path: Path, original: Path, hospital: Profile) -> None:
    """Every real workbook adopted as a master (as the merge fidelity test does), then stamped twice through
    the journal: only the ledger sheet, the log sheet, sharedStrings, styles and core properties may differ;
    every other zip member keeps its exact record, every other sheet its values."""
    import shutil

    import xlsxwriter

    from tests.fixtures_masters import members
    from toolkit.commands.init import init_master

    roster = tmp_path / "名单.xlsx"
    wb = xlsxwriter.Workbook(str(roster))
    ws = wb.add_worksheet("名单")
    ws.write_row(0, 0, ["党总支", "党支部名称"])
    for n, (group, branch, *_) in enumerate(BRANCHES, start=1):
        ws.write_row(n, 0, [group, branch])
    wb.close()
    master = tmp_path / original.name
    shutil.copyfile(original, master)  # content only: the corpus may be read-only
    init_master(master, "hospital-brand", roster, operator="张三")
    adopted = master.read_bytes()
    first = stamp(master, "申报", "已提交", ["心内科", "骨科"], by="张三", date=DAY)
    second = stamp(master, "党总支审批", "退回", ["骨科"], by="李四", note="缺少品牌标识", date=DAY)
    assert first.plan.stamped == ["心内科党支部", "骨科党支部"] and second.plan.stamped == ["骨科党支部"]
    before, after = members(adopted), members(master.read_bytes())
    ledger_part, log_part = _sheet_parts(adopted, [hospital.ledger.sheet, hospital.ledger.log_sheet])
    allowed = {ledger_part, log_part, "xl/sharedStrings.xml", "xl/styles.xml", "docProps/core.xml"}
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed <= allowed, changed - allowed
    assert ledger_part in changed and log_part in changed
    assert list(after) == list(before)  # no part added, dropped or reordered
    values_before, values_after = _values(adopted), _values(master.read_bytes())
    for name, rows in values_before.items():
        if name not in (hospital.ledger.sheet, hospital.ledger.log_sheet):
            assert values_after[name] == rows, name
    cells = ledger_cells(master, hospital)
    assert cells["骨科党支部"]["党总支审批状态"] == "退回 2024-08-09 李四（缺少品牌标识）"


def _values(data: bytes) -> dict[str, list[list[Any]]]:
    from toolkit.readers.grid import read_grids

    return {name: grid.rows for name, grid in read_grids(data, "xlsx").items()}


def _sheet_parts(data: bytes, names: list[str]) -> list[str]:
    from lxml import etree

    from tests.fixtures_masters import part

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    wb = etree.fromstring(part(data, "xl/workbook.xml"))
    rels = etree.fromstring(part(data, "xl/_rels/workbook.xml.rels"))
    target = {r.get("Id"): r.get("Target") for r in rels}
    by_name = {s.get("name"): target[s.get(f"{{{ns['r']}}}id")] for s in wb.iterfind("m:sheets/m:sheet", ns)}
    return ["xl/" + by_name[n].lstrip("/").removeprefix("xl/") for n in names]


# -- the command through the journal ---------------------------------------------------------------------

def test_stamp_command_backs_up_and_reports(tmp_path: Path, hospital: Profile) -> None:
    master = make_master(tmp_path / "台账.xlsx", hospital, stamps={"心内科党支部": {"申报": "已提交"}})
    original = master.read_bytes()
    result = stamp(master, "推广", "推广中", ["心内科", "普外科"], by="张三", date=DAY,
                   profile_name="hospital-brand")
    assert result.to_json()["stamped"] == []
    assert result.to_json()["refused"][0]["branch"] == "心内科党支部"  # 党总支审批 not stamped yet
    assert result.backup is None and master.read_bytes() == original
    result = stamp(master, "党总支审批", "已通过", ["心内科", "普外科"], by="张三", date=DAY,
                   profile_name="hospital-brand")
    assert result.to_json()["stamped"] == ["心内科党支部", "普外科党支部"]  # before or after the e-copy
    assert result.backup is not None and result.backup.read_bytes() == original
    assert ledger_cells(master, hospital)["心内科党支部"]["党总支审批状态"] == "已通过 2024-08-09 张三"
    result = stamp(master, "创建", "创建中", ["心内科", "普外科"], by="张三", date=DAY, profile_name="hospital-brand")
    assert result.to_json()["stamped"] == ["心内科党支部"] and result.rejected
    assert "须先完成“申报”" in result.to_json()["refused"][0]["reason"]
    with pytest.raises(UsageProblem, match="--branch"):
        stamp(master, "申报", "已提交", [], profile_name="hospital-brand")


def test_must_join_participants(tmp_path: Path) -> None:
    """university-project: 样板支部, “双带头人”工作室 and 培育对象 must take part. A status that means staying out is
    refused for them only, and one that has not submitted by the due date is listed as a problem."""
    import dataclasses

    from toolkit.commands.status import progress

    profile = load_profile("university-project")
    rows = [("机械学院党委", "教工第一党支部", "", ""), ("机械学院党委", "教工第二党支部", "", ""),
            ("外国语学院党委", "学生党支部", "", "")]
    extra = {"教工第一党支部": {"支部类别": "省级样板支部"}, "教工第二党支部": {"支部类别": "其他"},
             "学生党支部": {"支部类别": "“双带头人”教师党支部书记工作室"}}
    master = make_master(tmp_path / "台账.xlsx", profile, rows, extra=extra)
    snap = load_master(master, profile.id)
    declare = profile.stage("项目申报")
    opt_out = dataclasses.replace(declare, statuses=(*declare.statuses, "不参与"))
    snap.profile = dataclasses.replace(profile, stages=tuple(opt_out if s is declare else s for s in profile.stages))
    plan = plan_stamps(snap, "项目申报", "不参与", None, by="张三", date=dt.date(2023, 11, 1), now=NOW)
    assert plan.stamped == ["教工第二党支部"]
    assert dict(plan.refused) == {
        "教工第一党支部": "“教工第一党支部”属于“省级样板支部”，按要求必须参与“项目申报”，不能标记为“不参与”",
        "学生党支部": "“学生党支部”属于““双带头人”教师党支部书记工作室”，按要求必须参与“项目申报”，不能标记为“不参与”"}
    apply_to_file(master, plan.changes)
    snap = load_master(master, profile.id)
    issues = progress(snap, dt.date(2023, 11, 15)).issues
    assert {(i.branch, i.stage) for i in issues if "必须参与" in i.text} == \
        {("教工第一党支部", "项目申报"), ("学生党支部", "项目申报")}
    assert not [i for i in progress(snap, dt.date(2023, 11, 5)).issues if "必须参与" in i.text]  # not due yet
