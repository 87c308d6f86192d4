"""Text as a terminal should show it: what would act on the terminal (escape sequences, bidi overrides,
lone surrogates) written as escapes, so a hostile subject or file name is shown, not obeyed."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

# What acts on a terminal instead of showing: C0 controls but tab and line feed (ESC starts the CSI and
# OSC sequences that clear the screen, set the title or forge a hyperlink; CR overwrites the line), DEL,
# C1 controls (U+009B is CSI on its own) and the format characters that reorder or hide text (U+202E …);
# and lone surrogates (a Linux file name that is not UTF-8), which no encoder can write.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                          "\u2066-\u206f\ufeff\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` as a terminal should show it: every character that would act on the terminal written as
    its escape (`\\x1b`, `\\u202e`), so a hostile subject or file name is shown, not obeyed. Line feeds
    and tabs stay; use `one_line` for a single value."""
    return _UNPRINTABLE.sub(_escape, text)


def json_text(text: str) -> str:
    """A JSON document whose strings hold no character `printable` escapes, written as JSON escapes
    (`\\u001b`): the same data, harmless on a terminal. (json.dumps escapes C0 itself, not the rest.)"""
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

def one_line(text: str) -> str:
    """One value (a subject, a name) on one line: `printable`, line feeds shown as `\\n`."""
    return printable(text).replace("\n", "\\n")


def display_width(text: str) -> int:
    """Columns a line takes: CJK and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


LINE_PT = 15.0  # one line of 11-pt text with its leading, in points


def wrapped_lines(text: str, width: float) -> int:
    """Lines a wrapped cell of `width` character units needs (CJK characters take two units; one unit is
    kept for the cell's padding, so a line that only just fits is counted on the next)."""
    usable = max(1, int(width) - 1)
    return sum(max(1, -(-display_width(line) // usable)) for line in text.splitlines() or [""])


def wrapped_height(cells: Iterable[tuple[Any, float]]) -> float:
    """Points a row needs to show each of its wrapped cells (value, column width) in full."""
    return max((wrapped_lines(str(v), w) for v, w in cells if v not in (None, "")), default=1) * LINE_PT + 4


def zh_date(day: Any) -> str:
    """A date as 公文 write it: 2027年3月31日."""
    return f"{day.year}年{day.month}月{day.day}日"
