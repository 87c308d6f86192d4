"""The similar-text search (similar_text rule) on real-sized texts: brandkit's prefix-filtered search vs
the naive way (every pair's bigram sets intersected), on the same texts in the same run.

    python benchmarks/similar.py [--repeat R] [N ...]        (default: 300 1000, R = 3)

Two kinds of text, N of each: `templated`, the prose benchmarks/merge.py's forms carry (a few stock
phrases, ~580 字: a vocabulary of a few hundred bigrams, so nearly every pair is a candidate), and
`varied`, ~1,500 字 a text of words drawn from a Zipf-distributed vocabulary of 30,000 words over 3,500
characters, full-width punctuation between phrases, every 50th text a lightly edited copy of the one
before it (a few characters changed): hundreds of thousands of distinct bigrams, as real plans from
different departments bring. Each side runs in a process of its own; prints CPU seconds (min / median /
max of R runs; the naive way once), the process's peak RSS above what the texts themselves take, and
checks that both sides find the same pairs.
"""

from __future__ import annotations

import itertools
import json
import random
import resource  # POSIX: the benchmarks run on Linux and macOS
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REPEAT = 3
THRESHOLD = 0.85  # the profiles' similarity threshold


def templated(n: int) -> dict[int, str]:
    """The 2000-字 box as tests.notice_forms.hospital_brand fills it."""
    from tests.notice_forms import _prose

    return {i: "创建计划：{}\n创建举措：{}\n预期成效：{}".format(*(_prose("医疗", i, w, 3) for w in ("计划", "举措", "成效")))
            for i in range(n)}


def varied(n: int, length: int = 1500, seed: int = 7, copies: bool = True) -> dict[int, str]:
    """N texts of `length` 字 in varied words; with `copies`, every 50th a lightly edited copy."""
    rng = random.Random(seed)
    chars = [chr(0x4E00 + rng.randrange(20000)) for _ in range(3500)]
    char_weights = list(itertools.accumulate(1 / (k + 1) for k in range(len(chars))))  # Zipf
    words = ["".join(rng.choices(chars, cum_weights=char_weights, k=rng.choice((1, 2, 2, 2, 3, 4))))
             for _ in range(30000)]
    word_weights = list(itertools.accumulate(1 / (k + 1) for k in range(len(words))))
    texts = {}
    for i in range(n):
        if copies and i % 50 == 1:  # a copy of the text before, a few characters changed
            copy = list(texts[i - 1])
            for _ in range(length // 100):
                copy[rng.randrange(len(copy))] = "党"
            texts[i] = "".join(copy)
            continue
        phrases: list[str] = []
        while sum(map(len, phrases)) < length:
            phrases.append("".join(rng.choices(words, cum_weights=word_weights, k=6)) + rng.choice("，。、；"))
        texts[i] = "".join(phrases)[:length]
    return texts


def naive_pairs(texts: dict[int, str], threshold: float) -> list[tuple[int, int, float]]:
    """Every pair's bigram sets intersected (the sets made once)."""
    from toolkit.core.text import bigrams

    sets = {i: s for i, t in texts.items() if (s := bigrams(t))}
    keys = sorted(sets)
    out = []
    for a, i in enumerate(keys):
        for j in keys[a + 1:]:
            inter = len(sets[i] & sets[j])
            score = inter / (len(sets[i]) + len(sets[j]) - inter)
            if inter and score >= threshold - 1e-9:
                out.append((i, j, score))
    return out


def one(kind: str, n: int, side: str) -> None:
    """In a process of its own: one search, printed as JSON (CPU seconds, peak RSS above the texts', pairs)."""
    from toolkit.validation.similar import similar_pairs

    texts = {"templated": templated, "varied": varied}[kind](n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    found = (similar_pairs if side == "brandkit" else naive_pairs)(texts, THRESHOLD)
    cpu = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    unit = 2**20 if sys.platform == "darwin" else 2**10  # ru_maxrss: bytes on macOS, KiB on Linux
    print(json.dumps({"cpu": cpu, "rss_mb": peak / unit, "pairs": [(i, j) for i, j, _ in found]}))


def run(kind: str, n: int, side: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(n), side], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main(sizes: list[int], repeat: int) -> None:
    rows = []
    for n in sizes:
        for kind in ("templated", "varied"):
            ours = [run(kind, n, "brandkit") for _ in range(repeat)]
            naive = run(kind, n, "naive")
            same = all(o["pairs"] == naive["pairs"] for o in ours)
            cpu = sorted(o["cpu"] for o in ours)
            median = statistics.median(cpu)
            rows.append((n, kind, cpu, naive["cpu"], max(o["rss_mb"] for o in ours), naive["rss_mb"],
                         len(naive["pairs"]), same))
            print(f"N={n} {kind:9}  brandkit {cpu[0]:.2f} / {median:.2f} / {cpu[-1]:.2f} s CPU   naive "
                  f"{naive['cpu']:.2f} s ({naive['cpu'] / median:.1f}×)   peak RSS above the texts: brandkit "
                  f"{rows[-1][4]:.0f} MB, naive {naive['rss_mb']:.0f} MB   pairs {len(naive['pairs'])}"
                  f"{'' if same else '   DIFFERENT PAIRS'}", flush=True)
    print("\n| N | texts | brandkit CPU (median) | naive CPU | naive/brandkit | peak RSS brandkit | naive | pairs |")
    print("|---|---|---|---|---|---|---|---|")
    for n, kind, cpu, naive_cpu, rss, naive_rss, pairs, _ in rows:
        print(f"| {n} | {kind} | {statistics.median(cpu):.2f} s | {naive_cpu:.2f} s | "
              f"{naive_cpu / statistics.median(cpu):.1f}× | {rss:.0f} MB | {naive_rss:.0f} MB | {pairs} |")
    if not all(row[-1] for row in rows):
        raise SystemExit("brandkit and the naive way found different pairs")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        one(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        from measure import options

        given, args = options(sys.argv[1:], repeat=str(REPEAT))
        main([int(a) for a in args] or [300, 1000], int(given["repeat"]))
