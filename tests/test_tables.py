"""Nothing is lost at merge, for tables: hospital-annual's 申报工程 and dangjian-plus' 活动台帐 land in
sheets of their own (one row per item, keyed by branch and item number); a resubmission replaces the
branch's rows, the replaced ones move to `<表名>历史` with the time they were replaced, and re-merging
the same inbox leaves the master byte-identical. Every built-in profile gives every stored field a home."""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.libreoffice import roundtrip_values
from toolkit.core.master import table_header
from toolkit.core.profile import (
    PROFILE_DIR,
    ProfileError,
    builtin_profiles,
    history_sheet,
    load_profile,
    parse_profile,
)

PROJECT_COLUMNS = ["工程名称", "品牌类别", "负责人", "主要内容", "预期成效", "完成时限"]
ACTIVITY_COLUMNS = ["日期", "活动", "参与人数", "成效"]


def project(n: int, tag: str) -> list[Any]:
    kinds = ["党建工作品牌", "党组织品牌", "党员品牌"]
    return [f"{tag}工程{n}", kinds[n % 3], f"负责人{n}", f"{tag}第{n}项工程的主要内容：组织党员开展专项行动。",
            f"{tag}第{n}项工程的预期成效：服务群众满意度达到95%。", dt.date(2025, 9 + n, 1 + n)]


def write_form(path: Path, branch: str, title: str, fields: list[tuple[str, Any]], table: str,
               columns: list[str], rows: list[list[Any]], received: dt.datetime) -> Path:
    """A branch's form typed with openpyxl: label | value rows, then the table under its title with a
    序号 column the branch numbers itself; the file's time is when it was received."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "申报表"
    ws.append([title])
    ws.append(["党支部名称", branch])
    for label, value in fields:
        ws.append([label, value])
    ws.append([table])
    ws.append(["序号", *columns])
    for n, row in enumerate(rows, start=1):
        ws.append([n, *row])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    os.utime(path, (received.timestamp(), received.timestamp()))
    return path


def annual_form(folder: Path, name: str, branch: str, projects: list[list[Any]], received: dt.datetime) -> Path:
    return write_form(folder / name, branch, "“品牌创新建设年”申报工程申报表",
                      [("填表人", "韩雪"), ("联系方式", "13804715678")], "申报工程", PROJECT_COLUMNS, projects,
                      received)


def by_branch(rows: list[list[Any]], branch: str) -> list[dict[str, Any]]:
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if r and r[0] == branch]


def day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def merge(cli: Callable[..., Any], master: Path, inbox: Path) -> dict[str, Any]:
    result = cli("--json", "merge", master, inbox, "--by", "王干事")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_projects_are_replaced_on_resubmission_and_kept_in_history(tmp_path: Path, cli) -> None:
    master, inbox = tmp_path / "台账.xlsx", tmp_path / "收件箱"
    assert cli("init", master, "--profile", "hospital-annual").returncode == 0
    first = [project(n, "旧") for n in range(1, 4)]
    other = [project(n, "外科") for n in range(1, 3)]
    annual_form(inbox, "内科第二党支部.xlsx", "内科第二党支部", first, dt.datetime(2025, 3, 10, 9, 0))
    annual_form(inbox, "外科党支部.xlsx", "外科党支部", other, dt.datetime(2025, 3, 11, 9, 0))
    doc = merge(cli, master, inbox)
    assert sorted(doc["added"]) == ["内科第二党支部", "外科党支部"] and doc["rejected"] == []

    values = roundtrip_values(master)
    assert values["申报工程"][0] == table_header(load_profile("hospital-annual"), load_profile("hospital-annual").tables[0])
    rows = by_branch(values["申报工程"], "内科第二党支部")
    assert [r["工程名称"] for r in rows] == ["旧工程1", "旧工程2", "旧工程3"]
    assert [int(r["工程序号"]) for r in rows] == [1, 2, 3]
    assert [day(r["完成时限"]) for r in rows] == [p[5] for p in first]
    assert rows[1]["主要内容"] == first[1][3] and rows[2]["品牌类别"] == first[2][1]
    assert {r["来源文件"] for r in rows} == {"内科第二党支部.xlsx"}
    ledger = {r[2]: r for r in values["工程台账"][1:]}
    assert int(ledger["内科第二党支部"][3]) == 3 and values["工程台账"][0][3] == "工程数"
    assert "申报工程历史" not in values

    second = [project(n, "新") for n in range(1, 3)]
    annual_form(inbox, "内科第二党支部_修改版.xlsx", "内科第二党支部", second, dt.datetime(2025, 3, 20, 9, 0))
    doc = merge(cli, master, inbox)
    assert doc["updated"] == ["内科第二党支部"] and sorted(doc["unchanged"]) == ["外科党支部"]
    assert ["申报工程", "3 项", "2 项"] in [[c["field"], c["before"], c["after"]] for c in doc["changes"]["内科第二党支部"]]

    values = roundtrip_values(master)
    rows = by_branch(values["申报工程"], "内科第二党支部")
    assert [(r["工程名称"], int(r["工程序号"])) for r in rows] == [("新工程1", 1), ("新工程2", 2)]
    assert [r["预期成效"] for r in rows] == [p[4] for p in second]
    assert {r["来源文件"] for r in rows} == {"内科第二党支部_修改版.xlsx"}
    assert [r["工程名称"] for r in by_branch(values["申报工程"], "外科党支部")] == ["外科工程1", "外科工程2"]
    body = [r for r in values["申报工程"][1:] if any(v not in (None, "") for v in r)]
    assert len(body) == 4  # the third old row is cleared, not left behind
    history = values["申报工程历史"]
    assert history[0][-1] == "替换时间"
    old = by_branch(history, "内科第二党支部")
    assert [r["工程名称"] for r in old] == ["旧工程1", "旧工程2", "旧工程3"]
    assert all(str(r["替换时间"]).startswith(str(dt.date.today().year)) for r in old)
    assert {r["来源文件"] for r in old} == {"内科第二党支部.xlsx"}
    assert int({r[2]: r for r in values["工程台账"][1:]}["内科第二党支部"][3]) == 2
    log = [r for r in values["操作记录"][1:] if r[3] == "内科第二党支部"]
    assert any(r[2] == "更新" and "申报工程：3 项" in str(r[5]) and "申报工程：2 项" in str(r[6]) for r in log)

    merged = master.read_bytes()
    doc = merge(cli, master, inbox)
    assert sorted(doc["unchanged"]) == ["内科第二党支部", "外科党支部"] and doc["backup"] is None
    assert master.read_bytes() == merged

    # a third version with 3 items again: the blank row the replacement left is filled first
    third = [project(n, "三") for n in range(1, 4)]
    annual_form(inbox, "内科第二党支部_第三版.xlsx", "内科第二党支部", third, dt.datetime(2025, 3, 25, 9, 0))
    merge(cli, master, inbox)
    values = roundtrip_values(master)
    assert [r["工程名称"] for r in by_branch(values["申报工程"], "内科第二党支部")] == ["三工程1", "三工程2", "三工程3"]
    assert len([r for r in values["申报工程"][1:] if any(v not in (None, "") for v in r)]) == 5
    assert [r["工程名称"] for r in by_branch(values["申报工程历史"], "内科第二党支部")][3:] == ["新工程1", "新工程2"]


def test_dangjian_plus_activity_ledger_lands_in_its_sheet(tmp_path: Path, cli) -> None:
    master, inbox = tmp_path / "台账.xlsx", tmp_path / "收件箱"
    assert cli("init", master, "--profile", "dangjian-plus").returncode == 0
    activities = [[dt.date(2024, 4, 12), "银针义诊进海州社区", 12, "为86名老人提供针灸推拿服务"],
                  [dt.date(2024, 5, 10), "主题党日：学习中医药传承创新发展", 18, "支部党员全员参加"],
                  [dt.date(2024, 5, 24), "上门随访行动不便老人", 6, "随访老人15户"],
                  [dt.date(2024, 6, 14), "社区医生艾灸技术培训", 9, "培训社区医生11名"]]
    text = "支部通过问卷和走访了解群众就医需求，梳理出慢病随访、健康宣教等服务短板，形成问题清单。"
    write_form(inbox / "针灸科党支部.xlsx", "针灸科党支部", "“党建+”支部品牌创建申报表",
               [("模式", "党建+志愿服务"), ("品牌名称", "银针暖心"), ("调查摸底情况", text),
                ("工作举措", "组建党员“银针”志愿服务队，每月开展义诊。"), ("预期成效", "全年义诊服务群众1500人次。")],
               "活动台帐", ACTIVITY_COLUMNS, activities, dt.datetime(2024, 4, 20, 10, 0))
    doc = merge(cli, master, inbox)
    assert doc["added"] == ["针灸科党支部"], doc
    values = roundtrip_values(master)
    rows = by_branch(values["活动台帐"], "针灸科党支部")
    assert [(int(r["活动序号"]), day(r["日期"]), r["活动"], int(r["参与人数"]), r["成效"]) for r in rows] == \
        [(n, *a) for n, a in enumerate(activities, start=1)]
    merged = master.read_bytes()
    merge(cli, master, inbox)
    assert master.read_bytes() == merged


def test_a_master_made_before_tables_gets_its_sheet_at_merge_and_at_init(tmp_path: Path, cli) -> None:
    """An adopted hospital-annual master from before: project columns in the ledger, no 申报工程 sheet.
    Merge creates the sheet (and the 工程数 column); the old columns keep what they hold. `init` on
    such a master adds the sheet too."""
    import shutil

    import xlsxwriter

    master = tmp_path / "2025年品牌创新建设年台账.xlsx"
    wb = xlsxwriter.Workbook(str(master))
    ws = wb.add_worksheet("工程台账")
    ws.merge_range("A1:N1", "品牌创新建设年工程台账", wb.add_format({"bold": True, "align": "center"}))
    ws.write_row("A2", ["序号", "党总支", "党支部名称", "工程名称", "品牌类别", "负责人", "主要内容", "预期成效",
                        "完成时限", "填表人", "联系方式", "提交时间", "来源文件", "年初自评申报状态"])
    ws.write_row("A3", [1, "临床党总支", "外科党支部", "手工录入的工程", "党员品牌"])
    ws.write_row("A4", [2, "临床党总支", "内科第二党支部"])
    wb.add_worksheet("填报规则").write_row("A1", ["活动方案", "hospital-annual"])
    wb.add_worksheet("操作记录").write_row("A1", ["时间", "操作人", "操作", "党支部", "阶段", "原值", "新值",
                                              "来源文件", "SHA256", "版本"])
    wb.close()
    adopted = shutil.copyfile(master, tmp_path / "另一份台账.xlsx")

    inbox = tmp_path / "收件箱"
    annual_form(inbox, "内科第二党支部.xlsx", "内科第二党支部", [project(1, "甲"), project(2, "甲")],
                dt.datetime(2025, 3, 12, 9, 0))
    assert merge(cli, master, inbox)["added"] == ["内科第二党支部"]  # the row held only its name: a first form
    values = roundtrip_values(master)
    assert [r["工程名称"] for r in by_branch(values["申报工程"], "内科第二党支部")] == ["甲工程1", "甲工程2"]
    header = values["工程台账"][1]
    rows = {r[2]: dict(zip(header, r, strict=False)) for r in values["工程台账"][2:]}
    assert rows["外科党支部"]["工程名称"] == "手工录入的工程" and int(rows["内科第二党支部"]["工程数"]) == 2

    doc = json.loads(cli("--json", "init", adopted).stdout)
    assert "申报工程" in doc["added_sheets"]
    assert roundtrip_values(adopted)["申报工程"][0][:3] == ["党支部名称", "工程序号", "工程名称"]


# -- the planner over plain data: first fit, new rows, clearing, nothing for the same items ----------------

def _snapshot(table_rows: list[list[Any]]):
    from toolkit.core.grid import Grid
    from toolkit.core.master import snapshot

    p = load_profile("hospital-annual")
    header = table_header(p, p.tables[0])
    ledger = [["序号", "党总支", "党支部名称", "工程数", "填表人", "联系方式", "提交时间", "来源文件"],
              [1, None, "甲党支部", 2, "张三", "13800000000", "2025-03-01 09:00", "甲.xlsx"],
              [2, None, "乙党支部", 2, "李四", "13800000001", "2025-03-01 09:00", "乙.xlsx"]]
    log = [["时间", "操作人", "操作", "党支部", "阶段", "原值", "新值", "来源文件", "SHA256", "版本"]]
    grids = {"工程台账": Grid("工程台账", ledger), "申报工程": Grid("申报工程", [header, *table_rows]),
             "操作记录": Grid("操作记录", log)}
    return snapshot(Path("台账.xlsx"), grids, "hospital-annual")


def _incoming(branch: str, names: list[str], sha: str):
    from toolkit.core.model import Checked, Provenance, Submission, Value
    from toolkit.core.plan import Incoming

    def val(name: str, v: Any) -> Value:
        return Value(name, v, v, None)

    items = [{c: val(c, v) for c, v in zip(PROJECT_COLUMNS, [name, "党员品牌", "王五", "内容", "成效", None],
                                            strict=True)} for name in names]
    fields = {"党支部名称": val("党支部名称", branch), "填表人": val("填表人", "张三"),
              "联系方式": val("联系方式", "13800000000")}
    sub = Submission(Provenance(f"/inbox/{sha}.xlsx", sha, received="2025-03-20T09:00:00"), fields,
                     {"申报工程": items})
    return Incoming(Checked(sub, [], branch))


def _row(branch: str, n: int, name: str) -> list[Any]:
    return [branch, n, name, "党员品牌", "王五", "内容", "成效", None, "2025-03-01 09:00", f"{branch}.xlsx"]


def _plan(snap, *items):
    from toolkit.core.plan import plan_merge

    return plan_merge(snap, list(items), accept_warnings=False, operator="党办",
                      now=dt.datetime(2025, 3, 21, 8, 0)).changes


def _cells(changes, sheet: str) -> dict[tuple[int, int], Any]:
    return {(w.row, w.col): w.value for w in changes.writes if w.sheet == sheet}


def test_surplus_items_fill_blank_rows_first_then_new_rows_like_the_last() -> None:
    from toolkit.core.changeset import NewRow

    snap = _snapshot([_row("甲党支部", 1, "甲一"), _row("乙党支部", 1, "乙一"), _row("甲党支部", 2, "甲二"),
                      [None] * 10, _row("乙党支部", 2, "乙二")])
    assert snap.tables["申报工程"].blank_rows == [4]
    changes = _plan(snap, _incoming("甲党支部", ["新一", "新二", "新三", "新四"], "a2"))
    cells = _cells(changes, "申报工程")
    assert {r for r, _ in cells} == {1, 3, 4, 6}  # the branch's rows, the blank row, then one new row
    assert (cells[(1, 2)], cells[(3, 2)], cells[(4, 2)], cells[(6, 2)]) == ("新一", "新二", "新三", "新四")
    assert (cells[(4, 1)], cells[(6, 1)]) == (3, 4) and (1, 1) not in cells  # item numbers; 1 was 1 already
    assert changes.new_rows == [NewRow("申报工程", 6, 5)]
    assert [s.name for s in changes.new_sheets] == ["申报工程历史"]
    history = _cells(changes, "申报工程历史")
    assert (history[(1, 2)], history[(2, 2)], history[(1, 10)]) == ("甲一", "甲二", "2025-03-21 08:00:00")


def test_same_items_write_nothing_and_fewer_items_clear_the_surplus_rows() -> None:
    snap = _snapshot([_row("甲党支部", 1, "甲一"), _row("乙党支部", 1, "乙一"), _row("甲党支部", 2, "甲二")])
    assert _cells(_plan(snap, _incoming("甲党支部", ["甲一", "甲二"], "same")), "申报工程") == {}
    changes = _plan(snap, _incoming("甲党支部", ["只有一项"], "fewer"))
    cells = _cells(changes, "申报工程")
    assert cells[(1, 2)] == "只有一项" and not changes.new_rows
    cleared = {c: v for (r, c), v in cells.items() if r == 3}
    assert set(cleared) == {0, 1, 2, 3, 4, 5, 6, 8, 9} and set(cleared.values()) == {None}
    assert not any(r == 2 for r, _ in cells)  # the other branch's row


# -- profiles: every stored field has a destination ------------------------------------------------------

@pytest.mark.parametrize("name", builtin_profiles())
def test_every_stored_field_has_a_destination(name: str) -> None:
    p = load_profile(name)
    for f in p.fields:
        if not f.store:
            assert f.reason and f.type == "signature", f.name
        elif f.type == "image":
            assert p.ledger.logo_column, f.name
        else:
            assert f.name == p.key or f.name in p.ledger.columns, f.name
    sheets = set()
    for t in p.tables:
        header = table_header(p, t)
        assert header[:2] == [p.key, t.item_column]
        assert {c.name for c in t.columns if c.store} <= set(header)
        sheets |= {t.sheet_name, history_sheet(t)}
        assert t.count_column is None or t.count_column in p.ledger.columns
    assert not sheets & {p.ledger.sheet, p.ledger.log_sheet}


def test_a_toml_field_with_no_column_does_not_load(tmp_path: Path) -> None:
    text = (PROFILE_DIR / "hospital-annual.toml").read_text(encoding="utf-8")
    path = tmp_path / "edited.toml"
    path.write_text(text.replace('"工程数", "填表人", ', '"工程数", ', 1), encoding="utf-8")
    with pytest.raises(ProfileError, match="填表人.*ledger.columns"):
        load_profile(path)


def _edited(name: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    edit(data)
    return data


def _field(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["fields"] if f["name"] == name)


@pytest.mark.parametrize("name, edit, needle", [
    # a signature that is not stored, without saying why
    ("hospital-brand", lambda d: _field(d, "党支部意见").pop("reason"), "党支部意见.*reason"),
    # a signature that is stored has no column
    ("college-feature", lambda d: _field(d, "支部意见").update(store=True), "支部意见.*ledger.columns"),
    # a picture with no logo column
    ("hospital-brand", lambda d: d["ledger"].update(logo_column=""), "品牌标识.*logo_column"),
    # a table column not stored, without a reason
    ("dangjian-plus", lambda d: d["tables"][0]["columns"][3].update(store=False), "成效.*reason"),
    # a table whose sheet is the ledger's
    ("dangjian-plus", lambda d: d["tables"][0].update(sheet="品牌台账"), "品牌台账"),
    # a count column the ledger lacks
    ("hospital-annual", lambda d: d["tables"][0].update(count_column="项目数"), "项目数"),
])
def test_a_field_with_nowhere_to_go_does_not_load(name: str, edit: Callable[[dict[str, Any]], None],
                                                   needle: str) -> None:
    with pytest.raises(ProfileError, match=needle):
        parse_profile(_edited(name, edit))
