"""One read worker's CPU per form: the merge's `read_for_merge` vs the floor's `_floor_one`, in one process.

    python benchmarks/worker.py [--rounds R] [--staging] [N | FOLDER]     (default: N = 100, R = 5)

Builds N forms as benchmarks/merge.py does (or reads the forms in FOLDER), reads every file once so all
sit in the page cache, then times each form on both sides in turn (A/B, the order flipped every form, so
the machine's drift falls on both). Times are the process's CPU time (time.process_time: every thread,
not the time other processes on a shared machine take). `--staging` stages the logos' originals as a
real merge does (a fresh staging folder each round; the writer thread is waited for after each form, so
its CPU counts on that form's side), otherwise it reads as a dry run. Prints ms/form per round and the
ratio, then the median round.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def measure(files: list[Path], rounds: int, staging: bool) -> list[tuple[float, float]]:
    from merge import _floor_one

    from toolkit.commands.merge import finish_staging, read_for_merge
    from toolkit.core.profile import load_profile
    from toolkit.readers.limits import DEFAULT_LIMITS

    profile = load_profile("hospital-brand")
    paths = [str(f) for f in files]
    for p in paths:  # page cache, imports, first-call costs
        Path(p).read_bytes()
    _floor_one(paths[0], isal=True)
    read_for_merge(paths[0], profile, None, None, DEFAULT_LIMITS, None)
    out = []
    with tempfile.TemporaryDirectory(prefix="bk-worker-") as tmp:
        for k in range(rounds):
            folder = Path(tmp) / f"round{k}"
            folder.mkdir()
            stage = str(folder) if staging else None
            cpu, faults = [0.0, 0.0], [0, 0]
            for i, p in enumerate(paths):
                for side in ((0, 1) if (i + k) % 2 else (1, 0)):
                    f0, t0 = _faults(), time.process_time()
                    if side:
                        read_for_merge(p, profile, None, None, DEFAULT_LIMITS, stage)
                        finish_staging()  # the writer thread's CPU is counted on its form's side
                    else:
                        _floor_one(p, isal=True)
                    cpu[side] += time.process_time() - t0
                    faults[side] += _faults() - f0
            out.append((cpu[0] * 1000 / len(paths), cpu[1] * 1000 / len(paths)))
            print(f"  round {k + 1}: floor {out[-1][0]:6.2f} ms/form   read_for_merge {out[-1][1]:6.2f} ms/form   "
                  f"ratio {out[-1][1] / out[-1][0]:.3f}   page faults/form {faults[0] / len(paths):.0f} vs "
                  f"{faults[1] / len(paths):.0f}", flush=True)
    return out


def _faults() -> int:
    """Minor page faults of this process so far (0 where the OS does not count them: Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main(argv: list[str]) -> None:
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 5
    staging = "--staging" in argv
    rest = [a for i, a in enumerate(argv) if a not in ("--rounds", "--staging")
            and (i == 0 or argv[i - 1] != "--rounds")]
    target = rest[0] if rest else "100"
    with tempfile.TemporaryDirectory(prefix="bk-forms-") as tmp:
        if target.isdigit():
            from merge import build

            print(f"building {target} forms…", flush=True)
            inbox, _ = build(Path(tmp), int(target))
        else:
            inbox = Path(target)
        files = sorted(f for f in inbox.iterdir() if f.suffix in (".xlsx", ".docx"))
        print(f"{len(files)} forms, {rounds} rounds, {'staging originals' if staging else 'dry run'}")
        runs = measure(files, rounds, staging)
    ratios = [o / f for f, o in runs]
    print(f"median: floor {statistics.median(f for f, _ in runs):.2f} ms/form   read_for_merge "
          f"{statistics.median(o for _, o in runs):.2f} ms/form   ratio {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main(sys.argv[1:])
