"""The campaign as a master carries it: the 填报规则 sheet (rows brandkit writes, overrides it reads back,
that sheet winning) and the hidden, protected 活动方案文件 sheet holding the profile's TOML text."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from toolkit.core.campaign import stage_rows
from toolkit.core.changeset import NewSheet
from toolkit.core.model import cell_ref
from toolkit.core.profile import CELL_LIMIT, PROFILE_SHEET, RULES_SHEET, Profile, ProfileError
from toolkit.core.profile_checks import limit_problem, pattern_problem, yes_no

if TYPE_CHECKING:
    from toolkit.core.grid import Grid

OFFICE_LABEL = "落款单位"  # the 填报规则 row naming the office that signs the mails to branches
# Header of the 填报规则 sheet: column title -> FieldSpec attribute.
RULE_COLUMNS = {"字段": "name", "必填": "required", "最多字数": "max_chars", "最少字数": "min_chars",
                "最小值": "min", "最大值": "max", "可选值": "choices", "格式": "pattern"}
# The hidden, protected sheet holding the profile's TOML text; its A1 says what it is, the text follows in
# column A from row 2, split over cells of at most CELL_LIMIT.
PROFILE_SHEET_TITLE = "活动方案文件（TOML 原文）"
PROFILE_SHEET_NOTE = ("本台账所用活动方案的原文，从下一行起依次相连。台账拷到别的电脑也按它运行，不需要原来的方案文件。"
                      "请勿修改；各字段的填报规则请在“填报规则”工作表中修改。")


def apply_rule_overrides(profile: Profile, rows: list[list[Any]], first_row: int | None = None) -> Profile:
    """Apply a master's 填报规则 sheet: a header row (字段, 必填, 最多字数, …) then one row per field.
    Blank cells keep the profile's value. What cannot be applied (an unknown field or column, a 必填 mark
    that is neither yes nor no, a number that is not one, a limit no form could meet, a 格式 that is not a
    regular expression) is refused naming the sheet's cell as the officer sees it: `first_row` is the
    sheet row (1-based) of the header `rows[0]`; None: where `rules_sheet_rows` puts it."""
    if not rows:
        return profile
    if first_row is None:
        first_row = len(rules_sheet_rows(profile)) - len(profile.fields)
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    unknown = [h for h in header if h and h not in RULE_COLUMNS and h != "说明"]
    if unknown or "字段" not in header:
        raise ProfileError(f"“{RULES_SHEET}”工作表第 {first_row} 行：表头应为 {'、'.join(RULE_COLUMNS)}、说明"
                           f"（无法识别：{'、'.join(unknown) or '缺少“字段”列'}）；请把列名改回原样")
    by_name = {f.name: f for f in profile.fields}
    for n, row in enumerate(rows[1:], start=first_row + 1):
        cells = dict(zip(header, row, strict=False))
        name = str(cells.get("字段") or "").strip()
        if not name:
            continue
        if name not in by_name:
            raise ProfileError(f"“{RULES_SHEET}”工作表第 {n} 行：字段 {name!r} 不在活动方案中"
                               f"（可用：{'、'.join(by_name)}）；请改回原来的字段名，或删去这一行")
        changes: dict[str, Any] = {}
        for title, attr in RULE_COLUMNS.items():
            raw = cells.get(title)
            if attr == "name" or raw is None or str(raw).strip() == "":
                continue
            where = f"“{RULES_SHEET}”工作表 {cell_ref(None, n - 1, header.index(title))}（“{name}”的“{title}”）"
            changes[attr] = _rule_value(attr, raw, where)
        spec = dataclasses.replace(by_name[name], **changes)
        problem = limit_problem(spec, {attr: f"“{title}”" for title, attr in RULE_COLUMNS.items()})
        if problem is not None:
            raise ProfileError(f"“{RULES_SHEET}”工作表第 {n} 行（“{name}”）：{problem[1]}")
        by_name[name] = spec
    return dataclasses.replace(profile, fields=tuple(by_name[f.name] for f in profile.fields))


def _rule_value(attr: str, raw: Any, where: str) -> Any:
    """One 填报规则 cell as the FieldSpec attribute `attr` takes it. Cells typed as text ("10") are read
    as the number they say: Excel users often type numbers into text cells."""
    text = str(raw).strip()
    if attr == "required":
        mark = yes_no(raw)
        if mark is None:
            raise ProfileError(f"{where}写的是“{text}”，看不出是否必填：必填请写“是”（或 √、Y），"
                               f"不必填请写“否”（或 ×、N）")
        return mark
    if attr in ("max_chars", "min_chars", "min", "max"):
        try:
            number = float(unicodedata.normalize("NFKC", text))
        except ValueError:
            raise ProfileError(f"{where}写的是“{text}”，不是数字：请只填阿拉伯数字（如 10），不限请清空该格") from None
        if not math.isfinite(number):
            raise ProfileError(f"{where}写的是“{text}”，不是数字：请只填阿拉伯数字（如 10），不限请清空该格")
        if attr in ("max_chars", "min_chars"):
            if not number.is_integer():
                raise ProfileError(f"{where}写的是“{text}”，字数应是整数（如 10）")
            return int(number)
        return number
    if attr == "choices":
        return tuple(c.strip() for c in re.split(r"[,，、\n]", text) if c.strip())
    if attr == "pattern" and (problem := pattern_problem(text)):
        raise ProfileError(f"{where}：{problem}")
    return text


def rules_sheet_rows(profile: Profile) -> list[list[Any]]:
    """The 填报规则 sheet a master carries: the campaign id, the campaign's stage dates (read back by
    `campaign.apply_stage_dates`), then one editable row per field (`apply_rule_overrides`)."""
    rows: list[list[Any]] = [["活动方案", profile.id, profile.title],
                             [OFFICE_LABEL, profile.office or None, "（发给各支部的回执、退回和催报邮件以此署名，可修改）"],
                             [], *stage_rows(profile), [], [*RULE_COLUMNS, "说明"]]
    for f in profile.fields:
        rows.append([f.name, "是" if f.required else "否", f.max_chars, f.min_chars, f.min, f.max,
                     "、".join(f.choices) or None, f.pattern, f.hint])
    return rows


# -- the profile a master stores ------------------------------------------------------------------------


def split_cells(text: str, limit: int = CELL_LIMIT) -> list[str]:
    """`text` in consecutive pieces of at most `limit` UTF-16 units (what Excel counts), each cut after a
    line end when one falls in range, else where the limit falls (never inside a character)."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end, units, line_end = start, 0, 0
        while end < len(text):
            width = 2 if ord(text[end]) > 0xFFFF else 1
            if units + width > limit:
                break
            units += width
            end += 1
            if text[end - 1] == "\n":
                line_end = end
        if end < len(text) and line_end:
            end = line_end
        pieces.append(text[start:end])
        start = end
    return pieces


def stored_text(profile: Profile) -> str:
    """The profile's text as a master stores it: Windows line ends as \\n, which TOML reads alike."""
    return profile.text.replace("\r\n", "\n")


def profile_sheet(profile: Profile) -> NewSheet | None:
    """The hidden, protected sheet that carries the profile's TOML text in a master (None for a profile
    built from data, which has no text). A cell of blanks alone would read back empty: TOML text never
    holds 32,767 blank units in a row."""
    if not profile.text:
        return None
    rows = [[PROFILE_SHEET_TITLE, PROFILE_SHEET_NOTE], *([piece] for piece in split_cells(stored_text(profile)))]
    return NewSheet(PROFILE_SHEET, rows, [120, 60], hidden=True, protected=True)


def stored_profile_text(grids: Mapping[str, Grid]) -> str | None:
    """The TOML text a master stores (its cells joined), or None when it has no such sheet."""
    grid = grids.get(PROFILE_SHEET)
    if grid is None or grid.get(0, 0) != PROFILE_SHEET_TITLE:
        return None
    return "".join(str(row[0]) for row in grid.rows[1:] if row and row[0] is not None)


def stored_profile_id(text: str) -> str | None:
    """The id in a stored profile's text, without checking the rest (None when it does not parse)."""
    try:
        value = tomllib.loads(text).get("id")
    except tomllib.TOMLDecodeError:
        return None
    return value if isinstance(value, str) else None
