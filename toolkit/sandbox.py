"""Run a function over untrusted inputs in worker processes with memory and time limits.

A hostile file can abort the Rust reader outright (a 5 KB sheet declaring XFD1048576) or eat memory;
so each file is handled by a long-lived worker process with an address-space limit, and the parent
watches a deadline. A worker that dies or overruns is replaced and only that item fails; the batch
goes on. Workers are spawned (not forked) so they start lean, whatever the parent has imported.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any


@dataclass(frozen=True)
class Failure:
    """Why an item produced no result: "timeout", "crashed" (killed, aborted, out of memory) or
    "error" with the exception text (a bug in our code, not the input)."""

    reason: str
    detail: str = ""


def _worker(conn: Connection, func: Callable[..., Any], memory_bytes: int) -> None:
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        key, args = job
        try:
            result: Any = func(*args)
        except MemoryError:
            result = Failure("crashed", "MemoryError")
        except Exception as exc:  # reported to the parent as this item's failure
            result = Failure("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send((key, result))
        except MemoryError:
            conn.send((key, Failure("crashed", "MemoryError")))


class _Slot:
    def __init__(self, ctx: Any, func: Callable[..., Any], memory_bytes: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, func, memory_bytes), daemon=True)
        self.proc.start()
        child.close()
        self.job: tuple[Any, float] | None = None  # (key, deadline)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def run_isolated(func: Callable[..., Any], jobs: Iterable[tuple[Any, tuple[Any, ...]]], *,
                 timeout_s: float, memory_bytes: int, workers: int | None = None) -> Iterator[tuple[Any, Any]]:
    """Yield (key, result or Failure) for each (key, args) job, in completion order.
    `func` must be importable by name (a module-level function)."""
    pending = list(jobs)
    pending.reverse()
    if not pending:
        return
    ctx = mp.get_context("spawn")
    n = max(1, min(workers or os.cpu_count() or 1, len(pending)))
    slots = [_Slot(ctx, func, memory_bytes) for _ in range(n)]
    try:
        while pending or any(s.job for s in slots):
            for i, slot in enumerate(slots):
                if slot.job is None and pending:
                    key, args = pending.pop()
                    try:
                        slot.conn.send((key, args))
                    except (OSError, ValueError):  # worker died between jobs
                        slot.stop(kill=True)
                        slots[i] = slot = _Slot(ctx, func, memory_bytes)
                        slot.conn.send((key, args))
                    slot.job = (key, time.monotonic() + timeout_s)
            busy = [s for s in slots if s.job]
            now = time.monotonic()
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy],
                         timeout=max(0.0, min(s.job[1] for s in busy) - now))
            for i, slot in enumerate(slots):
                if slot.job is None:
                    continue
                key, deadline = slot.job
                died = slot.proc.sentinel in ready
                if slot.conn in ready:
                    try:
                        got_key, result = slot.conn.recv()
                    except (EOFError, OSError):
                        got_key, result, died = key, None, True
                    if result is not None and got_key == key:
                        slot.job = None
                        yield key, result
                        continue
                if died or time.monotonic() >= deadline:
                    reason = "crashed" if died or not slot.proc.is_alive() else "timeout"
                    slot.stop(kill=True)
                    slots[i] = _Slot(ctx, func, memory_bytes)
                    yield key, Failure(reason)
    finally:
        for slot in slots:
            slot.stop()
