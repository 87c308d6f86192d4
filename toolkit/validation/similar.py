"""The similar-text search behind the similar_text rule: every pair of texts whose bigram Jaccard
similarity (toolkit.core.text.text_similarity) reaches a threshold, without comparing all pairs.

Kept apart from the rule library (toolkit.validation.rules, whose cross_check reports what it finds):
an algorithm of its own, exact, with its own brute-force test.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter, defaultdict

from toolkit.core.text import bigrams

Pairs = list[tuple[int, int, float]]  # (i, j, score), i < j, sorted


def similar_pairs(texts: dict[int, str], threshold: float) -> Pairs:
    """Every pair (i, j, score) with text_similarity >= threshold, without comparing all pairs.

    Exact, by prefix filtering (Chaudhuri et al. 2006; PPJoin, Xiao et al. 2008): with bigrams ordered
    rarest first, two sets with Jaccard >= t must share a token among the first |x| - ceil(t·|x|) + 1
    of the probing set and the first |y| - ceil(2t/(1+t)·|y|) + 1 of the smaller, indexed one; a
    candidate must also have at least t·|x| bigrams. Common bigrams (党建, 支部) sit at the end of
    every order and are rarely indexed. Templated texts still give hundreds of candidates each, so the
    per-candidate work is C-level: sets are probed by ascending size, so each posting list is sorted by
    size and the too-small are cut off by bisection; tokens are ranks (ints) and a set is also a bitmap,
    intersected with maps over AND and bit_count; only intersections of at least t·|x| are scored."""
    sets = {i: s for i, t in texts.items() if (s := bigrams(t))}
    df = Counter(itertools.chain.from_iterable(sets.values()))
    rank = {tok: r for r, tok in enumerate(sorted(df, key=lambda t: (df[t], t)))}
    ranks = {i: sorted(map(rank.__getitem__, s)) for i, s in sets.items()}
    postings: dict[int, list[int]] = defaultdict(list)  # rank -> indexed sets, smallest first
    sizes: dict[int, list[int]] = defaultdict(list)  # rank -> their sizes
    eps = 1e-9  # 0.85 * 20 is 17.000000000000004: never let float error shorten a prefix
    mid = 2 * threshold / (1 + threshold)
    bitmaps: dict[int, int] = {}
    pairs = []
    for i in sorted(sets, key=lambda k: (len(sets[k]), k)):  # indexed sets are never larger
        mine, n = ranks[i], len(ranks[i])
        shortest = threshold * n - eps
        candidates: set[int] = set()
        for r in mine[: max(n - math.ceil(threshold * n - eps) + 1, 0)]:
            if r in postings:
                candidates.update(itertools.islice(postings[r], bisect.bisect_left(sizes[r], shortest), None))
        for r in mine[: max(n - math.ceil(mid * n - eps) + 1, 0)]:
            postings[r].append(i)
            sizes[r].append(n)
        if not candidates:
            continue
        for j in candidates.difference(bitmaps) | ({i} - bitmaps.keys()):
            bitmaps[j] = _bitmap(ranks[j])
        found = list(candidates)
        inters = list(map(int.bit_count, map(bitmaps[i].__and__, map(bitmaps.__getitem__, found))))
        least = math.ceil(threshold * n - eps)  # |x ∪ y| >= |x|: fewer shared bigrams cannot reach t
        for j, inter in itertools.compress(zip(found, inters, strict=True), map(least.__le__, inters)):
            score = inter / (n + len(ranks[j]) - inter)
            if score >= threshold - eps:
                pairs.append((min(i, j), max(i, j), score))
    return sorted(pairs)


def _bitmap(ranks: list[int]) -> int:
    """The set as an int with bit r set for each rank r: AND + bit_count beats intersecting sets."""
    buf = bytearray(ranks[-1] // 8 + 1 if ranks else 1)
    for r in ranks:
        buf[r >> 3] |= 1 << (r & 7)
    return int.from_bytes(buf, "little")

