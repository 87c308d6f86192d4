"""Paper geometry for the sheets brandkit lays out itself: how wide a text line is, where a printed label
breaks, how big the print must be scaled, and where the manual page breaks go so that no box is cut.

Pure functions over numbers and strings. Units: column widths in Excel's character units (the width of
"0" in the default 11 pt font, 7 px), heights and paper in points.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

A4_PT = (595.3, 841.9)  # width, height
PX_PT = 0.75  # one 96-dpi pixel in points
_WIDE_UNITS = 16 / 7  # a 12 pt CJK character is 16 px: 2.29 units
_NARROW_UNITS = 9 / 7  # a 12 pt Latin letter or digit, bold included, is at most ~9 px
_PAD_UNITS = 1.5  # a cell's inner margins and border
_HINT = re.compile(r"(?<=\S)(?=[（(])")  # before a bracketed hint that follows text


def text_units(text: str, size: float = 12.0) -> float:
    """The width of one line of `text` in column units at `size` pt (CJK and ambiguous-width
    characters, such as “”, full width)."""
    wide = sum(unicodedata.east_asian_width(ch) in "WFA" for ch in text)
    return (wide * _WIDE_UNITS + (len(text) - wide) * _NARROW_UNITS) * size / 12.0


def label_lines(printed: str) -> list[str]:
    """A printed label's lines: it breaks where the notice breaks it (a space) and before a bracketed
    hint, nowhere else: "品牌名称 (10字以内)" -> ["品牌名称", "(10字以内)"]."""
    return [part for word in printed.split() for part in _HINT.split(word) if part]


def column_units(lines: Sequence[str], size: float = 12.0) -> float:
    """The column width that holds each of `lines` on one line."""
    return max((text_units(line, size) for line in lines), default=0.0) + _PAD_UNITS


def wrapped_lines(text: str, width_units: float, size: float = 12.0) -> int:
    """How many lines `text` takes in a wrapping cell `width_units` wide (each paragraph on its own)."""
    room = max(1.0, width_units - _PAD_UNITS)
    return sum(max(1, math.ceil(text_units(p, size) / room)) for p in text.split("\n"))


def line_pt(size: float = 12.0) -> float:
    """One text line's height: CJK fonts (Noto, SimSun, FangSong) take about 1.45 em."""
    return round(size * 1.5, 1)


def width_pt(widths: Sequence[float]) -> float:
    """The printed width of columns `widths` wide (Excel: 7 px per unit plus 5 px of padding)."""
    return sum((w * 7 + 5) * PX_PT for w in widths)


def print_scale(widths: Sequence[float], margin_lr_pt: float) -> int:
    """The print scale (%) at which the columns fit A4 portrait between the margins; at most 100."""
    room = A4_PT[0] - 2 * margin_lr_pt
    return min(100, math.floor(room / width_pt(widths) * 100))


def page_breaks(heights: Sequence[float], blocks: Sequence[tuple[int, int]], page_pt: float,
                repeat_pt: float = 0.0) -> list[int]:
    """Rows (0-based) after which a manual page break goes: blocks (first, last row) are kept whole,
    each page holds at most `page_pt` of rows, pages after the first also repeat `repeat_pt` of title.
    A block taller than a page starts a page of its own (and is cut only there)."""
    breaks: list[int] = []
    used = 0.0
    room = page_pt
    for first, last in blocks:
        tall = sum(heights[first:last + 1])
        if used and used + tall > room:
            breaks.append(first - 1)
            used, room = 0.0, page_pt - repeat_pt
        used += tall
    return breaks
