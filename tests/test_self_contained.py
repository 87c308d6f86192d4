"""Self-contained: a master carries its campaign, the package carries what it runs on (issue 14, items 10, 11).

* A master keeps the profile it was set up with (its TOML text, in a hidden, protected sheet): masters
  travel between PCs on USB sticks, so `init --profile my.toml` followed by merge, stamp, status, summary,
  validate --master and the buttons must work once my.toml is gone. The stored profile wins over a built-in
  of the same id; the 填报规则 sheet still wins over both for the rules it holds.
* `pip install .` (not editable) ships the samples the demo runs on and the macros the master template
  needs: the installed `brandkit demo` and `brandkit template --master` work from any folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.paths import ROOT
from toolkit.core.profile import PROFILE_DIR

HOSPITAL = PROFILE_DIR / "hospital-brand.toml"
ROSTER = ROOT / "samples" / "rosters" / "hospital-brand_支部名单.xlsx"
CUSTOM_TITLE = "我院党建品牌"


def custom_toml(folder: Path, *, profile_id: str = "my-brand", title: str = CUSTOM_TITLE, brand_limit: int = 6,
                due: str | None = None) -> Path:
    """A copy of hospital-brand with another id and title and another 品牌名称 limit (and 申报 due date)."""
    text = HOSPITAL.read_text(encoding="utf-8")
    edits = [('id = "hospital-brand"', f'id = "{profile_id}"'), ('title = "一支部一品牌"', f'title = "{title}"')]
    if due:
        edits.append(('due = "08-10"', f'due = "{due}"'))
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    text, n = re.subn(r'(name = "品牌名称"\n(?:[^\[].*\n)*?max_chars = )10\n', rf"\g<1>{brand_limit}\n", text)
    assert n == 1
    path = folder / f"{profile_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _inbox(make_form: Callable[..., Path], folder: Path) -> Path:
    """Two forms: a brand name of 4 字 (within any limit here) and one of 8 字 (over 6, within 10)."""
    make_form(0, folder=folder, 品牌名称="杏林先锋")
    make_form(1, folder=folder, 品牌名称="仁心护航守护生命")
    return folder


def _rejected(doc: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {r["branch"]: [(f["field"], f["rule"]) for f in r["findings"] if f["severity"] == "error"]
            for r in doc["rejected"]}


def _sheet_states(master: Path) -> dict[str, str]:
    """Sheet name -> state (visible, hidden, veryHidden) from xl/workbook.xml."""
    with zipfile.ZipFile(master) as zf:
        xml = zf.read("xl/workbook.xml").decode()
    states = {}
    for tag in re.findall(r"<sheet\b[^>]*/>", xml):
        state = re.search(r'state="(\w+)"', tag)
        states[re.search(r'name="([^"]+)"', tag).group(1)] = state.group(1) if state else "visible"
    return states


def _sheet_xml(master: Path, name: str) -> str:
    from toolkit.ooxml.package import Package
    from toolkit.ooxml.workbook import Workbook

    data = master.read_bytes()
    part = Workbook(Package(data)).sheet_part(name)
    with zipfile.ZipFile(master) as zf:
        return zf.read(part).decode()


def _stored_text(master: Path) -> str | None:
    from toolkit.core.profile_sheets import stored_profile_text
    from toolkit.readers.grid import read_grids

    return stored_profile_text(read_grids(master.read_bytes(), "xlsx"))


# -- item 10: the master carries its profile --------------------------------------------------------------

def test_a_custom_profile_keeps_working_after_its_file_is_gone(tmp_path: Path, cli, make_form) -> None:
    toml = custom_toml(tmp_path)
    text = toml.read_text(encoding="utf-8")
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", toml, "--roster", ROSTER).returncode == 0
    toml.unlink()  # the master went to another PC on a USB stick

    inbox = _inbox(make_form, tmp_path / "收件箱")
    checked = cli("--json", "validate", inbox, "--master", master)
    assert checked.returncode == 1, checked.stderr
    assert {f["branch"]: [(x["field"], x["rule"]) for x in f["findings"] if x["severity"] == "error"]
            for f in json.loads(checked.stdout)["files"]} == {"内科第一党支部": [], "护理部党支部": [("品牌名称", "max_chars")]}

    merged = cli("--json", "merge", master, inbox)
    assert merged.returncode == 1, merged.stderr  # one form rejected: the custom limit of 6 字
    doc = json.loads(merged.stdout)
    assert doc["added"] + doc["updated"] == ["内科第一党支部"]  # the roster listed it: a row to fill
    assert _rejected(doc) == {"护理部党支部": [("品牌名称", "max_chars")]}

    stamped = cli("stamp", master, "--stage", "党总支审批", "--status", "已通过", "--branch", "内科第一党支部")
    assert stamped.returncode == 0, stamped.stderr
    status = cli("status", master, "--date", "2024-08-20")
    assert status.returncode == 0, status.stderr
    assert f"{CUSTOM_TITLE}（my-brand）" in status.stdout
    out = tmp_path / "汇总.xlsx"
    summary = cli("summary", master, "-o", out, "--date", "2024-08-20")
    assert summary.returncode == 0, summary.stderr
    from python_calamine import CalamineWorkbook

    first = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert first[0][0] == f"“{CUSTOM_TITLE}”工作进展情况汇总"
    assert cli("undo", master).returncode == 0
    assert cli("status", master).returncode == 0
    assert _stored_text(master) == text  # the profile's own text, as the office wrote it


def _office_workbook(path: Path) -> Path:
    """The office's own workbook, with a ledger of its own and a sheet of notes: `init` adopts it."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "品牌台账"
    ws.append(["序号", "党总支", "党支部名称", "品牌名称", "填表人"])
    ws.append([1, "第一党总支", "内科第一党支部", None, None])
    wb.create_sheet("说明").append(["本表由党办维护"])
    wb.save(path)
    return path


def test_the_stored_profile_is_in_a_hidden_protected_sheet_of_a_new_and_an_adopted_master(tmp_path: Path,
                                                                                            cli) -> None:
    from toolkit.core.profile import PROFILE_SHEET

    toml = custom_toml(tmp_path)
    text = toml.read_text(encoding="utf-8")
    created = tmp_path / "新台账.xlsx"
    assert cli("init", created, "--profile", toml).returncode == 0

    adopted = _office_workbook(tmp_path / "原有台账.xlsx")
    assert cli("init", adopted, "--profile", toml).returncode == 0
    toml.unlink()

    for master in (created, adopted):
        assert _sheet_states(master)[PROFILE_SHEET] == "hidden"
        assert "<sheetProtection" in _sheet_xml(master, PROFILE_SHEET)
        assert _stored_text(master) == text
        status = cli("status", master, "--date", "2024-08-20")
        assert status.returncode == 0, status.stderr
        assert f"{CUSTOM_TITLE}（my-brand）" in status.stdout
    assert _sheet_states(adopted)["说明"] == "visible"


def test_the_stored_profile_wins_over_the_builtin_and_the_rules_sheet_over_both(tmp_path: Path, cli,
                                                                                  make_form) -> None:
    """A campaign set up with its own copy of hospital-brand (same id, a later due date) keeps that copy
    whatever the installed brandkit's hospital-brand says; the officers' 填报规则 edits still win."""
    import openpyxl

    from toolkit.core.profile import RULES_SHEET

    toml = custom_toml(tmp_path, profile_id="hospital-brand", title="一支部一品牌（本院）", brand_limit=10,
                       due="09-30")
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", toml).returncode == 0
    toml.unlink()
    status = json.loads(cli("--json", "status", master, "--date", "2024-08-20").stdout)
    assert status["submission_stage"]["due"] == "2024-09-30"  # the built-in says 2024-08-10
    assert "一支部一品牌（本院）（hospital-brand）" in cli("status", master).stdout

    wb = openpyxl.load_workbook(master)  # the officer lowers the brand-name limit in 填报规则
    rules = wb[RULES_SHEET]
    header = next(r for r in rules.iter_rows() if r[0].value == "字段")
    limit_col = next(c.column for c in header if c.value == "最多字数")
    row = next(r for r in rules.iter_rows() if r[0].value == "品牌名称")
    rules.cell(row[0].row, limit_col, 3)
    wb.save(master)

    doc = json.loads(cli("--json", "merge", master, _inbox(make_form, tmp_path / "收件箱")).stdout)
    assert doc["added"] == []
    assert _rejected(doc) == {"内科第一党支部": [("品牌名称", "max_chars")], "护理部党支部": [("品牌名称", "max_chars")]}
    status = json.loads(cli("--json", "status", master, "--date", "2024-08-20").stdout)
    assert status["submission_stage"]["due"] == "2024-09-30"


def test_a_master_without_a_stored_profile_uses_the_builtin_and_init_stores_it(tmp_path: Path, cli,
                                                                              new_master) -> None:
    """A master from before profiles were stored names its campaign in 填报规则 only: it keeps working on
    the built-in, and `init` on it again stores that profile."""
    import openpyxl

    from toolkit.core.profile import PROFILE_SHEET

    master = new_master()
    wb = openpyxl.load_workbook(master)
    if PROFILE_SHEET in wb.sheetnames:
        del wb[PROFILE_SHEET]
    wb.save(master)
    assert _stored_text(master) is None
    assert cli("status", master).returncode == 0
    assert cli("init", master).returncode == 0
    assert _stored_text(master) == HOSPITAL.read_text(encoding="utf-8")


def test_an_explicit_profile_still_wins_unless_it_names_the_stored_one(tmp_path: Path, cli) -> None:
    toml = custom_toml(tmp_path)
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", toml).returncode == 0
    toml.unlink()
    from toolkit.files.masterfile import load_master

    assert load_master(master).profile.title == CUSTOM_TITLE
    assert load_master(master, "my-brand").profile.title == CUSTOM_TITLE  # no such built-in: the stored one
    assert load_master(master, "hospital-brand").profile.title == "一支部一品牌"  # validate --profile X --master M


def test_init_refuses_to_switch_a_master_to_another_profile_silently(tmp_path: Path, cli) -> None:
    """The master runs on the profile it stores: `init` with another one would add that one's columns to
    a campaign that keeps running on the stored one, so it says so and changes nothing."""
    toml = custom_toml(tmp_path)
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", toml).returncode == 0
    before = master.read_bytes()
    other = cli("init", master, "--profile", "hospital-brand")
    assert other.returncode == 2 and "活动方案文件" in other.stderr and "my-brand" in other.stderr, other.stderr
    assert master.read_bytes() == before
    assert cli("init", master, "--profile", "my-brand").returncode == 0  # its own id: the stored profile
    assert cli("init", master, "--profile", toml).returncode == 0  # the very file it was made from


def test_a_broken_stored_profile_is_a_clear_message(tmp_path: Path, cli) -> None:
    import openpyxl

    from toolkit.core.profile import PROFILE_SHEET

    toml = custom_toml(tmp_path)
    master = tmp_path / "台账.xlsx"
    assert cli("init", master, "--profile", toml).returncode == 0
    wb = openpyxl.load_workbook(master)
    ws = wb[PROFILE_SHEET]
    ws.cell(2, 1, str(ws.cell(2, 1).value).replace('key = "党支部名称"', 'key = "党支部"'))
    wb.save(master)
    result = cli("status", master)
    assert result.returncode == 2
    assert PROFILE_SHEET in result.stderr and "key" in result.stderr and "Traceback" not in result.stderr


def _long_profile_text() -> str:
    """hospital-brand with notes that need several cells: one line of 20,000 𠮷 (40,000 UTF-16 units, over
    a cell's 32,767 alone), indented and tabbed lines, and text that looks like escapes or formulas."""
    text = HOSPITAL.read_text(encoding="utf-8")
    notes = ['  "' + "𠮷" * 20_000 + '"', '\t"_x0041_ 与 _x000D_ 原样保留"', '  "=SUM(A1) -1 +2 @3"',
             *(f'  "第 {n} 条说明：{"品牌" * 800}"' for n in range(40))]
    extra = "notes = [\n" + ",\n".join(notes) + ",\n]\n"
    text = re.sub(r"notes = \[\n(?:.*\n)*?\]\n", lambda _: extra, text, count=1)
    assert len(tomllib.loads(text)["notes"]) == len(notes)
    return text


@pytest.mark.parametrize("writer", ["xlsxwriter", "ooxml"])
def test_the_stored_text_survives_both_writers_cell_by_cell(tmp_path: Path, writer: str) -> None:
    """A new master is written by xlsxwriter, an adopted one patched by the file backend: either way each
    cell holds at most 32,767 UTF-16 units and the cells read back give the very text stored."""
    from toolkit.core.changeset import ChangeSet
    from toolkit.core.profile import CELL_LIMIT, PROFILE_SHEET, parse_profile
    from toolkit.core.profile_sheets import profile_sheet
    from toolkit.readers.grid import read_grids

    text = _long_profile_text()
    profile = parse_profile(tomllib.loads(text), text=text)
    sheet = profile_sheet(profile)
    assert sheet is not None and sheet.name == PROFILE_SHEET and sheet.hidden and sheet.protected
    cells = [row[0] for row in sheet.rows[1:]]
    assert len(cells) > 2 and "".join(cells) == text.replace("\r\n", "\n")
    assert all(0 < len(str(c).encode("utf-16-le")) // 2 <= CELL_LIMIT for c in cells)

    path = tmp_path / "台账.xlsx"
    if writer == "xlsxwriter":
        from toolkit.commands.init import _write_new_master
        from toolkit.core.changeset import NewSheet

        _write_new_master(path, ChangeSet(new_sheets=[NewSheet("台账", [["党支部名称"]]), sheet]))
    else:
        import openpyxl

        from toolkit.ooxml import apply_changeset

        wb = openpyxl.Workbook()
        wb.active.title = "台账"
        wb.save(path)
        path.write_bytes(apply_changeset(path.read_bytes(), ChangeSet(new_sheets=[sheet])))
    assert _sheet_states(path)[PROFILE_SHEET] == "hidden"
    assert "<sheetProtection" in _sheet_xml(path, PROFILE_SHEET)
    from toolkit.core.profile_sheets import stored_profile_text

    assert stored_profile_text(read_grids(path.read_bytes(), "xlsx")) == text


def test_the_master_opens_in_libreoffice_and_its_copy_keeps_the_profile(tmp_path: Path, cli) -> None:
    """LibreOffice reads the stored sheet of a new master (xlsxwriter) and of an adopted one (the file
    backend), and a master LibreOffice saved (the office edited it there) still carries the campaign."""
    from tests.libreoffice import convert, roundtrip_values
    from toolkit.core.profile import PROFILE_SHEET

    toml = custom_toml(tmp_path)
    text = toml.read_text(encoding="utf-8")
    created, adopted = tmp_path / "台账.xlsx", _office_workbook(tmp_path / "原有台账.xlsx")
    for master in (created, adopted):
        assert cli("init", master, "--profile", toml).returncode == 0
    toml.unlink()
    for master in (created, adopted):
        values = roundtrip_values(master)
        assert values["品牌台账"][0][:3] == ["序号", "党总支", "党支部名称"]
        assert "".join(str(row[0]) for row in values[PROFILE_SHEET][1:] if row and row[0]) == text
        saved = convert(master, "xlsx", tmp_path / "lo")
        status = cli("status", saved, "--date", "2024-08-20")
        assert status.returncode == 0, status.stderr
        assert f"{CUSTOM_TITLE}（my-brand）" in status.stdout


def test_the_buttons_find_a_custom_profile_in_the_master(tmp_path: Path, cli, make_form) -> None:
    """台账.xlsm made from a custom profile: the buttons (which read the open book, hidden sheets too)
    validate with its limit after the TOML file is gone."""
    import toolkit.xl
    from tests.xlremote import Replay, remote_book
    from toolkit.excel.master_template import CONSOLE_SHEET, DETAILS, INBOX, RESULT

    toml = custom_toml(tmp_path)
    master = tmp_path / "台账.xlsm"
    assert cli("init", master, "--profile", toml, "--roster", ROSTER).returncode == 0
    toml.unlink()
    inbox = _inbox(make_form, tmp_path / "收件箱")
    book = remote_book(master, {INBOX: str(inbox)})
    toolkit.xl.validate_inbox()
    rows = Replay.of(master).play(book.json()["actions"]).rows(CONSOLE_SHEET)
    labels = {row[0]: r for r, row in enumerate(rows) if row and row[0]}
    assert "有警告 1 份，不通过 1 份" in str(rows[labels[RESULT]][1]), rows[labels[RESULT]]  # warning: no signature
    details = " ".join(str(v) for row in rows[labels[DETAILS] + 1:] for v in row[:2] if v)
    assert "不通过：护理部党支部" in details and "品牌名称" in details, details


# -- item 11: the installed package ------------------------------------------------------------------------

def _declared_packages() -> tuple[list[str], dict[str, str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return config.get("packages", []), config.get("package-dir", {})


def test_every_subpackage_and_the_samples_are_declared() -> None:
    """pyproject lists the packages itself (samples/ and macros/ are mapped in from the top level),
    so a new subpackage must be listed there, or the installed brandkit lacks it."""
    packages, dirs = _declared_packages()
    found = sorted("toolkit" + ".".join(("", *p.parent.relative_to(ROOT / "toolkit").parts))
                   for p in (ROOT / "toolkit").rglob("__init__.py"))
    mapped = {"toolkit.samples": "samples", "toolkit.macros": "macros"}  # top-level folders shipped inside
    assert sorted(set(packages) - set(mapped)) == found
    assert {k: dirs.get(k) for k in mapped} == mapped


def test_the_demo_finds_its_samples_through_the_package() -> None:
    from toolkit.commands.demo import sample_path

    with sample_path("hospital-brand") as forms, sample_path("rosters", "hospital-brand_支部名单.xlsx") as roster:
        assert forms.is_dir() and len(list(forms.glob("*.xlsx"))) >= 10
        assert roster.is_file()


def _sources(dest: Path) -> Path:
    """The project as a fresh clone would have it once committed: tracked and new unignored files only."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.mark.slow
def test_the_installed_package_runs_the_demo_and_writes_the_master_template(tmp_path: Path) -> None:
    """`pip install .` (a wheel, not editable) into a fresh venv whose dependencies come from the project's
    environment (a .pth line: offline, and brandkit's own editable install there is not picked up), then
    the console script from an unrelated folder."""
    src = _sources(tmp_path / "src")
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-3000:]
    wheel = next(wheels.glob("brandkit-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = bindir / ("python.exe" if sys.platform == "win32" else "python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(purelib) / "brandkit-test-deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    # --ignore-installed: pip sees the checkout's own brandkit through that line and would skip the wheel
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BRANDKIT_DEBUG")}
    imported = subprocess.run([str(python), "-c", "import toolkit; print(toolkit.__file__)"], cwd=elsewhere,
                              capture_output=True, text=True, env=env)
    assert imported.returncode == 0, imported.stderr[-3000:]
    where = imported.stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the checkout
    brandkit = bindir / ("brandkit.exe" if sys.platform == "win32" else "brandkit")
    demo = subprocess.run([str(brandkit), "demo", "演示"], cwd=elsewhere, capture_output=True, text=True, env=env,
                          timeout=900)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert (elsewhere / "演示" / "品牌台账.xlsx").is_file() and (elsewhere / "演示" / "汇总.xlsx").is_file()
    template = subprocess.run([str(brandkit), "template", "--profile", "hospital-brand", "--master", "-o", "x.xlsm"],
                              cwd=elsewhere, capture_output=True, text=True, env=env, timeout=300)
    assert template.returncode == 0, template.stderr[-3000:]
    with zipfile.ZipFile(elsewhere / "x.xlsm") as zf:
        assert "xl/vbaProject.bin" in zf.namelist()
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "toolkit/samples/hospital-brand/01_内科第一党支部.xlsx" in names
    assert "toolkit/samples/rosters/hospital-brand_支部名单.xlsx" in names
    assert "toolkit/macros/BrandKit.bas" in names and "toolkit/profiles/hospital-brand.toml" in names
