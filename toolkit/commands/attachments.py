"""A logo sent as a separate picture in the same mail as a form without one (DESIGN §5).

The intake manifest (inbox.jsonl) says which saved files came in one mail (Message-ID, else sender and
time). A form read without a logo takes a picture of its own mail when the picture is named after its
branch; otherwise, when it is the only form of the mail without a logo, the one picture named 标识/logo,
or the mail's only picture. Nothing is ever paired across mails or for files without a manifest line.
The pairing is pure (`pair_pictures`); the picture itself is read in the sandbox like any untrusted file,
and the rules say which file was taken (`image_missing` warning) or name the pictures that came with
the mail when none could be (`image_missing`).
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from toolkit.core.model import Picture, Submission
from toolkit.core.profile import Profile
from toolkit.core.text import normalize_branch
from toolkit.readers.limits import DEFAULT_LIMITS, Limits, check_size

PICTURE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"})  # what intake keeps
LOGO_WORDS = ("标识", "logo")
_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg"}


@dataclass(frozen=True)
class MailPicture:
    path: str  # the saved file (resolved)
    name: str  # the attachment's name as sent


@dataclass(frozen=True)
class Pairing:
    """For one form without a logo: the picture taken as its logo (or None), and every picture its mail
    brought (named in the message when none was taken)."""

    taken: MailPicture | None
    sent: tuple[MailPicture, ...]


def mail_of(record: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """Which mail a manifest line's file came in; None when the line cannot tell."""
    if not record:
        return None
    if record.get("message_id"):
        return ("message_id", record["message_id"])
    if record.get("sender") and record.get("received"):
        return ("mail", record["sender"], record["received"], record.get("subject"))
    return None


def _resolved(path: str) -> str:
    return str(Path(path).resolve())


def _stem(picture: MailPicture) -> str:
    return "".join(unicodedata.normalize("NFKC", Path(picture.name).stem).split()).lower()


def _owner(picture: MailPicture, branches: Iterable[str]) -> str | None:
    """The (normalised) branch the picture is named after: the longest whose name its file name holds."""
    stem = _stem(picture)
    named = [b for b in branches if b and b in stem]
    return max(named, key=len) if named else None


def pair_pictures(subs: list[Submission], profile: Profile, origins: dict[str, dict[str, Any]]) -> dict[int, Pairing]:
    """Index into `subs` -> its pairing, for every readable form without a logo whose mail brought
    pictures (a profile without a logo field pairs nothing). `origins`: the intake manifest's lines by
    resolved path."""
    if profile.logo_field is None:
        return {}
    pictures: dict[tuple[Any, ...], list[MailPicture]] = {}
    for path, record in origins.items():
        if Path(path).suffix.lower() in PICTURE_SUFFIXES and (mail := mail_of(record)) is not None:
            pictures.setdefault(mail, []).append(MailPicture(path, record.get("name") or Path(path).name))
    if not pictures:
        return {}
    forms: dict[tuple[Any, ...], list[int]] = {}
    for i, sub in enumerate(subs):
        mail = mail_of(origins.get(_resolved(sub.provenance.path)))
        if mail in pictures and sub.readable and sub.fields:
            forms.setdefault(mail, []).append(i)
    out: dict[int, Pairing] = {}
    for mail, idxs in forms.items():
        sent = tuple(sorted(pictures[mail], key=lambda p: p.name))
        branch = {i: normalize_branch(str(subs[i].value(profile.key) or "")) for i in idxs}
        owner = {p: _owner(p, branch.values()) for p in sent}
        wanting = [i for i in idxs if subs[i].logo is None]
        for i in wanting:
            mine = [p for p in sent if branch[i] and owner[p] == branch[i]]
            free = [p for p in sent if owner[p] is None]
            logos = [p for p in free if any(w in _stem(p) for w in LOGO_WORDS)]
            alone = len(wanting) == 1
            if len(mine) == 1:
                taken: MailPicture | None = mine[0]
            elif not mine and alone and len(logos) == 1:
                taken = logos[0]
            elif not mine and alone and len(sent) == 1 and free:
                taken = sent[0]
            else:
                taken = None
            out[i] = Pairing(taken, sent)
    return out


def load_picture(path: str, limits: Limits = DEFAULT_LIMITS) -> Picture:
    """A picture file as a Picture (format and size from its header; nothing decoded), size checked first."""
    from toolkit.readers.imageinfo import image_info

    check_size(os.path.getsize(path), limits)
    with open(path, "rb") as fh:
        data = fh.read()
    fmt, width, height = image_info(data)
    return Picture("", -1, -1, "attachment", fmt, width, height, data, Path(path).name)


def read_picture(path: str, profile: Profile, sender: str | None, received: str | None,
                 limits: Limits) -> tuple[Picture, None]:
    """Worker (validate): the picture's header only; its bytes stay in the worker."""
    return replace(load_picture(path, limits), data=b""), None


def picture_key(data: bytes) -> str:
    """The staging name of a sent picture's original (its content, so one picture is kept once)."""
    return f"{hashlib.sha256(data).hexdigest()}-mail"


def attach_pictures(subs: list[Submission], profile: Profile, origins: dict[str, dict[str, Any]],
                    limits: Limits = DEFAULT_LIMITS, reader: Callable[..., tuple[Picture, Any]] = read_picture,
                    extra: tuple[Any, ...] = (), after_batch: Callable[[], None] | None = None,
                    ) -> tuple[list[Submission], dict[int, Any]]:
    """`subs` with the pictures their mails brought (each as an "attachment" picture, the paired one as
    the logo), and, per index whose logo was taken from the mail, the second item `reader` returned
    for it (the merge's ledger-ready logo). Pictures are read in the sandbox; one that cannot be read
    is listed but not taken."""
    pairings = pair_pictures(subs, profile, origins)
    chosen = sorted({p.taken.path for p in pairings.values() if p.taken})
    results: dict[str, Any] = {}
    if chosen:
        from toolkit.commands.batch import read_each

        read = read_each([Path(c) for c in chosen], reader, profile, *extra, origins={}, limits=limits,
                         after_batch=after_batch)
        results = dict(zip(chosen, read, strict=True))
    out: list[Submission] = list(subs)
    extras: dict[int, Any] = {}
    for i, pairing in pairings.items():
        got = results.get(pairing.taken.path) if pairing.taken else None  # a Failure when unreadable
        logo = None
        if isinstance(got, tuple) and pairing.taken is not None:
            logo = replace(got[0], name=pairing.taken.name)
            extras[i] = got[1]
        sent = [logo if logo is not None and p == pairing.taken else _unread(p) for p in pairing.sent]
        out[i] = replace(subs[i], logo=logo, pictures=[*subs[i].pictures, *sent])
    return out, extras


def _unread(picture: MailPicture) -> Picture:
    suffix = Path(picture.path).suffix.lower()  # intake gives a saved file the suffix its content has
    return Picture("", -1, -1, "attachment", _FORMATS.get(suffix, suffix.lstrip(".") or "unknown"), None, None,
                   b"", picture.name)
