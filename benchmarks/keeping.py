"""What keeping costs a merge, part by part: the floor of benchmarks/merge.py, then with each file's sha256,
then with each logo's original written and fsynced too (floor + keeping), on the same forms in the same run.

    python benchmarks/keeping.py [--repeat R] [N]   (default: N = 1000, R = 3)

Each side runs as a whole process, in turn (the order flipped every round, so the machine's drift falls on
all three); prints min / median / max wall time and each side's ratio to the floor, pair by pair. This is
the part of brandkit's excess over the floor that the design's keeping (the provenance sha256, the logo
originals beside the master) makes, whatever brandkit's own code does.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(n: int, repeat: int) -> None:
    from measure import run, spread
    from merge import build

    me = str(Path(__file__).resolve().with_name("merge.py"))
    with tempfile.TemporaryDirectory(prefix="bk-keeping-") as tmp:
        print(f"N={n}: building forms…", flush=True)
        inbox, _ = build(Path(tmp), n)
        kept = Path(tmp) / "kept"
        sides = {"floor": [], "floor + sha256": ["KEPT", "--hash-only"], "floor + sha256 + originals": ["KEPT"]}
        walls: dict[str, list[float]] = {side: [] for side in sides}
        for k in range(repeat):
            for side, extra in (list(sides.items()) if k % 2 == 0 else list(sides.items())[::-1]):
                shutil.rmtree(kept, ignore_errors=True)
                kept.mkdir()
                walls[side].append(run([me, "--floor", str(inbox), *(str(kept) if a == "KEPT" else a for a in extra)]).wall)
            print(f"  round {k + 1}: " + "   ".join(f"{side} {w[-1]:.2f} s" for side, w in walls.items()), flush=True)
    for side, w in walls.items():
        ratios = [a / b for a, b in zip(w, walls["floor"], strict=True)]
        print(f"{side:28} {spread(w)} s   ×floor {min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f}")


if __name__ == "__main__":
    from measure import options

    given, args = options(sys.argv[1:], repeat="3")
    main(int(args[0]) if args else 1000, int(given["repeat"]))
