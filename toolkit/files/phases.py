"""Opt-in timings of a command's phases, for `benchmarks/merge.py` and `benchmarks/big_master.py`.

With BRANDKIT_PHASES=<file> set, every process of a run (the parent and the workers it spawns, which
inherit the environment) appends one JSON line per phase to that file: `{"pid", "phase", "start",
"end"}` in wall-clock seconds (`time.time()`, comparable across processes). Unset, `phase` and `mark`
cost one dictionary lookup and write nothing. Nothing here changes what a command does.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "BRANDKIT_PHASES"


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase `name` (when BRANDKIT_PHASES is set)."""
    if not os.environ.get(ENV):
        yield
        return
    start = time.time()
    try:
        yield
    finally:
        record(name, start, time.time())


def mark(name: str, start: float | None = None) -> None:
    """A phase that ended now, begun at `start` (wall clock; a point in time when None)."""
    if os.environ.get(ENV):
        now = time.time()
        record(name, now if start is None else start, now)


def record(name: str, start: float, end: float) -> None:
    """Append one phase line; a file that cannot be written loses the timing, never the run."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps({"pid": os.getpid(), "phase": name, "start": start, "end": end}) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as fh:  # one short append: whole lines from every process
            fh.write(line)
    except OSError:
        pass
