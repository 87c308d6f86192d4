"""Text helpers: label and branch normalisation, 字数, phones, dates, whole numbers, similarity."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.paths import CORPUS
from toolkit.core.datetext import parse_date
from toolkit.core.text import (
    bigram_codes,
    bigrams,
    count_chars,
    is_formula_like,
    jaccard,
    normalize_branch,
    normalize_label,
    parse_integer,
    parse_phone,
    text_similarity,
)


@pytest.mark.parametrize("raw, expected", [
    ("品 牌\n名 称（10字以内）：", "品牌名称"),
    ("品牌名称:", "品牌名称"),
    ("　党支部名称　", "党支部名称"),
    ("*联系方式", "联系方式"),
    ("＊联系方式（手机）", "联系方式"),
    ("※品牌内涵【200字以内】", "品牌内涵"),
    ("品牌标识〔png/jpg〕", "品牌标识"),
    ("品牌LOGO[图片]", "品牌logo"),
    ("创建计划（含（1）（2）步骤）", "创建计划"),
    ("品牌名称（10字以内", "品牌名称"),
    ("对标“七个有力”", "对标七个有力"),
    ("ｌｏｇｏ", "logo"),
    ("联系方式：", "联系方式"),
])
def test_normalize_label(raw: str, expected: str) -> None:
    assert normalize_label(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("中共内科第一党支部", "内科第一"),
    ("中国共产党内科第一支部", "内科第一"),
    (" 内科 第一 党支部 ", "内科第一"),
    ("内科第一支部", "内科第一"),
    ("ＩＣＵ党支部", "icu"),
    ("党支部", "党支部"),  # nothing left to strip to: keep it rather than match everything
])
def test_normalize_branch(raw: str, expected: str) -> None:
    assert normalize_branch(raw) == expected


@pytest.mark.parametrize("text, word, chars", [
    ("杏林先锋", 4, 4),
    ("品牌名称，ICU 2024年“三个一”。", 14, 19),
    ("Hello, world!", 2, 12),
    ("２０２４", 4, 4),  # full-width digits count one each, as in Word
    ("①②③", 3, 3),
    ("a-b c", 3, 4),
    ("𠀀𠀁", 2, 2),  # CJK extension B
    ("﨑", 1, 1),  # compatibility ideograph
    ("   \n\t　", 0, 0),
    ("……——", 4, 4),
    ("café au lait", 3, 10),
])
def test_count_chars(text: str, word: int, chars: int) -> None:
    assert count_chars(text, "word") == word
    assert count_chars(text, "chars") == chars


def test_count_chars_unknown_mode() -> None:
    with pytest.raises(ValueError):
        count_chars("x", "bytes")  # type: ignore[arg-type]


@given(st.text())
def test_count_chars_never_negative_and_word_at_most_chars(text: str) -> None:
    word, chars = count_chars(text, "word"), count_chars(text, "chars")
    assert 0 <= word <= chars


def _count_one_by_one(text: str) -> int:
    """字数 by Word's rule, a character at a time: the oracle the fast count_chars must agree with."""
    import unicodedata

    from toolkit.core.text import _counts_alone

    count, in_word = 0, False
    for ch in text:
        if ch.isspace():
            in_word = False
        elif _counts_alone(ch):
            count, in_word = count + 1, False
        elif ch.isalnum():
            count, in_word = count + (not in_word), True
        elif not (unicodedata.category(ch) == "Mn" and in_word):
            in_word = False
    return count


def test_characters_counted_in_runs_each_count_alone() -> None:
    from toolkit.core.text import _WIDE, _counts_alone

    assert len(re.findall(r"(.)-(.)", _WIDE.pattern)) >= 8
    wide = [ch for ch in map(chr, range(0x10000)) if _WIDE.fullmatch(ch)]
    assert len(wide) > 20_000
    for ch in wide:
        assert _counts_alone(ch) and not ch.isspace(), hex(ord(ch))


@given(st.text() | st.text("杏林，。ICU 2024\u0301é①　\t-", max_size=40))
def test_count_chars_agrees_with_counting_one_character_at_a_time(text: str) -> None:
    assert count_chars(text, "word") == _count_one_by_one(text)
    assert count_chars(text, "chars") == sum(not ch.isspace() for ch in text)


@given(st.text())
def test_normalize_label_idempotent(text: str) -> None:
    once = normalize_label(text)
    assert normalize_label(once) == once


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"),
    (13812345678.0, "13812345678"),
    (13812345678, "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("(+86)13812345678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("86-13812345678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    ("138.1234.5678", "13812345678"),
    ("0471-1234567", "0471-1234567"),
    ("(0471)1234567", "0471-1234567"),
    ("010-12345678", "010-12345678"),
    ("02012345678", "020-12345678"),
    ("0471-1234567转123", "0471-1234567转123"),
    ("0471-1234567-123", "0471-1234567转123"),
    ("0471 1234567 ext 8", "0471-1234567转8"),
    ("010—12345678分机66", "010-12345678转66"),
    ("+86 10 12345678", "010-12345678"),
    ("12812345678", None),  # 12x is no mobile segment
    ("1381234567", None),
    ("12345678", None),  # landline without area code
    ("13812345678转1", None),  # a mobile has no extension
    ("电话13812345678", None),
    ("", None),
    (None, None),
    (13812345678.5, None),
])
def test_parse_phone(raw: object, expected: str | None) -> None:
    assert parse_phone(raw) == expected


_SEPARATORS = st.sampled_from(["", "", "", " ", "-", ".", "　", "－"])


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9),
       st.sampled_from(["", "+86", "+86 ", "0086", "86", "(+86)", "（+86）", "+86-"]),
       st.lists(_SEPARATORS, min_size=10, max_size=10), st.sampled_from(["", " ", "\n"]))
def test_parse_phone_accepts_every_formatting_of_a_mobile(second: str, rest: str, prefix: str,
                                                          seps: list[str], pad: str) -> None:
    mobile = "1" + second + rest
    formatted = mobile[0] + "".join(s + d for s, d in zip(seps, mobile[1:], strict=True))
    assert parse_phone(f"{pad}{prefix}{formatted}{pad}") == mobile


@pytest.mark.parametrize("raw, expected", [
    ("2024年7月11日", dt.date(2024, 7, 11)),
    ("2024 年 7 月 11 日", dt.date(2024, 7, 11)),
    ("2024.7.11", dt.date(2024, 7, 11)),
    ("2024-07-11", dt.date(2024, 7, 11)),
    ("2024/7/11", dt.date(2024, 7, 11)),
    ("20240711", dt.date(2024, 7, 11)),
    (20240711, dt.date(2024, 7, 11)),
    ("２０２４年７月１１日", dt.date(2024, 7, 11)),
    ("二〇二四年七月十一日", dt.date(2024, 7, 11)),
    ("二零二三年十月十六日", dt.date(2023, 10, 16)),
    ("二〇二四年十二月三十一日", dt.date(2024, 12, 31)),
    ("2024-07-11 00:00:00", dt.date(2024, 7, 11)),
    (45484, dt.date(2024, 7, 11)),
    (45484.75, dt.date(2024, 7, 11)),
    (dt.datetime(2024, 7, 11, 9, 30), dt.date(2024, 7, 11)),
    (dt.date(2024, 7, 11), dt.date(2024, 7, 11)),
    ("2023-11-31", None),  # the dangjian-plus notice's impossible date
    ("2024年7月", None),
    ("7月11日", None),
    (15, None),  # a serial far outside a form's years
    ("45484", None),  # a serial only counts from a numeric cell
    ("明天", None),
    (True, None),
    (None, None),
])
def test_parse_date(raw: object, expected: dt.date | None) -> None:
    assert parse_date(raw) == expected


def test_parse_date_on_a_real_xls_from_calamine() -> None:
    """date.xls (calamine's fixture, written by Excel) holds date cells; whatever type the reader gives
    them back as, parse_date turns them into the dates Excel shows."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(CORPUS / "calamine/date.xls")).get_sheet_by_name("Sheet1").to_python()
    assert [parse_date(r[0]) for r in rows[:2]] == [dt.date(2021, 1, 1), dt.date(2021, 1, 2)]


@pytest.mark.parametrize("raw, expected", [
    (23, (23, True)),
    (23.0, (23, True)),
    ("23", (23, True)),
    (" 23 ", (23, True)),
    ("２３", (23, True)),
    ("1,234", (1234, True)),
    ("-5", (-5, True)),
    ("23人", (23, False)),
    ("23 名", (23, False)),
    ("共23人", (23, False)),
    (23.5, (None, False)),
    ("23.5", (None, False)),
    ("二十三", (None, False)),
    ("", (None, False)),
    ("23人（其中预备党员2人）", (None, False)),
    (True, (None, False)),
    (None, (None, False)),
])
def test_parse_integer(raw: object, expected: tuple[int | None, bool]) -> None:
    assert parse_integer(raw) == expected


def test_text_similarity() -> None:
    a = "坚持党建引领，以“杏林先锋”为载体，推动党建与业务深度融合，提升患者满意度。"
    assert text_similarity(a, a) == 1.0
    assert text_similarity(a, a.replace("，", " ").replace("。", "")) == 1.0  # punctuation ignored
    assert text_similarity(a, a + "另外开展志愿服务。") > 0.7
    assert text_similarity(a, "组织党员开展义诊活动，服务社区群众健康。") < 0.2
    assert text_similarity("", a) == 0.0


def test_text_similarity_of_long_texts_compares_two_bigram_sets() -> None:
    """Linear by construction, checked without a clock: the score is the Jaccard index of two sets of
    character bigrams, each no larger than its text, so 2000-字 texts cost about 2000 set operations."""
    rng = random.Random(11)
    a = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(2000))
    b = a[1000:] + a[:1000]  # the same paragraphs, reordered: one bigram lost at the seam
    sa, sb = bigrams(a), bigrams(b)
    assert len(sa) <= len(a) - 1 and len(sb) <= len(b) - 1
    assert text_similarity(a, b) == jaccard(sa, sb) > 0.99
    repeated = "党建引领业务发展，支部建在科室上，" * 120
    assert len(bigrams(repeated)) <= 16  # a repeated sentence is as many bigrams as the sentence
    assert text_similarity(repeated, repeated[::-1]) < 0.2


def _bigrams_of_the_whole_text_normalised(text: str) -> frozenset[str]:
    """The definition `bigrams` must keep: NFKC the whole text, drop what is not content, pair up."""
    import unicodedata

    s = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text)).lower()
    if len(s) < 2:
        return frozenset([s]) if s else frozenset()
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


# Characters where removing punctuation before NFKC could change the result: combining marks (they
# compose with a letter only when nothing stands between), Hangul jamo, ㈠ and ① (NFKC gives content),
# full-width letters and digits, ligatures, half-width kana and its voiced mark, ½ and ¨ (NFKC gives a
# fraction slash or a combining mark), and the punctuation typed in Chinese text.
_TRICKY = ("党建品牌ABC abc 123１２３ＡＢｃ_，。、；：？！“”‘’（）《》【】…—·\n\t\u3000 e\u0301\u0308\u20dd"
           "\u1100\u1161\u11a8가㈠①⑴½¨ﬁｶﾞﾟ\u3099\u309b\u00a0\u2028\u200b\u02bc")


@given(st.text(_TRICKY, max_size=30) | st.text(max_size=30))
@example("党建e\u0301党建")  # composes to é only when normalised whole
@example("党建e，\u0301党")
@example("\u1100\u1161，\u1100，\u1161")  # jamo: 가 only where nothing stands between
@example("党建㈠①½ﬁＡ１，")
@example("ｶﾞ，ｶ，ﾞ党¨a")
def test_bigrams_equal_those_of_the_whole_text_normalised(text: str) -> None:
    """The fast path (punctuation removed before NFKC, when that cannot matter) never changes a result."""
    assert bigrams(text) == _bigrams_of_the_whole_text_normalised(text)


@given(st.text(_TRICKY, max_size=30) | st.text(max_size=30))
@example("党")  # one character: its own token
@example("党建\U00020000\U0002a6d6")  # beyond the BMP (CJK Extension B)
def test_bigram_codes_are_the_bigrams(text: str) -> None:
    """Each code is one bigram's two code points (a lone character's, marked): decoded, they are
    `bigrams(text)` exactly, so the similar-text search scores the same sets."""
    import sys

    def decoded(code: int) -> str:
        if code >> 63:
            return chr(code & ~(1 << 63))
        return code.to_bytes(8, sys.byteorder).decode("utf-32-le", "surrogatepass")

    codes = bigram_codes(text)
    assert len(codes) == len(bigrams(text))
    assert {decoded(c) for c in codes} == bigrams(text)


def test_inert_characters_are_punctuation_and_spaces_only() -> None:
    """What `bigrams` may drop before NFKC: never a letter, digit, combining mark or a character NFKC
    turns into content (㈠ → (一), ① → 1)."""
    from toolkit.core.text import _inert, _not_inert

    for ch in "，。“”…—·、（）　\n,. ":
        assert _inert(ch) and not _not_inert().search(ch), repr(ch)
    for ch in "党aＡ１①½ﬁ\u0301㈠¨\u3099\u309b":
        assert not _inert(ch), repr(ch)
    for ch in "\u0301¨\u3099\u309b":  # not content, yet not inert: the whole text is normalised
        assert _not_inert().search(ch), repr(ch)


@pytest.mark.parametrize("raw, expected", [
    ("=HYPERLINK(\"http://x\")", True),
    ("+86 138", True),
    ("- 第一步", True),
    ("@SUM(A1)", True),
    ("\tx", True),
    ("\rx", True),
    (" =1", False),  # not stripped: a spreadsheet sees the space first
    ("杏林先锋", False),
    ("", False),
])
def test_is_formula_like(raw: str, expected: bool) -> None:
    assert is_formula_like(raw) is expected
