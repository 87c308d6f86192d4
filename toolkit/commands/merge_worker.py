"""What the merge's worker processes run: read a form, decode each logo to its ledger thumbnail (draft
mode) and stage its original beside the master, so no 1 MB photo ever crosses back to the parent.

Kept apart from toolkit.commands.merge (checking, planning, applying) so the workers' fork server
imports only what reading needs: the plan, the checks and the deliverables never load there.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from toolkit.commands.attachments import load_picture, picture_key
from toolkit.core.model import Logo, Picture, Submission
from toolkit.core.profile import Profile
from toolkit.files.atomic import write_atomic
from toolkit.readers.imageinfo import image_info
from toolkit.readers.limits import Limits
from toolkit.readers.logos import ORIGINAL_SUFFIX, LogoError, Stage, logo_words, normalize_logo
from toolkit.readers.submission import read_forms


def read_for_merge(path: str, profile: Profile, sender: str | None, received: str | None, limits: Limits,
                   staging: str | None) -> list[tuple[Submission, Logo | None]]:
    """Worker: submissions with picture bytes dropped, each with its ledger-ready logo; each logo's
    original is staged (unless `staging` is None: a dry run). The logos are decoded by read_forms, as
    validate decodes them: a logo that cannot be used is the same finding in both."""
    out = []
    # the original is named by its file's sha256 and sheet: no second 1 MB hash
    for sub, logo in read_forms(path, profile, sender, received, limits, _stager(staging)):
        if sub.logo is not None:
            sub.logo = replace(sub.logo, data=b"")
        sub.pictures = [replace(p, data=b"") for p in sub.pictures]
        out.append((sub, logo))
    return out


def read_sent_logo(path: str, profile: Profile, sender: str | None, received: str | None, limits: Limits,
                   staging: str | None) -> tuple[Picture, Logo | str]:
    """Worker: a picture sent beside a form in its mail (toolkit.commands.attachments), as its ledger-ready logo
    with the original staged like an embedded one's, or the reason it cannot be used."""
    picture = load_picture(path, limits)
    try:
        logo: Logo | str = _ledger_logo(picture.data, picture_key(picture.data), limits, staging)
    except LogoError as exc:
        logo = exc.text(*logo_words(profile))
    return replace(picture, data=b""), logo


def _ledger_logo(data: bytes, key: str, limits: Limits, staging: str | None) -> Logo:
    """A logo's ledger thumbnail; its original is staged beside the master (unless `staging` is None)
    before the thumbnail is decoded, so writing it overlaps the decoding, even for a batch's last form.
    A picture that then fails to decode leaves a staged file no ledger names: cleared with the staging."""
    stage = _stager(staging)
    if stage is not None:
        stage(data, key)
    return normalize_logo(data, limits.max_picture_pixels, key)


def _stager(staging: str | None) -> Stage | None:
    """What stages a logo's original in `staging` under its key (None in a dry run)."""
    if staging is None:
        return None
    folder = Path(staging)

    def stage(data: bytes, key: str) -> None:
        _stage_original(folder / (key + ORIGINAL_SUFFIX.get(image_info(data)[0], ".bin")), data)

    return stage


_writer: ThreadPoolExecutor | None = None
_writes: list[Future[None]] = []


def _stage_original(target: Path, data: bytes) -> None:
    """Write the original in the worker's writer thread (even its existence check: the staging folder is
    busy), so waiting on the disk overlaps decoding. It goes straight to disk, not into the page cache
    the inbox is read from."""
    global _writer
    _writer = _writer or ThreadPoolExecutor(1, thread_name_prefix="brandkit-originals")
    _writes.append(_writer.submit(_write_original, target, data))


def original_suffix(logo: Logo) -> str:
    """The suffix its original is staged and kept with (as _ledger_logo names it: by the picture's header)."""
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
