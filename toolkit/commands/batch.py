"""The shell around the readers: find the files, read each in the sandbox, never stop a batch."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from toolkit.core.model import Provenance, Submission
from toolkit.core.profile import Profile
from toolkit.files.portable import prefetch
from toolkit.files.sandbox import Failure, run_isolated
from toolkit.readers.errors import Unreadable
from toolkit.readers.limits import DEFAULT_LIMITS, Limits
from toolkit.readers.submission import read_path, unreadable_submission

REPORT_SUFFIX = "_校验结果"
_SKIP_NAMES = {"inbox.jsonl", "校验汇总.xlsx", "desktop.ini", "thumbs.db"}
_PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


def collect_paths(inputs: Iterable[str | Path], *, pictures: bool = False) -> list[Path]:
    """Files named, and every file under folders named (sorted), minus brandkit's own outputs, Office
    owner files (~$x.xlsx), hidden files and loose pictures (those are logo fallbacks or photos, not
    forms; `pictures` keeps them)."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if _wanted(f, pictures))
        else:
            found.append(path)
    return found


def _wanted(name: str, pictures: bool = False) -> bool:
    low = name.lower()
    return not (name.startswith((".", "~$")) or low in _SKIP_NAMES or Path(name).stem.endswith(REPORT_SUFFIX)
                or (Path(low).suffix in _PICTURE_SUFFIXES and not pictures)
                or low.endswith((".sqlite", ".jsonl", ".eml")))


def read_all(paths: list[Path], profile: Profile, *, origins: dict[str, dict] | None = None,
             limits: Limits = DEFAULT_LIMITS,
             progress: Callable[[int, int], None] | None = None) -> list[Submission]:
    """Submissions of every file, in the order of `paths`. `origins` maps a resolved path to its intake
    record (sender, received) from the inbox manifest; a form without a logo gets the pictures its mail
    brought (toolkit.commands.attachments)."""
    from toolkit.commands.attachments import attach_pictures

    results = read_each(paths, read_path, profile, origins=origins or {}, limits=limits, progress=progress)
    subs = [sub for path, result in zip(paths, results, strict=True)
            for sub in ([failed_submission(path, result, limits)] if isinstance(result, Failure) else result)]
    return attach_pictures(subs, profile, origins or {}, limits)[0]


def read_each(paths: list[Path], reader: Callable[..., Any], profile: Profile, *extra: Any,
              origins: dict[str, dict], limits: Limits, progress: Callable[[int, int], None] | None = None,
              after_batch: Callable[[], None] | None = None) -> list[Any]:
    """`reader(path, profile, sender, received, limits, *extra)` for every file in the sandbox, on all
    cores; results (a Failure where the reader died or overran) in the order of `paths`."""
    jobs = []
    for n, path in enumerate(paths):
        origin = origins.get(str(path.resolve()), {}) if origins else {}  # resolve() is a syscall or more
        jobs.append((n, (str(path), profile, origin.get("sender"), origin.get("received"), limits, *extra)))
    results: dict[int, Any] = {}
    ahead = read_ahead(paths)
    for done, (n, result) in enumerate(run_isolated(reader, jobs, timeout_s=limits.timeout_s,
                                                     memory_bytes=limits.memory_bytes,
                                                     after_batch=after_batch), start=1):
        results[n] = result
        ahead(done)
        if progress:
            progress(done, len(paths))
    return [results[n] for n in range(len(paths))]


def read_ahead(paths: list[Path], window: int = 48) -> Callable[[int], None]:
    """Ask the OS to read the next `window` files into memory while the workers decode, so they rarely
    wait on the disk. Returns `done(count)`, to call as results come in. Only a hint (`prefetch`)."""

    def hint(n: int) -> None:
        if n < len(paths):
            prefetch(paths[n])

    for n in range(window):
        hint(n)
    return lambda done: hint(done + window - 1)


def failed_submission(path: Path, failure: Failure, limits: Limits) -> Submission:
    """A file whose reader process crashed or overran: unreadable, with the reason and what to do."""
    reason = failure.reason if failure.reason in ("timeout", "crashed") else "crashed"
    detail = failure.detail if failure.reason == "error" else ""  # the exception: for whoever maintains brandkit
    return unreadable_submission(Provenance(path=str(path), sha256=""),
                                 Unreadable(reason, seconds=int(limits.timeout_s), detail=detail[:200]))


def origins_for(inputs: Iterable[str | Path]) -> dict[str, dict]:
    """Sender and received time of each file, from the intake manifest of every inbox folder given."""
    origins: dict[str, dict] = {}
    for item in inputs:
        if Path(item).is_dir() and (Path(item) / "inbox.jsonl").exists():
            from toolkit.mail import read_manifest

            origins.update(read_manifest(Path(item)))
    return origins
