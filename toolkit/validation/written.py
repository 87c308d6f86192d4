"""What branches write where a form asks for a date, a phone or a text, beyond the strict forms of
toolkit.core.text: a month or a span for a date ("2025年12月", "2024-6-4至6-5"), several numbers or a
note for a phone ("13804715678（微信同号）"), a placeholder instead of a text ("无", "详见附件"). Pure.

None of the five notices prints a format for a date, so a date field takes any day, month or span as
written and stores it as typed (toolkit.core.values.coerce keeps what parse_date cannot make a day):
a month has no day and a span has two, and a day brandkit made up would read in the ledger as one the
branch gave. What reads as no date at all ("长期", "全年") is kept too, with a warning. A notice that
does print a format is followed with the field's `pattern` and `hint` (the `pattern` rule, an error).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from toolkit.core.datetext import cn_date_digits, parse_date
from toolkit.core.model import Finding
from toolkit.core.profile import FieldSpec
from toolkit.core.text import local_number, parse_phone
from toolkit.validation.findings import clip, make_finding

# -- dates ----------------------------------------------------------------------------------------

# After a month or a day: 12月底, 6月上旬, 2025年12月前, 12月31日之前.
_WHEN = r"(?:底|末|初|中|上旬|中旬|下旬|份|前|以前|之前|左右)?"
_POINT = re.compile(
    r"(?:(?P<year>\d{4})年)?(?P<month>\d{1,2})月(?:(?P<day>\d{1,2})[日号])?" + _WHEN  # 2025年12月, 12月底
    + r"|(?P<y>\d{4})[./-](?P<m>\d{1,2})(?:[./-](?P<d>\d{1,2}))?" + _WHEN  # 2025.12, 2024-6-4
    + r"|\d{4}年(?:底|末|初|年底|年末|上半年|下半年)")  # 2025年底
# The end of a span may leave out what its start says: 2024-6-4至6-5, 2024年6月4日—5日.
_END = re.compile(r"(?:(?P<month>\d{1,2})[./-]|(?P<m>\d{1,2})月)?(?P<day>\d{1,2})[日号]?" + _WHEN)
_SPAN = re.compile(r"至|到|[~〜]|[—–-]+")


def _point(text: str, pattern: re.Pattern[str] = _POINT) -> bool:
    m = pattern.fullmatch(text)
    if m is None:
        return False
    parts = m.groupdict()
    month = parts.get("month") or parts.get("m")
    day = parts.get("day") or parts.get("d")
    year = parts.get("year") or parts.get("y")
    return ((year is None or 1900 <= int(year) <= 2100) and (month is None or 1 <= int(month) <= 12)
            and (day is None or 1 <= int(day) <= 31) and (day is None or no_such_day(year, month, day) is None))


def no_such_day(year: str | None, month: str | None, day: str | None) -> str | None:
    """"4月31日" for a day no calendar has (a leap year when the year is left out), else None."""
    if not (month and day):
        return None
    try:
        dt.date(int(year or 2000), int(month), int(day))
    except ValueError:
        return f"{int(month)}月{int(day)}日"
    return None


def _impossible(text: str) -> str | None:
    """The day named in `text` when it is written as a day but is none ("2023年4月31日")."""
    m = _POINT.fullmatch(text)
    if m is None:
        return None
    parts = m.groupdict()
    return no_such_day(parts.get("year") or parts.get("y"), parts.get("month") or parts.get("m"),
                       parts.get("day") or parts.get("d"))


def _squeezed(text: str) -> str:
    """`text` without spaces, its Chinese-numeral dates in digits ("二〇二三年四月" -> "2023年4月"): forms
    filled by hand write dates both ways, and the checks above read digits."""
    return cn_date_digits(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))


def reads_as_date(raw: Any) -> bool:
    """True when `raw` names a day, a month or a span of them as branches write them: every form
    parse_date reads, "2025年12月", "2025.12", "2025年底", "12月底", "2024-6-4至6-5", and the same in
    Chinese numerals ("二〇二三年四月", "十二月底")."""
    if parse_date(raw) is not None:
        return True
    if not isinstance(raw, str):
        return False
    text = _squeezed(raw)
    if _point(text):
        return True
    return any((_point(text[:m.start()]) or parse_date(text[:m.start()]) is not None)
               and (_point(text[m.end():]) or _point(text[m.end():], _END))
               for m in _SPAN.finditer(text))


def date_findings(spec: FieldSpec, raw: Any, label: str, cell: str | None) -> list[Finding]:
    """A warning, the text kept, when `raw` reads as no date: the notices set no format for a date; an
    error when it names a day no calendar has ("4月31日": a slip the branch must correct)."""
    if reads_as_date(raw):
        return []
    if isinstance(raw, str) and (day := _impossible(_squeezed(raw))):
        return [make_finding("date", "error", field=spec.name, cell=cell, label=label, variant="no_such_day",
                             value=clip(raw), day=day)]
    return [make_finding("date", "warning", field=spec.name, cell=cell, label=label, variant="kept",
                         value=clip(raw))]


# -- phones ---------------------------------------------------------------------------------------

_PHONE_NOTE = re.compile(r"[(（][^()（）\d]*[)）]")  # （微信同号）, (办): a note, not an area code
_PHONE_LIST = re.compile(r"[、，,;；/／]")


def phone_findings(spec: FieldSpec, raw: Any, label: str, cell: str | None) -> tuple[bool, list[Finding]]:
    """(every number dialable, findings) for a phone cell that may hold several numbers and bracketed
    notes ("13804715678、0471-6543210", "13804715678（微信同号）"), each number checked on its own; a
    number without its area code is a warning (the office's own line, dialable locally)."""
    numbers = [raw] if not isinstance(raw, str) else [
        n for n in _PHONE_LIST.split(_PHONE_NOTE.sub("", raw)) if n.strip()] or [raw]
    found = []
    ok = True
    for number in numbers:
        if parse_phone(number) is not None:
            continue
        written = clip(number if len(numbers) > 1 else raw)
        if local := local_number(number):
            found.append(make_finding("phone", "warning", field=spec.name, cell=cell, label=label,
                                      variant="local", value=written, example=f"0471-{local}"))
        else:
            ok = False
            found.append(make_finding("phone", "error", field=spec.name, cell=cell, label=label, value=written))
    return ok, found


# -- placeholders ---------------------------------------------------------------------------------

_NOT_CONTENT = re.compile(r"[\W_]+")
# What is left of a placeholder once spaces and punctuation are gone: 无, 详见附件2, 同上, 略, n/a.
_PLACEHOLDER = re.compile(r"无|暂无|没有|无内容|略|从略|同上|待定|待补充|不详|空|na|none|null"
                          r"|(?:详|参|具体)?见(?:附件|附表|附页|后页|下页)\w{0,12}|另附|附后")


_PLACEHOLDER_CHARS = 64  # the longest placeholder, its punctuation and spaces included, is far shorter


def is_placeholder(text: str) -> bool:
    """True when a text says only that the content is elsewhere or absent ("无", "详见附件", "同上",
    "略", "/"): in a required box that is not filling it in, and two of them are not a copy."""
    if len(text := text.strip()) > _PLACEHOLDER_CHARS:  # a 2000-字 plan is no placeholder: not normalised
        return False
    content = _NOT_CONTENT.sub("", unicodedata.normalize("NFKC", text)).lower()
    return bool(text) and (not content or _PLACEHOLDER.fullmatch(content) is not None)
