"""What the benchmarks share: a command timed as a whole process with its peak memory summed over the
process and every process under it, and brandkit's phase table (BRANDKIT_PHASES, toolkit/files/phases.py).

Figures are only worth comparing within one run: `python benchmarks/merge.py` times brandkit and its
baselines in turn, on the same files, and prints ratios.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.01


@dataclass
class Measured:
    wall: float  # seconds, from before the process is started until it has been reaped
    peak_mb: float  # the largest sum of resident memory over the process and all its descendants
    cpu: float  # CPU seconds (user + system) of the process and its descendants, each as last polled
    cpu_own: float  # of those, the process's own (brandkit's parent: start-up, checks, plan, apply)
    started: float  # wall clock (time.time()) just before the process was started
    ended: float
    phases: list[dict] = field(default_factory=list)  # BRANDKIT_PHASES lines, when asked for
    stdout: str = ""


def run(args: list[str], *, phases: bool = False, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Measured:
    """Run `python ARGS`, polling the summed RSS of its process tree (psutil) every POLL_S, and each
    process's CPU time: on a shared machine, CPU seconds drift far less than wall time (time the host
    takes away is not counted), though each process's last POLL_S escapes the poll."""
    import psutil

    compile_bytecode()
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryDirectory(prefix="bk-phases-") as tmp:
        log = Path(tmp) / "phases.jsonl"
        if phases:
            environ["BRANDKIT_PHASES"] = str(log)
        started = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], cwd=cwd, env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        peak = [0]
        cpu: dict[int, float] = {}
        done = threading.Event()

        def watch() -> None:
            try:
                root = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while not done.is_set():
                total = 0
                try:
                    for p in [root, *root.children(recursive=True)]:
                        try:
                            total += p.memory_info().rss
                            times = p.cpu_times()
                            cpu[p.pid] = times.user + times.system
                        except psutil.Error:
                            pass
                except psutil.Error:
                    pass
                peak[0] = max(peak[0], total)
                done.wait(POLL_S)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        out, err = proc.communicate()
        wall = time.perf_counter() - t0
        ended = time.time()
        done.set()
        watcher.join()
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return Measured(wall, peak[0] / 2**20, sum(cpu.values()), cpu.get(proc.pid, 0.0), started, ended, lines, out)


def options(args: list[str], **defaults: str) -> tuple[dict[str, str], list[str]]:
    """The leading `--name value` pairs of a benchmark's arguments over `defaults`, and the arguments after."""
    values = dict(defaults)
    while len(args) > 1 and args[0].startswith("--") and args[0][2:] in values:
        values[args[0][2:]], args = args[1], args[2:]
    return values, args


def merge_args(master: Path, inbox: Path) -> list[str]:
    """`brandkit merge` as every benchmark times it (for `run`): quiet, warnings accepted."""
    return ["-m", "toolkit", "-q", "merge", str(master), str(inbox), "--accept-warnings"]


def compile_bytecode() -> None:
    """Compile brandkit's modules to bytecode first, as an installed brandkit has them (pip compiles at
    install; an editable install writes them on first import). Where PYTHONDONTWRITEBYTECODE is set
    (this machine, some CI) every timed run would otherwise compile ~150 modules from source again:
    0.1 s in the parent and as much in the workers' server, which no user ever pays."""
    import compileall

    compileall.compile_dir(ROOT / "toolkit", quiet=2)


def phase_table(m: Measured) -> list[tuple[str, float]]:
    """Where brandkit's time went, in order: interpreter start (launch to the first line of
    toolkit.__main__), the parent's phases, the master's reader process and the form workers' start
    (fork or spawn to ready, the slowest), their busy time per worker, and the exit."""
    rows = sorted(m.phases, key=lambda r: r["start"])
    if not rows:
        return []
    parent = rows[0]["pid"]
    own = [r for r in rows if r["pid"] == parent]
    workers = [r for r in rows if r["pid"] != parent]
    out = [("interpreter start", rows[0]["start"] - m.started)]
    grids = next((r for r in own if r["phase"] == "master: grids (child)"), None)
    starts = [r for r in workers if r["phase"] == "worker: start + imports"]
    master_child = [r for r in starts if grids and grids["start"] <= r["start"] <= grids["end"]]
    form_workers = [r for r in starts if r not in master_child]
    busy: dict[int, float] = {}
    for r in workers:
        if r["phase"] == "worker: batch" and r["pid"] not in {c["pid"] for c in master_child}:
            busy[r["pid"]] = busy.get(r["pid"], 0.0) + r["end"] - r["start"]
    for r in own:
        out.append((r["phase"], r["end"] - r["start"]))
        if r["phase"] == "master: grids (child)" and master_child:
            out.append(("  of which: reader process start", _longest(master_child)))
        if r["phase"].startswith("merge: read forms") and form_workers:
            out.append(("  of which: workers start (slowest)", _longest(form_workers)))
            out.append(("  workers busy (mean per worker)", statistics.fmean(busy.values()) if busy else 0.0))
    covered = sum(d for name, d in out if not name.startswith("  "))
    out.append(("other (dispatch, imports in commands, gaps)", m.ended - m.started - covered - (m.ended - own[-1]["end"])))
    out.append(("exit (after the last phase)", m.ended - own[-1]["end"]))
    return out


def _longest(rows: list[dict]) -> float:
    return max(r["end"] - r["start"] for r in rows)


def spread(values: list[float]) -> str:
    """min / median / max of repeated figures."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def new_master(folder: Path, branches: list[str]) -> Path:
    """A hospital-brand master made by `brandkit init` with these branches on its roster (20 党总支)."""
    roster = folder / "roster.csv"
    roster.write_text("党总支,党支部名称\n" + "".join(f"第{i % 20}党总支,{b}\n" for i, b in enumerate(branches)),
                      encoding="utf-8")
    master = folder / "master.xlsx"
    subprocess.run([sys.executable, "-m", "toolkit", "init", str(master), "--profile", "hospital-brand",
                    "--roster", str(roster)], check=True, cwd=ROOT, capture_output=True)
    return master
