"""A/B: `brandkit merge` from another checkout against this one, in turn, on the same forms.

    git worktree add ../base <rev>
    python benchmarks/ab.py ../base [--pairs P] [--prose templated|varied] [N]   (default: N = 50, P = 8)

On a shared machine the time one run takes drifts by tens of percent from one minute to the next, so a
change worth 0.1 s shows only when the old and the new code run alternately on the same data: builds N
forms as benchmarks/merge.py does, then runs the floor, the other checkout and this one, the order of the
two flipped every pair; prints each pair, the medians and minimums, the CPU seconds each used (which the
host's load moves far less), and this checkout's phase table.
Both checkouts are timed with their bytecode compiled.
"""

from __future__ import annotations

import compileall
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(other: Path, n: int, pairs: int, prose: str = "templated") -> None:
    from measure import merge_args, phase_table, run
    from merge import build

    trees = {"other": other.resolve(), "this": ROOT}
    compileall.compile_dir(trees["other"] / "toolkit", quiet=2)
    me = str(ROOT / "benchmarks" / "merge.py")
    walls: dict[str, list[float]] = {name: [] for name in trees}
    cpus: dict[str, list[float]] = {name: [] for name in trees}
    floors = []
    with tempfile.TemporaryDirectory(prefix="bk-ab-") as tmp:
        inbox, master = build(Path(tmp), n, prose)
        for k in range(pairs):
            floors.append(run([me, "--floor", str(inbox)]).wall)
            for name in (("other", "this") if k % 2 == 0 else ("this", "other")):
                target = Path(tmp) / f"{name}{k}" / "master.xlsx"
                target.parent.mkdir()
                shutil.copy(master, target)
                got = run(merge_args(target, inbox), phases=name == "this", cwd=trees[name])
                walls[name].append(got.wall)
                cpus[name].append(got.cpu)
                if name == "this":
                    last = got
            print(f"  pair {k + 1}: floor {floors[-1]:6.2f} s   {other.name} {walls['other'][-1]:6.2f} s   "
                  f"this {walls['this'][-1]:6.2f} s", flush=True)
    print(f"N={n}, {pairs} pairs: floor median {statistics.median(floors):.3f} s")
    for name, tree in trees.items():
        print(f"  {tree}: median {statistics.median(walls[name]):.3f} s, min {min(walls[name]):.3f} s; "
              f"CPU seconds (summed over its processes) median {statistics.median(cpus[name]):.2f} s")
    print("  this checkout's last run:")
    for phase, took in phase_table(last):
        print(f"    {phase:<46} {took:6.3f} s")


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        raise SystemExit(__doc__)
    from measure import options

    given, args = options(args[1:], pairs="8", prose="templated")
    main(Path(sys.argv[1]), int(args[0]) if args else 50, max(1, int(given["pairs"])), given["prose"])
