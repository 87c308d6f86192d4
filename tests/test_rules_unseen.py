"""Rules against what branches really write where the notices set no format: months and spans for a
date, several numbers or a note for a phone, placeholders instead of a text, and the labels the notices
print in more than one way. Each form is typed from scratch (tests/notice_forms.py), read by the real
readers and checked by the real rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.notice_forms import (
    NoticeForm,
    dangjian_plus,
    hospital_annual,
    hospital_brand,
    university_project,
    write_docx,
    write_xlsx,
)
from toolkit.core.model import Checked, Finding
from toolkit.core.profile import load_profile
from toolkit.readers.submission import read_path
from toolkit.validation.check import check_all


def check(profile_id: str, *paths: Path) -> list[Checked]:
    profile = load_profile(profile_id)
    return check_all([s for p in paths for s in read_path(str(p), profile)], profile)


def found(checked: Checked, rule: str) -> list[Finding]:
    return [f for f in checked.findings if f.rule == rule]


def errors(checked: Checked) -> list[Finding]:
    return [f for f in checked.findings if f.severity == "error"]


# -- dates the notices do not format -------------------------------------------------------------

def test_a_day_no_calendar_has_is_an_error(tmp_path: Path) -> None:
    form = hospital_annual("神经内科党支部", projects=2)
    form.table_rows[0][6], form.table_rows[1][6] = "2025年4月31日", "2月29日"  # 2月29日: some years have it
    (sub,) = check("hospital-annual", write_xlsx(form, tmp_path / "神经内科.xlsx"))
    (wrong,) = [f for f in found(sub, "date") if f.severity == "error"]
    assert "没有4月31日这一天" in wrong.message and wrong.field == "完成时限"

WHEN = ["2025年底", "2025年12月", "2025.12", "12月底", "2025年6月上旬", "2025-6-1至2025-12-31", "长期", "全年"]


def test_a_deadline_by_month_or_span_is_a_date_and_words_are_kept_with_a_warning(tmp_path: Path) -> None:
    """hospital-annual's 完成时限 is optional and the notice gives it no format: months and spans are
    dates, stored as typed; "长期" and "全年" are kept as written with a warning, never refused."""
    form = hospital_annual("神经内科党支部", projects=len(WHEN))
    for row, when in zip(form.table_rows, WHEN, strict=True):
        row[6] = when
    (sub,) = check("hospital-annual", write_xlsx(form, tmp_path / "神经内科.xlsx"))
    assert errors(sub) == [], errors(sub)
    assert [row["完成时限"].value for row in sub.submission.tables["申报工程"]] == WHEN
    kept = found(sub, "date")
    assert [(f.severity, f.field) for f in kept] == [("warning", "完成时限")] * 2
    assert kept[0].message == ("“申报工程第7项·完成时限”填的是“长期”，不是可识别的日期，已按原文保存；"
                               "如有确切时间，请写成“2025年12月31日”或“2025年12月”")


def test_an_activity_over_a_month_or_two_days_is_a_date_in_the_taizhang(tmp_path: Path) -> None:
    """dangjian-plus's 台帐 日期 (the notice prints no 台帐 at all): "2024年6月" and "2024-6-4至6-5" are
    dates; a day without its year is still completed with the campaign's."""
    form = dangjian_plus("脾胃病科党支部", activities=4)
    form.table_rows[1][0], form.table_rows[2][0], form.table_rows[3][0] = "2024年6月", "2024-6-4至6-5", "5月21日"
    (sub,) = check("dangjian-plus", write_xlsx(form, tmp_path / "脾胃病科.xlsx"))
    assert errors(sub) == [], errors(sub)
    rows = sub.submission.tables["活动台帐"]
    assert [rows[1]["日期"].value, rows[2]["日期"].value] == ["2024年6月", "2024-6-4至6-5"]
    assert [f.message for f in found(sub, "date")] == [
        "“活动台帐第4项·日期”写的是“5月21日”，没有年份，已按本次活动的年份读作 2024年5月21日；如不对请写明年份"]


# -- placeholders ---------------------------------------------------------------------------------

def _project(branch: str, n: int, **values: str) -> NoticeForm:
    form = university_project(branch, n)
    form.rows = [(row[0], values.get(row[0], row[1]), *row[2:]) for row in form.rows]
    return form


def test_placeholders_are_not_filled_in_and_never_copying(tmp_path: Path) -> None:
    """"无", "详见附件" in university-project's required boxes (where copying is an error): each is
    "not filled in" with its own message, and two branches writing "无" have not copied each other."""
    a = write_docx(_project("建筑学院研究生党支部", 0, **{"对标“七个有力”": "详见附件", "预期成果（可量化）": "无"}),
                   tmp_path / "建筑.docx")
    b = write_docx(_project("外语学院教工党支部", 1, **{"对标“七个有力”": "详见附件。", "预期成果（可量化）": "无"}),
                   tmp_path / "外语.docx")
    for sub in check("university-project", a, b):
        assert found(sub, "similar_text") == [], found(sub, "similar_text")
        got = {f.field: f for f in found(sub, "required")}
        assert sorted(got) == ["对标“七个有力”", "预期成果"] and all(f.severity == "error" for f in got.values())
        assert got["预期成果"].message == (
            "“预期成果”只写了“无”，等于没有填写；这是必填项，请在申报表的这一栏里直接写明预期成果的内容"
            "（不要只写“无”“详见附件”“同上”等，附件中的内容不会录入台账）")
        assert sub.submission.value("预期成果") == "无"  # kept as written


@pytest.mark.parametrize("placeholder", ["同上", "略", "见附件", "详见附件2", "暂无。", "/"])
def test_every_placeholder_in_a_required_box_is_not_filled_in(tmp_path: Path, placeholder: str) -> None:
    form = _project("法学院党支部", 2, **{"主要\n举措": placeholder})
    (sub,) = check("university-project", write_xlsx(form, tmp_path / "法学院.xlsx"))
    assert [(f.field, f.severity) for f in found(sub, "required")] == [("主要举措", "error")]
    assert f"只写了“{placeholder}”" in found(sub, "required")[0].message


# -- phones ---------------------------------------------------------------------------------------

def _phone(tmp_path: Path, phone: Any) -> Checked:
    form = hospital_annual("电话测试党支部")
    form.rows[1] = (*form.rows[1][:3], phone)
    (sub,) = check("hospital-annual", write_xlsx(form, tmp_path / "电话.xlsx"))
    return sub


@pytest.mark.parametrize("phone", ["13804715678、0471-6543210", "13804715678（微信同号）",
                                   "0471-6543210（办）/ 13804715678", "13804715678；0518-85123456转8001"])
def test_several_numbers_or_a_note_are_a_phone_kept_as_typed(tmp_path: Path, phone: str) -> None:
    sub = _phone(tmp_path, phone)
    assert found(sub, "phone") == [] and errors(sub) == [], sub.findings
    assert sub.submission.value("联系方式") == phone


def test_each_number_of_a_list_is_checked_on_its_own(tmp_path: Path) -> None:
    bad = _phone(tmp_path, "13804715678、12345")
    assert [(f.severity, f.message) for f in found(bad, "phone")] == [
        ("error", "“联系方式”“12345”不是有效的电话号码，请填写 11 位手机号（如 13812345678）"
                  "或带区号的座机号（如 0471-1234567）")]
    local = _phone(tmp_path, "13804715678，6543210")
    assert [(f.severity, f.message) for f in found(local, "phone")] == [
        ("warning", "“联系方式”“6543210”是没有区号的座机号，外地无法拨通；请加上区号（如 0471-6543210）")]


# -- labels the notices print in more than one way -----------------------------------------------

def _relabelled(form: NoticeForm, old: str, new: str) -> NoticeForm:
    form.rows = [tuple(new if cell == old else cell for cell in row) for row in form.rows]
    form.vertical = [(new if label == old else label, value) for label, value in form.vertical]
    return form


@pytest.mark.parametrize("profile_id, builder, printed, label, field", [
    ("university-project", university_project, "对标“七个有力”", "对标《七个有力》情况", "对标“七个有力”"),
    ("university-project", university_project, "对标“七个有力”", "对标对表“七个有力”", "对标“七个有力”"),
    ("dangjian-plus", dangjian_plus, "党建+模式", "工作模式", "模式"),
    ("hospital-brand", hospital_brand, "党建 品牌标识 (png.jpg)", "形象标识", "品牌标识"),
])
def test_a_label_as_the_notice_words_it_elsewhere_is_recognised(tmp_path: Path, profile_id: str, builder: Any,
                                                                printed: str, label: str, field: str) -> None:
    form = _relabelled(builder("内科第一党支部"), printed, label)
    (sub,) = check(profile_id, write_xlsx(form, tmp_path / "申报表.xlsx"))
    assert found(sub, "template_mismatch") == [] and errors(sub) == [], sub.findings
    assert field in sub.submission.fields


def test_a_plain_choice_with_a_remark_is_the_choice_and_the_remark_is_kept(tmp_path: Path) -> None:
    """university-project's 支部类别 offers a plain 其他; "其他（省级样板支部培育对象）" chose it and said more."""
    form = university_project("内科第一党支部")
    form.rows[1] = ("支部类别：其他（省级样板支部培育对象）", None)
    (sub,) = check("university-project", write_xlsx(form, tmp_path / "内科.xlsx"))
    assert found(sub, "enum") == []
    assert sub.submission.value("支部类别") == "其他（省级样板支部培育对象）"
