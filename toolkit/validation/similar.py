"""The similar-text search behind the similar_text rule: every pair of texts whose bigram Jaccard
similarity (toolkit.core.text.text_similarity) reaches a threshold, without comparing all pairs.

Kept apart from the rule library (toolkit.validation.rules, whose cross_check reports what it finds):
an algorithm of its own, exact, with its own brute-force test.
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections import Counter, defaultdict

from toolkit.core.text import bigram_codes

Pairs = list[tuple[int, int, float]]  # (i, j, score), i < j, sorted


def similar_pairs(texts: dict[int, str], threshold: float) -> Pairs:
    """Every pair (i, j, score) with text_similarity >= threshold, without comparing all pairs.

    Exact, by prefix filtering (Chaudhuri et al. 2006; PPJoin, Xiao et al. 2008): with bigrams ordered
    rarest first, two sets with Jaccard >= t must share a token among the first |x| - ceil(t·|x|) + 1
    of the probing set and the first |y| - ceil(2t/(1+t)·|y|) + 1 of the smaller, indexed one; a
    candidate must also have at least t·|x| bigrams. A bigram no other text has can never be shared, so
    it takes no place in a prefix (a text with too many such bigrams is never similar to any other), and
    common bigrams (党建, 支部) sit at the end of every order and are rarely indexed.

    Real texts bring hundreds of thousands of distinct bigrams: each is a small int as soon as its text
    is read (an array per text, 4 bytes a bigram, never a string per bigram), ranked by an int sort.
    Templated texts give hundreds of candidates each, so the per-candidate work is C-level: sets are
    probed by ascending size, so each posting list is sorted by size and the too-small are cut off by
    bisection; a set is also a bitmap over its shareable ranks, intersected with maps over AND and
    bit_count; only intersections of at least t·|x| are scored."""
    ids: defaultdict[int, int] = defaultdict(itertools.count().__next__)  # bigram code -> id, first seen first
    tokens = {i: array("i", map(ids.__getitem__, s)) for i, t in texts.items() if (s := bigram_codes(t))}
    df = Counter(itertools.chain.from_iterable(tokens.values()))
    shared = sorted((tok for tok, n in df.items() if n > 1), key=df.__getitem__)  # rarest first
    rank = [-1] * len(ids)
    for r, tok in enumerate(shared):
        rank[tok] = r
    del ids, df, shared
    size = {i: len(a) for i, a in tokens.items()}
    ranks = {}
    for i in list(tokens):  # one text's ids at a time: never both forms of every text held at once
        ranks[i] = array("i", sorted(filter((0).__le__, map(rank.__getitem__, tokens.pop(i)))))
    postings: dict[int, list[int]] = defaultdict(list)  # rank -> indexed sets, smallest first
    sizes: dict[int, list[int]] = defaultdict(list)  # rank -> their sizes
    eps = 1e-9  # 0.85 * 20 is 17.000000000000004: never let float error shorten a prefix
    mid = 2 * threshold / (1 + threshold)
    bitmaps: dict[int, int] = {}
    pairs = []
    for i in sorted(ranks, key=lambda k: (size[k], k)):  # indexed sets are never larger
        mine, n = ranks[i], size[i]
        shortest = threshold * n - eps
        least = math.ceil(threshold * n - eps)  # |x ∪ y| >= |x|: fewer shared bigrams cannot reach t
        candidates: set[int] = set()
        for r in mine[: max(len(mine) - least + 1, 0)]:
            if r in postings:
                candidates.update(itertools.islice(postings[r], bisect.bisect_left(sizes[r], shortest), None))
        for r in mine[: max(len(mine) - math.ceil(mid * n - eps) + 1, 0)]:
            postings[r].append(i)
            sizes[r].append(n)
        if not candidates:
            continue
        for j in candidates.difference(bitmaps) | ({i} - bitmaps.keys()):
            bitmaps[j] = _bitmap(ranks[j])
        found = list(candidates)
        inters = list(map(int.bit_count, map(bitmaps[i].__and__, map(bitmaps.__getitem__, found))))
        for j, inter in itertools.compress(zip(found, inters, strict=True), map(least.__le__, inters)):
            score = inter / (n + size[j] - inter)
            if score >= threshold - eps:
                pairs.append((min(i, j), max(i, j), score))
    return sorted(pairs)


def _bitmap(ranks: array) -> int:
    """The set as an int with bit r set for each rank r: AND + bit_count beats intersecting sets."""
    buf = bytearray(ranks[-1] // 8 + 1 if ranks else 1)
    for r in ranks:
        buf[r >> 3] |= 1 << (r & 7)
    return int.from_bytes(buf, "little")
