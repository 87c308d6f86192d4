"""One read worker's CPU per form: the merge's `read_for_merge` vs the floor's `_floor_one`.

    python benchmarks/worker.py [--rounds R] [--staging] [--together] [--glibc-default] [N | FOLDER]
                                                                     (default: N = 100, R = 5)

Builds N forms as benchmarks/merge.py does (or reads the forms in FOLDER) and reads every file once so
all sit in the page cache. Times are CPU time (time.process_time: every thread of the process, not the
time other processes on a shared machine take), after one warm-up pass over the forms.

Each side runs in a process of its own, as in a merge (a worker reads only forms, the floor's pool only
does the floor): in turn, R times each, so the machine's drift falls on both. Both are set up as the
sandbox sets up a worker (portable.reuse_freed_memory: without it, whether glibc maps fresh pages for
each form's MB-sized buffers varies from process to process, ~1 ms/form either way);
`--glibc-default` leaves glibc's allocator as it is. `--together` instead times both in one process,
form by form (A/B, the order flipped every form): steadier, but each side then runs on the memory the
other left (the allocator's state, the caches), which a merge never does. `--staging` stages the logos' originals as a real merge does (a fresh staging folder; the writer
thread is waited for after each form, so its CPU counts on that form's side), otherwise it reads as a
dry run. Prints ms/form per round, the ratio and minor page faults per form, then the medians.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _sides(staging: str | None) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """(the floor, brandkit's worker function), each reading one form."""
    from merge import _floor_one

    from toolkit.commands.merge_worker import finish_staging, read_for_merge
    from toolkit.core.profile import load_profile
    from toolkit.readers.limits import DEFAULT_LIMITS

    profile = load_profile("hospital-brand")

    def floor(path: str) -> None:
        _floor_one(path, isal=True)

    def ours(path: str) -> None:
        read_for_merge(path, profile, None, None, DEFAULT_LIMITS, staging)
        finish_staging()  # the writer thread's CPU is counted on its form's side

    return floor, ours


def _faults() -> int:
    """Minor page faults of this process so far (0 where the OS does not count them: Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _timed(run: Callable[[str], None], paths: list[str]) -> tuple[float, float]:
    """(CPU ms per form, minor page faults per form) of `run` over `paths`, after a warm-up pass."""
    for p in paths:
        run(p)
    f0, t0 = _faults(), time.process_time()
    for p in paths:
        run(p)
    return (time.process_time() - t0) * 1000 / len(paths), (_faults() - f0) / len(paths)


def child(side: str, folder: str, staging: bool) -> None:
    paths = _paths(Path(folder))
    if "--glibc-default" not in sys.argv:  # both sides set up as toolkit.files.sandbox sets up a worker
        from toolkit.files.portable import reuse_freed_memory

        reuse_freed_memory()
    with tempfile.TemporaryDirectory(prefix="bk-worker-") as tmp:
        floor, ours = _sides(tmp if staging else None)
        print(json.dumps(_timed(ours if side == "ours" else floor, paths)))


def separate(inbox: Path, rounds: int, staging: bool) -> list[tuple[float, float]]:
    flags = [f for f in ("--staging", "--glibc-default") if f in sys.argv]
    out = []
    for k in range(rounds):
        got = {}
        for side in ("floor", "ours") if k % 2 == 0 else ("ours", "floor"):
            args = [sys.executable, __file__, "--child", side, str(inbox), *flags]
            got[side] = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
        out.append((got["floor"][0], got["ours"][0]))
        _print(k, out[-1], (got["floor"][1], got["ours"][1]))
    return out


def together(inbox: Path, rounds: int, staging: bool) -> list[tuple[float, float]]:
    paths = _paths(inbox)
    out = []
    with tempfile.TemporaryDirectory(prefix="bk-worker-") as tmp:
        sides = _sides(tmp if staging else None)
        for p in paths:
            for run in sides:
                run(p)
        for k in range(rounds):
            cpu, faults = [0.0, 0.0], [0, 0]
            for i, p in enumerate(paths):
                for side in ((0, 1) if (i + k) % 2 else (1, 0)):
                    f0, t0 = _faults(), time.process_time()
                    sides[side](p)
                    cpu[side] += time.process_time() - t0
                    faults[side] += _faults() - f0
            out.append((cpu[0] * 1000 / len(paths), cpu[1] * 1000 / len(paths)))
            _print(k, out[-1], (faults[0] / len(paths), faults[1] / len(paths)))
    return out


def _print(k: int, cpu: tuple[float, float], faults: tuple[float, float]) -> None:
    print(f"  round {k + 1}: floor {cpu[0]:6.2f} ms/form   read_for_merge {cpu[1]:6.2f} ms/form   "
          f"ratio {cpu[1] / cpu[0]:.3f}   page faults/form {faults[0]:.0f} vs {faults[1]:.0f}", flush=True)


def _paths(inbox: Path) -> list[str]:
    paths = [str(f) for f in sorted(inbox.iterdir()) if f.suffix in (".xlsx", ".docx")]
    for p in paths:  # into the page cache
        Path(p).read_bytes()
    return paths


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], "--staging" in argv)
        return
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 5
    staging, one_process = "--staging" in argv, "--together" in argv
    rest = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] != "--rounds")]
    target = rest[0] if rest else "100"
    with tempfile.TemporaryDirectory(prefix="bk-forms-") as tmp:
        if target.isdigit():
            from merge import build

            print(f"building {target} forms…", flush=True)
            inbox, _ = build(Path(tmp), int(target))
        else:
            inbox = Path(target)
        print(f"{len(_paths(inbox))} forms, {rounds} rounds, {'staging originals' if staging else 'dry run'}, "
              f"{'both sides in one process' if one_process else 'each side in a process of its own'}")
        runs = (together if one_process else separate)(inbox, rounds, staging)
    ratios = [o / f for f, o in runs]
    print(f"median: floor {statistics.median(f for f, _ in runs):.2f} ms/form   read_for_merge "
          f"{statistics.median(o for _, o in runs):.2f} ms/form   ratio {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main(sys.argv[1:])
