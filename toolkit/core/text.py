"""Pure text helpers for Chinese forms: label and branch matching, 字数, phones, whole numbers, similarity
(dates: toolkit.core.datetext).

No heavy imports: the CLI imports this at start-up. Free text is never NFKC-normalised before it is
counted or stored (NFKC turns ① into 1 and full-width punctuation into half-width, which changes 字数);
only labels, names and numbers are.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import unicodedata
from decimal import Decimal
from typing import Any, Literal

# -- labels and branch names ---------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
# Innermost bracket pair with its contents; applied until nothing changes, so nesting is handled.
# After NFKC （ and ［ are already ( and [.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|〖[^〖〗]*〗")
_UNCLOSED_HINT = re.compile(r"(?<=.)[(\[【〔〖][^)\]】〕〗]*$")
_MARKERS = re.compile(r"[*※“”‘’\"'「」『』]")  # required markers; quotes are decoration in labels


def _strip_punct(s: str) -> str:
    start, end = 0, len(s)
    while start < end and unicodedata.category(s[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(s[end - 1])[0] in "PS":
        end -= 1
    return s[start:end]


def _label_once(s: str) -> str:
    s = _SPACE.sub("", unicodedata.normalize("NFKC", s))
    prev = None
    while prev != s:
        prev, s = s, _BRACKETED.sub("", s)
    s = _UNCLOSED_HINT.sub("", s)
    return _strip_punct(_MARKERS.sub("", s)).lower()


@functools.lru_cache(maxsize=65536)  # the same labels recur in every form of a batch
def normalize_label(s: str) -> str:
    """A form label reduced for matching: "品 牌\\n名 称（10字以内）：" -> "品牌名称".

    Applied until it is a fixed point, so the result is idempotent even where lowercasing or removing
    a hint exposes something the first pass would have removed."""
    out = _label_once(s)
    for _ in range(4):
        again = _label_once(out)
        if again == out:
            break
        out = again
    return out


_QUOTES = re.compile(r"[“”‘’\"'「」『』]")


def normalize_choice(s: str) -> str:
    """A choice or 类别 as typed, reduced for comparison: width, spaces and quote marks do not matter
    ("“双带头人”教师党支部书记工作室" = "双带头人教师党支部书记工作室")."""
    return _QUOTES.sub("", _SPACE.sub("", unicodedata.normalize("NFKC", s)))


_BRANCH_PREFIXES = ("中国共产党", "中共")
_BRANCH_SUFFIXES = ("党支部", "支部")


def normalize_branch(s: str) -> str:
    """A branch name reduced for matching: "中共 内科第一党支部" -> "内科第一"."""
    s = _SPACE.sub("", unicodedata.normalize("NFKC", s))
    # Longest first, and only one of each: "党支部" alone stays "党支部" rather than becoming "党".
    p = next((p for p in _BRANCH_PREFIXES if s.startswith(p)), "")
    if len(s) > len(p):
        s = s[len(p):]
    suffix = next((x for x in _BRANCH_SUFFIXES if s.endswith(x)), "")
    if len(s) > len(suffix):
        s = s[: len(s) - len(suffix)]
    return s.lower()


# -- 字数 ------------------------------------------------------------------------------------------

def _counts_alone(ch: str) -> bool:
    """A character Word/WPS counts as one 字 by itself: CJK ideographs and every wide or full-width
    character (incl. full-width letters and punctuation), plus punctuation and symbols of ambiguous
    width typed in Chinese text (“ ” ‘ ’ … — · ①)."""
    width = unicodedata.east_asian_width(ch)
    if width in ("W", "F"):
        return True
    category = unicodedata.category(ch)
    return width == "A" and (category[0] in "PS" or category == "No")  # No: ① ⑴ ²


CharCount = Literal["word", "chars"]  # how 字数 are counted (a profile's char_count)


def count_chars(text: str, mode: CharCount = "word") -> int:
    """字数 of `text`.

    word: as Word/WPS count it: each CJK character and each full-width punctuation mark or symbol is 1;
    each run of Latin letters/digits ("2024", "ICU") is 1; half-width punctuation and whitespace are 0.
    chars: every non-whitespace character is 1.

    Chinese prose is mostly ideographs and full-width punctuation: those are counted by a regex in C
    (each counts alone and ends a word); of the pieces between them, an ASCII one counts its letter/digit
    runs by regex, and only the rest are walked a character at a time."""
    if mode == "chars":
        return len(_SPACE.sub("", text))
    if mode != "word":
        raise ValueError(f"unknown count mode: {mode!r}")
    pieces = _WIDE.split(text)
    count = len(text) - sum(map(len, pieces))
    for piece in pieces:
        if piece.isascii():  # digits, Latin, half-width punctuation: only its letter/digit runs count
            count += len(_ASCII_WORDS.findall(piece))
            continue
        in_word = False
        for ch in piece:
            if ch.isspace():  # U+3000 is full-width, but it is space
                in_word = False
            elif _counts_alone(ch):
                count += 1
                in_word = False
            elif ch.isalnum():
                if not in_word:
                    count += 1
                in_word = True
            elif unicodedata.category(ch) == "Mn" and in_word:
                continue  # a combining accent stays inside its word
            else:
                in_word = False
    return count


# Runs of characters that each count alone (tests check every one against _counts_alone): CJK
# punctuation, kana, ideographs (Ext A, URO, compatibility), full-width forms and signs.
_WIDE = re.compile("[\u3001-\u303e\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                   "\uff01-\uff60\uffe0-\uffe6]+")
_ASCII_WORDS = re.compile("[A-Za-z0-9]+")  # what str.isalnum takes among ASCII characters


# -- numbers from cells ---------------------------------------------------------------------------

def integral_text(raw: Any) -> str | None:
    """The digits of a whole number that arrived as int or float (13812345678.0 -> "13812345678")."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float | Decimal) and math.isfinite(raw) and raw == int(raw):
        return str(int(raw))
    return None


# -- phones ---------------------------------------------------------------------------------------

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_PHONE_JUNK = re.compile(r"[\s.()\[\]]")
_DASHES = re.compile(r"[‐‑‒–—―]")  # NFKC leaves these; － is already -
_MOBILE = re.compile(r"1[3-9]\d{9}")


def _landline(digits: str) -> str | None:
    """'04711234567' -> '0471-1234567'. Area codes 010 and 02x have 3 digits, every other one 4."""
    if not digits.startswith("0"):
        return None
    area = 3 if digits[1] in "12" else 4
    local = digits[area:]
    if len(digits) < area + 7 or not 7 <= len(local) <= 8:
        return None
    return f"{digits[:area]}-{local}"


def parse_phone(raw: Any) -> str | None:
    """A mainland mobile ("13812345678") or landline with area code ("0471-1234567", "010-12345678转123")
    in normalised form, or None.

    Accepts spaces, dashes, dots and brackets as separators, a +86/0086/86 prefix, an extension written
    "转123", "分机123", "ext 123" or "-123", and numbers read from a numeric cell as float."""
    if raw is None:
        return None
    text = integral_text(raw)
    if text is None:
        if not isinstance(raw, str):
            return None
        text = unicodedata.normalize("NFKC", raw).strip()
    ext = None
    m = _EXTENSION.search(text)
    if m:
        ext, text = m.group(1), text[: m.start()]
    text = _DASHES.sub("-", _PHONE_JUNK.sub("", text)).strip("-")
    if not re.fullmatch(r"\+?[\d-]+", text):
        return None
    international = text.startswith(("+86", "0086"))
    digits = text.replace("-", "").lstrip("+")
    if international:
        digits = digits[2:] if digits.startswith("86") else digits[4:]
    elif digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return None if ext else digits
    if international and not digits.startswith("0"):
        digits = "0" + digits  # +86 471 1234567: the trunk 0 is dropped abroad
    number = _landline(digits)
    if number is None and ext is None and "-" in text:
        # 0471-1234567-123: the last dash group is an extension
        head, _, tail = text.rpartition("-")
        if len(tail) <= 6:
            number, ext = _landline(head.replace("-", "").lstrip("+")), tail
    if number is None:
        return None
    return f"{number}转{ext}" if ext else number


_LOCAL = re.compile(r"[2-9]\d{6,7}")


def local_number(raw: Any) -> str | None:
    """The digits of a landline written without its area code ("3831311", "6234-5678"): 7 or 8 digits,
    not starting with 0 or 1; None for anything else."""
    text = integral_text(raw) if not isinstance(raw, str) else unicodedata.normalize("NFKC", raw)
    if text is None:
        return None
    digits = _DASHES.sub("", _PHONE_JUNK.sub("", text)).replace("-", "")
    return digits if _LOCAL.fullmatch(digits) else None


# -- whole numbers --------------------------------------------------------------------------------

_EXACT_INT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_integer(raw: Any) -> tuple[int | None, bool]:
    """(value, exact). 23, 23.0, "23" -> (23, True); "23人", "共 23 名" -> (23, False);
    23.5, "二十三", "", "23人（其中预备党员2人）" -> (None, False)."""
    text = integral_text(raw)
    if text is not None:
        return int(text), True
    if not isinstance(raw, str):
        return None, False
    s = unicodedata.normalize("NFKC", raw).strip()
    if _EXACT_INT.fullmatch(s):
        return int(Decimal(s.replace(",", ""))), True
    numbers = _NUMBER.findall(s)
    if len(numbers) == 1 and "." not in numbers[0] and not s.lstrip().startswith("-"):
        return int(numbers[0]), False
    return None, False


# -- similarity -----------------------------------------------------------------------------------

_NOT_CONTENT = re.compile(r"[\W_]+")
# Where the punctuation and spaces typed in Chinese text live: ASCII (line breaks and tabs too),
# Latin-1, general punctuation, CJK symbols and punctuation, full-width forms.
_PUNCTUATION_BLOCKS = ((0x09, 0x0D), (0x20, 0x7E), (0xA0, 0xBF), (0x2000, 0x206F), (0x3000, 0x303F),
                       (0xFF01, 0xFF65))


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of `text` with whitespace and punctuation removed (NFKC'd: full-width and
    half-width copies of a text are the same text). A one-character text is its own single token."""
    s = _content(text)
    if len(s) < 2:
        return frozenset([s]) if s else frozenset()
    return frozenset(map(operator.add, s, s[1:]))


_ALONE = 1 << 63  # marks a one-character text's code: no bigram's code has this bit


def bigram_codes(text: str) -> set[int]:
    """`bigrams(text)` as ints, one per bigram (its two code points in 8 bytes; a one-character text's
    character, marked): the same sets, made in C from the text's UTF-32 without a string per bigram."""
    s = _content(text)
    if len(s) < 2:
        return {ord(s) | _ALONE} if s else set()
    utf32 = memoryview(s.encode("utf-32-le", "surrogatepass"))
    n = len(s)
    codes = set(utf32[: n // 2 * 8].cast("Q"))  # characters 0-1, 2-3, …
    codes.update(utf32[4 : 4 + (n - 1) // 2 * 8].cast("Q"))  # 1-2, 3-4, …
    return codes


def _content(text: str) -> str:
    """What the bigrams are made of: `text` NFKC'd, lower case, without whitespace and punctuation.

    NFKC over a whole text costs more than the rest together (the full-width commas alone make it
    rewrite the text), and the punctuation is then removed anyway. So the punctuation goes first when
    that cannot change the result: every character removed is inert (below) and what is left is already
    normalised; otherwise the text is normalised whole."""
    s = _NOT_CONTENT.sub("", text)
    if _not_inert().search(text) or not unicodedata.is_normalized("NFKC", s):
        s = _NOT_CONTENT.sub("", unicodedata.normalize("NFKC", text))
    return s.lower()


def _inert(ch: str) -> bool:
    """A character `_content` removes either way: no content itself nor once NFKC'd, and a starter in
    both forms (no combining class), so nothing composes with it. Removed first, it changes nothing NFKC
    would do to the rest, provided the rest is normalised as it stands (`_content` checks that: it is
    not when the removal brought two Hangul jamo together; a combining mark is never inert)."""
    return all(_NOT_CONTENT.fullmatch(c) and not unicodedata.combining(c)
               for c in (ch, *unicodedata.normalize("NFKC", ch)))


@functools.cache
def _not_inert() -> re.Pattern[str]:
    """Any character that is neither content (a word character) nor inert: built on first use (the
    command line imports this module at start-up)."""
    inert = "".join(ch for lo, hi in _PUNCTUATION_BLOCKS for ch in map(chr, range(lo, hi + 1)) if _inert(ch))
    return re.compile(f"[^\\w{re.escape(inert)}]")


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def text_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character-bigram sets of two texts, in [0, 1].

    Chosen for Chinese prose: no word segmentation needed, insensitive to punctuation, spacing and
    reordered paragraphs (copied plans are often shuffled), linear time (a 2000-字 text is ~2000
    bigrams), and exact enough for prefix-filtered search over many submissions (see rules.cross_check)."""
    return jaccard(bigrams(a), bigrams(b))


# -- formula injection ----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(s: str) -> bool:
    """True when a spreadsheet would take this text for a formula: it starts with = + - @, tab or CR.
    Deliberately not stripped first: the first character as written is what the spreadsheet sees."""
    return isinstance(s, str) and s.startswith(_FORMULA_START)
