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
from collections import deque
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


def _worker(conn: Connection, func: Callable[..., Any], memory_bytes: int,
            after_batch: Callable[[], None] | None) -> None:
    if memory_bytes:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            batch = conn.recv()
        except EOFError:
            return
        if batch is None:
            return
        results = []
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
        try:
            conn.send(results)
        except MemoryError:
            conn.send([(key, Failure("crashed", "MemoryError")) for key, _ in batch])


class _Slot:
    def __init__(self, ctx: Any, func: Callable[..., Any], memory_bytes: int,
                 after_batch: Callable[[], None] | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, func, memory_bytes, after_batch), daemon=True)
        self.proc.start()
        child.close()
        self.job: tuple[list[tuple[Any, Any]], float] | None = None  # (batch, deadline)

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
    one, so only the hostile file fails."""
    queue = deque(jobs)
    if not queue:
        return
    ctx = mp.get_context("spawn")
    n = max(1, min(workers or os.cpu_count() or 1, len(queue)))
    retry: list[tuple[Any, Any]] = []  # jobs of a failed batch, each to be sent alone

    def next_batch() -> list[tuple[Any, Any]]:
        if retry:
            return [retry.pop()]
        size = max(1, min(8, len(queue) // (n * 4)))
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
            ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy],
                         timeout=max(0.0, min(s.job[1] for s in busy) - time.monotonic()))
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
                if died or time.monotonic() >= deadline:
                    reason = "crashed" if died or not slot.proc.is_alive() else "timeout"
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
