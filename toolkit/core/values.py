"""A cell as written, typed by its field: the readers store it, the rules check it."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from decimal import Decimal
from typing import Any

from toolkit.core.datetext import parse_date
from toolkit.core.profile import FieldSpec
from toolkit.core.text import integral_text, normalize_choice, parse_integer


def cell_text(raw: Any) -> str:
    """A cell's content as text: whole-number floats as their digits, dates without a midnight time."""
    digits = integral_text(raw)
    if digits is not None:
        return digits
    if isinstance(raw, dt.datetime) and raw.time() == dt.time():
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def cell_number(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | Decimal):
        num = float(raw)
    else:
        try:
            num = float(unicodedata.normalize("NFKC", str(raw)).strip().replace(",", ""))
        except ValueError:
            return None
    if not math.isfinite(num):
        return None
    return int(num) if num == int(num) else num


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """The typed value of a field as written; never loses what was written (unparseable stays text).

    text/enum/signature/phone/email -> trimmed str (13812345678.0 -> "13812345678"); integer -> int when
    one is found ("23人" -> 23); number -> int or float; date -> date; image -> text or None."""
    if raw is None:
        return None
    if spec.type == "integer":
        n, _ = parse_integer(raw)
        return n if n is not None else cell_text(raw)
    if spec.type == "number":
        num = cell_number(raw)
        return num if num is not None else cell_text(raw)
    if spec.type == "date":
        return parse_date(raw) or cell_text(raw)
    if spec.type == "image":
        return cell_text(raw) or None
    if spec.type == "enum":
        return as_choice(spec, cell_text(raw))
    return cell_text(raw)


# -- choices ---------------------------------------------------------------------------------------

_TICKS = "☑☒√■✓✔"
_MARKS = re.compile(f"([□☐{_TICKS}])")
_BRACKET_MARK = re.compile(r"[(（]\s*([√✓✔☑]?)\s*[)）]")  # "校级样板支部（√）", "省级样板支部（ ）"
_BRACKET_TICK = re.compile(r"[(（]\s*[√✓✔☑]\s*[)）]")
_SEPARATORS = " \t\n\u3000、，,；;/／|"
# A choice such as "党建+其他（注明）" takes what it is after it ("党建+其他：文化建设").
OPEN_CHOICE = re.compile(r"^(.+?)[(（]\s*(?:请)?注明\s*[)）]$")
# A plain choice with a bracketed remark after it ("其他（省级样板支部培育对象）"), compared normalised.
_NOTED = re.compile(r"(.+?)\((.+)\)")


def has_ticks(text: str) -> bool:
    """The text is checkbox choices as printed ("□省级样板支部 ☑校级样板支部", "是（√） 否（ ）")."""
    return bool(_MARKS.search(text) or _BRACKET_TICK.search(text))


def ticked(text: str) -> list[str]:
    """The choices ticked in checkbox text, in order: a mark before its choice (□ ☑ √ ■ ✓ ✔), or a
    bracketed tick after it ("（√）"); text before the first mark (a label) is no choice."""
    if _BRACKET_TICK.search(text):
        found, start = [], 0
        for m in _BRACKET_MARK.finditer(text):
            choice = text[start:m.start()].strip(_SEPARATORS)
            if m.group(1) and choice:
                found.append(choice)
            start = m.end()
        return found
    pieces = _MARKS.split(text)
    return [choice for mark, after in zip(pieces[1::2], pieces[2::2], strict=True)
            if mark in _TICKS and (choice := after.strip(_SEPARATORS))]


def as_choice(spec: FieldSpec, text: str) -> str:
    """A choice as the profile spells it when it is one ("党建＋志愿服务" -> "党建+志愿服务"); a value
    written in the choices' own form but naming none of them ("党建+文化建设", where the choices all
    read "党建+…") is the open choice ("党建+其他（注明）") with that as its note: "党建+其他：文化建设"."""
    key = normalize_choice(text)
    open_stem = None
    for choice in spec.choices:
        m = OPEN_CHOICE.match(choice)
        if key == normalize_choice(choice) and not m:
            return choice
        if m:
            open_stem = m.group(1).strip()
    if open_stem is None or not key or key.startswith(normalize_choice(open_stem)):
        return text
    shared = os.path.commonprefix([normalize_choice(c) for c in spec.choices])
    if shared and key.startswith(shared) and len(key) > len(shared):
        return f"{open_stem}：{key[len(shared):]}"
    return text


def noted(text: str, choice: str) -> bool:
    """True when `text` is the plain `choice` with a bracketed remark after it: the choice is made,
    the remark is the branch's own and is kept."""
    m = _NOTED.fullmatch(normalize_choice(text))
    return m is not None and m.group(1) == normalize_choice(choice)


def read_choice(spec: FieldSpec, raw: Any) -> tuple[Any, list[str]]:
    """A choice field's cell as the choice it holds, and the choices ticked when more than one is:
    checkbox text becomes its ticked choice (None when none is ticked), a choice its profile spelling."""
    if spec.type != "enum" or not isinstance(raw, str):
        return raw, []
    if has_ticks(raw):
        picks = ticked(raw)
        if len(picks) > 1:
            return "、".join(picks), picks
        if not picks:
            return None, []
        raw = picks[0]
    return as_choice(spec, raw), []
