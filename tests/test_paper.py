"""Paper copies (issue #11 item 4): `stamp --paper` fills the ledger's 纸质版 columns (收到日期, 份数,
盖章) and logs it; `status` lists branches whose e-copy is in but whose paper is not, and paper that
falls short of the notice (003: 一式五份、盖章); a paper-only notice (002) runs on typed-in forms with the
paper's date as the receipt and no e-copy chased."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.libreoffice import roundtrip_values
from tests.test_merge import ledger_rows
from tests.test_stamp import BRANCHES, log_rows, make_master
from toolkit.commands.paper import PaperCopy, read_paper, shortfall
from toolkit.core.profile import PaperSpec, load_profile
from toolkit.core.vocabulary import PAPER, PAPER_COLUMNS, PAPER_MISSING, LogAction
from toolkit.files.masterfile import load_master

HOSPITAL = load_profile("hospital-brand")
RECEIVED, COPIES, SEAL = PAPER_COLUMNS
ALL_IN = {b: {"申报": "已提交"} for _, b, *_ in BRANCHES}


def _master(cli, path: Path, profile_id: str = "hospital-brand", **kw) -> Path:
    make_master(path, load_profile(profile_id), **kw)
    assert cli("init", str(path), "--profile", profile_id).returncode == 0
    return path


def _paper(cli, master: Path, *args: str) -> dict:
    result = cli("--json", "stamp", str(master), "--paper", "--by", "党办", *args)
    return json.loads(result.stdout)


def test_which_notices_ask_for_paper() -> None:
    papers = {p: load_profile(p).paper for p in ("hospital-brand", "university-project", "college-feature",
                                                   "hospital-annual", "dangjian-plus")}
    assert papers["hospital-brand"] == PaperSpec(copies=1)  # 纸质版报送至党委办公室8116室
    assert papers["university-project"] == PaperSpec(copies=5, sealed=True)  # 一式五份、盖章
    assert papers["college-feature"] == PaperSpec(only=True)  # 申报表的纸质版 only
    assert papers["hospital-annual"] is None and papers["dangjian-plus"] is None


def test_shortfall_against_the_notice() -> None:
    spec = PaperSpec(copies=5, sealed=True)
    day = dt.date(2023, 11, 9)
    assert shortfall(spec, PaperCopy(day, 5, True)) is None
    assert shortfall(spec, PaperCopy(day, 3, True)) == "通知要求一式 5 份，收到 3 份"
    assert "未盖章" in (shortfall(spec, PaperCopy(day, 5, False)) or "")
    assert read_paper({RECEIVED: "2023-11-09", COPIES: 5.0, SEAL: "是"}) == PaperCopy(day, 5, True)
    assert read_paper({}) == PaperCopy()


@pytest.mark.libreoffice
def test_hospital_brand_paper_for_three_branches_and_status_lists_the_rest(cli, tmp_path: Path) -> None:
    master = _master(cli, tmp_path / "台账.xlsx", stamps=ALL_IN)
    done = _paper(cli, master, "--branch", "心内科", "--branch", "普外科", "--branch", "党办", "--date", "2024-08-09")
    assert done["stamped"] == ["心内科党支部", "普外科党支部", "党办党支部"] and not done["refused"]
    # again: nothing changes
    assert _paper(cli, master, "--branch", "心内科", "--date", "2024-08-09")["unchanged"] == ["心内科党支部"]

    rows = ledger_rows(roundtrip_values(master))  # as LibreOffice reads the stamped master
    got = rows["心内科党支部"]
    assert got[RECEIVED] == dt.date(2024, 8, 9) and got[COPIES] == 1 and got[SEAL] == "否"
    assert rows["骨科党支部"][RECEIVED] is None or rows["骨科党支部"][RECEIVED] == ""
    logged = [r for r in log_rows(master, HOSPITAL) if r[4] == PAPER]
    assert [r[2:4] for r in logged] == [[LogAction.STAMPED, b] for b in done["stamped"]]
    assert logged[0][6] == "2024-08-09 收到 1 份，盖章：否"

    status = json.loads(cli("--json", "status", str(master), "--date", "2024-08-12").stdout)
    assert status["paper"] == [{"branch": b, "group": g, "problem": PAPER_MISSING}
                               for g, b, *_ in BRANCHES if b in ("消化内科党支部", "呼吸内科党支部", "骨科党支部")]
    text = cli("status", str(master), "--date", "2024-08-12").stdout
    assert f"{PAPER_MISSING} 3 个支部：消化内科党支部、呼吸内科党支部、骨科党支部" in text


def test_paper_short_of_the_notice_is_listed(cli, tmp_path: Path) -> None:
    """university-project asks for 一式五份、盖章: three unsealed copies are recorded, said, and listed."""
    uni = load_profile("university-project")
    rows = [("医学院党委", "内科第一党支部", "孙一", "13712345670"), ("医学院党委", "护理部党支部", "孙二", "13712345671")]
    master = _master(cli, tmp_path / "台账.xlsx", uni.id, branches=rows,
                     stamps={b: {"项目申报": "已提交"} for _, b, *_ in rows})
    done = _paper(cli, master, "--branch", "内科第一党支部", "--copies", "3", "--unsealed", "--date", "2023-11-09")
    assert done["stamped"] == ["内科第一党支部"]
    assert _paper(cli, master, "--branch", "护理部党支部", "--date", "2023-11-09")["stamped"] == ["护理部党支部"]
    snap = load_master(master)
    values = {r.branch: r.values for r in snap.ledger.rows}
    assert read_paper(values["护理部党支部"]) == PaperCopy(dt.date(2023, 11, 9), 5, True)
    status = json.loads(cli("--json", "status", str(master), "--date", "2023-11-12").stdout)
    assert status["paper"] == [{"branch": "内科第一党支部", "group": "医学院党委",
                                "problem": "通知要求一式 5 份，收到 3 份；通知要求盖章，收到的未盖章"}]


def test_a_notice_without_paper_refuses_a_paper_stamp(cli, tmp_path: Path) -> None:
    rows = [("第一党总支", "第一党支部", "张三", "13800000000")]
    master = _master(cli, tmp_path / "台账.xlsx", "hospital-annual", branches=rows)
    result = cli("stamp", str(master), "--paper", "--branch", "第一党支部")
    assert result.returncode != 0 and "没有要求报送纸质版" in result.stderr
    assert "--copies" in cli("stamp", str(master), "--stage", "年初自评申报", "--status", "已提交",
                             "--branch", "第一党支部", "--copies", "2").stderr


def test_paper_only_campaign_runs_on_the_paper(cli, tmp_path: Path) -> None:
    """college-feature (002) asks for the paper form only: the paper's arrival is the receipt (on time or
    late by its own date, a typed-in copy's date aside), a roster branch gets its ledger row, and status
    chases no e-copy."""
    roster = tmp_path / "名单.csv"
    roster.write_text("支部类型,党支部名称\n教工党支部,计算机系教工党支部\n学生党支部,本科生第一党支部\n"
                      "学生党支部,研究生党支部\n", encoding="utf-8")
    master = tmp_path / "台账.xlsx"
    assert cli("init", str(master), "--profile", "college-feature", "--roster", str(roster)).returncode == 0
    assert _paper(cli, master, "--branch", "计算机系教工党支部", "--date", "2023-04-14")["stamped"]
    assert _paper(cli, master, "--branch", "本科生第一党支部", "--date", "2023-04-17")["stamped"]
    snap = load_master(master)
    stamps = {r.branch: r.values.get("申报状态") for r in snap.ledger.rows}
    assert stamps["计算机系教工党支部"].startswith("已提交 2023-04-14 ")
    assert stamps["本科生第一党支部"].startswith("逾期提交 2023-04-17 ")
    status = json.loads(cli("--json", "status", str(master), "--date", "2023-04-20").stdout)
    assert status["missing"] == ["研究生党支部"] and status["paper"] == []
    assert PAPER_MISSING not in cli("status", str(master), "--date", "2023-04-20").stdout
