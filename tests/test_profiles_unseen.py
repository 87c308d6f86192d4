"""Profiles and 填报规则 sheets as offices really write them: Notepad's encodings and Chinese punctuation,
numbers in quotes, one text where a list belongs, impossible limits, sheet names Excel refuses, Excel
wildcards typed where a regular expression belongs, and 必填 marks such as √. Each is refused at load
with a Chinese message naming the file (or the sheet's cell) and the key, never an internal error (exit 3),
and a bad pattern never stops a batch."""

from __future__ import annotations

import codecs
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult
from toolkit.core.model import Provenance, Submission, Value
from toolkit.core.profile import PROFILE_DIR, RULES_SHEET, ProfileError, load_profile
from toolkit.core.profile_sheets import apply_rule_overrides
from toolkit.core.values import coerce
from toolkit.validation.rules import validate

SOURCE = (PROFILE_DIR / "hospital-brand.toml").read_text(encoding="utf-8")
CJK = re.compile(r"[\u4e00-\u9fff]")


def office_copy(tmp_path: Path, edit: Callable[[str], str] = lambda t: t, encoding: str = "utf-8",
                name: str = "my.toml") -> Path:
    """hospital-brand.toml as an office copies it (a new id), edited, saved in `encoding`."""
    text = edit(SOURCE.replace('id = "hospital-brand"', 'id = "my-brand"'))
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8") if encoding == "utf-8-sig" else text.encode(encoding))
    return path


def line_of(path: Path, needle: str, encoding: str = "utf-8") -> int:
    return next(n for n, line in enumerate(path.read_text(encoding=encoding).splitlines(), 1) if needle in line)


def refused(result: CliResult, *needles: str) -> str:
    """A command refused with a Chinese message (exit 2, not 3 = internal error) holding every needle."""
    text = result.stderr
    assert result.returncode == 2, (result.returncode, text)
    assert "内部错误" not in text and "Traceback" not in text, text
    assert text.startswith("错误：") and CJK.search(text), text
    for needle in needles:
        assert needle in text, (needle, text)
    return text


def edit_rule(master: Path, field: str, column: str, value: Any) -> str:
    """Type `value` into the 填报规则 sheet's `column` for `field`, as an officer does in Excel; the cell's
    address as Excel shows it."""
    import warnings

    import openpyxl
    from openpyxl.utils import get_column_letter

    with warnings.catch_warnings():  # the master's print area, which openpyxl cannot read: not the test's
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(master)
    ws = wb[RULES_SHEET]
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "字段")
    col = next(c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value == column)
    row = next(r for r in range(header, ws.max_row + 1) if ws.cell(r, 1).value == field)
    ws.cell(row, col, value)
    wb.save(master)
    return f"{get_column_letter(col)}{row}"


def submission(profile_values: dict[str, Any], profile_id: str = "hospital-brand") -> Submission:
    p = load_profile(profile_id)
    fields = {name: Value(name, coerce(p.field(name), raw), raw, f"申报表!B{n + 2}")
              for n, (name, raw) in enumerate(profile_values.items()) if p.field(name) is not None}
    return Submission(Provenance("a.xlsx", ""), fields)


# -- 1. patterns ----------------------------------------------------------------------------------------

def test_excel_wildcard_in_the_rules_sheet_is_refused_by_cell_not_crashing_the_batch(
        cli: Callable[..., CliResult], new_master: Callable[..., Path], make_form: Callable[..., Path],
        tmp_path: Path) -> None:
    master = new_master()
    cell = edit_rule(master, "党支部名称", "格式", "*党支部")
    inbox = tmp_path / "收件箱"
    make_form(0, folder=inbox)
    make_form(1, folder=inbox)
    for result in (cli("validate", inbox, "--master", master), cli("merge", master, inbox)):
        refused(result, master.name, RULES_SHEET, cell, "*党支部", "通配符", ".*党支部")


def test_bad_pattern_in_a_profile_names_the_file_and_key(cli: Callable[..., CliResult],
                                                          make_form: Callable[..., Path], tmp_path: Path) -> None:
    path = office_copy(tmp_path, lambda t: t.replace("max_chars = 10\n", 'max_chars = 10\npattern = "[党"\n', 1))
    form = make_form(0)
    refused(cli("validate", form, "--profile", path), str(path), "fields[2].pattern", "“[党”", "方括号")
    with pytest.raises(ProfileError, match=r"pattern"):
        load_profile(path)


def test_validation_never_crashes_on_a_pattern() -> None:
    """A profile built in code may carry a pattern loading would refuse: the batch goes on, the check is
    skipped (a branch cannot be at fault); a good pattern still checks."""
    hb = load_profile("hospital-brand")
    sub = submission({"品牌名称": "杏林先锋"})

    def with_pattern(pattern: str) -> Any:
        fields = tuple(dataclasses.replace(f, pattern=pattern) if f.name == "品牌名称" else f for f in hb.fields)
        return dataclasses.replace(hb, fields=fields)

    assert not [f for f in validate(sub, with_pattern("*党支部")) if f.rule == "pattern"]
    assert [f for f in validate(sub, with_pattern(".*党支部")) if f.rule == "pattern"]
    assert not [f for f in validate(sub, with_pattern("杏林.*")) if f.rule == "pattern"]


# -- 2. custom profile files ----------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_notepad_encodings_load(tmp_path: Path, encoding: str) -> None:
    """Notepad's "ANSI" (GBK on Chinese Windows), UTF-8 with a BOM, and "Unicode" (UTF-16) all read."""
    p = load_profile(office_copy(tmp_path, encoding=encoding))
    hb = load_profile("hospital-brand")
    assert p.id == "my-brand" and p.fields == hb.fields and p.stages == hb.stages
    assert not p.text.startswith("\ufeff") and "品牌名称" in p.text


def test_a_gbk_profile_sets_up_a_master_that_runs_without_the_file(
        cli: Callable[..., CliResult], make_form: Callable[..., Path], tmp_path: Path) -> None:
    path = office_copy(tmp_path, encoding="gbk")
    master = tmp_path / "台账.xlsx"
    result = cli("init", master, "--profile", path)
    assert result.returncode == 0, result.stderr
    path.unlink()
    checked = cli("validate", make_form(0), "--master", master)
    assert checked.returncode in (0, 1) and "内部错误" not in checked.stderr, checked.stderr


def test_an_undecodable_file_says_how_to_save_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b'id = "\xff\xfe\xff"\n\x80')
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and "UTF-8" in str(err.value) and "另存为" in str(err.value)


@pytest.mark.parametrize("edit, needle, advice", [
    (lambda t: t.replace("max_chars = 10\n", "max_chars = 10\nhint = “请填写10字以内”\n", 1), "hint =",
     "请把全角引号“”改为半角引号\"\""),
    (lambda t: t.replace("max_chars = 10\n", "max_chars ＝ 10\n", 1), "max_chars ＝", "“＝”改为半角的“=”"),
    (lambda t: t.replace('labels = ["品牌名称", "党建品牌名称", "支部品牌名称"]',
                         'labels = ["品牌名称"，"党建品牌名称"]'), '"品牌名称"，', "“，”改为半角的“,”"),
    (lambda t: t.replace("max_chars = 10\n", "max_chars = １０\n", 1), "max_chars = １０", "“１”改为半角的“1”"),
])
def test_full_width_punctuation_is_pointed_out_by_line(cli: Callable[..., CliResult], tmp_path: Path,
                                                        edit: Callable[[str], str], needle: str, advice: str) -> None:
    path = office_copy(tmp_path, edit)
    line = line_of(path, needle)
    refused(cli("init", tmp_path / "台账.xlsx", "--profile", path), str(path), f"第 {line} 行", advice)
    assert not (tmp_path / "台账.xlsx").exists()


def test_other_toml_mistakes_are_explained_in_chinese(tmp_path: Path) -> None:
    path = office_copy(tmp_path, lambda t: t.replace("max_chars = 10\n", 'max_chars = 10\npattern = "\\d+"\n', 1))
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    text = str(err.value)
    assert str(path) in text and f"第 {line_of(path, 'pattern =')} 行" in text and "反斜杠" in text


@pytest.mark.parametrize("edit, needles", [
    (lambda t: t.replace('id = "my-brand"\n', ""), ["缺少", "id = "]),
    (lambda t: t.replace('due = "08-10"\nstatuses = ["已提交", "逾期提交", "退回"]', 'due = "08-10"'),
     ["stages[0]", "申报", "缺少", "statuses = ["]),
])
def test_missing_keys_are_named_with_an_example(cli: Callable[..., CliResult], tmp_path: Path,
                                                edit: Callable[[str], str], needles: list[str]) -> None:
    path = office_copy(tmp_path, edit)
    text = refused(cli("init", tmp_path / "台账.xlsx", "--profile", path), str(path), *needles)
    assert "__init__" not in text and "positional argument" not in text


@pytest.mark.parametrize("old, new, key, needles", [
    ("max_chars = 10\n", 'max_chars = "10"\n', "fields[2].max_chars", ["不加引号", "max_chars = 10"]),
    ("max_chars = 10\n", "max_chars = 10.5\n", "fields[2].max_chars", ["整数"]),
    ('statuses = ["已提交", "逾期提交", "退回"]', 'statuses = "已提交"', "stages[0].statuses", ['statuses = ["已提交"]']),
    ('labels = ["品牌名称", "党建品牌名称", "支部品牌名称"]', 'labels = "品牌名称"', "fields[2].labels", ["列表"]),
    ('type = "integer"\nrequired = true', 'type = "enum"\nchoices = "是,否"\nrequired = true', "fields[1].choices",
     ['choices = ["是", "否"]']),
    ("required = true\nidentity = true\nmax_chars = 10", 'required = "否"\nidentity = true\nmax_chars = 10',
     "fields[2].required", ["true 或 false"]),
    ('due = "08-10"', 'due = "08-10"\nworkdays = "五"', "stages[0].workdays", ["整数"]),
])
def test_wrong_types_are_refused_never_split_into_characters(cli: Callable[..., CliResult], tmp_path: Path,
                                                             old: str, new: str, key: str, needles: list[str]) -> None:
    path = office_copy(tmp_path, lambda t: t.replace(old, new, 1))
    refused(cli("init", tmp_path / "台账.xlsx", "--profile", path), str(path), key, *needles)
    assert not (tmp_path / "台账.xlsx").exists()


@pytest.mark.parametrize("old, new, key, needle", [
    ('sheet = "品牌台账"', 'sheet = "品牌台账/2024"', "ledger.sheet", "/"),
    ('sheet = "品牌台账"', 'sheet = "品牌台账[2024]"', "ledger.sheet", "["),
    ('sheet = "品牌台账"', 'sheet = "内蒙古医科大学附属医院一支部一品牌创建工作汇总台账（2024年度）"', "ledger.sheet", "1–31"),
    ('log_sheet = "操作记录"', 'log_sheet = "品牌台账"', "ledger.log_sheet", "同名"),
    ('log_sheet = "操作记录"', 'log_sheet = "填报规则"', "ledger.log_sheet", "同名"),
    ('sheet = "品牌台账"', 'sheet = "节假日"', "ledger.sheet", "同名"),
])
def test_sheet_names_are_checked_before_anything_is_written(cli: Callable[..., CliResult], tmp_path: Path,
                                                           old: str, new: str, key: str, needle: str) -> None:
    path = office_copy(tmp_path, lambda t: t.replace(old, new, 1))
    master = tmp_path / "台账.xlsx"
    refused(cli("init", master, "--profile", path), str(path), key, needle)
    assert not master.exists()


@pytest.mark.parametrize("old, new, needle", [
    ('name = "党员总数"\nprinted = "党员总数"', 'name = "品牌名称"\nprinted = "党员总数"', "重名"),
    ('name = "创建"\nrequires', 'name = "申报"\nrequires', "重名"),
    ("threshold = 0.85", "threshold = 85", "similarity.threshold"),
])
def test_duplicate_names_and_settings_out_of_range(tmp_path: Path, old: str, new: str, needle: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(needle)):
        load_profile(office_copy(tmp_path, lambda t: t.replace(old, new, 1)))


# -- 3. impossible limits -------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, key", [
    ("max_chars = 10\n", "max_chars = 0\n", "fields[2].max_chars"),
    ("max_chars = 10\n", "max_chars = -5\n", "fields[2].max_chars"),
    ("max_chars = 10\n", "max_chars = 10\nmin_chars = 20\n", "fields[2].min_chars"),
    ("min = 1\nmax = 2000", "min = 2000\nmax = 1", "fields[1].min"),
])
def test_impossible_limits_in_a_profile_are_refused(cli: Callable[..., CliResult], tmp_path: Path,
                                                    old: str, new: str, key: str) -> None:
    path = office_copy(tmp_path, lambda t: t.replace(old, new, 1))
    refused(cli("init", tmp_path / "台账.xlsx", "--profile", path), str(path), key)


def test_possible_limits_still_load(tmp_path: Path) -> None:
    p = load_profile(office_copy(tmp_path, lambda t: t.replace("max_chars = 10\n", "max_chars = 1\nmin_chars = 0\n", 1)))
    assert p.field("品牌名称").max_chars == 1 and p.field("品牌名称").min_chars == 0


@pytest.mark.parametrize("field, column, value, needle", [
    ("品牌名称", "最多字数", 0, "最多字数"),
    ("品牌名称", "最多字数", -5, "最多字数"),
    ("品牌名称", "最少字数", 20, "大于"),
    ("党员总数", "最小值", 3000, "大于"),
])
def test_impossible_limits_in_the_rules_sheet_are_refused(cli: Callable[..., CliResult],
                                                          new_master: Callable[..., Path],
                                                          make_form: Callable[..., Path],
                                                          field: str, column: str, value: Any, needle: str) -> None:
    master = new_master()
    cell = edit_rule(master, field, column, value)
    refused(cli("validate", make_form(0), "--master", master), RULES_SHEET, f"第 {cell[1:]} 行", field, needle)


# -- 4. the 填报规则 sheet's marks and rows -------------------------------------------------------------

YES_MARKS: list[Any] = ["是", "√", "✓", "✔", "Y", "y", "yes", "YES", "1", "必填", "TRUE", True, 1]
NO_MARKS: list[Any] = ["否", "×", "✗", "N", "n", "no", "0", "选填", "非必填", False, 0]


@pytest.mark.parametrize("mark", YES_MARKS)
def test_yes_marks_make_a_field_required(mark: Any) -> None:
    hb = load_profile("hospital-brand")
    optional = apply_rule_overrides(hb, [["字段", "必填"], ["品牌名称", "否"]])
    assert optional.field("品牌名称").required is False
    p = apply_rule_overrides(optional, [["字段", "必填"], ["品牌名称", mark]])
    assert p.field("品牌名称").required is True


@pytest.mark.parametrize("mark", NO_MARKS)
def test_no_marks_make_a_field_optional(mark: Any) -> None:
    p = apply_rule_overrides(load_profile("hospital-brand"), [["字段", "必填"], ["品牌名称", mark]])
    assert p.field("品牌名称").required is False


@pytest.mark.parametrize("mark", ["可", "？", "要求", "10"])
def test_an_unclear_mark_names_the_cell(mark: str) -> None:
    rows = [["字段", "最多字数", "必填"], ["党支部名称", None, None], ["品牌名称", None, mark]]
    with pytest.raises(ProfileError) as err:
        apply_rule_overrides(load_profile("hospital-brand"), rows, first_row=12)
    text = str(err.value)
    assert "C14" in text and RULES_SHEET in text and mark in text and "是" in text and "否" in text


def test_a_tick_in_the_real_sheet_keeps_the_field_required(cli: Callable[..., CliResult],
                                                           new_master: Callable[..., Path],
                                                           make_form: Callable[..., Path]) -> None:
    master = new_master()
    edit_rule(master, "品牌名称", "必填", "√")
    result = cli("--json", "validate", make_form(0, 品牌名称=None), "--master", master)
    assert result.returncode == 1, result.stderr
    assert '"rule": "required"' in result.stdout and "品牌名称" in result.stdout


@pytest.mark.parametrize("column, value", [("最多字数", "十"), ("必填", "可")])
def test_rules_sheet_errors_name_the_row_the_officer_sees(cli: Callable[..., CliResult],
                                                          new_master: Callable[..., Path],
                                                          make_form: Callable[..., Path],
                                                          column: str, value: str) -> None:
    master = new_master()
    cell = edit_rule(master, "品牌名称", column, value)
    assert int(cell[1:]) > 10  # below the stage table: the header is not the sheet's first row
    refused(cli("validate", make_form(0), "--master", master), master.name, RULES_SHEET, cell, value)


def test_rules_sheet_rows_count_from_the_header_given() -> None:
    rows = [["字段", "最多字数"], ["品牌名称", 10], ["品牌口号", 10]]
    with pytest.raises(ProfileError, match="第 22 行"):
        apply_rule_overrides(load_profile("hospital-brand"), rows, first_row=20)
    with pytest.raises(ProfileError, match="第 20 行"):
        apply_rule_overrides(load_profile("hospital-brand"), [["字段", "上限"]], first_row=20)


def test_numbers_typed_as_text_in_the_sheet_still_apply() -> None:
    p = apply_rule_overrides(load_profile("hospital-brand"), [["字段", "最多字数", "最小值"], ["品牌名称", "12", None],
                                                              ["党员总数", None, "３"]])
    assert p.field("品牌名称").max_chars == 12 and p.field("党员总数").min == 3
    with pytest.raises(ProfileError, match="整数"):
        apply_rule_overrides(load_profile("hospital-brand"), [["字段", "最多字数"], ["品牌名称", 10.5]])
