"""`brandkit merge`: read the inbox on all cores, check, plan, apply through the journal, keep logos.

The read workers also decode each logo to its ledger thumbnail (draft mode) and stage the original
beside the master, so no 1 MB photo ever crosses back to the parent process.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.atomic import sync_dir, write_atomic
from toolkit.attachments import attach_pictures, load_picture, picture_key
from toolkit.check import check_all
from toolkit.errors import UsageProblem
from toolkit.filenames import safe_name
from toolkit.ledger import MasterSnapshot
from toolkit.logos import ORIGINAL_SUFFIX, Logo, LogoError, normalize_logo
from toolkit.model import Finding, Picture, Submission
from toolkit.plan import BranchOutcome, Incoming, plan_merge
from toolkit.profile import Profile
from toolkit.readers.limits import DEFAULT_LIMITS, Limits
from toolkit.readers.submission import read_path

STAGING = ".staging"


def logo_dir(master: Path) -> Path:
    return master.with_name(f"{master.stem}_标识")


def read_for_merge(path: str, profile: Profile, sender: str | None, received: str | None, limits: Limits,
                   staging: str | None) -> list[tuple[Submission, Logo | None]]:
    """Worker: submissions with picture bytes dropped, each with its ledger-ready logo; each logo's
    original is staged (unless `staging` is None: a dry run)."""
    out = []
    for n, sub in enumerate(read_path(path, profile, sender, received, limits)):
        logo = None
        if sub.logo is not None and sub.logo.data:
            try:  # the original is named by its file's sha256 and sheet: no second 1 MB hash
                logo = _ledger_logo(sub.logo.data, f"{sub.provenance.sha256}-{n}", limits, staging)
            except LogoError as exc:
                sub.findings.append(Finding("image_format", "error", str(exc),
                                            field=profile.logo_field.name if profile.logo_field else None,
                                            cell=f"{sub.logo.sheet}!{sub.logo.cell}"))
            sub.logo = replace(sub.logo, data=b"")
        sub.pictures = [replace(p, data=b"") for p in sub.pictures]
        out.append((sub, logo))
    return out


def read_sent_logo(path: str, profile: Profile, sender: str | None, received: str | None, limits: Limits,
                   staging: str | None) -> tuple[Picture, Logo | str]:
    """Worker: a picture sent beside a form in its mail (toolkit.attachments), as its ledger-ready logo
    with the original staged like an embedded one's, or the reason it cannot be used."""
    picture = load_picture(path, limits)
    try:
        logo: Logo | str = _ledger_logo(picture.data, picture_key(picture.data), limits, staging)
    except LogoError as exc:
        logo = str(exc)
    return replace(picture, data=b""), logo


def _ledger_logo(data: bytes, key: str, limits: Limits, staging: str | None) -> Logo:
    """A logo's ledger thumbnail; its original is staged beside the master (unless `staging` is None)."""
    logo = normalize_logo(data, limits.max_picture_pixels, key)
    if staging is not None:
        _stage_original(Path(staging), data, logo)
    return logo


def _sent_logos(pairs: list[tuple[Submission, Logo | None]], profile: Profile, origins: dict[str, dict],
                limits: Limits, staging: str | None) -> list[tuple[Submission, Logo | None]]:
    """Forms without a logo take a picture sent in the same mail (toolkit.attachments), decoded and kept
    like an embedded logo; one that cannot be decoded is an image_format error at the logo cell."""
    subs, logos = attach_pictures([s for s, _ in pairs], profile, origins, limits, read_sent_logo, (staging,),
                                  finish_staging)
    out = []
    for n, (sub, (_, logo)) in enumerate(zip(subs, pairs, strict=True)):
        got = logos.get(n, logo)
        if isinstance(got, str):
            spec = profile.logo_field
            v = sub.fields.get(spec.name) if spec else None
            bad = Finding("image_format", "error", got, field=spec.name if spec else None, cell=v.cell if v else None)
            sub = replace(sub, findings=[*sub.findings, bad])
            got = None
        out.append((sub, got))
    return out


_writer: ThreadPoolExecutor | None = None
_writes: list[Future[None]] = []


def _stage_original(staging: Path, data: bytes, logo: Logo) -> None:
    """Write the original in the worker's writer thread (even its existence check: the staging folder is
    busy), so waiting on the disk overlaps decoding the next file. It goes straight to disk, not into
    the page cache the inbox is read from."""
    global _writer
    _writer = _writer or ThreadPoolExecutor(1, thread_name_prefix="brandkit-originals")
    _writes.append(_writer.submit(_write_original, staging / (logo.key + _original_suffix(logo)), data))


def _original_suffix(logo: Logo) -> str:
    return ORIGINAL_SUFFIX.get(logo.original_format, ".bin")


def _write_original(target: Path, data: bytes) -> None:
    try:
        if not target.exists():
            write_atomic(target, data, keep_cached=False, sync_folder=False)  # scratch names
    except OSError:
        pass  # keep_originals names the branches whose original is missing


def finish_staging() -> None:
    """Worker, after each batch: every original staged so far is on disk before the results go back."""
    while _writes:
        _writes.pop().result()


@dataclass
class MergeResult:
    master: Path
    backup: Path | None
    outcomes: list[BranchOutcome]
    dry_run: bool
    changes: Any = None
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # path -> findings of rejected
    logos: dict[str, Logo] = field(default_factory=dict)  # branch -> logo placed
    missing_originals: list[str] = field(default_factory=list)  # branches whose original was not kept

    def names(self, action: str) -> list[str]:
        return [o.branch for o in self.outcomes if o.action == action]

    @property
    def rejected(self) -> list[BranchOutcome]:
        return [o for o in self.outcomes if o.action in ("rejected", "held")]

    def to_json(self) -> dict[str, Any]:
        return {
            "master": str(self.master), "backup": str(self.backup) if self.backup else None,
            "dry_run": self.dry_run,
            "added": self.names("added"), "updated": self.names("updated"),
            "unchanged": self.names("unchanged"), "superseded": self.names("superseded"),
            "rejected": [{"path": o.path, "branch": o.branch or None, "held": o.action == "held",
                          "findings": [f.to_json() for f in self.findings.get(o.path, [])]}
                         for o in self.rejected],
            "changes": {o.branch: [{"field": k, "before": b, "after": a} for k, b, a in o.changes]
                        for o in self.outcomes if o.changes},
            "missing_originals": self.missing_originals,
        }


def merge(master: Path, inputs: list[Path], *, dry_run: bool = False, operator: str | None = None,
          accept_warnings: bool = False, limits: Limits = DEFAULT_LIMITS,
          progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None) -> MergeResult:
    from toolkit.journal import apply_changes, refuse_if_open
    from toolkit.ledger import load_master

    refuse_if_open(master)
    result = plan_inbox(load_master(master), inputs, dry_run=dry_run, operator=operator,
                        accept_warnings=accept_warnings, limits=limits, progress=progress, now=now)
    finish(result, None if dry_run else lambda: apply_changes(master, result.changes))
    return result


def finish(result: MergeResult, apply: Callable[[], Path | None] | None) -> None:
    """Apply a planned merge with `apply` (None: do not apply), keep the placed logos' originals, and
    always clear the originals staged for it. Shared by the CLI and the Excel button."""
    try:
        if apply is not None:
            result.backup = apply()
            keep_originals(result)
    finally:
        _clear_staging(result.master)


def _clear_staging(master: Path) -> None:
    import shutil

    shutil.rmtree(logo_dir(master) / STAGING, ignore_errors=True)


def plan_inbox(snap: MasterSnapshot, inputs: list[Path], *, dry_run: bool = False, operator: str | None = None,
               accept_warnings: bool = False, limits: Limits = DEFAULT_LIMITS,
               progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None) -> MergeResult:
    """Read, check and plan a merge of `inputs` into the master `snap` describes; nothing is applied.
    Shared by the CLI (file backend) and the Excel buttons (live backend)."""
    from toolkit.batch import collect_paths, failed_submission, origins_for, read_each
    from toolkit.sandbox import Failure

    master = snap.path
    if snap.ledger is None:
        raise UsageProblem(f"{master.name} 中没有找到台账（含“{snap.profile.key}”列的表头），"
                           f"请先运行 brandkit init {master.name} --profile {snap.profile.id}")
    files = [f for f in collect_paths(inputs) if f.resolve() != snap.path.resolve()]
    if not files:
        raise UsageProblem("没有找到要合并的申报表文件")
    staging = None if dry_run else logo_dir(master) / STAGING
    if staging is not None:
        staging.mkdir(parents=True, exist_ok=True)
    try:  # the staged originals belong to this merge: gone if planning fails; `finish` removes them otherwise
        origins = origins_for(inputs)
        results = read_each(files, read_for_merge, snap.profile, str(staging) if staging else None,
                            origins=origins, limits=limits, progress=progress, after_batch=finish_staging)
        pairs = [pair for path, result in zip(files, results, strict=True)
                 for pair in ([(failed_submission(path, result, limits), None)] if isinstance(result, Failure)
                              else result)]
        pairs = _sent_logos(pairs, snap.profile, origins, limits, str(staging) if staging else None)
        checked = check_all([s for s, _ in pairs], snap.profile, snap.roster or None)
        incoming = [Incoming(c, logo) for c, (_, logo) in zip(checked, pairs, strict=True)]
        now = now or dt.datetime.now().replace(microsecond=0)
        plan = plan_merge(snap, incoming, accept_warnings=accept_warnings, now=now,
                          operator=operator or os.environ.get("BRANDKIT_OPERATOR") or getpass.getuser())
        return MergeResult(master, None, plan.outcomes, dry_run, plan.changes,
                           {c.submission.provenance.path: c.findings for c in checked if c.findings}, plan.logos)
    except BaseException:
        _clear_staging(master)
        raise


def keep_originals(result: MergeResult) -> None:
    """Once the merge is applied: name each placed logo's original after its branch, beside the master
    (the same content is never written twice); branches whose staged original is missing are noted
    in `result.missing_originals`."""
    import filecmp
    import shutil

    folder = logo_dir(result.master)
    staging = folder / STAGING
    for branch, logo in result.logos.items():
        staged = staging / (logo.key + _original_suffix(logo))
        target = folder / safe_name(branch, suffix=_original_suffix(logo))
        if not staged.exists():
            result.missing_originals.append(branch)
            continue
        if target.exists() and filecmp.cmp(staged, target, shallow=False):
            continue
        tmp = target.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(staged, tmp)  # no 1 MB copy per logo; staging is removed afterwards
        except OSError:
            shutil.copyfile(staged, tmp)
        try:
            os.replace(tmp, target)
        except PermissionError:  # Windows: a picture viewer holds the previous original open
            tmp.unlink(missing_ok=True)
            result.missing_originals.append(branch)
    if result.logos:
        sync_dir(folder)
