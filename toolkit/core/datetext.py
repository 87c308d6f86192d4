"""Dates as Chinese forms write them: parsed from a cell (2024年7月11日, 2024.7.11, 二〇二四年七月十一日, an Excel
serial), found in a line of text (a signature line's day or month), and written as official documents do.

Pure, no heavy imports: the CLI imports this at start-up.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import unicodedata
from decimal import Decimal
from typing import Any

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 given Excel's fictitious 1900-02-29
_SERIAL_RANGE = (3654, 73050)  # 1910-01-01 .. 2099-12-31: anything else is not a date in a form
_YEAR_RANGE = (1900, 2100)
_DATE = re.compile(
    r"(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*[日号]?"
    r"(?:[\sT]+\d{1,2}[:时]\d{1,2}(?:[:分]\d{1,2}(?:\.\d+)?秒?)?)?")
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "Ｏ": 0, "O": 0}
_CN_YEAR = "[〇零○ＯO一二三四五六七八九]{4}"  # 二〇二四: digit by digit
_CN_SMALL = "[一二三四五六七八九十]{1,3}"  # 一 .. 三十一: a month or a day
# 二〇二四年七月十一日, 七月十一日 (no year); spaces may stand between the parts ("二〇二四年 七月 十一日")
_CN_DATE = re.compile(rf"(?:({_CN_YEAR})\s*年\s*)?({_CN_SMALL})\s*月\s*({_CN_SMALL})\s*[日号]")
_CN_MONTH = re.compile(rf"{_CN_YEAR}\s*年\s*{_CN_SMALL}\s*月(?!\s*[一二三四五六七八九十\d])")  # 二〇二三年四月
# A Chinese number a date is written with: a year before 年, a month or a day before 月, 日 or 号
_CN_DATE_NUMBER = re.compile(rf"({_CN_YEAR})(?=\s*年)|({_CN_SMALL})(?=\s*[月日号])")


def _cn_year(s: str) -> int:
    """二〇二四 -> 2024 (a string `_CN_YEAR` matched)."""
    return int("".join(str(_CN_DIGITS[c]) for c in s))


def _cn_small(s: str) -> int | None:
    """一..三十一 -> int."""
    if "十" not in s:
        return _CN_DIGITS.get(s) if len(s) == 1 else None
    tens, _, ones = s.partition("十")
    t = _CN_DIGITS.get(tens, 0) if tens else 1
    o = _CN_DIGITS.get(ones, 0) if ones else 0
    if (tens and tens not in _CN_DIGITS) or (ones and ones not in _CN_DIGITS):
        return None
    return t * 10 + o


def _make_date(y: int | None, m: int | None, d: int | None) -> dt.date | None:
    if y is None or m is None or d is None or not _YEAR_RANGE[0] <= y <= _YEAR_RANGE[1]:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_date(raw: Any) -> dt.date | None:
    """A calendar date from whatever a branch typed, or None.

    2024年7月11日, 2024.7.11, 2024-07-11, 2024/7/11, 20240711, 二〇二四年七月十一日, Excel serial numbers
    (1910..2099), datetime and date objects."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float | Decimal):
        if not math.isfinite(raw):
            return None
        if isinstance(raw, int) and 10_000_000 <= raw <= 99_999_999:
            return parse_date(str(raw))
        if _SERIAL_RANGE[0] <= raw <= _SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + dt.timedelta(days=int(raw))
        return None
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    m = _DATE.fullmatch(text)
    if m:
        return _make_date(*(int(g) for g in m.groups()))
    if re.fullmatch(r"\d{8}", text):
        return _make_date(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = _CN_DATE.fullmatch(re.sub(r"\s", "", raw))
    if m and m[1]:
        return _make_date(_cn_year(m[1]), _cn_small(m[2]), _cn_small(m[3]))
    return None


def cn_date_digits(text: str) -> str:
    """`text` with the Chinese numbers of its dates written in digits ("二〇二三年四月" -> "2023年4月",
    "十二月底" -> "12月底", "二〇二四年六月四日至六日" -> "2024年6月4日至6日"), for checks that read digits;
    everything else as it was. A number `_cn_small` cannot read ("十十月") is left alone."""
    def digits(m: re.Match[str]) -> str:
        if m[1]:
            return str(_cn_year(m[1]))
        n = _cn_small(m[2])
        return m[0] if n is None else str(n)

    return _CN_DATE_NUMBER.sub(digits, text)


_DATE_IN_TEXT = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"
                           r"|(\d{4})\s*[./\-]\s*(\d{1,2})\s*[./\-]\s*(\d{1,2})")
# The prompts a signature line is printed with: 签字（盖章）：   年  月  日
SIGNATURE_FILLER = re.compile(r"[\s　（）()：:_\-—.．/]|签字|签名|盖章|负责人|书记|[年月日]")


_MONTH_IN_TEXT = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月(?!\s*\d)")


def month_in(text: str) -> str | None:
    """A month written in a line without its day ("2023年4月", "二〇二三年四月", as a signature line may be
    dated), as written (NFKC); None when the line has none."""
    text = unicodedata.normalize("NFKC", text)
    found = [m for m in (_MONTH_IN_TEXT.search(text), _CN_MONTH.search(text)) if m]
    return min(found, key=lambda m: m.start())[0] if found else None


def date_in(text: str) -> tuple[str, int | None, int, int] | None:
    """The first date written in a line ("王明 2023年 4 月 12 日", "同意 4月14日", "陈静 二〇二四年七月十五日",
    "七月十五日"): (as written (NFKC), its year or None when it has none, month, day); None when the line has
    no date."""
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[int, str, int | None, int, int]] = []
    if m := _DATE_IN_TEXT.search(text):
        year, month, day = (m[1], m[2], m[3]) if m[2] else (m[4], m[5], m[6])
        found.append((m.start(), m[0], int(year) if year else None, int(month), int(day)))
    for m in _CN_DATE.finditer(text):
        cn_month, cn_day = _cn_small(m[2]), _cn_small(m[3])
        if cn_month is not None and cn_day is not None:
            found.append((m.start(), m[0], _cn_year(m[1]) if m[1] else None, cn_month, cn_day))
            break
    if not found:
        return None
    _, written, year, month, day = min(found, key=operator.itemgetter(0))
    return written, year, month, day


def parse_month_day(raw: Any) -> tuple[int, int] | None:
    """(month, day) of a date written without a year ("4月14日", "4 月 14 号", "四月十四日"); None for
    anything else (a full date included)."""
    if not isinstance(raw, str):
        return None
    found = date_in(raw)
    if found is None or found[1] is not None or found[0] != unicodedata.normalize("NFKC", raw).strip():
        return None
    month, day = found[2], found[3]
    if _make_date(2000, month, day) is None:  # 2000: 2月29日 exists
        return None
    return month, day


def signature_text(raw: str) -> str:
    """What a signature line says beyond its printed prompts (签字（盖章）：, 年 月 日) and its date (a day,
    or a month: "2023年4月", "二〇二三年四月"): the name or opinion written there; '' when the line holds
    nothing but a date."""
    text = unicodedata.normalize("NFKC", raw)
    found = date_in(text)
    written = found[0] if found else month_in(text)
    return SIGNATURE_FILLER.sub("", text.replace(written, "", 1) if written else text)


def official_date(day: dt.date) -> str:
    """A date as official documents write it: 2027年3月31日."""
    return f"{day.year}年{day.month}月{day.day}日"
