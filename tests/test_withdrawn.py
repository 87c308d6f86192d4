"""A branch that leaves the campaign at one stage (a declined status: 未推荐, 未立项 …) leaves every stage
that requires that one: `status`, `summary` and the booklet count it there as 已退出, never as the
入选 / 已完成 its cell may still hold, and say so; the master keeps every stamp as it was made.

hospital-brand: four branches merged and stamped through the CLI up to 评选; 内科第一党支部 was
recommended and selected (入选), then its 推荐 was changed to 未推荐 (--force); 外科第一党支部 was never
recommended. university-project: a must-join branch 立项, built and accepted, then 未立项: it is no
longer 应参与 once the campaign measures 考核验收.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import profile, sample_value
from tests.forms import BRANDS, write_filled_form, write_roster

FIRST, NURSING, OFFICE, SURGERY = (b for b, _, _ in BRANDS)  # 第一党总支: the first two; 第二党总支: the others
GROUPS = [("第一党总支", FIRST), ("第一党总支", NURSING), ("第二党总支", OFFICE), ("第二党总支", SURGERY)]
STAMPS = [  # (stage, status, branches (None: all), date, --force)
    ("党总支审批", "已通过", None, "2024-08-12", False),
    ("创建", "已完成", None, "2024-08-20", False),
    ("推荐", "已推荐", [FIRST, NURSING, OFFICE], "2024-08-25", False),
    ("推荐", "未推荐", [SURGERY], "2024-08-25", False),
    ("评选", "入选", [FIRST, OFFICE], "2024-08-28", False),
    ("推荐", "未推荐", [FIRST], "2024-08-30", True),  # withdrawn after being selected
]


def _json(run: Any) -> Any:
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def withdrawn_master(cli, new_master, make_form, tmp_path: Path) -> Path:
    master = new_master(write_roster(tmp_path / "名单.xlsx", GROUPS))
    inbox = tmp_path / "收件箱"
    for n in range(len(BRANDS)):
        make_form(n, folder=inbox)
    assert cli("merge", master, inbox, "--by", "党办").returncode == 0
    for stage, status, branches, day, force in STAMPS:
        who = [a for b in branches for a in ("--branch", b)] if branches else ["--all"]
        run = cli("stamp", master, "--stage", stage, "--status", status, *who, "--by", "张三", "--date", day,
                  *(["--force"] if force else []))
        assert run.returncode == 0, (stage, status, run.stdout, run.stderr)
    return master


def _ledger(master: Path) -> dict[str, dict[str, Any]]:
    import openpyxl

    p = profile("hospital-brand")
    rows = list(openpyxl.load_workbook(master, read_only=True)[p.ledger.sheet].iter_rows(values_only=True))
    header = list(rows[0])
    return {r[header.index(p.key)]: dict(zip(header, r, strict=False)) for r in rows[1:] if r[header.index(p.key)]}


def _sheet(path: Path, name: str) -> list[list[Any]]:
    import openpyxl

    return [list(r) for r in openpyxl.load_workbook(path, read_only=True)[name].iter_rows(values_only=True)]


def test_the_master_keeps_the_stamps_the_reports_no_longer_count(withdrawn_master: Path) -> None:
    cells = _ledger(withdrawn_master)
    assert str(cells[FIRST]["推荐状态"]).startswith("未推荐 2024-08-30")
    assert str(cells[FIRST]["评选状态"]).startswith("入选 2024-08-28")  # nothing is lost


def test_status_counts_a_withdrawn_branch_as_withdrawn_not_selected(cli, withdrawn_master: Path) -> None:
    doc = _json(cli("--json", "status", withdrawn_master))
    total = next(g for g in doc["groups"] if g["党总支"] == "合计")
    first = next(g for g in doc["groups"] if g["党总支"] == "第一党总支")
    assert (total["评选"], first["评选"]) == (1, 0)  # selected: 机关第二党支部 only
    stages = {s["阶段"]: s for s in doc["stages"]}
    assert (stages["评选"]["通过"], stages["评选"]["未办理"]) == (1, 1)  # 外科第一 is not left to do
    assert stages["评选"].get("已退出") == 2
    assert stages["推荐"]["已退出"] == 0 and stages["推广"]["已退出"] == 0  # 推广 does not need 推荐
    assert {(w["branch"], w["stage"], w["status"], tuple(w["left"])) for w in doc["withdrawn"]} == \
        {(FIRST, "推荐", "未推荐", ("评选",)), (SURGERY, "推荐", "未推荐", ("评选",))}
    owing = {(o["branch"], o["stage"]) for o in doc["owed"]}
    assert (FIRST, "评选") not in owing and (SURGERY, "评选") not in owing and (NURSING, "评选") in owing

    text = cli("status", withdrawn_master).stdout
    assert "已退出 2 个支部" in text
    assert f"{FIRST}：“推荐”为“未推荐”，不再参与“评选”" in text


def test_summary_marks_the_stages_a_branch_left(cli, withdrawn_master: Path, tmp_path: Path) -> None:
    out = tmp_path / "汇总.xlsx"
    assert cli("summary", withdrawn_master, "-o", out).returncode == 0

    progress = _sheet(out, "总体进度")
    header = progress[3]
    total = dict(zip(header, next(r for r in progress if r[0] == "合计"), strict=False))
    assert total["评选"] == 1  # 机关第二党支部 only
    top = next(i for i, r in enumerate(progress) if r and r[0] == "阶段")
    stage_row = dict(zip(progress[top], next(r for r in progress[top:] if r[0] == "评选"), strict=False))
    assert (stage_row["通过"], stage_row["未办理"], stage_row.get("已退出")) == (1, 1, 2)
    assert any("已退出" in str(r[0]) for r in progress if r and str(r[0]).startswith("说明"))

    detail = _sheet(out, "进展明细")
    columns = detail[3]
    rows = {r[1]: dict(zip(columns, r, strict=False)) for r in detail[4:] if r and r[1]}
    assert rows[FIRST]["评选"] == "已退出" and rows[SURGERY]["评选"] == "已退出"
    assert rows[OFFICE]["评选"] == "入选" and rows[NURSING]["评选"] == "未办理"
    assert "“推荐”为“未推荐”" in rows[FIRST]["退出情况"] and not rows[OFFICE]["退出情况"]

    issues = _sheet(out, "问题汇总")
    stale = [r for r in issues[4:] if r and r[1] == FIRST and r[2] == "评选"]
    assert len(stale) == 1 and stale[0][3] == "入选" and "已退出" in stale[0][4] and "不计入统计" in stale[0][4]


def test_the_booklet_leaves_out_a_withdrawn_branch_and_says_so_in_its_section(cli, withdrawn_master: Path,
                                                                            tmp_path: Path) -> None:
    import docx

    selected = tmp_path / "入选.docx"
    doc = _json(cli("--json", "booklet", withdrawn_master, "-o", selected, "--stage", "评选", "--status", "入选"))
    assert [h.split("：")[0] for h in doc["sections"]] == [OFFICE]
    assert doc["withdrawn"] == [FIRST]
    headings = [p.text for p in docx.Document(str(selected)).paragraphs if p.style.name == "Heading 1"]
    assert [h.split("：")[0] for h in headings] == [OFFICE]

    every = tmp_path / "全部.docx"
    assert cli("booklet", withdrawn_master, "-o", every).returncode == 0
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in docx.Document(str(every)).tables]
    outcomes = [t for t in tables if t[0] == ["阶段", "结果", "日期"]]
    assert len(outcomes) == 4  # every accepted form is in the booklet of all brands, in roster order
    first = {row[0]: row[1] for row in outcomes[0][1:]}
    assert first["推荐"] == "未推荐" and first["评选"] == "已退出"  # not the 入选 its cell still holds
    office = {row[0]: row[1] for row in outcomes[2][1:]}
    assert office["评选"] == "入选"


# -- university-project: 应参与 and 完成率 -------------------------------------------------------------------

UNIVERSITY = [("机械学院党委", "机械学院教工第一党支部", "省级样板支部"),  # must take part (its 类别)
              ("机械学院党委", "机械学院教工第二党支部", "其他"),
              ("外国语学院党委", "外国语学院教工党支部", "培育对象")]  # must take part


def test_a_branch_withdrawn_before_the_measured_stage_is_not_expected_there(cli, tmp_path: Path) -> None:
    from toolkit.commands.init import init_master
    from toolkit.commands.merge import merge

    p = profile("university-project")
    master = tmp_path / "台账.xlsx"
    init_master(master, p.id, None, operator="党办")
    inbox = tmp_path / "收件箱"
    inbox.mkdir()
    for n, (group, branch, category) in enumerate(UNIVERSITY):
        values = {f.name: sample_value(p, f.name, n) for f in p.fields if f.type != "image"}
        write_filled_form(inbox / f"{n}.xlsx", {**values, p.key: branch, p.group: group, "支部类别": category}, p.id)
    merge(master, [inbox], operator="党办", now=dt.datetime(2023, 11, 1, 9, 30))
    gone, kept = UNIVERSITY[0][1], UNIVERSITY[2][1]
    for stage, status, day, force in [("项目立项", "立项", "2023-11-20", False), ("培育建设", "已完成", "2024-08-20", False),
                                      ("考核验收", "通过验收", "2024-08-30", False),
                                      ("项目立项", "未立项", "2024-09-01", True)]:
        for branch in (gone, kept) if not force else (gone,):
            run = cli("stamp", master, "--stage", stage, "--status", status, "--branch", branch, "--date", day,
                      *(["--force"] if force else []))
            assert run.returncode == 0, (stage, branch, run.stdout, run.stderr)

    doc = _json(cli("--json", "status", master, "--date", "2024-09-05"))  # 完成率 measures 考核验收 (due 08-31)
    total = next(g for g in doc["groups"] if g["党总支"] == "合计")
    assert (total["支部数"], total["应参与"], total["已完成"]) == (3, 1, 1)
    assert total["完成率"] == pytest.approx(1.0)
    assert total["考核验收"] == 1 and total["培育建设"] == 1
    assert total.get("已退出") == 1
    stages = {s["阶段"]: s for s in doc["stages"]}
    assert stages["考核验收"]["已退出"] == 1 and stages["培育建设"]["已退出"] == 1

    before = _json(cli("--json", "status", master, "--date", "2024-08-31"))  # the 未立项 stamp not made yet
    total = next(g for g in before["groups"] if g["党总支"] == "合计")
    assert (total["应参与"], total["已退出"], total["已完成"]) == (2, 0, 2) and before["withdrawn"] == []


def test_a_declined_or_withdrawn_branch_blocks_no_stage(withdrawn_master: Path) -> None:
    """未推荐 is a final decision on 推荐, and a branch that has left 评选 owes it nothing: neither is
    chased in 下一步 (a declined status used to block its own stage like a missing one)."""
    from toolkit.commands.next_steps import blocks
    from toolkit.core.progress import branch_records
    from toolkit.files.masterfile import load_master

    snap = load_master(withdrawn_master)
    stages = {s.name: s for s in snap.profile.stages}
    records = {r.branch: r for r in branch_records(snap, dt.date(2024, 9, 30))}
    blocking = {name: {b for b, r in records.items() if blocks(r, stage)} for name, stage in stages.items()}
    assert blocking["推荐"] == set()  # three 已推荐, one 未推荐: all decided
    assert blocking["评选"] == {NURSING}  # recommended, not yet decided; 内科第一 and 外科第一 have left it
