"""`brandkit rollup`: three 党总支 masters (made by `init` and `merge`) combined into the 党委's master. A branch
two masters hold differently is a conflict, reported and left out until `--prefer`; one they hold as the
same submission is not; values, stamps, logos (and their originals) and table rows travel; a second
roll-up changes nothing and parts of the upper master a roll-up does not touch stay byte-identical."""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from tests.forms import BRANDS, logo_bytes
from tests.libreoffice import roundtrip_values
from tests.notice_forms import hospital_annual, write_xlsx
from tests.test_merge import MAY_CHANGE, ledger_rows, logo_anchors

NEIKE, WAIKE, JIGUAN = "内科党总支台账.xlsx", "外科党总支台账.xlsx", "机关党总支台账.xlsx"
(B0, _, _), (B1, _, _), (B2, _, _), (B3, _, _) = BRANDS


def _merge(master: Path, forms: list[Path]) -> None:
    from toolkit.commands.merge import merge

    result = merge(master, forms, operator="党总支")
    assert {o.action for o in result.outcomes} == {"added"}, [(o.branch, o.action, o.reasons) for o in result.outcomes]


@pytest.fixture
def lowers(tmp_path, make_form, new_master) -> list[Path]:
    """内科 holds B0 (stamped 党总支审批) and B1; 外科 B2 and another version of B1; 机关 B3 and the very form
    内科 merged for B0 (the same submission)."""
    from toolkit.commands.stamp import stamp

    shared = make_form(0, folder=tmp_path / "共同")
    other_b1 = make_form(1, folder=tmp_path / "外科收件", 品牌名称="护理新风", logo=logo_bytes((300, 300), (20, 90, 200)))
    os.utime(other_b1, (1_700_000_000, 1_700_000_000))
    masters = [new_master(name=name) for name in (NEIKE, WAIKE, JIGUAN)]
    _merge(masters[0], [shared, make_form(1, folder=tmp_path / "内科收件")])
    stamp(masters[0], "党总支审批", "已通过", [B0], by="内科书记")
    _merge(masters[1], [make_form(2, folder=tmp_path / "外科收件"), other_b1])
    _merge(masters[2], [shared, make_form(3, folder=tmp_path / "机关收件")])
    return masters


def _values(path: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _sheet_part(path: Path, sheet: str) -> str:
    parts = _parts(path)
    rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', parts["xl/workbook.xml"].decode()).group(1)
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"',
                       parts["xl/_rels/workbook.xml.rels"].decode())
    return "xl/" + (target.group(1) or target.group(2)).removeprefix("/xl/")


def _blank(value: object) -> bool:
    return value in (None, "")


def test_three_masters_conflict_reported_rest_merged_then_prefer(tmp_path, cli, lowers):
    upper = tmp_path / "党委台账.xlsx"
    run = cli("--json", "rollup", upper, *lowers, "--by", "党委办")
    assert run.returncode == 1, run.stderr  # a conflict is left for the officer
    doc = json.loads(run.stdout)
    assert doc["created"] and [c["branch"] for c in doc["conflicts"]] == [B1]
    assert sorted(v["master"] for v in doc["conflicts"][0]["versions"]) == sorted([NEIKE, WAIKE])
    assert "品牌名称" in doc["conflicts"][0]["versions"][0]["values"]
    assert sorted(doc["added"]) == sorted([B0, B2, B3])
    b0 = next(b for b in doc["branches"] if b["branch"] == B0)
    assert b0["source"] == NEIKE and b0["also"] == [JIGUAN]  # the same submission in two masters: no conflict

    text = cli("rollup", upper, *lowers)
    assert text.returncode == 1 and text.stdout.index("冲突") < text.stdout.index("未变")
    assert "--prefer" in text.stdout and "护理新风" in text.stdout and "仁心护航" in text.stdout

    rolled = _values(upper)
    rows = ledger_rows(rolled)
    assert B1 not in rows and {B0, B2, B3} <= set(rows)

    first = upper.read_bytes()
    again = json.loads(cli("--json", "rollup", upper, *lowers).stdout)
    assert again["backup"] is None and sorted(again["unchanged"]) == sorted([B0, B2, B3])
    assert upper.read_bytes() == first  # a second roll-up of unchanged masters changes nothing

    settled = cli("--json", "rollup", upper, *lowers, "--prefer", WAIKE, "--by", "党委办")
    assert settled.returncode == 0
    doc = json.loads(settled.stdout)
    assert doc["added"] == [B1] and doc["conflicts"] == [] and doc["backup"]
    assert next(b for b in doc["branches"] if b["branch"] == B1)["settled_by"] == WAIKE

    # only what a roll-up touches changed: the ledger and log sheets, the drawing, the media, the package lists
    before, after = _parts(Path(doc["backup"])), _parts(upper)
    touched = {_sheet_part(upper, "品牌台账"), _sheet_part(upper, "操作记录")}
    kept = [name for name in before if name not in MAY_CHANGE | touched
            and not name.startswith(("docProps/", "xl/drawings/", "xl/media/", "xl/worksheets/_rels/"))]
    assert len(kept) >= 3
    assert [name for name in kept if before[name] != after.get(name)] == []

    # read back through LibreOffice: every row as its master holds it, with its source, stamps and logo
    values = roundtrip_values(upper)
    rows = ledger_rows(values)
    held = {NEIKE: ledger_rows(_values(lowers[0])), WAIKE: ledger_rows(_values(lowers[1])),
            JIGUAN: ledger_rows(_values(lowers[2]))}
    sources = {B0: NEIKE, B1: WAIKE, B2: WAIKE, B3: JIGUAN}
    for branch, master in sources.items():
        assert rows[branch]["来源台账"] == master
        for name, want in held[master][branch].items():
            if name in ("序号", "品牌标识") or (_blank(want) and _blank(rows[branch].get(name))):
                continue
            got = rows[branch][name]
            assert got == want or str(got).strip() == str(want).strip(), (branch, name, got, want)
    assert rows[B1]["品牌名称"] == "护理新风"
    assert str(rows[B0]["党总支审批状态"]).startswith("已通过") and "内科书记" in str(rows[B0]["党总支审批状态"])
    header = values["品牌台账"][0]
    at = {r[header.index("党支部名称")]: i for i, r in enumerate(values["品牌台账"]) if i and r[header.index("党支部名称")]}
    assert sorted(logo_anchors(upper, _sheet_part(upper, "品牌台账"))) == \
        sorted((at[b], header.index("品牌标识")) for b in sources)
    for branch, master in sources.items():  # the originals kept beside the lower masters travel too
        original = tmp_path / f"{Path(master).stem}_标识" / f"{branch}.png"
        assert (tmp_path / "党委台账_标识" / f"{branch}.png").read_bytes() == original.read_bytes()
    log = [dict(zip(values["操作记录"][0], r, strict=False)) for r in values["操作记录"][1:]]
    rolled_in = {r["党支部"]: r for r in log if r["操作"] == "新增"}
    assert {b: r["来源文件"] for b, r in rolled_in.items()} == sources
    assert all(r["操作人"] == "党委办" and r["SHA256"] for r in rolled_in.values())

    final = upper.read_bytes()
    assert json.loads(cli("--json", "rollup", upper, *lowers, "--prefer", WAIKE).stdout)["backup"] is None
    assert upper.read_bytes() == final


def test_prefer_for_one_branch_and_a_wrong_name(tmp_path, cli, lowers):
    upper = tmp_path / "党委台账.xlsx"
    wrong = cli("rollup", upper, *lowers, "--prefer", "党委台账2.xlsx")
    assert wrong.returncode == 2 and "--prefer" in wrong.stderr and not upper.exists()
    doc = json.loads(cli("--json", "rollup", upper, *lowers, "--prefer", f"{B1}={Path(NEIKE).stem}").stdout)
    assert doc["conflicts"] == [] and sorted(doc["added"]) == sorted([B0, B1, B2, B3])
    assert ledger_rows(_values(upper))[B1]["品牌名称"] == BRANDS[1][1]


def test_dry_run_writes_nothing(tmp_path, cli, lowers):
    upper = tmp_path / "党委台账.xlsx"
    doc = json.loads(cli("--json", "rollup", upper, *lowers, "--dry-run").stdout)
    assert doc["dry_run"] and sorted(doc["added"]) == sorted([B0, B2, B3]) and not upper.exists()


def test_table_sheets_travel(tmp_path, cli):
    """hospital-annual's 申报工程 rows: each branch's items as its master holds them; a re-run changes nothing."""
    from toolkit.commands.init import init_master

    masters = []
    for n, (name, branch, projects) in enumerate((("一总支.xlsx", "内科第一党支部", 3), ("二总支.xlsx", "护理部党支部", 2))):
        inbox = tmp_path / f"收件{n}"
        inbox.mkdir()
        form = write_xlsx(hospital_annual(branch, n, projects), inbox / f"{branch}.xlsx")
        init_master(tmp_path / name, "hospital-annual", None, operator="党总支")
        _merge(tmp_path / name, [form])
        masters.append(tmp_path / name)
    upper = tmp_path / "党委台账.xlsx"
    doc = json.loads(cli("--json", "rollup", upper, *masters).stdout)
    assert sorted(doc["added"]) == ["内科第一党支部", "护理部党支部"]
    got = _values(upper)["申报工程"]
    for master in masters:
        want = _values(master)["申报工程"]
        assert sorted(map(tuple, want[1:])) == sorted(tuple(r) for r in got[1:] if r[0] == want[1][0])
    first = upper.read_bytes()
    assert json.loads(cli("--json", "rollup", upper, *masters).stdout)["backup"] is None
    assert upper.read_bytes() == first


def test_parse_prefers():
    from toolkit.core.errors import UsageProblem
    from toolkit.core.plan_rollup import Prefer, parse_prefers

    names = [NEIKE, WAIKE]
    assert parse_prefers([WAIKE, f"/某处/{NEIKE}", f"{B1}=外科党总支台账"], names) == \
        [Prefer(WAIKE), Prefer(NEIKE), Prefer(WAIKE, B1)]
    with pytest.raises(UsageProblem):
        parse_prefers(["机关党总支台账.xlsx"], names)


def test_the_upper_masters_own_row_is_a_version(tmp_path, cli, lowers, make_form, new_master):
    """A branch the 党委 merged itself is not overwritten by a 党总支's different version: a conflict."""
    upper = new_master(name="党委台账.xlsx")
    _merge(upper, [make_form(2, folder=tmp_path / "党委收件", 品牌名称="党委版本")])
    doc = json.loads(cli("--json", "rollup", upper, *lowers).stdout)
    conflicts = {c["branch"]: c for c in doc["conflicts"]}
    assert set(conflicts) == {B1, B2} and not doc["created"]
    assert {v["master"] for v in conflicts[B2]["versions"]} == {upper.name, WAIKE}
    assert ledger_rows(_values(upper))[B2]["品牌名称"] == "党委版本"
    help_text = cli("rollup", "--help").stdout
    assert "冲突" in help_text and "--prefer 内科党总支台账.xlsx" in help_text
