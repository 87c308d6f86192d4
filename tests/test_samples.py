"""The bundled samples: each file carries exactly the mistakes it was made with, and the validator (run as
users run it: `brandkit --json validate samples/<profile> --profile <profile>`, in process) finds exactly
those, at the right cells, with Chinese messages. Also: the pictures of every storage scheme are found at
the logo cell, LibreOffice opens the special files, and scripts/make_samples.py rebuilds the same samples.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.libreoffice import roundtrip_values
from toolkit.core.model import split_cell_ref
from toolkit.core.profile import load_profile
from toolkit.core.text import count_chars
from toolkit.files.templates import template_field_cells

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(ROOT / "scripts"))
from sample_texts import HOSPITAL  # noqa: E402

E, W = "error", "warning"
HB = "hospital-brand"
MULTI = "12_第一党总支汇总.xlsx"  # a 党总支's workbook: one sheet per branch, so keyed by sheet too

# (profile folder / file name, sheet or None) -> {(field, rule, severity)}: every sample file, exactly.
EXPECTED: dict[str, dict[tuple[str, str | None], set[tuple[str, str, str]]]] = {
    HB: {
        ("01_内科第一党支部.xlsx", None): set(),
        ("02_护理部党支部.xlsx", None): set(),  # JPEG logo, landline phone
        ("03_机关第二党支部.xlsx", None): {("品牌名称", "max_chars", E)},  # 12 字
        ("04_检验科党支部.xlsx", None): {("品牌内涵", "max_chars", E)},  # 290 字
        ("05_药学部党支部.xlsx", None): {("品牌标识", "image_missing", E)},
        ("06_放射科党支部.xlsx", None): {("品牌标识", "image_format", E)},  # BMP
        ("07_急诊科党支部.xlsx", None): {("联系方式", "phone", E)},  # 9 digits
        ("08_儿科党支部.xlsx", None): {("党员总数", "integer", W)},  # "23人": read as 23
        ("09_超声医学科党支部_WPS.xlsx", None): set(),  # WPS cell image
        ("10_麻醉科党支部.xls", None): set(),  # BIFF8, OfficeArt blip
        ("11_眼科党支部_手工表.xlsx", None): set(),  # hand-made layout
        (MULTI, "心血管内科党支部"): set(),
        (MULTI, "心胸外科党支部"): {("填表人", "required", E)},
        ("13_病理科党支部.xlsx", None): {("填表人", "formula_injection", E)},
        ("14_康复医学科党支部.xlsx", None): {("党支部意见", "required", W)},  # blank signature box
        ("15_外科第一党支部.xlsx", None): set(),  # near miss of roster name 外一科党支部
    },
    "hospital-annual": {
        ("01_内科第二党支部.xlsx", None): set(),  # 3 projects
        ("02_后勤保障党支部.xlsx", None): {("品牌类别", "enum", E)},  # 党员先锋品牌, row 2
    },
    "college-feature": {
        ("01_计算机系教工党支部.xlsx", None): set(),
        ("02_电子信息研究生党支部.xlsx", None): {("品牌实施负责人", "required", E)},
    },
    "university-project": {  # 01 and 02 share a copied 品牌内涵: 不得抄袭 makes it an error on both
        ("01_机械学院教工第一党支部.xlsx", None): {("品牌内涵", "similar_text", E)},
        ("02_机械学院教工第二党支部.xlsx", None): {("品牌内涵", "similar_text", E)},
        ("03_外国语学院学生党支部.xlsx", None): set(),
    },
    "dangjian-plus": {
        ("01_针灸科党支部.xlsx", None): set(),  # 5 activity rows
        ("02_信息科党支部.xlsx", None): set(),  # 党建+其他 with what it is
    },
}
# Forms typed in each notice's own layout, one .xlsx and one .docx per campaign: all clean.
NOTICE_LAYOUT = {"hospital-brand": ("心内科党支部", "妇产科党支部"),
                 "college-feature": ("通信工程系教工党支部", "计算机研究生第二党支部"),
                 "hospital-annual": ("骨科党支部", "医务部党支部"),
                 "university-project": ("医学院临床第一党支部", "药学院教工党支部"),
                 "dangjian-plus": ("推拿科党支部", "护理部第二党支部")}
for _profile, (_xlsx, _docx) in NOTICE_LAYOUT.items():
    EXPECTED[_profile][(f"通知原表_{_xlsx}.xlsx", None)] = set()
    EXPECTED[_profile][(f"通知原表_{_docx}.docx", None)] = set()
# Rules about one cell: their findings must say which cell.
PER_CELL = {"required", "max_chars", "min_chars", "integer", "range", "phone", "email", "date", "enum",
            "pattern", "image_missing", "image_format", "image_size", "formula_injection", "similar_text",
            "duplicate_brand_name"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def run_validate(folder: Path, profile: str) -> tuple[int, dict]:
    """`brandkit --json validate <folder> --profile <profile>` through click's CliRunner, in process."""
    from click.testing import CliRunner

    from toolkit.cli import main

    result = CliRunner().invoke(main, ["--json", "validate", str(folder), "--profile", profile],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def by_key(doc: dict, profile: str) -> dict[tuple[str, str | None], dict]:
    """JSON files keyed like EXPECTED (sheet only for the multi-sheet workbook)."""
    out = {}
    for f in doc["files"]:
        name = Path(f["path"]).name
        if name == "台账.xlsx":  # the demo master the lead keeps beside the forms, not a sample
            continue
        key = (name, f["sheet"] if name == MULTI else None)
        assert key not in out, f"{profile}: {key} reported twice"
        out[key] = f
    return out


@functools.cache
def validate_samples(profile: str) -> tuple[str, int, dict[tuple[str, str | None], dict]]:
    rc, doc = run_validate(SAMPLES / profile, profile)
    return profile, rc, by_key(doc, profile)


@pytest.fixture(params=list(EXPECTED))
def validated(request):
    return validate_samples(request.param)


def test_every_file_has_exactly_its_findings(validated):
    profile, _, files = validated
    assert set(files) == set(EXPECTED[profile]), "sample files and EXPECTED differ"
    for key, f in files.items():
        got = {(x["field"], x["rule"], x["severity"]) for x in f["findings"]}
        assert got == EXPECTED[profile][key], f"{profile} {key}: {[x['message'] for x in f['findings']]}"


def test_status_and_exit_code_follow_findings(validated):
    profile, rc, files = validated
    for key, f in files.items():
        severities = {s for _, _, s in EXPECTED[profile][key]}
        want = "error" if E in severities else "warning" if W in severities else "ok"
        assert f["status"] == want, key
    assert rc == (1 if any(f["status"] == "error" for f in files.values()) else 0)


def test_findings_speak_chinese_and_point_at_cells(validated):
    profile, _, files = validated
    for key, f in files.items():
        for x in f["findings"]:
            assert CJK.search(x["message"]), x
            if x["rule"] in PER_CELL:
                assert x["cell"], x
                sheet, _, _ = split_cell_ref(x["cell"])
                assert sheet == f["sheet"], (key, x)
            if x["rule"] == "max_chars":  # the message gives the real count
                count = count_chars(f["fields"][x["field"]])
                assert f"{count} 字" in x["message"].replace("”", " "), x


def test_fields_are_read_back_from_every_layout():
    """What each hospital branch wrote comes back from its file, whatever the layout or format."""
    _, _, files = validate_samples(HB)
    by_name = {f["fields"].get("党支部名称"): f for f in files.values()}
    for b in HOSPITAL:
        f = by_name[b.name]
        members = int(b.members.removesuffix("人")) if isinstance(b.members, str) else b.members
        want = {"党员总数": members, "品牌名称": b.brand, "品牌内涵": b.inner, "联系方式": b.phone,
                "填表人": b.filler or None}
        got = {k: f["fields"].get(k) for k in want}
        assert got == want, f["path"]


def test_pictures_of_every_storage_scheme_sit_at_the_logo_cell():
    _, doc = run_validate(SAMPLES / HB / "09_超声医学科党支部_WPS.xlsx", HB)
    _, xls = run_validate(SAMPLES / HB / "10_麻醉科党支部.xls", HB)
    logo_cell = template_field_cells(load_profile(HB))["品牌标识"]
    for d, scheme in ((doc, "wps_cell_image"), (xls, "xls_blip")):
        (f,) = d["files"]
        assert [(p["scheme"], p["cell"], p["format"]) for p in f["pictures"]] == [(scheme, logo_cell, "png")]
        assert (f["pictures"][0]["width"], f["pictures"][0]["height"]) == (240, 240)


def test_picture_formats_and_anchors():
    _, _, files = validate_samples(HB)
    pics = {key[0] if key[1] is None else key[1]: [(p["scheme"], p["format"], p["cell"]) for p in f["pictures"]]
            for key, f in files.items()}
    logo_cell = template_field_cells(load_profile(HB))["品牌标识"]
    assert pics["02_护理部党支部.xlsx"] == [("drawing", "jpeg", logo_cell)]
    assert pics["05_药学部党支部.xlsx"] == []
    assert pics["06_放射科党支部.xlsx"] == [("drawing", "bmp", logo_cell)]
    assert pics["11_眼科党支部_手工表.xlsx"] == [("drawing", "jpeg", "B6")]  # the hand form's own box
    assert pics["心胸外科党支部"] == [("drawing", "png", logo_cell)]  # each sheet keeps its own logo
    assert pics["通知原表_心内科党支部.xlsx"] == [("drawing", "png", "D3")]  # beside 品牌名称, as printed
    assert pics["通知原表_妇产科党支部.docx"] == [("docx_drawing", "png", "D3")]


@pytest.mark.parametrize("name, sheet, ref, value", [
    ("09_超声医学科党支部_WPS.xlsx", "申报表", "党支部名称", "超声医学科党支部"),
    ("10_麻醉科党支部.xls", "申报表", "品牌名称", "无痛安心"),
    ("11_眼科党支部_手工表.xlsx", "申报表（眼科）", "D5", "光明使者"),
    (MULTI, "心胸外科党支部", "品牌名称", "胸怀仁心"),
])
def test_libreoffice_opens_the_hand_built_files(name, sheet, ref, value):
    """The zip-patched WPS file, the BIFF8 export, the hand layout and the multi-sheet workbook are real
    workbooks: LibreOffice loads them and sees the branch's values where the validator read them (a
    field name: its cell in brandkit's template)."""
    from toolkit.core.model import parse_a1

    rows = roundtrip_values(SAMPLES / HB / name)[sheet]
    r, c = parse_a1(template_field_cells(load_profile(HB)).get(ref, ref))
    assert rows[r][c] == value


@pytest.mark.slow  # rebuilds every sample in a subprocess, then validates both sets
def test_make_samples_is_deterministic(tmp_path):
    """Rebuilt samples validate exactly like the bundled ones (so the bundled files are up to date)."""
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_samples.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for profile in EXPECTED:
        def forms(folder: Path) -> list[str]:
            return sorted(p.name for p in [*folder.glob("*.xls*"), *folder.glob("*.docx")] if p.name != "台账.xlsx")

        assert forms(tmp_path / profile) == forms(SAMPLES / profile)
        docs = []
        for folder in (SAMPLES / profile, tmp_path / profile):
            _, doc = run_validate(folder, profile)
            files = {str(k): f for k, f in by_key(doc, profile).items()}
            docs.append(json.dumps(files, ensure_ascii=False, sort_keys=True).replace(str(folder), "<dir>"))
        assert docs[0] == docs[1], profile


def test_roster_matches_every_branch_but_the_near_miss(tmp_path, cli):
    """With a master made from the bundled roster, every sample branch is found in the ledger except
    外科第一党支部 (the roster says 外一科党支部): an unknown_branch error that suggests it, never a guess."""
    master = tmp_path / "台账.xlsx"
    init = cli("--json", "init", master, "--profile", HB, "--roster", SAMPLES / "rosters" / "hospital-brand_支部名单.xlsx")
    assert init.returncode == 0, init.stderr
    proc = cli("--json", "validate", SAMPLES / HB, "--master", master)
    files = by_key(json.loads(proc.stdout), HB)
    near = files[("15_外科第一党支部.xlsx", None)]
    assert near["branch"] is None
    (finding,) = [x for x in near["findings"] if x["rule"] == "unknown_branch"]
    assert (finding["severity"], finding["cell"]) == (E, "申报表!" + template_field_cells(load_profile(HB))["党支部名称"]) and "外一科党支部" in finding["message"]
    others = {f["branch"] for key, f in files.items() if key[0] != "15_外科第一党支部.xlsx"}
    assert others == ({b.name.removeprefix("中共") for b in HOSPITAL if b.file != "15_外科第一党支部"}
                      | set(NOTICE_LAYOUT[HB]))
