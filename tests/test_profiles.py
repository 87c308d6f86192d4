"""The five campaign profiles: they load, say what the notices say, and broken copies are refused by key."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.libreoffice import roundtrip_values
from toolkit.core.model import Provenance, Submission, Value
from toolkit.core.profile import (
    PROFILE_DIR,
    RULES_SHEET,
    ProfileError,
    builtin_profiles,
    load_profile,
    parse_profile,
)
from toolkit.core.profile_sheets import apply_rule_overrides
from toolkit.core.text import normalize_label
from toolkit.core.values import coerce
from toolkit.validation.rules import validate

ALL = ["college-feature", "dangjian-plus", "hospital-annual", "hospital-brand", "university-project"]


def raw(name: str) -> dict[str, Any]:
    return tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8"))


def test_all_five_load() -> None:
    assert builtin_profiles() == ALL
    for name in ALL:
        p = load_profile(name)
        assert p.id == name and p.fields and p.stages and p.ledger.columns


@pytest.mark.parametrize("name", ALL)
def test_profile_is_consistent(name: str) -> None:
    p = load_profile(name)
    # every label (after normalisation) leads to one field: a form cell cannot mean two things
    for specs in [p.fields, *[t.columns for t in p.tables]]:
        seen: dict[str, str] = {}
        for spec in specs:
            for label in spec.all_labels:
                key = normalize_label(label)
                assert seen.setdefault(key, spec.name) == spec.name, (label, spec.name, seen[key])
    # the ledger holds the key and the grouping column; aliases name real columns
    assert p.key in p.ledger.columns and p.group in p.ledger.columns
    assert set(p.ledger.aliases) <= set(p.ledger.columns)
    # every status a stage may carry has a kind (passed/pending/returned/late), so stamps get a colour
    for stage in p.stages:
        unknown = [s for s in stage.statuses if p.statuses.kind_of(s) is None and not s.startswith("未")]
        assert not unknown, (stage.name, unknown)
    # stages run forward in time
    dues = [s.due for s in p.stages if s.due]
    assert dues == sorted(dues)
    for s in p.stages:
        assert s.start is None or s.due is None or s.start <= s.due, s.name
    # texts compared for copying are long free-text fields
    assert all(p.field(f).long for f in p.similarity.fields)


def test_hospital_annual() -> None:
    p = load_profile("hospital-annual")
    (table,) = p.tables
    assert table.name == "申报工程" and table.min_rows == 1
    cols = {c.name: c for c in table.columns}
    assert {"工程名称", "品牌类别", "负责人", "主要内容", "预期成效"} <= set(cols)
    assert cols["品牌类别"].choices == ("党建工作品牌", "党组织品牌", "党员品牌")
    # the projects go to a sheet of their own (one row per project); the ledger counts them
    assert (table.sheet_name, table.item_column, table.count_column) == ("申报工程", "工程序号", "工程数")
    assert not set(cols) & set(p.ledger.columns) and "工程数" in p.ledger.columns
    assert [s.name for s in p.stages] == ["年初自评申报", "年中自我检查", "年终考核评比"]
    # the notice prints no year: this year's campaign unless init says otherwise (--year)
    assert p.notice_year is None and p.stage("年初自评申报").due == dt.date(dt.date.today().year, 3, 31)
    assert p.stage("年中自我检查").requires == ("年初自评申报",)


def test_college_feature() -> None:
    p = load_profile("college-feature")
    assert [f.name for f in p.fields] == ["党支部名称", "支部类型", "品牌名称", "品牌实施负责人", "品牌简介",
                                          "创建措施及步骤", "预期成效及验收指标", "支部意见", "支部书记签字", "日期"]
    assert p.field("支部类型").choices == ("教工党支部", "学生党支部")
    assert p.stage("申报").due == dt.date(2023, 4, 15)
    assert p.stage("评估验收").due == dt.date(2024, 1, 31) and "3000 字" in p.stage("评估验收").note
    assert p.stage("交流表彰").start == dt.date(2024, 2, 1)


def test_university_project() -> None:
    p = load_profile("university-project")
    # the notice's own words: 省级、校级“样板支部”和“双带头人”教师党支部书记工作室及培育对象必须参与
    assert p.field("支部类别").choices == ("省级样板支部", "校级样板支部", "“双带头人”教师党支部书记工作室", "培育对象", "其他")
    declare = p.stage("项目申报")
    assert declare.due == dt.date(2023, 11, 10)
    (must,) = declare.constraints
    assert (must.kind, must.field, must.values) == ("must_join", "支部类别", ("省级样板支部", "校级样板支部", "“双带头人”教师党支部书记工作室", "培育对象"))
    approve = p.stage("项目立项")
    assert (approve.due, approve.workdays, approve.count_start_day) == (dt.date(2023, 11, 20), 5, False)
    assert p.similarity.severity == "error" and "对标“七个有力”" in p.similarity.fields
    assert p.stage("品牌酝酿").start == dt.date(2023, 10, 16)
    assert p.stage("考核验收").due == dt.date(2024, 8, 31)


def test_dangjian_plus() -> None:
    p = load_profile("dangjian-plus")
    assert len(p.field("模式").choices) == 5 and p.field("模式").choices[-1].startswith("党建+其他")
    (table,) = p.tables
    assert [c.name for c in table.columns] == ["日期", "活动", "参与人数", "成效"]
    implement = p.stage("组织实施")
    assert (implement.start, implement.due) == (dt.date(2024, 3, 21), dt.date(2024, 11, 30))
    assert "11月31日" in implement.note and any("11月31日" in n for n in p.notes)
    assert p.stage("总结汇报").due == dt.date(2024, 12, 31)


def _good_values(name: str) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A plausible filled form for each campaign."""
    text = {"text": "内容", "phone": "13812345678", "date": "2024年7月11日", "integer": 12,
            "signature": "同意 张三", "email": "a@b.cn"}
    p = load_profile(name)
    fields = {f.name: f.choices[0] if f.type == "enum" else text[f.type]
              for f in p.fields if f.type != "image"}
    fields[p.key] = "内科第一党支部"
    tables = {t.name: [{c.name: c.choices[0] if c.type == "enum" else text[c.type] for c in t.columns}]
              for t in p.tables}
    return fields, tables


@pytest.mark.parametrize("name", [n for n in ALL if n != "hospital-brand"])
def test_each_campaign_validates_a_filled_form_cleanly_and_a_blank_one_loudly(name: str) -> None:
    p = load_profile(name)
    fields, tables = _good_values(name)
    specs = {c.name: c for t in p.tables for c in t.columns}
    sub = Submission(
        Provenance("a.xlsx", ""),
        {k: Value(k, coerce(p.field(k), v), v, f"S!B{n}") for n, (k, v) in enumerate(fields.items(), 1)},
        {t: [{k: Value(k, coerce(specs[k], v), v, "S!A9") for k, v in row.items()} for row in rows]
         for t, rows in tables.items()})
    assert validate(sub, p) == []
    blank = validate(Submission(Provenance("b.xlsx", "")), p)
    assert {f.field for f in blank if f.rule == "required"} >= {f.name for f in p.fields if f.required}


# -- broken copies ----------------------------------------------------------------------------------

def _broken(tmp_path: Path, name: str, edit: Any) -> Path:
    """A copy of a built-in profile with one line changed."""
    text = (PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8")
    new = edit(text)
    assert new != text
    path = tmp_path / f"{name}-broken.toml"
    path.write_text(new, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, edit, key", [
    ("college-feature", lambda t: t.replace('max_chars = 40', 'max_chars = 40\nmaxchars = 10', 1), "maxchars"),
    ("dangjian-plus", lambda t: t.replace('[ledger]\n', '[ledger]\nsheets = "x"\n'), "sheets"),
    ("university-project", lambda t: t.replace('workdays = 5', 'work_days = 5'), "work_days"),
    ("hospital-annual", lambda t: t.replace('type = "phone"', 'type = "telephone"'), "type"),
    ("college-feature", lambda t: t.replace('labels = ["日期"', 'labels = 7\nx = ["日期"', 1), "labels"),
    ("university-project", lambda t: t.replace('choices = ["省级样板支部", "校级样板支部", "“双带头人”教师党支部书记工作室", "培育对象", "其他"]\n', ''),
     "choices"),
    ("dangjian-plus", lambda t: t.replace('requires = ["调查摸底"]', 'requires = ["调查"]'), "requires"),
    ("hospital-annual", lambda t: t.replace('requires = ["年中自我检查"]', 'requires = ["年终考核评比"]'), "requires"),
    ("dangjian-plus", lambda t: t.replace('due = "11-30"', 'due = "11-31"'), "due"),
])
def test_a_broken_copy_names_the_key(tmp_path: Path, name: str, edit: Any, key: str) -> None:
    with pytest.raises(ProfileError) as err:
        load_profile(_broken(tmp_path, name, edit))
    assert key in str(err.value)


def test_an_enum_without_choices_is_refused() -> None:
    data = raw("college-feature")
    del data["fields"][1]["choices"]
    with pytest.raises(ProfileError, match=r"fields\[1\]\.choices"):
        parse_profile(data)


# -- 填报规则 sheet ----------------------------------------------------------------------------------

def test_rules_sheet_from_a_real_workbook_overrides_the_profile(tmp_path: Path) -> None:
    """An officer's 填报规则 sheet, opened and re-saved by LibreOffice, read back: its rows change the
    limits validation uses; blank cells keep the profile's values."""
    import xlsxwriter

    path = tmp_path / "台账.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(RULES_SHEET)
    ws.write_row(0, 0, ["字段", "必填", "最多字数", "可选值", "说明"])
    ws.write_row(1, 0, ["品牌名称", "", 12, "", "今年放宽到 12 字"])
    ws.write_row(2, 0, ["支部类型", "是", "", "教工党支部、学生党支部、离退休党支部"])
    wb.close()
    rows = roundtrip_values(path)[RULES_SHEET]
    p = apply_rule_overrides(load_profile("college-feature"), rows)
    assert p.field("品牌名称").max_chars == 12 and p.field("品牌名称").required is True
    assert p.field("支部类型").choices == ("教工党支部", "学生党支部", "离退休党支部")
    assert p.field("党支部名称") == load_profile("college-feature").field("党支部名称")


def test_rules_sheet_changes_what_validate_reports() -> None:
    hb = load_profile("hospital-brand")
    brand = "杏林先锋党建引领"  # 8 字
    spec = hb.field("品牌名称")
    sub = Submission(Provenance("a.xlsx", ""), {"品牌名称": Value("品牌名称", coerce(spec, brand), brand, "S!B4")})
    assert not [f for f in validate(sub, hb) if f.rule == "max_chars"]
    tight = apply_rule_overrides(hb, [["字段", "最多字数"], ["品牌名称", 6.0]])
    (f,) = [f for f in validate(sub, tight) if f.rule == "max_chars"]
    assert "8 字，超过 6 字上限" in f.message


@pytest.mark.parametrize("rows, needle", [
    ([["字段", "最多字数"], ["品牌口号", 10]], "品牌口号"),
    ([["字段", "最多字数"], ["品牌名称", "十个字"]], "不是数字"),
    ([["字段", "上限"], ["品牌名称", 10]], "上限"),
])
def test_rules_sheet_rejects_what_it_cannot_apply(rows: list[list[Any]], needle: str) -> None:
    with pytest.raises(ProfileError, match=needle):
        apply_rule_overrides(load_profile("hospital-brand"), rows)
