"""`brandkit rollup` and `template` where the probe found them wrong: two masters deciding the same submission
differently, a stamp withdrawn below, the new upper's filter and numbers, lowers of another year or still open
in Excel, messages, and the form for a master's campaign year."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.forms import BRANDS
from tests.test_merge import ledger_rows
from tests.test_rollup import _merge, _parts, _sheet_part, _values

A, B = "内科党总支台账.xlsx", "外科党总支台账.xlsx"
(B0, _, _), (B1, _, _), _, _ = BRANDS
APPROVE = "党总支审批状态"


@pytest.fixture
def pair(tmp_path, make_form, new_master) -> list[Path]:
    """Two 党总支 masters holding the very same submission for B0; A also holds B1."""
    shared = make_form(0, folder=tmp_path / "共同")
    masters = [new_master(name=name) for name in (A, B)]
    _merge(masters[0], [shared, make_form(1, folder=tmp_path / "内科收件")])
    _merge(masters[1], [shared])
    return masters


def _out(run) -> str:
    return run.stdout + run.stderr


def _approve(master: Path, branch: str, status: str, by: str) -> None:
    from toolkit.commands.stamp import stamp

    stamp(master, "党总支审批", status, [branch], by=by)


def test_same_submission_with_other_stamps_is_a_conflict(tmp_path, cli, pair):
    _approve(pair[0], B0, "已通过", "甲")
    _approve(pair[1], B0, "退回", "乙")
    upper = tmp_path / "党委台账.xlsx"
    run = cli("--json", "rollup", upper, *pair)
    assert run.returncode == 1
    (conflict,) = json.loads(run.stdout)["conflicts"]
    assert conflict["branch"] == B0 and APPROVE in {k for v in conflict["versions"] for k in v["values"]}
    assert {v["values"][APPROVE].split()[0] for v in conflict["versions"]} == {"退回", "已通过"}
    text = _out(cli("rollup", upper, *pair))
    assert "冲突" in text and "退回" in text and "已通过" in text
    assert cli("rollup", upper, *pair, "--prefer", f"{B0}={B}").returncode == 0
    assert ledger_rows(_values(upper))[B0][APPROVE].startswith("退回")


def test_a_hand_corrected_value_of_the_same_submission_is_a_conflict(tmp_path, cli, pair):
    from toolkit.core.changeset import CellWrite, ChangeSet
    from toolkit.core.text import normalize_branch
    from toolkit.files.masterfile import load_master
    from toolkit.files.transaction import update

    def corrected(snap):  # the 党总支 corrected 党员总数 by hand in its master
        row = snap.ledger.by_branch()[normalize_branch(B0)]
        return ChangeSet(writes=[CellWrite(snap.ledger.sheet, row.row, snap.ledger.columns["党员总数"], 99)])

    update(pair[1], corrected, lambda c: c, snap=load_master(pair[1]))
    (conflict,) = json.loads(cli("--json", "rollup", tmp_path / "党委台账.xlsx", *pair).stdout)["conflicts"]
    assert "党员总数" in conflict["versions"][0]["values"]


def test_withdrawn_stamp_clears_from_its_own_master_only(tmp_path, cli, pair, make_form, new_master):
    upper = tmp_path / "党委台账.xlsx"
    _approve(pair[0], B0, "已通过", "甲")
    assert cli("rollup", upper, *pair).returncode == 0  # B's blank agrees: the stamp goes up
    assert ledger_rows(_values(upper))[B0][APPROVE].startswith("已通过")
    _approve(upper, B1, "退回", "党委")  # the 党委's own stamp on a row from A, where A has none
    assert cli("rollup", upper, *pair).returncode == 0  # nothing withdrawn: both stay
    rows = ledger_rows(_values(upper))
    assert rows[B0][APPROVE].startswith("已通过") and rows[B1][APPROVE].startswith("退回")
    pair[0].unlink()  # A made again without the stamp: withdrawn
    _merge(new_master(name=A), [make_form(0, folder=tmp_path / "共同"), make_form(1, folder=tmp_path / "内科收件")])
    doc = json.loads(cli("--json", "rollup", upper, *pair).stdout)
    assert doc["updated"] == [B0]
    rows = ledger_rows(_values(upper))
    assert rows[B0][APPROVE] in (None, "") and rows[B1][APPROVE].startswith("退回")
    log = _values(upper)["操作记录"]
    assert any(r[3] == B0 and r[4] == "党总支审批" and str(r[5]).startswith("已通过") for r in log)


def test_new_upper_grows_its_filter_and_keeps_whole_numbers(tmp_path, cli, pair):
    upper = tmp_path / "党委台账.xlsx"
    assert cli("rollup", upper, *pair).returncode == 0
    rows = len(ledger_rows(_values(upper)))
    xml = _parts(upper)[_sheet_part(upper, "品牌台账")].decode()
    assert re.search(r'<autoFilter ref="A1:[A-Z]+(\d+)"', xml).group(1) == str(rows + 1)
    assert not re.search(r"<v>\d+\.0</v>", xml)  # 党员总数 23, not 23.0


def test_lower_of_another_year_is_refused_other_dates_warned(tmp_path, cli, pair, make_form):
    from toolkit.commands.init import init_master

    later = tmp_path / "2025台账.xlsx"
    init_master(later, "hospital-brand", None, operator="党总支", year=2025)
    _merge(later, [make_form(2, folder=tmp_path / "2025收件")])
    upper = tmp_path / "党委台账.xlsx"
    run = cli("rollup", upper, pair[0], later, "--prefer", later.name)
    assert run.returncode == 2 and "2024" in run.stderr and "2025" in run.stderr and not upper.exists()
    moved = tmp_path / "改期台账.xlsx"
    init_master(moved, "hospital-brand", None, operator="党总支", dates=("申报=2024-08-20",))
    _merge(moved, [make_form(3, folder=tmp_path / "改期收件")])
    run = cli("rollup", upper, pair[0], moved)
    assert run.returncode == 0 and all(t in _out(run) for t in ("申报", "2024-08-20", "2024-08-10"))


def test_lower_open_in_excel_is_warned(tmp_path, cli, pair):
    (tmp_path / f"~${A}").write_bytes(b"x")
    run = cli("rollup", tmp_path / "党委台账.xlsx", *pair)
    assert run.returncode == 0 and f"~${A}" in _out(run) and "保存并关闭" in _out(run)


def test_messages_empty_lower_folder_and_wrong_prefers(tmp_path, cli, pair, new_master, monkeypatch):
    empty = new_master(name="空台账.xlsx")
    monkeypatch.chdir(tmp_path)
    run = cli("rollup", Path("sub") / "U3.xlsx", empty.name)
    assert "没有支部" in _out(run) and not re.search(r"^。$", _out(run), re.M)
    assert f"brandkit status {Path('sub') / 'U3.xlsx'}" in _out(run)
    for wrong in (f"不存在的支部={B}", f"{B}={A}", f"{B1}={B}"):
        run = cli("rollup", tmp_path / "党委台账.xlsx", *pair, "--prefer", wrong)
        assert run.returncode == 2 and "--prefer" in run.stderr, wrong


def test_template_for_a_masters_campaign_year(tmp_path, cli):
    from toolkit.commands.init import init_master

    master = tmp_path / "m2027.xlsx"
    init_master(master, "hospital-brand", None, operator="党办", year=2027)
    wrong = cli("template", "--profile", master, "-o", tmp_path / "f.xlsx")
    assert wrong.returncode == 2 and "--from-master" in wrong.stderr and "内部错误" not in wrong.stderr
    for args, year in ((("--from-master", master), 2027), (("--profile", "hospital-brand", "--year", 2028), 2028)):
        form = tmp_path / f"{year}.xlsx"
        assert cli("template", *args, "-o", form).returncode == 0
        assert f"请于{year}年8月10日前填报" in str(_values(form)["申报表"][1][0])


def test_hospital_annual_note_states_no_year_of_its_own(tmp_path, cli):
    form = tmp_path / "ha.xlsx"
    assert cli("template", "--profile", "hospital-annual", "--year", 2031, "-o", form).returncode == 0
    note = str(next(iter(_values(form).values()))[1][0])
    assert "2031年3月31日" in note and not re.search(r"20\d\d 年设定", note)
