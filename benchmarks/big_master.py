"""A big master stays cheap: a 20,000-row ledger, stamped and merged into, against openpyxl's load + save.

    python benchmarks/big_master.py [--repeat R] [ROWS] [FORMS]        (default: 20000 rows, 300 forms, R = 3)

Builds a master listing ROWS branches (`brandkit init --roster`) and FORMS branch forms for some of them
(benchmarks/merge.py's forms: notice 000's layout, ~1 MB photo logos). Then, in turn R times, each as a
whole process with peak RSS summed over its process tree:
- openpyxl: load the master, write a status into every ledger row, save (the plain script an office
  would write);
- `brandkit stamp --all` (a status on every row: snapshot, plan, patch, verify, backup, replace);
- `brandkit merge` of the FORMS forms; its master-side phases (the master's bytes, its reader process,
  snapshot, check + plan, patch, verify, backup, write) are summed from BRANDKIT_PHASES.
Prints min / median / max, the ratios to openpyxl pair by pair, and the phase tables.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from measure import Measured, merge_args, new_master, phase_table, run, spread  # noqa: E402

# The phases of a merge that are about the master, not the forms.
MASTER_SIDE = ("master: read bytes", "master: grids (child)", "master: snapshot", "merge: check + plan",
               "apply: re-read under the lock", "apply: patch", "apply: verify", "apply: backup",
               "apply: write master")

OPENPYXL = """
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["品牌台账"]
header = [c.value for c in ws[1]]
col = len(header) + 1
ws.cell(1, col, "申报状态")
for r in range(2, ws.max_row + 1):
    ws.cell(r, col, "已提交 2025-08-01 张三")
wb.save(sys.argv[1])
"""


def build(folder: Path, rows: int, forms: int) -> tuple[Path, Path]:
    """A master of `rows` branches and an inbox of `forms` forms for the first of them."""
    from merge import build as build_forms

    inbox, small = build_forms(folder, forms)
    small.unlink()
    names = [f"第{i + 1:04d}党支部" for i in range(rows)]
    return inbox, new_master(folder, names)


def fresh(master: Path, name: str) -> Path:
    target = master.parent / name / master.name
    target.parent.mkdir()
    shutil.copy(master, target)
    return target


def master_side(m: Measured) -> float:
    return sum(r["end"] - r["start"] for r in m.phases if r["phase"] in MASTER_SIDE)


def main(rows: int, forms: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bk-big-") as tmp:
        folder = Path(tmp)
        print(f"building a {rows}-row master and {forms} forms…", flush=True)
        inbox, master = build(folder, rows, forms)
        print(f"  master {master.stat().st_size / 2**20:.1f} MB", flush=True)
        plain, stamps, merges = [], [], []
        for k in range(repeat):
            plain.append(run(["-c", OPENPYXL, str(fresh(master, f"openpyxl{k}"))]))
            stamps.append(run(["-m", "toolkit", "-q", "stamp", str(fresh(master, f"stamp{k}")), "--stage", "申报",
                               "--status", "已提交", "--all", "--by", "张三", "--date", "2025-08-01"], phases=True))
            merges.append(run(merge_args(fresh(master, f"merge{k}"), inbox), phases=True))
            print(f"  run {k + 1}: openpyxl {plain[-1].wall:6.2f} s   stamp --all {stamps[-1].wall:6.2f} s   "
                  f"merge {merges[-1].wall:6.2f} s (master side {master_side(merges[-1]):.2f} s)", flush=True)
        stamp_ratio = [s.wall / p.wall for s, p in zip(stamps, plain, strict=True)]
        merge_ratio = [master_side(m) / p.wall for m, p in zip(merges, plain, strict=True)]
        print(f"  openpyxl load + write + save  {spread([p.wall for p in plain])} s (min / median / max)   "
              f"peak RSS {max(p.peak_mb for p in plain):.0f} MB")
        print(f"  brandkit stamp --all          {spread([s.wall for s in stamps])} s   "
              f"peak RSS {max(s.peak_mb for s in stamps):.0f} MB   stamp/openpyxl {spread(stamp_ratio)}×")
        print(f"  merge {forms}, master side      {spread([master_side(m) for m in merges])} s   "
              f"(whole merge {spread([m.wall for m in merges])} s, peak RSS {max(m.peak_mb for m in merges):.0f} MB)"
              f"   master side/openpyxl {spread(merge_ratio)}×")
        for label, runs in (("stamp --all", stamps), (f"merge of {forms}", merges)):
            mid = sorted(runs, key=lambda m: m.wall)[len(runs) // 2]
            print(f"  where the median {label}'s {mid.wall:.2f} s went:")
            for name, took in phase_table(mid):
                print(f"    {name:<46} {took:6.3f} s")
        print(f"\n| {rows} rows | median | peak RSS | vs openpyxl (median of pairs) |\n|---|---|---|---|")
        print(f"| openpyxl load + save | {statistics.median(p.wall for p in plain):.2f} s | "
              f"{max(p.peak_mb for p in plain):.0f} MB | 1 |")
        print(f"| stamp --all | {statistics.median(s.wall for s in stamps):.2f} s | "
              f"{max(s.peak_mb for s in stamps):.0f} MB | {statistics.median(stamp_ratio):.2f}× |")
        print(f"| merge {forms}: master side | {statistics.median(master_side(m) for m in merges):.2f} s | "
              f"{max(m.peak_mb for m in merges):.0f} MB (whole merge) | {statistics.median(merge_ratio):.2f}× |")


if __name__ == "__main__":
    args = sys.argv[1:]
    repeat = 3
    if args[:1] == ["--repeat"]:
        repeat, args = int(args[1]), args[2:]
    main(int(args[0]) if args else 20_000, int(args[1]) if len(args) > 1 else 300, repeat)
