"""The branch form template: layout, input hints, drop-downs, protection, and what LibreOffice reads back."""

from __future__ import annotations

import tomllib
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.forms import PLAN
from tests.libreoffice import convert
from toolkit.core.model import parse_a1
from toolkit.core.printlayout import A4_PT, label_lines, line_pt, text_units
from toolkit.core.profile import PROFILE_DIR, Profile, builtin_profiles, load_profile, parse_profile
from toolkit.core.text import normalize_label
from toolkit.files.templates import (
    FORM_SHEET,
    META_SHEET,
    form_layout,
    form_rows,
    label_text,
    parse_meta,
    template_field_cells,
    template_table_cells,
    write_form,
)
from toolkit.readers.form import label_lookup, lookup_label


def _extended_profile() -> Profile:
    """hospital-brand plus what the other notices need: enums (one with 其他, one too long for an inline
    list), a 5-column table (wider than the grid) and a 2-column one."""
    data = tomllib.loads((PROFILE_DIR / "hospital-brand.toml").read_text(encoding="utf-8"))
    data["id"] = "test-extended"
    data["fields"].insert(1, {"name": "支部类型", "type": "enum", "choices": ["教工党支部", "学生党支部"]})
    data["fields"].insert(2, {"name": "模式", "type": "enum", "choices": [
        "党建+业务管理能力", "党建+人才队伍建设", "党建+其他（注明）"]})
    data["fields"].insert(3, {"name": "类别", "type": "enum", "choices": [f"类别{i:02d}，说明" for i in range(30)]})
    data["ledger"]["columns"] += ["支部类型", "模式", "类别"]  # every stored field has a ledger column
    data["tables"] = [
        {"name": "申报工程", "columns": [
            {"name": "工程名称", "max_chars": 20}, {"name": "品牌类别", "type": "enum",
                                                 "choices": ["党建工作品牌", "党组织品牌", "党员品牌"]},
            {"name": "负责人"}, {"name": "开始日期", "type": "date"}, {"name": "参与人数", "type": "integer"}]},
        {"name": "活动台帐", "columns": [{"name": "日期", "type": "date"}, {"name": "活动"}]},
    ]
    return parse_profile(data, where="test")


PROFILES = [*builtin_profiles(), "extended"]


def _profile(name: str) -> Profile:
    return _extended_profile() if name == "extended" else load_profile(name)


@pytest.fixture(scope="module", params=PROFILES)
def form(request, tmp_path_factory):
    """(profile, the template path): the tests that read the file with openpyxl need no LibreOffice."""
    profile = _profile(request.param)
    tmp = tmp_path_factory.mktemp(request.param)
    return profile, write_form(profile, tmp / "申报表.xlsx")


@pytest.fixture(scope="module")
def built(form):
    """(profile, the template path, what LibreOffice read back, the LibreOffice re-save opened by openpyxl)"""
    profile, path = form
    out = path.parent / "lo"
    out.mkdir()
    saved = convert(path, "xlsx", out)
    cal = CalamineWorkbook.from_path(str(saved))
    values = {n: cal.get_sheet_by_name(n).to_python() for n in cal.sheet_names}
    return profile, path, values, openpyxl.load_workbook(saved)


def _at(rows: list[list], ref: str):
    r, c = parse_a1(ref)
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


def test_libreoffice_reads_title_and_labels(built):
    profile, _, values, _ = built
    rows = values[FORM_SHEET]
    assert rows[0][0] == profile.form_title
    layout = form_layout(profile)
    texts = [b for b in layout.boxes if b.text]
    assert len(texts) > len(profile.fields)
    for box in texts:
        assert _at(rows, box.ref) == box.text, box
    for spec in (f for row in form_rows(profile) for f in row):
        assert any(b.role == "label" and b.text == label_text(spec) for b in layout.boxes), spec.name


# The label cells of the form notice 000 prints, character for character.
NOTICE_000_LABELS = ["党支部名称", "党员总数", "品牌名称 (10字以内)", "党建 品牌标识 (png.jpg)",
                     "党建品牌内涵 (200字以内)", "党建品牌的 创建计划、 创建举措、 预期成效 (2000字以内)",
                     "党支部意见", "党总支意见", "填表人", "联系方式"]


def test_labels_are_the_notices_words_and_read_back_as_their_fields(form):
    profile = form[0]
    specs = [*profile.fields, *[c for t in profile.tables for c in t.columns]]
    lookup = label_lookup(specs)
    for spec in specs:
        assert lookup_label(spec.form_label, lookup) == spec.name, spec.form_label
        assert "不超过" not in spec.form_label and "请" not in spec.form_label  # brandkit's hints stay out
    if profile.id == "hospital-brand":  # broken into lines only where the notice breaks them
        labels = [b.text.replace("\n", " ") for b in form_layout(profile).boxes if b.role == "label"]
        assert labels == NOTICE_000_LABELS


@pytest.mark.parametrize(("printed", "lines"), [
    ("品牌名称 (10字以内)", ["品牌名称", "(10字以内)"]),
    ("党支部名称（40字以内）", ["党支部名称", "（40字以内）"]),
    ("党建 品牌标识 (png.jpg)", ["党建", "品牌标识", "(png.jpg)"]),
    ("（一）品牌名称", ["（一）品牌名称"]),
    ("对标“七个有力”", ["对标“七个有力”"]),
])
def test_a_label_breaks_where_the_notice_breaks_it_or_before_a_hint(printed, lines):
    assert label_lines(printed) == lines


def test_label_columns_hold_every_label_line(form):
    profile = form[0]
    layout = form_layout(profile)
    for box in (b for b in layout.boxes if b.role == "label"):
        for line in box.text.split("\n"):
            assert text_units(line) + 1.5 <= layout.widths[box.c1] + 0.05, (line, layout.widths)
        height = sum(layout.heights[r] for r in range(box.r1, box.r2 + 1))
        assert height >= len(box.text.split("\n")) * line_pt(), box


# How each notice words the foot of its signature boxes (000: hospital-brand, 002: college-feature).
SIGNATURE_FEET = {"hospital-brand": ["签字（盖章）：", "年　　月　　日"] * 2,
                  "test-extended": ["签字（盖章）：", "年　　月　　日"] * 2,
                  "college-feature": ["支部书记签字：", "年　　月　　日"]}


def test_signature_rows_read_as_the_notice_writes_them(form):
    profile = form[0]
    feet = [b.text.rstrip("　") for b in form_layout(profile).boxes if b.role in ("sign", "date")]
    assert feet == SIGNATURE_FEET.get(profile.id, [])


def test_no_field_is_printed_twice(form):
    profile = form[0]
    layout = form_layout(profile)
    labels = [normalize_label(b.text) for b in layout.boxes if b.role in ("label", "header", "sign")]
    names = [n for n in (lookup_label(t, label_lookup(profile.fields)) for t in labels) if n]
    assert len(names) == len(set(names)), names
    assert len(layout.fields) == len({b.spec.name for b in layout.boxes if b.spec and b.role == "label"})


def test_pages_are_whole_boxes_and_at_most_two(form):
    """Planned on paper: every manual break falls between boxes, no page holds more than A4 does."""
    profile = form[0]
    layout = form_layout(profile)
    assert 1 <= len(layout.pages) <= (2 if profile.id in builtin_profiles() else 4)
    edges = {last for _, last in layout.blocks}
    assert set(layout.breaks) <= edges
    covered = sorted(r for first, last in layout.blocks for r in range(first, last + 1))
    assert covered == list(range(layout.last_row + 1))  # every row belongs to exactly one box group
    room = A4_PT[1] - 2 * 0.75 * 72
    for n, (first, last) in enumerate(layout.pages):
        title = layout.heights[0] if n else 0.0
        assert title + sum(layout.heights[r] for r in range(first, last + 1)) <= room * 100 / layout.scale


def test_hidden_sheet_maps_fields_to_unlocked_cells_next_to_labels(form):
    profile, path = form
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == FORM_SHEET
    assert wb[META_SHEET].sheet_state == "hidden"
    meta = parse_meta([list(r) for r in wb[META_SHEET].iter_rows(values_only=True)])
    assert meta is not None
    assert (meta.profile, meta.template_version) == (profile.id, profile.template_version)
    assert meta.fields == template_field_cells(profile)
    assert meta.tables == template_table_cells(profile)
    assert set(meta.fields) == {f.name for row in form_rows(profile) for f in row}
    ws = wb[FORM_SHEET]
    for spec in (f for row in form_rows(profile) for f in row):
        value = ws[meta.fields[spec.name]]
        assert value.protection.locked is False, spec.name
        label = ws.cell(value.row, value.column - 1)
        assert label.protection.locked is True
        assert label.value == label_text(spec)
    for table in profile.tables:
        for col in table.columns:
            first = ws[meta.tables[table.name][col.name]]
            assert first.protection.locked is False
            assert ws.cell(first.row - 1, first.column).value == label_text(col)
            assert ws.cell(first.row + 9, first.column).protection.locked is False


def test_validations_hints_and_drop_downs(built):
    profile, path, _, lo = built
    wb = openpyxl.load_workbook(path)
    ws = wb[FORM_SHEET]
    cells = template_field_cells(profile)

    def validation_of(ws, ref):
        found = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
        assert len(found) == 1, ref
        return found[0]

    for spec in (f for row in form_rows(profile) for f in row):
        if spec.type == "image":
            assert "插入" in ws[cells[spec.name]].comment.text
            continue
        dv = validation_of(ws, cells[spec.name])
        assert dv.showInputMessage and dv.prompt
        if spec.max_chars:
            assert f"不超过 {spec.max_chars} 字" in dv.prompt
        if spec.type == "integer":
            assert dv.type == "whole" and "整数" in dv.prompt
        if spec.type == "phone":
            assert "手机号或带区号的座机" in dv.prompt
        if spec.type == "enum":
            assert dv.type == "list"
            assert dv.errorStyle == ("warning" if any("其他" in c for c in spec.choices) else "stop")
            assert _choices(wb, dv.formula1) == list(spec.choices)
            # LibreOffice keeps the drop-down with exactly these choices
            assert _choices(lo, validation_of(lo[FORM_SHEET], cells[spec.name]).formula1) == list(spec.choices)
    for table in profile.tables:
        for col in table.columns:
            if col.type == "enum":
                first = template_table_cells(profile)[table.name][col.name]
                assert _choices(wb, validation_of(ws, first).formula1) == list(col.choices)


def _choices(wb, formula: str) -> list[str]:
    if formula.startswith('"'):
        return formula[1:-1].replace('""', '"').split(",")
    sheet, _, rng = formula.rpartition("!")
    cells = wb[sheet.strip("'")][rng.replace("$", "")]
    return [row[0].value for row in cells]


def test_protection_without_password_and_print_setup(built):
    _, path, _, lo = built
    for ws in (openpyxl.load_workbook(path)[FORM_SHEET], lo[FORM_SHEET]):
        p = ws.protection
        assert p.sheet is True
        assert not p.password
        assert p.formatRows is False and p.formatCells is False and p.objects is False
    ws = openpyxl.load_workbook(path)[FORM_SHEET]
    layout = form_layout(form_profile := built[0])
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    # a fixed scale (Excel drops manual breaks under fit-to-page) and the planned breaks
    assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    assert int(ws.page_setup.scale) == layout.scale, form_profile.id
    assert [b.id for b in ws.row_breaks.brk] == [r + 1 for r in layout.breaks]
    assert ws.print_title_rows == "$1:$1"
    assert ws["A1"].font.b and ws["A1"].font.sz == 16


def test_layout_is_grid_shaped():
    profile = _extended_profile()
    layout = form_layout(profile)
    assert len(layout.widths) == 5  # the 5-column table widens the grid
    taken: set[tuple[int, int]] = set()
    for box in layout.boxes:
        cells = {(r, c) for r in range(box.r1, box.r2 + 1) for c in range(box.c1, box.c2 + 1)}
        assert not cells & taken, box  # no two boxes overlap
        assert box.c2 < len(layout.widths)
        taken |= cells
    # as notice 000 prints it: 党支部名称 | 党员总数 share a row, the logo box sits beside 品牌名称, and the
    # 2000-字 box gets its own tall block
    cells = template_field_cells(load_profile("hospital-brand"))
    branch, count = (parse_a1(cells[n]) for n in ("党支部名称", "党员总数"))
    brand, logo = (parse_a1(cells[n]) for n in ("品牌名称", "品牌标识"))
    assert branch[0] == count[0] and count[1] > branch[1] and brand[0] == logo[0] and logo[1] > brand[1]
    brand = form_layout(load_profile("hospital-brand"))
    plan = next(b for b in brand.boxes if b.role == "value" and b.spec and b.spec.name == PLAN)
    assert sum(brand.heights[r] for r in range(plan.r1, plan.r2 + 1)) >= 200


def test_write_form_replaces_atomically(tmp_path: Path):
    target = tmp_path / "form.xlsx"
    target.write_bytes(b"old")
    write_form(load_profile("hospital-brand"), target)
    assert target.read_bytes()[:2] == b"PK"
    assert [p.name for p in tmp_path.iterdir()] == ["form.xlsx"]
