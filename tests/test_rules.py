"""Validation rules: typed values, every rule id, branch names, cross-submission checks, the catalogue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.forms import PLAN as PLAN_BOX
from tests.libreoffice import convert
from toolkit.core.messages import CATALOGUE, RULES, UNREADABLE_REASONS, message, title, unreadable_reason
from toolkit.core.model import Finding, Picture, Provenance, Submission, Value
from toolkit.core.profile import FieldSpec, Profile, load_profile
from toolkit.core.text import text_similarity
from toolkit.core.values import coerce
from toolkit.validation.rules import (
    branch_findings,
    check_value,
    cross_check,
    match_branch,
    suggest_branches,
    validate,
)
from toolkit.validation.similar import similar_pairs

HB = load_profile("hospital-brand")
SHEET = "申报表"
# hospital-brand's fields in form order, each at its own row of column B
CELLS = {f.name: f"{SHEET}!B{n}" for n, f in enumerate(HB.fields, start=2)}
GOOD: dict[str, Any] = {
    "党支部名称": "内科第一党支部", "党员总数": 23.0, "品牌名称": "杏林先锋",
    "党支部意见": "同意 张三", "党总支意见": "同意 李四", "填表人": "王五", "联系方式": 13812345678.0,
}


def prose(seed: str, n: int = 60) -> str:
    """Free text of its own for each file, so branches only look alike where a test makes them."""
    rng = random.Random(seed)
    return "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(n)) + "。"


def logo(fmt: str = "png", width: int = 400, height: int = 300) -> Picture:
    return Picture(sheet=SHEET, row=4, col=1, scheme="drawing", format=fmt, width=width, height=height,
                   data=b"")


def submission(profile: Profile = HB, path: str = "内科第一.xlsx", received: str | None = None,
               pic: Picture | None = None, tables: dict[str, list[dict[str, Any]]] | None = None,
               **values: Any) -> Submission:
    """A form as a reader would hand it over: typed value, raw content and cell for each field."""
    own = {name: prose(path + name) for name in HB.similarity.fields}
    raw = {**GOOD, **own, **values} if profile is HB else values
    fields = {}
    for n, spec in enumerate(profile.fields, start=2):
        if spec.name in raw and spec.type != "image":
            fields[spec.name] = Value(spec.name, coerce(spec, raw[spec.name]), raw[spec.name], f"{SHEET}!B{n}")
    rows: dict[str, list[dict[str, Value]]] = {}
    for t in profile.tables:
        specs = {c.name: c for c in t.columns}
        rows[t.name] = [{name: Value(name, coerce(specs[name], v), v, f"{SHEET}!{chr(65 + c)}{20 + r}")
                         for c, (name, v) in enumerate(row.items())}
                        for r, row in enumerate((tables or {}).get(t.name, []))]
    return Submission(Provenance(path, "0" * 64, SHEET, received=received), fields, rows,
                      logo=pic if pic is not None else (logo() if profile is HB else None))


def only(findings: list[Finding], rule: str) -> Finding:
    hits = [f for f in findings if f.rule == rule]
    assert len(hits) == 1, findings
    return hits[0]


# -- coerce ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, raw, expected", [
    ("党支部名称", "  内科第一党支部 ", "内科第一党支部"),
    ("联系方式", 13812345678.0, "13812345678"),
    ("联系方式", "+86 138 1234 5678", "+86 138 1234 5678"),  # phone kept as written
    ("党员总数", 23.0, 23),
    ("党员总数", "23人", 23),
    ("党员总数", "二十三", "二十三"),
    ("党员总数", 23.5, "23.5"),
    ("品牌名称", 2024.0, "2024"),
    ("党支部名称", None, None),
])
def test_coerce(field: str, raw: Any, expected: Any) -> None:
    got = coerce(HB.field(field), raw)
    assert got == expected and type(got) is type(expected)


def test_coerce_dates_numbers_and_images() -> None:
    date = FieldSpec("日期", type="date")
    assert coerce(date, 45484.0) == dt.date(2024, 7, 11)
    assert coerce(date, "2024年7月11日") == dt.date(2024, 7, 11)
    assert coerce(date, "七月中旬") == "七月中旬"
    number = FieldSpec("得分", type="number")
    assert coerce(number, "92.5") == 92.5 and coerce(number, 90.0) == 90 and coerce(number, "优") == "优"
    assert coerce(HB.field("品牌标识"), None) is None
    assert coerce(HB.field("品牌标识"), '=DISPIMG("ID_1",1)') == '=DISPIMG("ID_1",1)'


def test_coerce_values_from_excel_xls_and_ods_files(tmp_path: Path) -> None:
    """The same form cells written by xlsxwriter, then re-saved by real LibreOffice as .xls and .ods, read
    with python-calamine (its drift: ints as floats, dates as datetimes or serials) coerce to the same
    typed values."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    src = tmp_path / "form.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("申报表")
    ws.write_number("A1", 13812345678)  # a phone typed into a number cell
    ws.write_number("A2", 23)
    ws.write_string("A3", "23人")
    ws.write_datetime("A4", dt.datetime(2024, 7, 11), wb.add_format({"num_format": "yyyy年m月d日"}))
    ws.write_number("A5", 45484)  # a date whose format was lost
    wb.close()
    specs = [HB.field("联系方式"), HB.field("党员总数"), HB.field("党员总数"),
             FieldSpec("日期", type="date"), FieldSpec("日期", type="date")]
    expected = ["13812345678", 23, 23, dt.date(2024, 7, 11), dt.date(2024, 7, 11)]
    for path in (src, convert(src, "xls", tmp_path / "xls"), convert(src, "ods", tmp_path / "ods")):
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("申报表").to_python()
        got = [coerce(spec, row[0]) for spec, row in zip(specs, rows, strict=True)]
        assert got == expected, path.suffix


# -- per-field rules ------------------------------------------------------------------------------

def test_a_good_form_has_no_findings() -> None:
    assert validate(submission(), HB) == []


@pytest.mark.parametrize("values, rule, field, severity, needle", [
    ({"品牌名称": ""}, "required", "品牌名称", "error", "未填写"),
    ({"品牌名称": "   "}, "required", "品牌名称", "error", "未填写"),
    ({"党支部意见": None}, "required", "党支部意见", "warning", "签字盖章"),
    ({"品牌名称": "杏林先锋党建引领医疗服务"}, "max_chars", "品牌名称", "error", "12 字，超过 10 字上限"),
    ({"党员总数": "二十三"}, "integer", "党员总数", "error", "二十三"),
    ({"党员总数": "23人"}, "integer", "党员总数", "warning", "已按 23 读取"),
    ({"党员总数": 0}, "range", "党员总数", "error", "0，不在 1～2000 之间"),
    ({"党员总数": "5000人"}, "range", "党员总数", "error", "5000"),
    ({"联系方式": "1381234567"}, "phone", "联系方式", "error", "1381234567"),
    ({"党支部名称": '=HYPERLINK("http://x","内科")'}, "formula_injection", "党支部名称", "error", "以“=”开头"),
    ({"填表人": "@王五"}, "formula_injection", "填表人", "error", "以“@”开头"),
    ({PLAN_BOX: "- 第一步：建立机制"}, "formula_injection", PLAN_BOX, "warning", "以“-”开头"),
])
def test_rule(values: dict[str, Any], rule: str, field: str, severity: str, needle: str) -> None:
    found = validate(submission(**values), HB)
    f = only(found, rule)
    assert (f.field, f.severity, f.cell) == (field, severity, CELLS[field])
    assert needle in f.message
    assert not [x for x in found if x.rule != rule and x.rule != "integer"], found


def test_the_23_ren_warning_names_the_number_read() -> None:
    f = only(validate(submission(党员总数="23人"), HB), "integer")
    assert f.severity == "warning" and f.cell == CELLS["党员总数"]
    assert f.message == "“党员总数”填的是“23人”，已按 23 读取；请只填数字 23"


def test_valid_typed_values_are_not_formulas() -> None:
    """'+86 138…' is a phone, '-5' a number: Excel's formula prefix is not the point there."""
    assert validate(submission(联系方式="+86 138 1234 5678"), HB) == []
    f = only(validate(submission(党员总数="-5"), HB), "range")
    assert f.message == "“党员总数”为 -5，不在 1～2000 之间，请核对后修改"


def test_missing_value_without_a_cell_and_min_chars() -> None:
    sub = submission()
    del sub.fields["填表人"]
    f = only(validate(sub, HB), "required")
    assert (f.field, f.cell) == ("填表人", None)
    spec = FieldSpec("品牌内涵", min_chars=10)
    f = only(check_value(spec, Value("品牌内涵", "太短了", "太短了", "S!B2")), "min_chars")
    assert (f.severity, f.cell) == ("error", "S!B2") and "只有 3 字，少于 10 字" in f.message


def test_char_count_mode_comes_from_the_profile() -> None:
    text = "ICU党建品牌2024"  # word: ICU + 党建品牌 + 2024 = 6; chars: 11
    sub = submission(品牌名称=text)
    assert validate(sub, HB) == []
    f = only(validate(sub, dataclasses.replace(HB, char_count="chars")), "max_chars")
    assert "11 字" in f.message


@pytest.mark.parametrize("spec, raw, rule, needle", [
    (FieldSpec("邮箱", type="email"), "wangwu@163", "email", "wangwu@163"),
    (FieldSpec("得分", type="number", max=100), "优秀", "range", "应填数字"),
    (FieldSpec("得分", type="number", max=100), 120, "range", "大于最大值 100"),
    (FieldSpec("工号", pattern=r"\d{6}", hint="6 位数字工号"), "A123", "pattern", "应为：6 位数字工号"),
    (FieldSpec("支部类型", type="enum", choices=("教工党支部", "学生党支部")), "学生支部", "enum",
     "您是否指的是“学生党支部”"),
])
def test_typed_rules(spec: FieldSpec, raw: Any, rule: str, needle: str) -> None:
    f = only(check_value(spec, Value(spec.name, coerce(spec, raw), raw, "表!C7")), rule)
    assert (f.field, f.severity, f.cell) == (spec.name, "error", "表!C7")
    assert needle in f.message


def test_typed_rules_accept_good_values() -> None:
    cases = [(FieldSpec("邮箱", type="email"), "wang.wu@163.com"), (FieldSpec("日期", type="date"), 45484),
             (FieldSpec("得分", type="number", max=100), "92.5"), (FieldSpec("工号", pattern=r"\d{6}"), 123456.0),
             (FieldSpec("支部类型", type="enum", choices=("教工党支部", "学生党支部")), " 学生党支部 ")]
    for spec, raw in cases:
        assert check_value(spec, Value(spec.name, coerce(spec, raw), raw, "表!C7")) == [], spec.name


def test_open_enum_choice_needs_its_note() -> None:
    mode = load_profile("dangjian-plus").field("模式")
    ok = ["党建+志愿服务", "党建＋志愿服务", "党建+其他：医联体建设", "党建+其他（智慧医院）"]
    for raw in ok:
        assert check_value(mode, Value("模式", raw, raw, "S!B3")) == [], raw
    for raw in ("党建+其他", "党建+其他（注明）"):
        f = only(check_value(mode, Value("模式", raw, raw, "S!B3")), "enum")
        assert f.message == "“模式”选择了“党建+其他”，请在其后注明具体内容（如“党建+其他：……”）"
    f = only(check_value(mode, Value("模式", "党建+业务", "党建+业务", "S!B3")), "enum")
    assert "您是否指的是“党建+业务管理能力”" in f.message


@pytest.mark.parametrize("pic, rule, severity, needle", [
    (logo("bmp"), "image_format", "error", "BMP 格式，不支持；请另存为 PNG、JPEG"),
    (logo("png", 40, 30), "image_size", "warning", "40×30 像素，短边小于 64"),
    (logo("jpeg", 8000, 6000), "image_size", "error", "48.0 百万像素），超过 40 百万像素"),
])
def test_picture_rules(pic: Picture, rule: str, severity: str, needle: str) -> None:
    f = only(validate(submission(pic=pic), HB), rule)
    assert (f.field, f.severity, f.cell) == ("品牌标识", severity, f"{SHEET}!B5")
    assert needle in f.message


def test_image_missing_points_at_the_logo_cell() -> None:
    sub = submission()
    sub.logo = None
    sub.fields["品牌标识"] = Value("品牌标识", None, None, CELLS["品牌标识"])
    f = only(validate(sub, HB), "image_missing")
    assert (f.field, f.severity, f.cell) == ("品牌标识", "error", CELLS["品牌标识"])
    assert validate(submission(pic=logo("jpg")), HB) == []  # jpg is jpeg


def test_table_rows_are_checked_cell_by_cell() -> None:
    ha = load_profile("hospital-annual")
    head = {"党支部名称": "内科第一党支部", "填表人": "王五", "联系方式": "0471-1234567"}
    empty = submission(ha, **head)
    f = only(validate(empty, ha), "required")
    assert (f.field, f.severity) == ("申报工程", "error") and "至少需要填写 1 行，现有 0 行" in f.message
    row = {"工程名称": "先锋工程", "品牌类别": "党员品牌", "负责人": "张三", "主要内容": "内容", "预期成效": "成效",
           "完成时限": "2025年12月"}
    sub = submission(ha, tables={"申报工程": [row, {**row, "品牌类别": "党组织", "负责人": ""}]}, **head)
    found = validate(sub, ha)
    assert [(f.rule, f.field, f.cell) for f in found] == [  # 2025年12月 is a date (tests/test_rules_unseen.py)
        ("enum", "品牌类别", f"{SHEET}!B21"), ("required", "负责人", f"{SHEET}!C21")]
    assert found[0].message.startswith("“申报工程第2项·品牌类别”填的是“党组织”")


def test_reader_findings_are_not_repeated() -> None:
    sub = submission()
    del sub.fields["品牌内涵"]
    sub.findings.append(Finding("template_mismatch", "error", message("template_mismatch.field", field="品牌内涵"),
                                field="品牌内涵"))
    assert validate(sub, HB) == []
    broken = Submission(Provenance("x.xlsx", ""), findings=[
        Finding("unreadable", "error", unreadable_reason("encrypted", file="x.xlsx"))])
    assert validate(broken, HB) == [] and cross_check([broken, broken], HB) == {0: [], 1: []}


# -- branches -------------------------------------------------------------------------------------

ROSTER = ["内科第一党支部", "内科第二党支部", "外科党支部", "ICU党支部", "行政第一党支部"]


def test_match_branch_is_exact_after_normalisation() -> None:
    assert match_branch("中共 内科第一支部", ROSTER) == "内科第一党支部"
    assert match_branch("ｉｃｕ党支部", ROSTER) == "ICU党支部"
    assert match_branch("内科一支部", ROSTER) is None
    assert match_branch("", ROSTER) is None


def test_suggest_branches() -> None:
    assert suggest_branches("内科一党支部", ROSTER)[:2] == ["内科第一党支部", "内科第二党支部"]
    assert suggest_branches("外科", ROSTER)[0] == "外科党支部"
    assert suggest_branches("财务科", ROSTER) == []


def test_unknown_branch_says_did_you_mean() -> None:
    f = only(branch_findings(submission(党支部名称="内科一党支部"), HB, ROSTER), "unknown_branch")
    assert (f.field, f.severity, f.cell) == ("党支部名称", "error", CELLS["党支部名称"])
    assert "您是否指的是 “内科第一党支部”、“内科第二党支部”" in f.message
    f = only(branch_findings(submission(党支部名称="财务科党支部"), HB, ROSTER), "unknown_branch")
    assert "也没有相近的名称" in f.message
    assert branch_findings(submission(党支部名称="中共内科第一支部"), HB, ROSTER) == []
    assert branch_findings(submission(党支部名称="财务科党支部"), HB, []) == []


# -- across submissions ---------------------------------------------------------------------------

PLAN = ("以“杏林先锋”为载体，建立党员先锋岗、责任区，开展义诊进社区、健康讲座等志愿服务活动，"
        "推动党建与医疗业务深度融合，提升患者满意度和支部凝聚力，形成可复制可推广的经验。")


def test_duplicate_submission_newest_wins_by_received_time() -> None:
    subs = [submission(path="新.xlsx", received="2024-08-02T09:00:00+08:00"),
            submission(path="旧.xlsx", received="2024-08-01T09:00:00"),
            submission(path="外科.xlsx", 党支部名称="外科党支部", 品牌名称="仁心外科")]
    out = cross_check(subs, HB)
    f = only(out[1], "duplicate_submission")
    assert (f.field, f.severity, f.cell) == ("党支部名称", "warning", CELLS["党支部名称"])
    assert "本份（旧.xlsx）已被较新的“新.xlsx”取代" in f.message
    assert out[0] == [] and out[2] == []


def test_duplicate_submission_names_the_folders_of_files_that_share_a_name() -> None:
    subs = [submission(path="收件箱/2024-08-02_张三/申报表.xlsx", received="2024-08-02T09:00:00+08:00"),
            submission(path="收件箱/2024-08-01_张三/申报表.xlsx", received="2024-08-01T09:00:00+08:00")]
    f = only(cross_check(subs, HB)[1], "duplicate_submission")
    assert "本份（2024-08-01_张三/申报表.xlsx）已被较新的“2024-08-02_张三/申报表.xlsx”取代" in f.message


def test_duplicate_submission_falls_back_to_list_order() -> None:
    subs = [submission(path="a.xlsx", received="2024-08-02T09:00:00"),
            submission(path="b.xlsx", 党支部名称="中共内科第一支部")]
    out = cross_check(subs, HB)
    assert [f.rule for f in out[0]] == ["duplicate_submission"] and out[1] == []


def test_duplicate_brand_name_warns_both_branches() -> None:
    subs = [submission(path="a.xlsx"), submission(path="b.xlsx", 党支部名称="外科党支部", 品牌名称=" 杏林先锋 ")]
    out = cross_check(subs, HB)
    fa, fb = only(out[0], "duplicate_brand_name"), only(out[1], "duplicate_brand_name")
    assert (fa.field, fa.severity, fa.cell) == ("品牌名称", "warning", CELLS["品牌名称"])
    assert "与“外科党支部”（b.xlsx）相同" in fa.message and "“内科第一党支部”（a.xlsx）" in fb.message


def test_similar_text_between_branches_with_the_score() -> None:
    copied = PLAN.replace("提升", "提高")
    subs = [submission(path="a.xlsx", **{PLAN_BOX: PLAN}),
            submission(path="b.xlsx", 党支部名称="外科党支部", 品牌名称="仁心外科", **{PLAN_BOX: copied}),
            submission(path="c.xlsx", 党支部名称="ICU党支部", 品牌名称="生命守护", **{PLAN_BOX: "建立重症护理党员突击队。"})]
    out = cross_check(subs, HB)
    score = int(text_similarity(PLAN, copied) * 100)
    f = only(out[0], "similar_text")
    assert (f.field, f.severity, f.cell) == (PLAN_BOX, "warning", CELLS[PLAN_BOX])
    assert f"与“外科党支部”（b.xlsx）的相似度为 {score}%，达到 85%" in f.message
    assert only(out[1], "similar_text").severity == "warning" and out[2] == []


def test_similar_text_names_the_closest_copy_and_counts_the_rest() -> None:
    """One finding per field however many copies: the most similar one, then how many more."""
    near, nearer = PLAN.replace("提升", "提高"), PLAN[:-1] + "！"
    subs = [submission(path="a.xlsx", **{PLAN_BOX: PLAN}),
            submission(path="b.xlsx", 党支部名称="外科党支部", 品牌名称="仁心外科", **{PLAN_BOX: near}),
            submission(path="c.xlsx", 党支部名称="ICU党支部", 品牌名称="生命守护", **{PLAN_BOX: nearer})]
    out = cross_check(subs, HB)
    f = only(out[0], "similar_text")
    assert "“ICU党支部”（c.xlsx）" in f.message and "另有 1 份申报表" in f.message
    assert [g.rule for g in out[1]] == ["similar_text"] and [g.rule for g in out[2]] == ["similar_text"]


def test_similar_text_is_an_error_in_university_project() -> None:
    up = load_profile("university-project")
    base = {"所属基层党委": "医学院党委", "支部类别": "其他", "品牌内涵": PLAN, "负责人": "张三",
            "联系方式": "13812345678"}
    subs = [submission(up, path="a.xlsx", 党支部名称="临床一支部", 品牌名称="甲", **base),
            submission(up, path="b.xlsx", 党支部名称="临床二支部", 品牌名称="乙", **base)]
    out = cross_check(subs, up)
    f = only(out[1], "similar_text")
    assert (f.field, f.severity) == ("品牌内涵", "error")
    assert "相似度为 100%" in f.message and "不得抄袭" in f.message


def test_superseded_copies_take_no_part_in_brand_and_text_checks() -> None:
    subs = [submission(path="old.xlsx", received="2024-08-01T08:00:00", **{PLAN_BOX: PLAN}),
            submission(path="new.xlsx", received="2024-08-02T08:00:00", **{PLAN_BOX: PLAN})]
    out = cross_check(subs, HB)
    assert [f.rule for f in out[0]] == ["duplicate_submission"] and out[1] == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="党建引领服务群众支部先锋甲乙丙丁", min_size=0, max_size=12), max_size=14),
       st.sampled_from([0.3, 0.5, 0.7, 0.85, 1.0]))
def test_similar_pairs_equals_brute_force(texts: list[str], threshold: float) -> None:
    """Prefix filtering is an exact shortcut: it finds exactly the pairs an all-pairs loop finds."""
    brute = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))
             if text_similarity(texts[i], texts[j]) >= threshold - 1e-9 and text_similarity(texts[i], texts[j]) > 0]
    assert [(i, j) for i, j, _ in similar_pairs(dict(enumerate(texts)), threshold)] == brute


def test_similar_pairs_finds_a_copy_among_texts_of_their_own_words() -> None:
    """Texts whose bigrams no other text has take no part in any prefix (they cannot be shared): a
    lightly edited copy among 300 texts of their own words is still the one pair found, scored exactly."""
    import random

    rng = random.Random(5)
    texts = {i: "".join(chr(0x4E00 + rng.randrange(6000)) for _ in range(120)) for i in range(300)}
    copy = list(texts[7])
    copy[60] = "党"
    texts[300] = "".join(copy)
    found = similar_pairs(texts, 0.85)
    assert [(i, j) for i, j, _ in found] == [(7, 300)]
    assert found[0][2] == pytest.approx(text_similarity(texts[7], texts[300]))


@pytest.mark.slow  # a batch of 1000 submissions
def test_cross_check_1000_submissions_is_fast() -> None:
    """1000 branches × 4 similarity fields of ~200 字 each, with 20 planted copies: the copies are found
    and nothing else, well under the all-pairs cost (2 million comparisons)."""
    rng = random.Random(7)
    common = "党建引领服务群众支部先锋模范作用发挥组织建设强化医疗业务融合提升患者满意度活动开展志愿"
    pool = common + "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(600))

    def prose() -> str:
        return "".join(rng.choice(pool) for _ in range(200))

    subs = []
    for n in range(1000):
        fields = {name: prose() for name in HB.similarity.fields}
        subs.append(submission(path=f"{n}.xlsx", 党支部名称=f"第{n}党支部", 品牌名称=f"品牌{n}", **fields))
    for n in range(20):  # branch 500+n copied branch n's 创建计划 with one change
        text = subs[n].fields[PLAN_BOX].raw
        subs[500 + n].fields[PLAN_BOX] = Value(PLAN_BOX, text[:-3] + "。", text[:-3] + "。", None)
    start = time.perf_counter()
    out = cross_check(subs, HB)
    elapsed = time.perf_counter() - start
    print(f"cross_check: 1000 submissions x 4 fields x 200 chars in {elapsed:.2f} s")
    flagged = sorted(i for i, fs in out.items() if fs)
    assert flagged == sorted([*range(20), *range(500, 520)])
    assert all(f.rule == "similar_text" for fs in out.values() for f in fs)


# -- the catalogue --------------------------------------------------------------------------------

def test_every_rule_id_has_a_title_and_both_languages() -> None:
    assert len(RULES) == 26 and len(set(RULES)) == 26
    for rule in RULES:
        assert title(rule, "zh") and title(rule, "en") and title(rule, "zh") != title(rule, "en")
    for key, entry in CATALOGUE.items():
        assert key.split(".")[0] in RULES, key
        if key != "unreadable":
            assert set(entry) >= {"zh", "en"}, key


def test_validation_produces_every_rule_id_except_the_readers_own() -> None:
    """template_mismatch, image_several and unreadable are the readers' findings (their tests produce them
    from files; image_several: tests/test_logos_unseen.py); every other id comes out of validate,
    branch_findings or cross_check on minimal submissions."""
    produced = set()
    for values, pic in [({"品牌名称": "", "党员总数": "x", "联系方式": "1", "填表人": "=1", PLAN_BOX: "a" * 9 + "字" * 2000},
                         logo("bmp", 10, 10)), ({"党员总数": 0}, logo("png", 9000, 9000))]:
        produced |= {f.rule for f in validate(submission(pic=pic, **values), HB)}
    sub = submission()
    sub.logo = None
    produced |= {f.rule for f in validate(sub, HB)}
    specs = [(FieldSpec("e", type="email"), "x"), (FieldSpec("d", type="date"), "x"),
             (FieldSpec("c", type="enum", choices=("a",)), "x"), (FieldSpec("p", pattern="a"), "x"),
             (FieldSpec("m", min_chars=5), "x"), (FieldSpec("t"), "a" * 40_000)]
    for spec, raw in specs:
        produced |= {f.rule for f in check_value(spec, Value(spec.name, raw, raw, "S!A1"))}
    produced |= {f.rule for f in branch_findings(submission(党支部名称="无名"), HB, ROSTER)}
    subs = [submission(path="a", **{PLAN_BOX: PLAN}), submission(path="b", **{PLAN_BOX: PLAN}),
            submission(path="c", 党支部名称="外科党支部", **{PLAN_BOX: PLAN})]
    produced |= {f.rule for fs in cross_check(subs, HB).values() for f in fs}
    produced |= deliverable_rules()
    assert produced == set(RULES) - {"template_mismatch", "image_several", "unreadable"}


def deliverable_rules() -> set[str]:
    """The rules a deliverable's files produce (tests/test_deliverables.py reads them from real files)."""
    from toolkit.core.deliverables import Received, judge
    from toolkit.core.profile import load_profile

    report, photos, news = load_profile("college-feature").deliverables
    bad = Received("r.docx", "r.docx", "docx", "", paragraphs=("一、品牌名称", "字" * 3001))
    small = Received("p.jpg", "p.jpg", "jpeg", "", pictures=((100, 80),))
    return {f.rule for spec, files in ((report, [bad]), (photos, [small]), (news, [bad]))
            for f in judge(spec, files, "word").findings}


def test_messages_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDKIT_LANG", "en")
    f = only(validate(submission(品牌名称="杏林先锋党建引领医疗服务"), HB), "max_chars")
    assert f.message == "'品牌名称' has 12 characters, over the limit of 10; shorten it to 10 or fewer"
    assert message("max_chars", lang="zh", field="品牌名称", count=12, limit=10) == \
        "“品牌名称”12 字，超过 10 字上限，请精简到 10 字以内"


def test_message_needs_its_figures() -> None:
    with pytest.raises(KeyError):
        message("max_chars", field="品牌名称")
    with pytest.raises(KeyError):
        message("no_such_rule")
    # the readers' spelling of a variant is accepted too
    assert message("template_mismatch_table", table="活动台帐") == message("template_mismatch.table", table="活动台帐")


@pytest.mark.parametrize("reason, params, expected", [
    ("encrypted", {}, "文件设有密码（加密），无法读取。请在 Excel/WPS 中去掉密码后重新提交"),
    ("encrypted", {"file": "内科.xlsx"}, "内科.xlsx：文件设有密码（加密），无法读取。请在 Excel/WPS 中去掉密码后重新提交"),
    ("too_large", {"size_mb": 31.5, "limit_mb": 20}, "文件大小 31.5 MB，超过 20 MB 上限"),
    ("too_large", {}, "文件太大，超过上限"),
    ("too_many_cells", {"rows": 1048576, "cols": 16384, "limit": 2000000}, "1048576 行 × 16384 列，超过 2000000 个"),
    ("not_spreadsheet", {"what": "Word 文档"}, "识别为Word 文档"),
    ("zip_bomb", {"detail": "解压后 1024 MB"}, "（详情：解压后 1024 MB）"),
    ("timeout", {"seconds": 30}, "读取超过 30 秒"),
    ("no_such_reason", {}, "读取时出错"),
])
def test_unreadable_reasons(reason: str, params: dict[str, Any], expected: str) -> None:
    assert expected in unreadable_reason(reason, lang="zh", **params)
    assert unreadable_reason(reason, lang="en", **params).isascii() or params


def test_every_unreadable_reason_in_both_languages() -> None:
    for reason in ("encrypted", "corrupt", "empty", "not_spreadsheet", "too_large", "too_many_cells",
                   "zip_bomb", "timeout", "crashed", "xml_attack"):
        assert set(UNREADABLE_REASONS[reason]) == {"zh", "en"}
        assert unreadable_reason(reason, lang="zh") != unreadable_reason(reason, lang="en")
    assert message("unreadable", lang="zh", reason="encrypted", file="a.xlsx") == \
        unreadable_reason("encrypted", lang="zh", file="a.xlsx")


def test_every_template_formats_with_the_same_figures_in_both_languages() -> None:
    """No placeholder typo hides in a rarely used message: zh and en ask for the same figures."""
    import string

    def names(template: str) -> set[str]:
        return {n for _, n, _, _ in string.Formatter().parse(template) if n}

    for key, entry in CATALOGUE.items():
        if key == "unreadable":
            continue
        assert names(entry["zh"]) == names(entry["en"]), key
        params = dict.fromkeys(names(entry["zh"]), "7")
        assert "{" not in message(key, lang="zh", **params) and message(key, lang="en", **params)
    for reason, entry in UNREADABLE_REASONS.items():
        for zh, en in zip(entry["zh"], entry["en"], strict=True):
            assert names(zh) == names(en), reason
