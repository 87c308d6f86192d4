"""The ledger as officers edit it by hand in Excel/WPS between runs, kept as they left it ("adopt, don't
impose", DESIGN §6): notes typed in a column with no header, section lines and totals typed between the
branch rows, a stage column renamed (推荐情况), the 党总支 merged over its branches. And what the
commands around them owe the office: 填报规则 errors naming the row the officer sees, `stamp --paper`
adding rows as a merge does, `init --roster` reporting its roster on the plain result.

Each test edits the `brandkit demo` master with openpyxl as an officer would, runs the real CLI, reads the
master back with openpyxl and compares every cell the office typed before and after."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.builders import load_quietly

LEDGER = "品牌台账"
LOG = "操作记录"
ROSTER = "支部名单"
RULES = "填报规则"
KEY = "党支部名称"

Cells = dict[tuple[str, str], Any]


@pytest.fixture
def master(demo_master: Path) -> Path:
    return demo_master





def office_edit(path: Path, change: Callable[[Any], None]) -> Cells:
    """Let an officer change the workbook (`change(wb)`), save it, and return every cell it then holds."""
    wb = load_quietly(path)
    change(wb)
    wb.save(path)
    return cells(path)


def cells(path: Path) -> Cells:
    """(sheet, coordinate) -> value of every cell holding one, in every sheet."""
    out: Cells = {}
    for ws in load_quietly(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out[(ws.title, c.coordinate)] = c.value
    return out


def changed(before: Cells, after: Cells) -> dict[tuple[str, str], tuple[Any, Any]]:
    """The cells whose value differs, outside the log sheet (its new rows are compared on their own)."""
    return {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
            if k[0] != LOG and before.get(k) != after.get(k)}


def assert_typed_kept(before: Cells, after: Cells, written: Iterable[tuple[str, str]] = ()) -> None:
    """Every cell holding a value before holds the same after, but the cells brandkit was asked to write
    (`written`, which must have been empty); the log keeps every row it had."""
    written = set(written)
    lost = {k: (v, after.get(k)) for k, v in before.items() if k not in written and after.get(k) != v}
    assert lost == {}
    assert all(k not in before for k in written), "brandkit wrote over a cell the office had typed"


def log_rows(path: Path) -> list[dict[str, Any]]:
    rows = list(load_quietly(path)[LOG].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def header(ws: Any) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def row_of(ws: Any, branch: str) -> int:
    col = header(ws)[KEY]
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col).value == branch)


def run_json(cli: Callable[..., Any], *args: str | Path, code: int | None = 0) -> dict[str, Any]:
    """The command's JSON; its exit code `code` (None: 0 or 1, done with some branches refused)."""
    result = cli("--json", *args)
    assert result.returncode in ((0, 1) if code is None else (code,)), result.stderr
    return json.loads(result.stdout)


def stage_row(report: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(s for s in report["stages"] if s["阶段"] == stage)


# -- D1: a column brandkit adds goes right of the office's notes typed under no header ----------------

def _notes_without_header(wb: Any) -> None:
    """The office deletes the unused 推广状态 column and jots notes in the first empty column (now V),
    giving it no header."""
    ws = wb[LEDGER]
    ws.delete_cols(header(ws)["推广状态"])
    assert ws.cell(1, 22).value is None and ws.cell(1, 21).value == "纸质版盖章"
    ws["V2"] = "党委书记联系点，优先推荐"
    ws["V17"] = "护理部：纸质版8月30日已电话催"


def test_a_new_stage_column_goes_right_of_notes_typed_under_no_header(cli, master: Path) -> None:
    before = office_edit(master, _notes_without_header)
    logged = len(log_rows(master))
    done = run_json(cli, "stamp", master, "--stage", "推广", "--status", "推广中", "--branch", "内科第一党支部",
                    "--by", "张三", "--date", "2024-09-01")
    assert done["stamped"] == ["内科第一党支部"]
    after = cells(master)
    assert changed(before, after) == {(LEDGER, "W1"): (None, "推广状态"), (LEDGER, "W2"): (None, "推广中 2024-09-01 张三")}
    assert_typed_kept(before, after, [(LEDGER, "W1"), (LEDGER, "W2")])
    (entry,) = log_rows(master)[logged:]
    assert (entry["阶段"], entry["原值"], entry["新值"]) == ("推广", None, "推广中 2024-09-01 张三")
    ws = load_quietly(master)[LEDGER]  # headed like the ledger's last column, not like the notes
    assert (ws["W1"].font.b, ws["W1"].fill.fgColor.rgb) == (ws["U1"].font.b, ws["U1"].fill.fgColor.rgb)
    assert ws["W1"].font.b
    # the notes are no stamps: one branch 推广中, nobody "其他"
    promote = stage_row(run_json(cli, "status", master), "推广")
    assert (promote["待办"], promote.get("其他", 0), promote["未办理"]) == (1, 0, 20)


def test_adopting_again_adds_the_missing_column_right_of_the_notes(cli, master: Path) -> None:
    """`init` on the master (the office re-adopts it): the 推广状态 it deleted comes back after column V."""
    before = office_edit(master, _notes_without_header)
    done = run_json(cli, "init", master)
    assert done["added_columns"] == ["推广状态"]
    after = cells(master)
    assert {k: v for k, v in changed(before, after).items() if k[0] == LEDGER} == {(LEDGER, "W1"): (None, "推广状态")}
    assert_typed_kept(before, after, [(LEDGER, "W1")])


def test_paper_columns_go_right_of_notes_and_an_unreadable_paper_cell_is_logged(cli, master: Path) -> None:
    """The 纸质版 columns deleted and notes typed where they were: `stamp --paper` adds them after the
    notes; a 收到日期 the office typed ("待补") that a stamp replaces is in the log's 原值."""
    def edit(wb: Any) -> None:
        ws = wb[LEDGER]
        ws.delete_cols(header(ws)["纸质版收到日期"], 3)
        ws["T3"] = "8月底前补交"

    before = office_edit(master, edit)
    done = run_json(cli, "stamp", master, "--paper", "--branch", "心血管内科党支部", "--by", "党办", "--date", "2024-08-20")
    assert done["stamped"] == ["心血管内科党支部"]
    after = cells(master)
    assert after[(LEDGER, "T3")] == "8月底前补交"
    assert [after.get((LEDGER, f"{c}1")) for c in "UVW"] == ["纸质版收到日期", "纸质版份数", "纸质版盖章"]
    assert_typed_kept(before, after, [(LEDGER, f"{c}{r}") for c in "UVW" for r in (1, 3)])

    def typed(wb: Any) -> None:
        ws = wb[LEDGER]
        ws.cell(row_of(ws, "儿科党支部"), header(ws)["纸质版收到日期"], "待补")

    office_edit(master, typed)
    logged = len(log_rows(master))
    run_json(cli, "stamp", master, "--paper", "--branch", "儿科党支部", "--by", "党办", "--date", "2024-08-21")
    (entry,) = log_rows(master)[logged:]
    assert "待补" in str(entry["原值"])


# -- D2: section lines and totals typed between the branch rows ----------------------------------------

def _section_and_total_rows(wb: Any) -> None:
    """A blank row above 外一科 with a section line in the branch column, a 小计 row in the middle, a 合计
    row with a SUM under the data."""
    ws = wb[LEDGER]
    ws.insert_rows(7)
    ws["C7"] = "（以下为第二党总支）"
    ws.insert_rows(13)
    ws["C13"] = "第二党总支小计"
    ws["B13"] = "小计"
    ws["D13"] = "=SUM(D8:D12)"
    ws["C26"] = "合计"
    ws["D26"] = "=SUM(D2:D24)"


def test_section_lines_and_totals_between_branches_are_no_branches(cli, master: Path, tmp_path: Path) -> None:
    before = office_edit(master, _section_and_total_rows)
    report = run_json(cli, "status", master)
    total = report["groups"][-1]
    assert total["支部数"] == 21
    named = set(report["missing"]) | {d["branch"] for d in report["missing_details"]}
    assert not named & {"（以下为第二党总支）", "第二党总支小计", "合计"}
    assert not any("以下为" in w for w in report["warnings"])

    assert cli("export", master, "-o", tmp_path / "进展.csv").returncode == 0
    exported = (tmp_path / "进展.csv").read_text(encoding="utf-8-sig")
    assert "以下为" not in exported and "小计" not in exported

    done = run_json(cli, "stamp", master, "--stage", "党总支审批", "--status", "待审", "--all", "--by", "张三",
                    "--date", "2024-08-28", code=None)
    stamped = set(done["stamped"]) | set(done["unchanged"]) | {r["branch"] for r in done["refused"]}
    assert len(stamped) == 21 and not stamped & {"（以下为第二党总支）", "第二党总支小计", "合计"}
    after = cells(master)
    ws = load_quietly(master)[LEDGER]
    status_col = ws.cell(1, header(ws)["党总支审批状态"]).column_letter
    written = changed(before, after)
    assert written and all(coord[0] == status_col and coord[1:].isdigit() for _, coord in written)
    for r in (7, 13, 26):  # the office's lines stay as typed, their status cell empty
        assert (LEDGER, f"{status_col}{r}") not in after
    assert_typed_kept(before, after, written)


def test_a_ledger_row_missing_from_the_roster_is_reported_and_never_stamped_by_all(cli, master: Path) -> None:
    """With a 支部名单, a ledger row it does not list (a line brandkit cannot tell from a branch) is named
    in status's warnings and in the stamp's notes; `stamp --all` leaves it alone."""
    def edit(wb: Any) -> None:
        ws = wb[LEDGER]
        ws["B23"], ws["C23"] = "第一党总支", "党委书记联系点"

    before = office_edit(master, edit)
    report = run_json(cli, "status", master)
    assert any("第 23 行“党委书记联系点”" in w and ROSTER in w for w in report["warnings"])
    result = cli("stamp", master, "--stage", "推广", "--status", "推广中", "--all", "--by", "张三", "--date", "2024-09-01")
    assert "第 23 行“党委书记联系点”" in result.stdout + result.stderr
    assert "已盖章  党委书记联系点" not in result.stdout + result.stderr
    assert "已盖章  内科第一党支部" in result.stdout + result.stderr
    after = cells(master)
    assert (LEDGER, "P23") not in after and after[(LEDGER, "C23")] == "党委书记联系点"
    assert_typed_kept(before, after, [k for k in changed(before, after) if k[1][0] == "P"])


def test_a_heading_the_roster_lists_is_a_branch_after_all(cli, master: Path) -> None:
    """"机关党委" typed under the data reads as a heading line, not a branch, until the 支部名单 lists it."""
    def heading(wb: Any) -> None:
        wb[LEDGER]["C23"] = "机关党委"

    office_edit(master, heading)
    report = run_json(cli, "status", master)
    assert report["groups"][-1]["支部数"] == 21 and "机关党委" not in report["missing"]

    office_edit(master, lambda wb: wb[ROSTER].append(["机关党总支", "机关党委", "机关", "否"]))
    report = run_json(cli, "status", master)
    assert report["groups"][-1]["支部数"] == 22 and "机关党委" in report["missing"]
    assert not any("机关党委" in w for w in report["warnings"])


# -- D3: a stage column the office renamed -------------------------------------------------------------

def _recommend_renamed(wb: Any) -> None:
    """创建 completed by hand for three 第一党总支 branches; the 推荐 column headed 推荐情况, two typed 已推荐."""
    ws = wb[LEDGER]
    h = header(ws)
    for branch in ("内科第一党支部", "心血管内科党支部", "儿科党支部"):
        ws.cell(row_of(ws, branch), h["党总支审批状态"], "已通过 2024-08-20 张三")
        ws.cell(row_of(ws, branch), h["创建状态"], "已完成 2024-10-01 张三")
    ws.cell(row_of(ws, "护理部党支部"), h["创建状态"], "已完成 2024-10-01 张三")
    ws.cell(1, h["推荐状态"], "推荐情况")
    for branch in ("内科第一党支部", "心血管内科党支部"):
        ws.cell(row_of(ws, branch), h["推荐状态"], "已推荐 2024-10-10 张三")


def test_a_renamed_stage_column_is_the_stages_own(cli, master: Path) -> None:
    before = office_edit(master, _recommend_renamed)
    assert stage_row(run_json(cli, "status", master), "推荐")["通过"] == 2
    # the quota sees the two typed: a third 第一党总支 branch is refused
    done = run_json(cli, "stamp", master, "--stage", "推荐", "--status", "已推荐", "--branch", "儿科党支部",
                    "--by", "张三", "--date", "2024-10-10", code=1)
    assert done["stamped"] == [] and done["refused"][0]["branch"] == "儿科党支部"
    assert not changed(before, cells(master))
    # another 党总支's branch is stamped in the office's column, and no second 推荐 column appears
    done = run_json(cli, "stamp", master, "--stage", "推荐", "--status", "已推荐", "--branch", "护理部党支部",
                    "--by", "张三", "--date", "2024-10-10")
    assert done["stamped"] == ["护理部党支部"]
    after = cells(master)
    assert changed(before, after) == {(LEDGER, "N17"): (None, "已推荐 2024-10-10 张三")}
    assert [v for (s, _), v in after.items() if s == LEDGER and v == "推荐状态"] == []
    assert_typed_kept(before, after, [(LEDGER, "N17")])


def test_a_renamed_stage_column_inside_an_excel_table(cli, master: Path) -> None:
    """The ledger formatted as an Excel Table (套用表格格式) with 推广状态 headed 推广情况."""
    from openpyxl.worksheet.table import Table, TableStyleInfo

    def edit(wb: Any) -> None:
        ws = wb[LEDGER]
        ws.auto_filter.ref = None
        table = Table(displayName="台账表", ref="A1:V22")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
        ws["P1"] = "推广情况"

    before = office_edit(master, edit)
    done = run_json(cli, "stamp", master, "--stage", "推广", "--status", "推广中", "--branch", "内科第一党支部",
                    "--by", "张三", "--date", "2024-09-01")
    assert done["stamped"] == ["内科第一党支部"]
    after = cells(master)
    assert changed(before, after) == {(LEDGER, "P2"): (None, "推广中 2024-09-01 张三")}
    ws = load_quietly(master)[LEDGER]
    assert ws.tables["台账表"].ref == "A1:V22"
    assert stage_row(run_json(cli, "status", master), "推广")["待办"] == 1


def test_two_columns_that_may_be_the_stages_are_refused_not_doubled(cli, master: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb[LEDGER]
        ws["P1"] = "推广情况"
        ws["W1"] = "推广结果"

    office_edit(master, edit)
    data = master.read_bytes()
    result = cli("stamp", master, "--stage", "推广", "--status", "推广中", "--branch", "护理部党支部", "--by", "张三",
                 "--date", "2024-09-01")
    assert result.returncode == 2
    assert "“推广情况”、“推广结果”" in result.stderr and "推广状态" in result.stderr
    assert master.read_bytes() == data
    assert any("推广情况" in w and "推广结果" in w for w in run_json(cli, "status", master)["warnings"])


# -- D6: the 党总支 merged over its branches ------------------------------------------------------------

def _sorted_and_merged(wb: Any) -> None:
    """The office sorts its ledger by 党总支, merges each 党总支's cells over its branches (Excel keeps the
    first value only) and, having adopted its own ledger, has no 支部名单 sheet."""
    ws = wb[LEDGER]
    width = ws.max_column
    rows = [[ws.cell(r, c).value for c in range(1, width + 1)] for r in range(2, 23)]
    rows.sort(key=lambda r: str(r[1]))
    for r, values in enumerate(rows, start=2):
        for c, v in enumerate(values, start=1):
            ws.cell(r, c, v)
    start = 2
    for r in range(3, 24):
        if r == 23 or ws.cell(r, 2).value != ws.cell(start, 2).value:
            if r - 1 > start:
                for rr in range(start + 1, r):
                    ws.cell(rr, 2).value = None
                ws.merge_cells(start_row=start, start_column=2, end_row=r - 1, end_column=2)
            start = r
    del wb[ROSTER]


def test_a_merged_group_cell_belongs_to_every_branch_it_spans(cli, master: Path) -> None:
    before = office_edit(master, _sorted_and_merged)
    groups = {g["党总支"]: g["支部数"] for g in run_json(cli, "status", master)["groups"][:-1]}
    assert groups == {"医技党总支": 5, "机关党总支": 3, "离退休党总支": 1, "第一党总支": 6, "第二党总支": 6}
    for stage, status in (("创建", "已完成"), ("推荐", "已推荐")):
        done = run_json(cli, "stamp", master, "--stage", stage, "--status", status, "--branch", "护理部党支部",
                        "--by", "张三", "--date", "2024-10-10")
        assert done["stamped"] == ["护理部党支部"], done["refused"]
    after = cells(master)
    ws = load_quietly(master)[LEDGER]
    row = row_of(ws, "护理部党支部")
    assert {k for k in changed(before, after)} == {(LEDGER, f"M{row}"), (LEDGER, f"N{row}")}
    assert_typed_kept(before, after, changed(before, after))
    assert len(ws.merged_cells.ranges) == 4


def test_a_stamp_never_writes_into_a_merged_area(cli, master: Path) -> None:
    """The office merged 推广状态 over two branches ("统一推广"): stamping the second would write a cell the
    merge hides, stamping the first would change what both rows show; both are refused, nothing written."""
    def edit(wb: Any) -> None:
        ws = wb[LEDGER]
        ws["L3"] = "已通过 2024-08-20 张三"
        ws["P2"] = "统一推广"
        ws.merge_cells("P2:P3")

    office_edit(master, edit)
    data = master.read_bytes()
    done = run_json(cli, "stamp", master, "--stage", "推广", "--status", "推广中", "--branch", "心血管内科党支部",
                    "--branch", "内科第一党支部", "--by", "张三", "--date", "2024-09-01", code=1)
    assert done["stamped"] == []
    assert {r["branch"] for r in done["refused"]} == {"心血管内科党支部", "内科第一党支部"}
    assert all("P2:P3" in r["reason"] for r in done["refused"])
    assert master.read_bytes() == data


# -- follow-ups -------------------------------------------------------------------------------------------

def test_a_rules_error_names_the_row_the_officer_sees(cli, master: Path) -> None:
    """A row inserted above the 填报规则 field table: an error in it names the row where it now is."""
    where: dict[str, int] = {}

    def edit(wb: Any) -> None:
        ws = wb[RULES]
        top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "字段")
        ws.insert_rows(top)
        ws.cell(top, 1, "（以下各行可修改）")
        head = {ws.cell(top + 1, c).value: c for c in range(1, ws.max_column + 1)}
        row = next(r for r in range(top + 2, ws.max_row + 1) if ws.cell(r, 1).value == "品牌名称")
        ws.cell(row, head["必填"], "不一定")
        where["row"] = row

    office_edit(master, edit)
    result = cli("status", master)
    assert result.returncode == 2
    assert f"“{RULES}”工作表 B{where['row']}（“品牌名称”的“必填”）" in result.stderr


def _roster_branch(wb: Any) -> None:
    ws = wb[ROSTER]
    ws.append(["第二党总支", "骨科党支部", "临床", "否"])


def test_paper_for_a_roster_branch_adds_its_row_like_a_merge(cli, master: Path) -> None:
    """`stamp --paper` for a branch on the 支部名单 only gets a new ledger row made as a merge makes it:
    the office's 序号 formula filled down, not overwritten by a number."""
    def edit(wb: Any) -> None:
        _roster_branch(wb)
        ws = wb[LEDGER]
        for r in range(2, 23):
            ws.cell(r, 1, "=ROW()-1")

    before = office_edit(master, edit)
    done = run_json(cli, "stamp", master, "--paper", "--branch", "骨科党支部", "--by", "党办", "--date", "2024-08-20")
    assert done["stamped"] == ["骨科党支部"]
    after = cells(master)
    assert after[(LEDGER, "C23")] == "骨科党支部" and after[(LEDGER, "A23")] == "=ROW()-1"
    assert after[(LEDGER, "B23")] == "第二党总支"
    assert_typed_kept(before, after, [k for k in changed(before, after) if k[1][1:] == "23"])


def test_paper_for_a_roster_branch_is_refused_under_a_note_row(cli, master: Path) -> None:
    """A note line under the data (注：…): the new row would land below it, so nothing is written."""
    def edit(wb: Any) -> None:
        _roster_branch(wb)
        wb[LEDGER]["A23"] = "注：骨科党支部正在筹建"

    office_edit(master, edit)
    data = master.read_bytes()
    result = cli("stamp", master, "--paper", "--branch", "骨科党支部", "--by", "党办", "--date", "2024-08-20")
    assert result.returncode == 2
    assert "第 23 行" in result.stderr and "注释行" in result.stderr
    assert master.read_bytes() == data


def test_init_result_carries_the_roster_itself(cli, tmp_path: Path) -> None:
    import toolkit.commands.init as init
    from toolkit.core.adoption import InitResult

    assert "roster" in {f.name for f in dataclasses.fields(InitResult)}
    assert not hasattr(init, "RosterInitResult")
    roster = tmp_path / "名单.csv"
    roster.write_text("党总支,党支部名称\n第一党总支,内科第一党支部\n第一党总支,儿科党支部\n", encoding="utf-8")
    done = run_json(cli, "init", tmp_path / "台账.xlsx", "--profile", "hospital-brand", "--roster", roster)
    assert done["roster"]["branches"] == 2 and done["added_branches"] == ["内科第一党支部", "儿科党支部"]
    result = cli("init", tmp_path / "台账2.xlsx", "--profile", "hospital-brand", "--roster", roster)
    assert result.returncode == 0 and "名单.csv" in result.stdout + result.stderr
