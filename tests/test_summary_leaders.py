"""The summary a leader reads without help (issue 12, item 2), on the demo's own master: counts by 报送情况
with late forms counted as submitted, 提交率 and 完成率 recounted here from the ledger and roster cells
(openpyxl, not brandkit's reader), the 未提交名单 with the roster's contacts, every sheet printed by
LibreOffice with its title and no cell cut; and `brandkit export`, read back with the same rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.libreoffice import roundtrip_values

AS_OF = dt.date(2024, 9, 1)  # the demo's summary day: five days after its merge (the morning after the last mail)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from toolkit.commands.demo import run_demo

    folder = tmp_path_factory.mktemp("demo") / "brandkit-demo"
    assert run_demo(folder, lambda _: None, lambda _: None) == 0
    return folder / "品牌台账.xlsx"


@pytest.fixture(scope="module")
def leaders(demo: Path) -> Path:
    from toolkit.commands.summary import summary

    return summary(demo, demo.parent / "领导汇总.xlsx", today=AS_OF).path


def recount(master: Path) -> dict[str, Any]:
    """报送情况, 必须参与 and contacts straight from the 品牌台账 and 支部名单 cells (the kept roster calls
    the sample's 联系方式 电话)."""
    import openpyxl

    wb = openpyxl.load_workbook(master, read_only=True)
    roster = [list(r) for r in wb["支部名单"].iter_rows(values_only=True)]
    head = roster[0]
    must = {r[head.index("党支部名称")]: r[head.index("必须参与")] == "是" for r in roster[1:]}
    contacts = {r[head.index("党支部名称")]: (r[head.index("联系人")], str(r[head.index("电话")]),
                                              r[head.index("邮箱")]) for r in roster[1:]}
    ledger = [list(r) for r in wb["品牌台账"].iter_rows(values_only=True)]
    col = ledger[0].index("申报状态")
    status = {r[ledger[0].index("党支部名称")]: str(r[col] or "") for r in ledger[1:]}
    state = {}
    for branch in must:
        s = status.get(branch, "")
        state[branch] = ("按时提交" if s.startswith("已提交") else "逾期提交" if s.startswith("逾期提交")
                         else "退回待重报" if s.startswith("退回") else "未报送")
    submitted = {b for b, s in state.items() if s in ("按时提交", "逾期提交")}
    expected = {b for b, m in must.items() if m}
    return {"state": state, "submitted": submitted, "expected": expected, "contacts": contacts}


def test_the_demo_counts_late_forms_as_submitted_with_a_submission_rate(demo: Path, leaders: Path) -> None:
    expected = recount(demo)
    states = list(expected["state"].values())
    on_time, late = states.count("按时提交"), states.count("逾期提交")
    assert (on_time, late, len(expected["submitted"])) == (4, 6, 10)  # the old summary said 通过 4
    sheet = roundtrip_values(leaders)["总体进度"]
    header = sheet[3]
    total = next(r for r in sheet[4:] if r and r[0] == "合计")
    got = dict(zip(header, total, strict=False))
    assert (got["按时提交"], got["逾期提交"], got["已提交"]) == (4, 6, 10)
    assert got["退回待重报"] == states.count("退回待重报") and got["未报送"] == states.count("未报送")
    assert got["应参与"] == len(expected["expected"])
    rate = len(expected["submitted"] & expected["expected"]) / len(expected["expected"])
    assert got["提交率"] == pytest.approx(rate)
    assert "待办" not in header and "通过" not in header  # tool words and always-zero columns are gone
    assert sheet[0][0] == "“一支部一品牌”工作进展情况汇总"
    assert sheet[1][0].startswith("中共内蒙古医科大学附属医院委员会　统计截至2024年9月1日")
    stages = next(i for i, r in enumerate(sheet) if r and r[0] == "阶段")
    assert sheet[stages][:3] == ["阶段", "截止日期", "距截止"] and "未办理" in sheet[stages]
    assert sheet[stages + 1][1:3] == ["2024年8月10日", "已逾期 22 天"]


def test_missing_list_carries_the_roster_contacts(demo: Path, leaders: Path) -> None:
    expected = recount(demo)
    sheet = roundtrip_values(leaders)["未提交名单"]
    header = sheet[3]
    assert header[:8] == ["党总支", "党支部", "报送情况", "逾期情况", "必须参与", "联系人", "联系方式", "邮箱"]
    rows = {r[1]: r for r in sheet[4:] if r and r[1]}
    assert set(rows) == set(expected["state"]) - expected["submitted"]
    for branch, row in rows.items():
        assert row[2] == expected["state"][branch] and row[3] == "已逾期 22 天"
        assert tuple(row[5:8]) == expected["contacts"][branch] or row[2] == "退回待重报", branch  # a form's own contact wins
    detail = roundtrip_values(leaders)["进展明细"]
    assert len([r for r in detail[4:] if r and r[1]]) == len(expected["state"])
    assert detail[3][:4] == ["党总支", "党支部", "必须参与", "报送情况"] and "推广" in detail[3]


@pytest.mark.slow  # runs the demo or a whole campaign (seconds): make test, not make check
def test_status_counts_come_from_the_same_frame(demo: Path) -> None:
    from toolkit.commands.status import render_status, status
    from toolkit.core.progress import group_counts, progress_frame
    from toolkit.files.masterfile import load_master

    counts = group_counts(progress_frame(load_master(demo), AS_OF))
    total = next(line for line in render_status(status(demo, today=AS_OF)).splitlines() if line.startswith("合计"))
    assert total.split()[1:4] == [str(int(counts.loc["合计", c])) for c in ("支部数", "应参与", "按时提交")]
    assert f"{counts.loc['合计', '提交率']:.1%}" in total


@pytest.mark.parametrize("sheet", ["总体进度", "未提交名单", "进展明细"])
def test_printed_with_title_and_nothing_cut(leaders: Path, sheet: str) -> None:
    from tests.printed import cut_cells, find, print_sheet

    printed = print_sheet(leaders, sheet, f"leaders-{sheet}")
    pages = {"总体进度": 2, "未提交名单": 1, "进展明细": 2}[sheet]  # 总体进度: the tables, then the charts
    assert len(printed.pages) == pages
    rows = roundtrip_values(leaders)[sheet]
    if sheet == "进展明细":  # 21 branches: the whole header row printed again on the second page
        header = "".join(str(v) for v in next(r for r in rows if "党支部" in r and "报送情况" in r) if v)
        assert all(header in printed.squeezed(n) for n in range(pages)), header
    assert find(printed, roundtrip_values(leaders)[sheet][0][0]) is not None
    assert cut_cells(printed, sheet) == []


def test_export_csv_and_xlsx_read_back_with_the_same_rows(demo: Path, tmp_path: Path, cli) -> None:
    import pandas as pd

    from toolkit.commands.export import progress_table
    from toolkit.core.errors import UsageProblem

    frame = progress_table(demo, AS_OF)
    assert len(frame) == 21 and frame["报送情况"].value_counts()["逾期提交"] == 6
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"进展{suffix}"
        assert cli("export", demo, "-o", out, "--as-of", AS_OF.isoformat()).returncode == 0
        back = pd.read_csv(out, encoding="utf-8-sig", dtype=str) if suffix == ".csv" else \
            pd.read_excel(out, dtype=str)
        assert list(back.columns) == list(frame.columns)
        assert back["党支部"].tolist() == frame["党支部"].tolist()
        assert back["报送情况"].tolist() == frame["报送情况"].astype(str).tolist()
        assert back["申报"].fillna("").tolist() == frame["申报"].fillna("").tolist()
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        from toolkit.commands.export import export

        with pytest.raises(UsageProblem, match="pyarrow"):
            export(demo, tmp_path / "进展.parquet", AS_OF)
    else:
        assert cli("export", demo, "-o", tmp_path / "进展.parquet").returncode == 0
        assert pd.read_parquet(tmp_path / "进展.parquet")["党支部"].tolist() == frame["党支部"].tolist()


def test_export_keeps_text_that_reads_like_a_formula_as_text(tmp_path: Path, cli) -> None:
    """A roster's 党总支 "=1+2", "+1+2" or "@总支" is text: a live formula in the .xlsx, or a cell Excel runs
    when it opens the .csv, is what an attacker who wrote the roster would want (CSV injection)."""
    import csv

    import openpyxl

    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["党总支", "党支部名称"])
    wb.active.append(["+1+2", "内科第一党支部"])
    wb.active.append(["@总支", "护理部党支部"])
    wb.active.append([None, "机关第二党支部"])
    wb.active["A4"].value, wb.active["A4"].data_type = "=1+2", "s"  # typed as text in the roster
    wb.save(roster)
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", "hospital-brand", "--roster", roster).returncode == 0
    assert cli("export", master, "-o", tmp_path / "e.xlsx").returncode == 0
    cells = [c for row in openpyxl.load_workbook(tmp_path / "e.xlsx").active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert {"+1+2", "@总支", "=1+2"} <= {c.value for c in cells}
    assert cli("export", master, "-o", tmp_path / "e.csv").returncode == 0
    with open(tmp_path / "e.csv", encoding="utf-8-sig", newline="") as fh:
        values = {v for row in csv.reader(fh) for v in row}
    assert {"'+1+2", "'@总支", "'=1+2"} <= values and "+1+2" not in values
