"""Run a function over untrusted inputs in worker processes with memory and time limits.

A hostile file can abort the Rust reader outright (a 5 KB sheet declaring XFD1048576) or eat memory;
so each file is handled by a long-lived worker process with a memory cap, and the parent watches a
deadline. The cap is the OS's where it enforces one (RLIMIT_AS on Linux); elsewhere (macOS, Windows,
where a job object is also set) the parent polls each busy worker's resident memory and kills a worker
over its budget. A worker that dies, overruns or is killed is replaced and only that item fails; the
batch goes on.

Workers never inherit the parent's memory: on Windows they are spawned, each a fresh interpreter;
elsewhere they are forked from a fork server, a fresh interpreter of their own that has imported the
readers once (PRELOAD, plus the modules `warm_up` names), so a worker starts in milliseconds instead of
importing everything again. `warm_up` starts that server early (the merge calls it before it reads the
master), so its imports overlap the parent's. A forked worker takes the parent's BRANDKIT_* variables as
they are now, not as they were when the server started. multiprocessing starts processes with
`sys.executable`: under xlwings on Windows that is pythonw.exe, so the workers of a button click open no
console window either (no `multiprocessing.set_executable` needed). They never print: under pythonw
sys.stdout and sys.stderr are None.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from toolkit.files.phases import mark, phase
from toolkit.files.portable import cap_memory, memory_cap_enforced, resident_bytes, reuse_freed_memory

WATCH_INTERVAL_S = 0.05  # how often the parent checks a worker's memory where the OS does not cap it
# The most jobs a worker is sent at once: each batch is a round trip (1-2 ms on a busy machine, its jobs'
# profile pickled again); 16 rather than 8 made a 300-form merge's reading ~1.5 % shorter, run alternately
# with 8 on the same forms (as benchmarks/ab.py times two checkouts).
MAX_BATCH = 16
# What the master's reader uses (toolkit.readers.master_grids), and what the form workers use besides:
# imported once in the fork server `warm_up` starts, not in each worker nor on its first file. A server
# started by `run_isolated` itself imports only its function's module.
MASTER_PRELOAD = ("toolkit.readers.master_grids", "toolkit.readers.grid", "toolkit.readers.limits",
                  "toolkit.readers.sniff", "python_calamine")
PRELOAD = (*MASTER_PRELOAD, "toolkit.readers.submission", "toolkit.readers.logos", "lxml.etree", "PIL.Image",
           "PIL.JpegImagePlugin", "PIL.PngImagePlugin", "PIL.GifImagePlugin", "PIL.BmpImagePlugin")
_context: Any = None


def warm_up(*modules: str, preload: tuple[str, ...] = PRELOAD) -> None:
    """Start the fork server now (where there is one), importing `preload` and `modules`, so workers
    started later begin at once; on Windows nothing (workers are spawned). The first call decides.
    A command that reads only its master preloads MASTER_PRELOAD."""
    ctx = _start_context((*preload, *modules))
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _start_context(modules: tuple[str, ...] = ()) -> Any:
    global _context
    if _context is None:
        if sys.platform != "win32" and "forkserver" in mp.get_all_start_methods():
            _context = mp.get_context("forkserver")
            _context.set_forkserver_preload(["toolkit.files.server_exit", *modules])  # it exits at once
        else:
            _context = mp.get_context("spawn")
    return _context


def _own_variables() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("BRANDKIT_")}


@dataclass(frozen=True)
class Failure:
    """Why an item produced no result: "timeout", "crashed" (killed, aborted, out of memory) or
    "error" with the exception text (a bug in our code, not the input)."""

    reason: str
    detail: str = ""


def _worker(conn: Connection, func: Callable[..., Any], memory_bytes: int,
            after_batch: Callable[[], None] | None, spawned: float, variables: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith("BRANDKIT_") and k not in variables]:
        del os.environ[key]
    os.environ.update(variables)
    mark("worker: start + imports", spawned)
    reuse_freed_memory()  # each file's MB-sized buffers reuse the last file's pages
    if memory_bytes:
        cap_memory(memory_bytes)
    while True:
        try:
            batch = conn.recv()
        except EOFError:
            return
        if batch is None:
            return
        results: list[tuple[Any, Any]] = []
        with phase("worker: batch"):
            _run_batch(batch, func, after_batch, results)
        try:
            conn.send(results)
        except MemoryError:
            conn.send([(key, Failure("crashed", "MemoryError")) for key, _ in batch])


def _run_batch(batch: list[tuple[Any, Any]], func: Callable[..., Any], after_batch: Callable[[], None] | None,
               results: list[tuple[Any, Any]]) -> None:
    for key, args in batch:
        try:
            result: Any = func(*args)
        except MemoryError:
            result = Failure("crashed", "MemoryError")
        except Exception as exc:  # reported to the parent as this item's failure
            result = Failure("error", f"{type(exc).__name__}: {exc}")
        results.append((key, result))
    if after_batch is not None:
        after_batch()


class _Slot:
    def __init__(self, ctx: Any, func: Callable[..., Any], memory_bytes: int,
                 after_batch: Callable[[], None] | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, daemon=True,
                                args=(child, func, memory_bytes, after_batch, time.time(), _own_variables()))
        self.proc.start()
        child.close()
        self.job: tuple[list[tuple[Any, Any]], float] | None = None  # (batch, deadline)

    def over_budget(self, max_bytes: int) -> bool:
        """Whether the worker's resident memory is over `max_bytes` (False once it is gone: the sentinel
        reports that)."""
        rss = resident_bytes(self.proc.pid) if self.proc.pid is not None else None
        return rss is not None and rss > max_bytes

    def ask_to_stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            self.ask_to_stop()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def run_isolated(func: Callable[..., Any], jobs: Iterable[tuple[Any, tuple[Any, ...]]], *,
                 timeout_s: float, memory_bytes: int, workers: int | None = None,
                 after_batch: Callable[[], None] | None = None) -> Iterator[tuple[Any, Any]]:
    """Yield (key, result or Failure) for each (key, args) job, in completion order.
    `func` (and `after_batch`, run in the worker before a batch's results are sent: to finish
    background work those results depend on) must be importable by name.

    Large runs send jobs in batches (fewer round trips) that shrink as the queue empties, so the
    workers finish together; a batch that crashes or overruns is split and its jobs retried one by
    one, so only the hostile file fails. A worker over `memory_bytes` fails its item as "crashed",
    whether the OS stopped it (RLIMIT_AS) or the parent's watchdog killed it."""
    queue = deque(jobs)
    if not queue:
        return
    ctx = _start_context(tuple(m for m in (func.__module__,) if m.startswith("toolkit.")))
    n = max(1, min(workers or os.cpu_count() or 1, len(queue)))
    retry: list[tuple[Any, Any]] = []  # jobs of a failed batch, each to be sent alone
    watch = memory_bytes if memory_bytes and not memory_cap_enforced() else 0

    def next_batch() -> list[tuple[Any, Any]]:
        if retry:
            return [retry.pop()]
        size = max(1, min(MAX_BATCH, len(queue) // (n * 4)))
        return [queue.popleft() for _ in range(min(size, len(queue)))]

    slots = [_Slot(ctx, func, memory_bytes, after_batch) for _ in range(n)]
    try:
        while queue or retry or any(s.job for s in slots):
            for i, slot in enumerate(slots):
                if slot.job is None and (queue or retry):
                    batch = next_batch()
                    try:
                        slot.conn.send(batch)
                    except (OSError, ValueError):  # worker died between jobs
                        slot.stop(kill=True)
                        slots[i] = slot = _Slot(ctx, func, memory_bytes, after_batch)
                        slot.conn.send(batch)
                    slot.job = (batch, time.monotonic() + timeout_s)
            busy = [s for s in slots if s.job]
            wake = min(s.job[1] for s in busy if s.job)
            if watch:
                wake = min(wake, time.monotonic() + WATCH_INTERVAL_S)
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy],
                         timeout=max(0.0, wake - time.monotonic()))
            for i, slot in enumerate(slots):
                if slot.job is None:
                    continue
                batch, deadline = slot.job
                died = slot.proc.sentinel in ready
                if slot.conn in ready:
                    try:
                        results = slot.conn.recv()
                    except (EOFError, OSError):
                        results, died = None, True
                    if results is not None:
                        slot.job = None
                        yield from results
                        continue
                over = bool(watch) and not died and slot.over_budget(watch)
                if died or over or time.monotonic() >= deadline:
                    reason = "crashed" if died or over or not slot.proc.is_alive() else "timeout"
                    slot.stop(kill=True)
                    slots[i] = _Slot(ctx, func, memory_bytes, after_batch)
                    if len(batch) > 1:
                        retry.extend(reversed(batch))
                    else:
                        yield batch[0][0], Failure(reason)
    finally:
        for slot in slots:  # all at once: the workers wind down in parallel
            slot.ask_to_stop()
        for slot in slots:
            slot.stop()
