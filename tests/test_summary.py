"""The leaders' summary and the terminal status, on a sample master that was merged and stamped for real:
every figure is recounted here straight from the ledger cells (openpyxl, not brandkit's reader)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.forms import write_roster
from tests.libreoffice import roundtrip_values
from toolkit.core.profile import load_profile

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2024, 8, 20)
DUE = dt.date(2024, 8, 10)
ROSTER = [("第一党总支", "内科第一党支部"), ("第一党总支", "外科第一党支部"), ("第一党总支", "儿科党支部"),
          ("第一党总支", "眼科党支部"), ("第二党总支", "护理部党支部"), ("第二党总支", "检验科党支部"),
          ("第二党总支", "药学部党支部"), ("第二党总支", "放射科党支部"), ("第三党总支", "急诊科党支部"),
          ("第三党总支", "超声医学科党支部"), ("第三党总支", "麻醉科党支部"), ("第三党总支", "病理科党支部"),
          ("机关党总支", "机关第二党支部"), ("机关党总支", "康复医学科党支部"), ("机关党总支", "机关第一党支部"),
          ("机关党总支", "财务科党支部")]
# The profile's status kinds, written out again so the recount does not lean on StatusKinds.kind_of.
PASSED = {"已提交", "已通过", "已推荐", "已完成", "入选"}
RETURNED = {"退回", "未通过", "未入选"}
LATE = {"逾期提交", "逾期"}
STAGES = ["申报", "党总支审批", "创建", "评选", "推广"]


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A master from `init` with a 16-branch roster, the hospital-brand samples merged into it, then the
    office's stamps: 党总支审批 for four branches, one returned with a reason, one creation late."""
    from toolkit.commands.init import init_master
    from toolkit.commands.merge import merge
    from toolkit.commands.stamp import stamp

    folder = tmp_path_factory.mktemp("summary")
    roster = write_roster(folder / "名单.xlsx", ROSTER)
    master = folder / "台账.xlsx"
    init_master(master, "hospital-brand", roster, operator="张三")
    # A checkout gives the samples today's mtime; received times are what make a submission late, so set
    # them as mail would have: 2024-07-25, one minute apart (the samples' README order).
    inbox = folder / "收件箱"
    shutil.copytree(ROOT / "samples/hospital-brand", inbox)
    for n, form in enumerate(sorted(inbox.iterdir()), start=1):
        stamp_time = dt.datetime(2024, 7, 25, 9, 30 + n).timestamp()
        os.utime(form, (stamp_time, stamp_time))
    merge(master, [inbox], operator="张三", now=dt.datetime(2024, 8, 12, 9, 0))
    day = dt.date(2024, 8, 14)
    ok = stamp(master, "党总支审批", "已通过", ["内科第一", "外科第一", "儿科", "护理部"], by="李书记", date=day,
               profile_name="hospital-brand")
    assert len(ok.plan.stamped) == 4, ok.plan.refused
    stamp(master, "党总支审批", "退回", ["眼科"], by="李书记", note="创建计划缺少时间节点", date=day,
          profile_name="hospital-brand")
    stamp(master, "创建", "逾期", ["儿科"], by="王干事", date=dt.date(2024, 8, 19), profile_name="hospital-brand")
    return master


@pytest.fixture(scope="module")
def summary_out(stamped: Path, tmp_path_factory: pytest.TempPathFactory):
    from toolkit.commands.summary import summary

    out = tmp_path_factory.mktemp("out")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = summary(stamped, out / "汇总.xlsx", out / "png", today=TODAY)
    return result, caught


def recount(master: Path) -> dict[str, Any]:
    """Figures straight from the ledger sheet's cells."""
    import openpyxl

    ws = openpyxl.load_workbook(master, read_only=True)["品牌台账"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    col = {name: header.index(name) for name in ("党总支", "党支部名称", "填表人", "联系方式")}
    stage_col = {s: header.index(f"{s}状态") for s in STAGES}
    groups: dict[str, dict[str, int]] = {}
    missing = []
    for row in rows[1:]:
        if not row[col["党支部名称"]]:
            continue
        status = {s: (str(row[c]).split()[0].split("（")[0] if row[c] else None) for s, c in stage_col.items()}
        g = groups.setdefault(row[col["党总支"]], dict.fromkeys(
            ["支部数", "应参与", "按时提交", "逾期提交", "退回待重报", "未报送", "已提交", *STAGES[1:]], 0))
        g["支部数"] += 1
        g["应参与"] += 1  # the roster marks nobody 必须参与: every branch takes part
        submitted = status["申报"] in PASSED | LATE
        g["已提交"] += submitted
        g["按时提交" if status["申报"] in PASSED else "逾期提交" if status["申报"] in LATE
          else "退回待重报" if status["申报"] in RETURNED else "未报送"] += 1
        for s in STAGES[1:]:
            g[s] += status[s] in PASSED | LATE
        if not submitted:
            missing.append((row[col["党总支"]], row[col["党支部名称"]], (TODAY - DUE).days))
    total = {k: sum(g[k] for g in groups.values()) for k in next(iter(groups.values()))}
    return {"groups": groups, "total": total, "missing": missing}


def test_progress_sheet_matches_an_independent_recount(stamped: Path, summary_out) -> None:
    result, _ = summary_out
    expected = recount(stamped)
    assert expected["total"]["支部数"] == 16 and expected["total"]["已提交"] == 8  # the fixture did what it says
    assert expected["total"]["退回待重报"] == 6 and expected["total"]["创建"] == 1
    lo = roundtrip_values(result.path)  # LibreOffice opens it; compare what LibreOffice read
    assert list(lo) == ["总体进度", "未提交名单", "进展明细", "品牌一览", "问题汇总", "待交材料"]
    sheet = lo["总体进度"]
    header = sheet[3]
    assert header == ["党总支", "支部数", "应参与", "按时提交", "退回待重报", "未报送", "已提交", "提交率", "已完成",
                      "完成率", "党总支审批", "创建"]  # the columns zero throughout (逾期提交, 推荐…) left out
    table = {}
    for row in sheet[4:]:
        if not row or not row[0] or row[0].startswith("说明"):
            break
        table[row[0]] = {h: row[i] for i, h in enumerate(header) if h and i > 0}
    groups = {**expected["groups"], "合计": expected["total"]}
    assert set(table) == set(groups)
    for name, figures in groups.items():
        for key, value in figures.items():
            assert table[name].get(key, 0) == value, (name, key)
        assert table[name]["提交率"] == pytest.approx(figures["已提交"] / figures["应参与"])


def test_stage_rows_and_due_date(summary_out) -> None:
    result, _ = summary_out
    lo = roundtrip_values(result.path)["总体进度"]
    top = next(i for i, row in enumerate(lo) if row and row[0] == "阶段")
    assert lo[top][:7] == ["阶段", "截止日期", "距截止", "通过", "退回", "逾期", "未办理"]  # 待办, 其他: zero throughout
    rows = {row[0]: row for row in lo[top + 1: top + 6]}
    assert rows["申报"][1:3] == ["2024年8月10日", "已逾期 10 天"]
    assert rows["申报"][3:7] == [8, 6, 0, 2]
    assert rows["党总支审批"][3:7] == [4, 1, 0, 11]
    assert rows["创建"][3:7] == [0, 0, 1, 15]


def test_missing_list_names_every_unsubmitted_branch(stamped: Path, summary_out) -> None:
    result, _ = summary_out
    sheet = roundtrip_values(result.path)["未提交名单"]
    assert sheet[3] == ["党总支", "党支部", "报送情况", "逾期情况", "必须参与", "联系人", "联系方式", "邮箱", "退回原因"]
    listed = [(r[0], r[1], int(r[3].split()[1])) for r in sheet[4:] if r and r[1]]
    assert sorted(listed) == sorted(recount(stamped)["missing"])
    states = {r[1]: (r[2], r[8]) for r in sheet[4:] if r and r[1]}
    assert states["财务科党支部"] == ("未报送", "")
    assert states["检验科党支部"][0] == "退回待重报" and "超过 200 字上限" in states["检验科党支部"][1]


def test_brands_issues_and_logos(summary_out) -> None:
    result, _ = summary_out
    lo = roundtrip_values(result.path)
    brands = {r[1]: r for r in lo["品牌一览"][4:] if r and r[0]}
    assert len(brands) == 8 and brands["内科第一党支部"][0] == "杏林先锋"
    assert brands["内科第一党支部"][4].startswith("“杏林先锋”取“杏林春暖”之意")
    with zipfile.ZipFile(result.path) as zf:
        media = [n for n in zf.namelist() if n.startswith("xl/media/")]
    assert len(media) == 8  # one thumbnail per merged logo
    issues = {(r[1], r[2]): r[4] for r in lo["问题汇总"][4:] if r and r[0]}
    assert issues[("眼科党支部", "党总支审批")] == "创建计划缺少时间节点"  # the stamp's note
    assert "超过 200 字上限" in issues[("检验科党支部", "申报")]  # the merge's reason, from 操作记录
    assert ("儿科党支部", "创建") in issues


def test_every_sheet_prints_on_a4_with_repeated_headers(summary_out) -> None:
    result, _ = summary_out
    with zipfile.ZipFile(result.path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        sheets = [zf.read(f"xl/worksheets/sheet{n}.xml").decode() for n in range(1, 7)]
    assert workbook.count("_xlnm.Print_Titles") == 6  # 待交材料 too: hospital-brand asks for the 三个一
    for xml in sheets:
        assert re.search(r'<pageSetup[^>]*paperSize="9"[^>]*orientation="landscape"', xml)
        assert '<pane ySplit="4"' in xml  # frozen header
        assert 'fitToPage="1"' in xml
    with zipfile.ZipFile(result.path) as zf:
        charts = [zf.read(n).decode() for n in zf.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == 2  # native charts: per 党总支 and per stage, fed from the 总体进度 cells
    assert sorted(re.search(r'<c:barDir val="(\w+)"', c).group(1) for c in charts) == ["bar", "col"]
    assert all('<c:grouping val="stacked"/>' in c and "总体进度" in c for c in charts)


def test_png_charts_use_a_cjk_font(summary_out) -> None:
    from matplotlib.ft2font import FT2Font
    from PIL import Image

    result, caught = summary_out
    assert [p.name for p in result.charts] == ["党总支进度.png", "阶段进展.png"]
    for path in result.charts:
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == (1200, 675)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing  # matplotlib warns for every glyph it had to draw as a box
    face = FT2Font(result.font)
    assert "CJK" in face.family_name or "Hei" in face.family_name, face.family_name
    texts = "".join(["各党总支报送情况各阶段办理情况截至年月日支部数按时提交逾期提交退回待重报未报送通过退回逾期未办理", *STAGES,
                     *{g for g, _ in ROSTER}])
    assert all(face.get_char_index(ord(ch)) for ch in texts)


def test_a_cjk_font_installed_after_matplotlib_listed_its_fonts_is_found(monkeypatch) -> None:
    """matplotlib keeps the font list of its first run: a Chinese font installed since (what the error
    message tells the officer to do) is found on disk, and Last Resort's boxes are never taken for it."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from toolkit.commands.summary import cjk_font

    stale = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name and "Hei" not in f.name]
    assert any(f.name.startswith("Last Resort") for f in stale)  # it "covers" every character
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    family = FT2Font(cjk_font()).family_name
    assert "CJK" in family or "Hei" in family, family


def test_summary_refuses_to_overwrite_the_master(stamped: Path) -> None:
    from toolkit.commands.summary import summary
    from toolkit.core.errors import UsageProblem

    with pytest.raises(UsageProblem, match="不能写到台账"):
        summary(stamped, stamped)


def test_terminal_status(stamped: Path) -> None:
    from toolkit.commands.status import render_status, status

    p = status(stamped, today=TODAY)
    expected = recount(stamped)
    assert {g: c.submitted for g, c in p.groups.items()} == {g: v["已提交"] for g, v in expected["groups"].items()}
    text = render_status(p)
    lines = text.splitlines()
    total = next(line for line in lines if line.startswith("合计"))
    t = expected["total"]
    assert total.split()[1:8] == [str(t[k]) for k in ("支部数", "应参与", "按时提交", "退回待重报", "未报送", "已提交")] \
        + ["50%"]
    assert "未提交 8 个支部：" in text
    assert "机关党总支  财务科党支部，已逾期 10 天" in text
    assert "第二党总支  检验科党支部（退回），已逾期 10 天" in text
    # before the due date: the next due date and days left
    early = render_status(status(stamped, today=dt.date(2024, 8, 5)))
    assert "下一个截止：“申报” 2024-08-10，还有 5 天" in early


def test_status_uses_workday_due_dates_and_reports_calendar_gaps(tmp_path: Path) -> None:
    import dataclasses

    from tests.test_stamp import make_master
    from toolkit.commands.status import progress
    from toolkit.core.profile import Stage
    from toolkit.files.masterfile import load_master

    profile = load_profile("hospital-brand")
    master = make_master(tmp_path / "台账.xlsx", profile)
    snap = load_master(master, "hospital-brand")
    publicity = Stage(id="publicity", name="公示", statuses=("已公示",), start=dt.date(2024, 9, 27), workdays=5)
    beyond = Stage(id="later", name="验收", statuses=("已验收",), start=dt.date(2026, 12, 28), workdays=5)
    snap.profile = dataclasses.replace(profile, stages=(*profile.stages, publicity, beyond))
    p = progress(snap, dt.date(2024, 9, 30))
    by_name = {s.stage.name: s for s in p.stages}
    assert (by_name["公示"].due, by_name["公示"].days_left) == (dt.date(2024, 10, 10), 10)
    assert p.next_due.stage.name == "公示"
    # 2027 is past the installed calendar: weekends only (01-01 counts as a working day), and one warning
    assert by_name["验收"].due == dt.date(2027, 1, 4) and "2027 年的国家法定节假日安排尚未收录" in p.warnings[0]



def test_summary_and_status_of_a_master_with_no_branches_yet(tmp_path: Path, new_master) -> None:
    from toolkit.commands.status import render_status, status
    from toolkit.commands.summary import summary

    master = new_master(name="空台账.xlsx", operator="张三")
    result = summary(master, tmp_path / "汇总.xlsx")
    assert roundtrip_values(result.path)["总体进度"]
    assert "合计" in render_status(status(master))
