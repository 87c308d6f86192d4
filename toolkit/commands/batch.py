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
_MASTER_SUFFIXES = (".xlsx", ".xlsm")
LOGO_SUFFIX, SUMMARY_SUFFIX = "_标识", "_汇总"  # <台账>_标识/ (logo originals), <台账>_汇总.xlsx


def collect_paths(inputs: Iterable[str | Path], *, pictures: bool = False, exclude: Iterable[Path] = ()) -> list[Path]:
    """Files named, and every file under folders named (sorted), minus brandkit's own files (see
    _brandkit_own: an inbox may be the master's own folder; `exclude`: those only the caller knows, as the
    master itself and a button's 汇总文件), Office owner files (~$x.xlsx), hidden files and folders
    (.brandkit-备份) and loose pictures (those are logo fallbacks or photos, not forms; `pictures` keeps them)."""
    own = frozenset(Path(p).resolve() for p in exclude)
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                skip = _brandkit_own(Path(root), dirs, files, own)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in skip)
                found.extend(Path(root) / f for f in sorted(files) if _wanted(f, pictures) and f not in skip)
        elif not (own and path.resolve() in own):
            found.append(path)
    return found


def _brandkit_own(root: Path, dirs: list[str], files: list[str], own: frozenset[Path]) -> set[str]:
    """Names in `root` that brandkit wrote beside a master there, never forms: a workbook with backups in
    .brandkit-备份 (the master), `<master>_标识` and `<master>_汇总.xlsx` beside a workbook, and `own`."""
    from toolkit.files.transaction import BACKUP_DIR, backup_dir

    books = {Path(f).stem for f in files if f.lower().endswith(_MASTER_SUFFIXES)}
    skip = {d for d in dirs if d.endswith(LOGO_SUFFIX) and d.removesuffix(LOGO_SUFFIX) in books}
    skip |= {f for f in files if f.lower().endswith(".xlsx") and Path(f).stem.endswith(SUMMARY_SUFFIX)
             and Path(f).stem.removesuffix(SUMMARY_SUFFIX) in books}
    if BACKUP_DIR in dirs:
        backed_up = set(os.listdir(root / BACKUP_DIR))
        skip |= {f for f in files if f.lower().endswith(_MASTER_SUFFIXES) and backup_dir(root / f).name in backed_up}
    names = {p.name for p in own}  # resolve() only for a name that may be one: it is a syscall or more
    skip |= {n for n in (*dirs, *files) if n in names and (root / n).resolve() in own}
    return skip


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
