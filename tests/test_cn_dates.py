"""Dates written in Chinese numerals ("二〇二四年七月十五日", "二〇二三年四月"): printed forms are filled by
hand and offices write dates this way. They are dates wherever brandkit reads one: the 年 月 日 line of
a signature box, a date field, a signature line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.builders import profile, submission
from tests.notice_forms import NoticeForm, college_feature, write_docx, write_xlsx
from toolkit.core.datetext import date_in, month_in, signature_text
from toolkit.core.model import Submission, Value
from toolkit.readers.submission import read_path
from toolkit.validation.check import check_all
from toolkit.validation.dates import complete_dates
from toolkit.validation.rules import check_value
from toolkit.validation.written import date_findings

# (as written, as read): a day is a date, a month is kept as written (the notices set no format)
DATES: list[tuple[str, Any]] = [
    ("二〇二四年七月十五日", dt.date(2024, 7, 15)),
    ("二零二四年七月十日", dt.date(2024, 7, 10)),
    ("二○二四年十一月二十日", dt.date(2024, 11, 20)),
    ("二Ｏ二四年十二月三十一日", dt.date(2024, 12, 31)),
    ("二〇二三年四月", "二〇二三年四月"),
]
WRITERS: dict[str, Callable[[NoticeForm, Path], Path]] = {"xlsx": write_xlsx, "docx": write_docx}
FOOT = ("支部意见", "支部书记签字", "日期")


def _form(layout: str, date: str) -> NoticeForm:
    """Notice 002's form with its 支部意见 box dated `date`: typed as one box, or as the printed rows."""
    form = college_feature("软件工程系教工党支部")
    at = next(n for n, row in enumerate(form.rows) if row[0] == "支部意见：")
    if layout == "one box":
        form.rows[at:at + 3] = [("支部意见：", f"同意申报。\n支部书记签字：李0\n{date}")]
    else:
        form.rows[at + 2] = (None, date)
    return form


def _read(path: Path) -> Submission:
    subs = read_path(str(path), profile("college-feature"))
    assert len(subs) == 1, [s.findings for s in subs]
    return subs[0]


def _foot_findings(sub: Submission) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.field, f.message) for f in check_all([sub], profile("college-feature"))[0].findings
            if f.field in FOOT]


def _assert_foot(sub: Submission, expected: Any) -> None:
    assert sub.fields["支部意见"].value in ("同意申报。", "同意申报")  # the date is not glued onto it
    assert sub.fields["支部书记签字"].value == "李0"
    assert sub.fields["日期"].value == expected  # nor dropped
    assert _foot_findings(sub) == []


# -- through the real readers -----------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["one box", "rows"])
@pytest.mark.parametrize("date, expected", DATES)
def test_an_xlsx_opinion_box_dated_in_chinese_numerals(tmp_path: Path, layout: str, date: str,
                                                      expected: Any) -> None:
    _assert_foot(_read(write_xlsx(_form(layout, date), tmp_path / "申报表.xlsx")), expected)


@pytest.mark.parametrize("layout", ["one box", "rows"])
@pytest.mark.parametrize("date, expected", [DATES[0], DATES[-1]])
def test_a_docx_opinion_box_dated_in_chinese_numerals(tmp_path: Path, layout: str, date: str,
                                                     expected: Any) -> None:
    _assert_foot(_read(write_docx(_form(layout, date), tmp_path / "申报表.docx")), expected)


# -- the text helpers the readers and rules share ---------------------------------------------------

@pytest.mark.parametrize("line, found", [
    ("二〇二四年七月十五日", ("二〇二四年七月十五日", 2024, 7, 15)),
    ("陈静 二零二四年 十一月 三十一日", ("二零二四年 十一月 三十一日", 2024, 11, 31)),  # read, checked later
    ("同意。二○二三年四月十日", ("二○二三年四月十日", 2023, 4, 10)),
    ("二Ｏ二四年十二月二十日", ("二O二四年十二月二十日", 2024, 12, 20)),
    ("签字：王明 七月十五日", ("七月十五日", None, 7, 15)),
    ("二〇二三年四月", None),
])
def test_date_in_reads_chinese_numerals(line: str, found: tuple[str, int | None, int, int] | None) -> None:
    assert date_in(line) == found
    assert month_in(line) == (line if found is None else None)


@pytest.mark.parametrize("line", ["二〇二四年七月十五日", "二〇二三年四月", "签字（盖章）：二零二四年 七 月 十 日",
                                  "2023年4月"])
def test_a_signature_line_holding_only_a_date_is_unsigned(line: str) -> None:
    assert signature_text(line) == ""
    assert signature_text(f"陈静 {line}") == "陈静"
    spec = profile("college-feature").field("支部书记签字")
    assert spec is not None
    found = check_value(spec, Value(spec.name, line, line, "Sheet1!B8"))
    assert [(f.rule, f.field) for f in found] == [("required", "支部书记签字")]
    assert "没有签字" in found[0].message


# -- validation of date fields ----------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["二〇二三年四月", "二〇二五年十二月底", "二〇二四年六月四日至六日", "七月十五日",
                                 "十二月底", "二零二四年 三 月"])
def test_a_date_field_takes_chinese_numerals(raw: str) -> None:
    spec = profile("college-feature").field("日期")
    assert spec is not None
    assert date_findings(spec, raw, "日期", "Sheet1!B9") == []


def test_a_chinese_numeral_day_no_calendar_has_is_an_error() -> None:
    spec = profile("college-feature").field("日期")
    assert spec is not None
    [found] = date_findings(spec, "二〇二三年四月三十一日", "日期", "Sheet1!B9")
    assert (found.rule, found.severity) == ("date", "error")
    assert "4月31日" in found.message


def test_a_yearless_chinese_signature_date_takes_the_campaign_year() -> None:
    p = profile("college-feature")
    sub = submission(p, "软件工程系教工党支部", {"支部书记签字": "陈静 四月十三日"})
    _, found = complete_dates(sub, p)
    assert [(f.rule, f.severity, f.field) for f in found] == [("date", "warning", "支部书记签字")]
    assert "四月十三日" in found[0].message and "2023年4月13日" in found[0].message
