"""Merging through the CLI into masters made by `init`, adopted hand-made masters and every corpus
workbook: values land in the right rows (LibreOffice reads them back), logos sit in the logo column,
untouched parts stay byte-identical, re-merging changes nothing, and SIGKILL never corrupts."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.forms import BRANDS, PLAN, form_values, logo_bytes, write_filled_form
from tests.libreoffice import roundtrip_values
from tests.paths import corpus_files

ROOT = Path(__file__).resolve().parents[1]

MAY_CHANGE = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
              "xl/sharedStrings.xml", "xl/calcChain.xml"}


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    if check:
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def make_inbox(folder: Path, count: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    colors = [(200, 30, 30), (30, 120, 200), (40, 160, 60), (120, 60, 160)]
    for n, (branch, brand, topic) in enumerate(BRANDS[:count]):
        write_filled_form(folder / f"{branch}.xlsx", form_values(branch, brand, topic, n),
                          logo=logo_bytes((600 + 40 * n, 450), colors[n], "JPEG"))
    return folder


def embedded_media(form: Path) -> bytes:
    with zipfile.ZipFile(form) as zf:
        (name,) = [n for n in zf.namelist() if n.startswith("xl/media/")]
        return zf.read(name)


def ledger_rows(values: dict, sheet: str = "品牌台账") -> dict[str, dict]:
    rows = values[sheet]
    header_at = next(i for i, r in enumerate(rows) if "党支部名称" in r or "支部名称" in r)
    header = [str(h) for h in rows[header_at]]
    key = header.index("党支部名称") if "党支部名称" in header else header.index("支部名称")
    return {r[key]: dict(zip(header, r, strict=False)) for r in rows[header_at + 1:] if r[key]}


def logo_anchors(master: Path, sheet_part: str) -> list[tuple[int, int]]:
    """(row, col) of every picture anchor in the drawing of `sheet_part`, 0-based."""
    with zipfile.ZipFile(master) as zf:
        rels = zf.read(sheet_part.replace("worksheets/", "worksheets/_rels/") + ".rels").decode()
        target = re.search(r'Target="\.\./drawings/([^"]+)"', rels).group(1)
        xml = zf.read(f"xl/drawings/{target}").decode()
    return [(int(r), int(c)) for c, r in re.findall(r"<xdr:from><xdr:col>(\d+)</xdr:col>.*?<xdr:row>(\d+)</xdr:row>", xml)]


def test_init_merge_values_logos_idempotent_undo(tmp_path):
    inbox = make_inbox(tmp_path / "收件箱")
    master = tmp_path / "台账.xlsx"
    cli("init", str(master), "--profile", "hospital-brand")
    before = master.read_bytes()
    dry = json.loads(cli("--json", "merge", str(master), str(inbox), "--dry-run").stdout)
    assert sorted(dry["added"]) == sorted(b for b, _, _ in BRANDS[:3]) and master.read_bytes() == before
    assert not (tmp_path / "台账_标识").exists()  # a dry run stages no originals

    doc = json.loads(cli("--json", "merge", str(master), str(inbox), "--by", "王干事").stdout)
    assert sorted(doc["added"]) == sorted(b for b, _, _ in BRANDS[:3]) and doc["rejected"] == []
    values = roundtrip_values(master)
    rows = ledger_rows(values)
    for n, (branch, brand, topic) in enumerate(BRANDS[:3]):
        expected = form_values(branch, brand, topic, n)
        for name in ("品牌名称", "品牌内涵", PLAN, "填表人", "联系方式"):
            assert str(rows[branch][name]) == str(expected[name]), (branch, name)
        assert float(rows[branch]["党员总数"]) == expected["党员总数"]
        assert str(rows[branch]["申报状态"]).startswith(("已提交", "逾期提交"))
    header = values["品牌台账"][0]
    logo_col = header.index("品牌标识")
    key = header.index("党支部名称")
    data_rows = {r[key]: i for i, r in enumerate(values["品牌台账"]) if i and r[key]}
    anchors = logo_anchors(master, "xl/worksheets/sheet1.xml")
    assert sorted(anchors) == sorted((data_rows[b], logo_col) for b, _, _ in BRANDS[:3])
    log = values["操作记录"]
    assert [r[2] for r in log[1:]].count("新增") == 3 and all(r[1] == "王干事" for r in log[2:])
    originals = {p.name: p.read_bytes() for p in (tmp_path / "台账_标识").iterdir()}
    assert originals == {f"{b}.jpg": embedded_media(inbox / f"{b}.xlsx") for b, _, _ in BRANDS[:3]}
    assert doc["missing_originals"] == []

    merged = master.read_bytes()
    again = json.loads(cli("--json", "merge", str(master), str(inbox)).stdout)
    assert sorted(again["unchanged"]) == sorted(b for b, _, _ in BRANDS[:3]) and again["backup"] is None
    assert master.read_bytes() == merged

    cli("undo", str(master))
    assert master.read_bytes() == before


def test_adopted_hand_made_master_with_existing_rows(tmp_path):
    import xlsxwriter

    master = tmp_path / "2024年品牌台账.xlsx"
    wb = xlsxwriter.Workbook(str(master))
    ws = wb.add_worksheet("汇总表")
    title = wb.add_format({"bold": True, "align": "center"})
    ws.merge_range("A1:F1", "院党委一支部一品牌创建工作台账", title)
    ws.merge_range("A2:F2", "（截至8月）", title)
    ws.write_row("A3", ["序号", "所属党总支", "支部名称", "品牌名称", "联系电话", "备注"])
    ws.write_row("A4", [1, "临床第一党总支", "中共内科第一党支部", "旧品牌", None, "手工备注"])
    ws.write_row("A5", [2, "护理党总支", "护理部党支部", None, None, None])
    ws.write_row("A6", [3, "机关党总支", "机关第二党支部", None, None, None])
    other = wb.add_worksheet("说明")
    other.write("A1", "这是干事自己的说明页")
    wb.close()
    cli("init", str(master), "--profile", "hospital-brand")
    inbox = make_inbox(tmp_path / "in", 3)
    shutil.copy(inbox / "内科第一党支部.xlsx", inbox / "内科第一党支部（修改）.xlsx")  # identical resubmission
    doc = json.loads(cli("--json", "merge", str(master), str(inbox), "--accept-warnings").stdout)
    # a row the office had filled is updated; rows holding only a name get their first form (新增)
    assert doc["updated"] == ["中共内科第一党支部"]
    assert sorted(doc["added"]) == sorted(["护理部党支部", "机关第二党支部"])
    brand = next(c for c in doc["changes"]["中共内科第一党支部"] if c["field"] == "品牌名称")
    assert (brand["before"], brand["after"]) == ("旧品牌", "杏林先锋")
    values = roundtrip_values(master)
    rows = ledger_rows(values, "汇总表")
    assert rows["中共内科第一党支部"]["品牌名称"] == "杏林先锋" and rows["中共内科第一党支部"]["备注"] == "手工备注"
    assert rows["护理部党支部"]["联系电话"] == form_values(*BRANDS[1], 1)["联系方式"]
    assert values["汇总表"][0][0] == "院党委一支部一品牌创建工作台账" and values["说明"][0][0] == "这是干事自己的说明页"
    assert len(values["汇总表"]) == 6  # no branch row was duplicated


def test_unknown_branch_near_miss_is_rejected_with_suggestion(tmp_path, cli):  # cli: in process (conftest)
    master = tmp_path / "m.xlsx"
    roster = tmp_path / "名单.csv"
    roster.write_text("党总支,党支部名称\n外科党总支,外一科党支部\n", encoding="utf-8")
    assert cli("init", str(master), "--profile", "hospital-brand", "--roster", str(roster)).returncode == 0
    form = write_filled_form(tmp_path / "f.xlsx", form_values("外一科党支部（临时）", "精医铸魂", "外科"),
                             logo=logo_bytes())
    proc = cli("--json", "merge", str(master), str(form))
    assert proc.returncode == 1
    (rejected,) = json.loads(proc.stdout)["rejected"]
    finding = next(f for f in rejected["findings"] if f["rule"] == "unknown_branch")
    assert "外一科党支部" in finding["message"]

    good = write_filled_form(tmp_path / "g.xlsx", form_values("外一科党支部", "精医铸魂", "外科"), logo=logo_bytes())
    quiet = cli("-q", "merge", str(master), str(form), str(good))  # -q: only the problem is printed
    assert quiet.returncode == 1
    assert "退回" in quiet.stdout and "外一科党支部（临时）" in quiet.stdout and "您是否指的是" in quiet.stdout
    assert "新增" not in quiet.stdout and "台账已保存" not in quiet.stdout


CORPUS_MASTERS = [p for p in corpus_files(".xlsx", ".xlsm") if not p.stem.startswith("pass_protected")]


@pytest.mark.parametrize("original", CORPUS_MASTERS, ids=lambda p: p.name)
def test_fidelity_of_every_corpus_workbook_as_master(tmp_path, original):
    from python_calamine import CalamineWorkbook

    master = tmp_path / original.name
    shutil.copyfile(original, master)  # content only: the corpus may be read-only
    cli("init", str(master), "--profile", "hospital-brand")
    cli("merge", str(master), str(make_inbox(tmp_path / "in", 3)))
    with zipfile.ZipFile(original) as a, zipfile.ZipFile(master) as b:
        after = {i.filename: i for i in b.infolist()}
        for info in a.infolist():
            if info.filename in MAY_CHANGE or info.filename.startswith("docProps/"):
                continue
            assert info.filename in after, f"{info.filename} lost"
            assert a.read(info) == b.read(after[info.filename]), f"{info.filename} changed"
    try:
        wb0, wb1 = CalamineWorkbook.from_path(str(original)), CalamineWorkbook.from_path(str(master))
    except Exception:  # calamine refuses Excel 4 macro sheets (BlankSheetTypes.xlsm): parts compared above
        wb0 = wb1 = None
    if wb0 is not None:
        for name in wb0.sheet_names:
            assert wb0.get_sheet_by_name(name).to_python() == wb1.get_sheet_by_name(name).to_python(), name
    rows = ledger_rows(roundtrip_values(master))  # LibreOffice opens it
    assert {b for b, _, _ in BRANDS[:3]} <= set(rows)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and process groups are POSIX; Windows has no such kill")
def test_sigkill_at_each_phase_leaves_the_old_or_the_complete_master(tmp_path):
    """The merge is killed (SIGKILL, with its reader workers) at each phase of the transaction, reached
    through its test hook: before the replace the master is the old one, after it the complete one;
    both outcomes occur, and the next merge after any kill succeeds."""
    from toolkit.files.transaction import PAUSE_AT, PHASES

    inbox = make_inbox(tmp_path / "in", 3)
    master = tmp_path / "m.xlsx"
    cli("init", str(master), "--profile", "hospital-brand")
    before = master.read_bytes()
    reference = tmp_path / "ref.xlsx"
    shutil.copy(master, reference)
    cli("merge", str(reference), str(inbox))
    intended = ledger_rows(roundtrip_values(reference))
    outcomes: dict[str, str] = {}
    for phase in PHASES:
        master.write_bytes(before)
        proc = subprocess.Popen([sys.executable, "-m", "toolkit", "merge", str(master), str(inbox)], cwd=ROOT,
                                env={**os.environ, PAUSE_AT: phase}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        said = []
        try:
            for line in iter(proc.stderr.readline, ""):  # "" when the merge ended without pausing
                if line.startswith("BRANDKIT_PHASE"):
                    said.append(line.strip())
                    break
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its reader workers
            proc.wait()
            proc.stderr.close()
        assert said == [f"BRANDKIT_PHASE {phase}"], f"the merge never reached {phase}"
        if master.read_bytes() == before:
            outcomes[phase] = "old"
        else:
            rows = ledger_rows(roundtrip_values(master))
            assert {b: r["品牌名称"] for b, r in rows.items() if b in intended} == \
                {b: r["品牌名称"] for b, r in intended.items()}, phase
            outcomes[phase] = "complete"
        again = subprocess.run([sys.executable, "-m", "toolkit", "merge", str(master), str(inbox)], cwd=ROOT,
                               capture_output=True, text=True)
        assert again.returncode == 0, (phase, again.stderr)
    assert outcomes == {"locked": "old", "patched": "old", "backed-up": "old", "temp-written": "old",
                        "replaced": "complete"}


def test_new_xlsm_master_keeps_its_vba_through_merges(tmp_path):
    master = tmp_path / "台账.xlsm"
    cli("init", str(master), "--profile", "hospital-brand")
    with zipfile.ZipFile(master) as zf:
        vba = zf.read("xl/vbaProject.bin")
        content_types = zf.read("[Content_Types].xml")
    assert b"macroEnabled" in content_types
    doc = json.loads(cli("--json", "merge", str(master), str(make_inbox(tmp_path / "in", 2))).stdout)
    assert len(doc["added"]) == 2
    with zipfile.ZipFile(master) as zf:
        assert zf.read("xl/vbaProject.bin") == vba and b"macroEnabled" in zf.read("[Content_Types].xml")
    assert set(ledger_rows(roundtrip_values(master))) >= {BRANDS[0][0], BRANDS[1][0]}


def test_an_original_that_could_not_be_staged_is_reported(tmp_path):
    from toolkit.commands.merge import MergeResult, finish, logo_dir
    from toolkit.core.model import Logo
    from toolkit.render import render_merge

    master = tmp_path / "台账.xlsx"
    staged = logo_dir(master) / ".staging" / "run"
    staged.mkdir(parents=True)
    (staged / "aaa-0.jpg").write_bytes(b"jpeg bytes")
    result = MergeResult(master, None, [], dry_run=False, logos={
        "内科党支部": Logo(b"", "jpeg", 96, 72, "aaa-0", "jpeg"),
        "外科党支部": Logo(b"", "jpeg", 96, 72, "bbb-0", "jpeg")},  # its write failed: nothing staged
        staging=staged)
    finish(result, lambda: None)  # applied (nothing to write here): keep the originals, clear the staging
    assert [p.name for p in logo_dir(master).iterdir()] == ["内科党支部.jpg"]
    assert result.missing_originals == ["外科党支部"]
    lines: list[str] = []
    render_merge(result, lambda text="", problem=False: lines.append(text) if problem else None)
    assert any("外科党支部" in line and "原图" in line for line in lines)


def test_a_worker_stages_each_original_under_the_name_the_ledger_keeps_it_by(tmp_path):
    """A worker stages a logo's original (before decoding its thumbnail) as `<key><suffix>`, the suffix from
    the picture's own header, which is the name keep_originals looks for; a picture that cannot be decoded
    is an image_format error, its staged copy named by no logo (the run's staging is cleared at its end)."""
    from toolkit.commands.merge_worker import finish_staging, original_suffix, read_for_merge
    from toolkit.core.profile import load_profile
    from toolkit.readers.limits import DEFAULT_LIMITS

    profile = load_profile("hospital-brand")
    staging = tmp_path / "staging"
    staging.mkdir()
    forms = {}
    for n, fmt in enumerate(("PNG", "JPEG")):
        forms[fmt] = write_filled_form(tmp_path / f"{fmt}.xlsx", form_values(*BRANDS[n], n),
                                       logo=logo_bytes((500, 400), (200, 30 + n, 30), fmt))
    staged = {}
    for fmt, form in forms.items():
        ((sub, logo),) = read_for_merge(str(form), profile, None, None, DEFAULT_LIMITS, str(staging))
        finish_staging()
        assert logo is not None and not sub.findings
        staged[fmt] = staging / (logo.key + original_suffix(logo))
        assert staged[fmt].read_bytes() == embedded_media(form)  # the original, byte for byte
    assert {p.suffix for p in staged.values()} == {".png", ".jpg"} and set(staging.iterdir()) == set(staged.values())

    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(forms["JPEG"]) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():  # the JPEG's header kept, its picture data cut off
            body = zin.read(info)
            zout.writestr(info, body[:200] if info.filename.startswith("xl/media/") else body)
    ((sub, logo),) = read_for_merge(str(broken), profile, None, None, DEFAULT_LIMITS, str(staging))
    finish_staging()
    assert logo is None and [f.rule for f in sub.findings] == ["image_format"]
    assert len(list(staging.iterdir())) == 3  # its copy, staged first: cleared with the run's staging
