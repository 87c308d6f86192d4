"""The forms offices really receive: each campaign's form typed from scratch in the notice's layout
(openpyxl and python-docx, never brandkit's template), validated, merged, and read back from the master
through LibreOffice: every stored field, every table row, the logo in its cell."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from tests.libreoffice import roundtrip_values
from tests.notice_forms import BUILDERS, NoticeForm, hospital_brand, write_docx, write_xlsx
from tests.test_merge import cli, ledger_rows, logo_anchors
from toolkit.core.profile import load_profile

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

WRITERS = {"xlsx": write_xlsx, "docx": write_docx}
BRANCHES = ["内科第一党支部", "护理部党支部"]


def _same(got: object, want: object) -> bool:
    if isinstance(want, int) and not isinstance(want, bool):
        return got is not None and float(got) == want  # LibreOffice hands numbers back as floats
    if isinstance(got, dt.datetime | dt.date):
        return "年" in str(want) and got.month == int(str(want).split("年")[1].split("月")[0])
    return str(got).strip() == str(want).strip()


def _inbox(folder: Path, profile_id: str, suffix: str) -> list[NoticeForm]:
    folder.mkdir()
    forms = []
    for n, branch in enumerate(BRANCHES):
        form = BUILDERS[profile_id](branch, n)
        WRITERS[suffix](form, folder / f"{branch}申报表.{suffix}")
        os.utime(folder / f"{branch}申报表.{suffix}", (1_700_000_000 + n, 1_700_000_000 + n))
        forms.append(form)
    return forms


@pytest.mark.parametrize("suffix", list(WRITERS))
@pytest.mark.parametrize("profile_id", list(BUILDERS))
def test_notice_form_validates_merges_and_reads_back(tmp_path: Path, profile_id: str, suffix: str) -> None:
    profile = load_profile(profile_id)
    forms = _inbox(tmp_path / "收件箱", profile_id, suffix)
    report = json.loads(cli("--json", "validate", str(tmp_path / "收件箱"), "--profile", profile_id).stdout)
    for doc in report["files"]:
        errors = [f for f in doc["findings"] if f["severity"] == "error"]
        assert doc["status"] in ("ok", "warning") and not errors, (doc["path"], doc["findings"])

    master = tmp_path / "台账.xlsx"
    cli("init", str(master), "--profile", profile_id)
    merged = json.loads(cli("--json", "merge", str(master), str(tmp_path / "收件箱")).stdout)
    assert sorted(merged["added"]) == sorted(BRANCHES) and merged["rejected"] == [], merged

    values = roundtrip_values(master)
    rows = ledger_rows(values, profile.ledger.sheet)
    for form in forms:
        row = rows[form.expected["党支部名称"]]
        for name, want in form.expected.items():
            assert _same(row.get(name), want), (name, row.get(name), want)
    for table in profile.tables:
        sheet = values[table.sheet or table.name]
        header = [str(h) for h in sheet[0]]
        for form in forms:
            got = [dict(zip(header, r, strict=False)) for r in sheet[1:]
                   if r and r[0] == form.expected["党支部名称"]]
            assert len(got) == len(form.expected_table)
            for have, want in zip(got, form.expected_table, strict=True):
                for name, value in want.items():
                    assert _same(have.get(name), value), (table.name, name, have.get(name), value)
    if profile.ledger.logo_column:
        header = values[profile.ledger.sheet][0]
        key, logo = header.index(profile.key), header.index(profile.ledger.logo_column)
        at = {r[key]: i for i, r in enumerate(values[profile.ledger.sheet]) if i and r[key]}
        assert sorted(logo_anchors(master, "xl/worksheets/sheet1.xml")) == sorted((at[b], logo) for b in BRANCHES)


def test_split_box_over_the_limit_is_one_error_naming_the_parts(tmp_path: Path) -> None:
    """The 2000-字 box split into three labelled parts of 700 字 each: one max_chars error over all three
    cells with the total; the same text in the one box gets the same rule."""
    split = write_xlsx(hospital_brand("内科第一党支部", split=True, plan_size=1), tmp_path / "split.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(split)
    ws = wb.active
    cells = [c for c in ws["A"] if c.value in ("创建计划", "创建举措", "预期成效")]
    for label in cells:
        ws.cell(label.row, 2, "字" * 700)
    wb.save(split)
    doc = json.loads(cli("--json", "validate", str(split), "--profile", "hospital-brand").stdout)["files"][0]
    over = [f for f in doc["findings"] if f["rule"] == "max_chars"]
    assert len(over) == 1 and over[0]["severity"] == "error", doc["findings"]
    assert over[0]["cells"] == [f"Sheet1!B{c.row}" for c in cells]
    for text in ("2100 字", "创建计划 700 字", "创建举措 700 字", "预期成效 700 字", "2000 字"):
        assert text in over[0]["message"], over[0]["message"]
    box = doc["fields"]["党建品牌的创建计划、创建举措、预期成效"]
    assert box.startswith("创建计划：字") and "\n创建举措：" in box and "\n预期成效：" in box

    one = write_xlsx(hospital_brand("护理部党支部", plan_size=1), tmp_path / "one.xlsx")
    wb = load_workbook(one)
    ws = wb.active
    box_cell = next(c for c in ws["A"] if c.value and "2000字以内" in str(c.value))
    ws.cell(box_cell.row, 2, "字" * 2100)
    wb.save(one)
    doc = json.loads(cli("--json", "validate", str(one), "--profile", "hospital-brand").stdout)["files"][0]
    over = [f for f in doc["findings"] if f["rule"] == "max_chars"]
    assert len(over) == 1 and "2100 字" in over[0]["message"] and over[0]["cell"] == f"Sheet1!B{box_cell.row}"


def test_split_box_within_the_limit_joins_the_parts_in_the_notices_order(tmp_path: Path) -> None:
    form = hospital_brand("内科第一党支部", split=True)
    form.rows[3:6] = [form.rows[5], form.rows[3], form.rows[4]]  # the branch put 预期成效 first
    path = write_xlsx(form, tmp_path / "split.xlsx")
    doc = json.loads(cli("--json", "validate", str(path), "--profile", "hospital-brand").stdout)["files"][0]
    assert not [f for f in doc["findings"] if f["severity"] == "error"], doc["findings"]
    box = doc["fields"]["党建品牌的创建计划、创建举措、预期成效"]
    assert [line.split("：")[0] for line in box.split("\n")] == ["创建计划", "创建举措", "预期成效"]


def test_adopted_master_with_the_three_old_columns_keeps_them_and_gains_the_box(tmp_path: Path) -> None:
    """A master kept before the box was one column (创建计划 | 创建举措 | 预期成效): adopting it keeps those
    columns, fills each from the form's parts, and adds the notice's one column beside them."""
    import xlsxwriter

    master = tmp_path / "台账.xlsx"
    wb = xlsxwriter.Workbook(str(master))
    ws = wb.add_worksheet("品牌台账")
    ws.write_row("A1", ["序号", "党支部名称", "品牌名称", "创建计划", "创建举措", "预期成效", "备注"])
    ws.write_row("A2", [1, "内科第一党支部", None, "旧计划", None, None, "手工备注"])
    wb.close()
    cli("init", str(master), "--profile", "hospital-brand")
    form = hospital_brand("内科第一党支部", split=True, plan_size=1)
    write_xlsx(form, tmp_path / "收件箱.xlsx")
    doc = json.loads(cli("--json", "merge", str(master), str(tmp_path / "收件箱.xlsx")).stdout)
    assert doc["updated"] == ["内科第一党支部"], doc
    row = ledger_rows(roundtrip_values(master))["内科第一党支部"]
    parts = {label: text for label, text, *_ in form.rows if label in ("创建计划", "创建举措", "预期成效")}
    assert {k: row[k] for k in parts} == parts and row["备注"] == "手工备注"
    assert row["党建品牌的创建计划、创建举措、预期成效"] == "\n".join(f"{k}：{v}" for k, v in parts.items())


def test_a_field_the_printed_form_lacks_is_filled_from_the_roster(tmp_path: Path) -> None:
    """college-feature's printed form has no 支部类型 row: the ledger takes it from the roster's 类别."""
    roster = tmp_path / "名单.csv"
    roster.write_text("支部类型,党支部名称\n教工党支部,内科第一党支部\n学生党支部,护理部党支部\n", encoding="utf-8")
    _inbox(tmp_path / "收件箱", "college-feature", "xlsx")
    master = tmp_path / "台账.xlsx"
    cli("init", str(master), "--profile", "college-feature", "--roster", str(roster))
    cli("merge", str(master), str(tmp_path / "收件箱"))
    rows = ledger_rows(roundtrip_values(master))
    assert (rows["内科第一党支部"]["支部类型"], rows["护理部党支部"]["支部类型"]) == ("教工党支部", "学生党支部")
