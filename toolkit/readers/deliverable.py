"""One untrusted file that is not a form (a report, a photo, a list of news links) -> `Received`.
Runs inside the sandbox's worker process like the form readers; nothing is written, no bytes go back."""

from __future__ import annotations

import hashlib
import os

from toolkit.core.deliverables import PICTURE_FORMATS, Received, links_in, reads_as_form
from toolkit.core.messages import unreadable_reason
from toolkit.core.profile import Profile
from toolkit.readers.errors import Unreadable
from toolkit.readers.limits import DEFAULT_LIMITS, Limits, check_size

_PDF_URI = b"/URI"
_PDF_TEXT_CHARS = 4000  # of the first page: a form's title and labels are at its top


def read_deliverable(path: str, profile: Profile, sender: str | None = None, received: str | None = None,
                     limits: Limits = DEFAULT_LIMITS, name: str | None = None) -> Received:
    """Worker: what a deliverable file holds, as far as it can be checked: a .docx's (or .doc's) text,
    pictures and links, a text file's links, a PDF's link annotations (and whether its first page is
    the form: a sealed copy), a picture's size."""
    from toolkit.readers.kinds import sniff

    base = Received(path, name or os.path.basename(path), "unreadable", "", sender, received)
    try:
        check_size(os.path.getsize(path), limits)
        with open(path, "rb") as fh:
            data = fh.read()
    except Unreadable as exc:
        return _problem(base, exc)
    except OSError as exc:
        return _problem(base, Unreadable("io_error", detail=exc.strerror or str(exc)))
    fmt = sniff(data, path)
    got = Received(base.path, base.name, fmt, hashlib.sha256(data).hexdigest(), sender, received)
    try:
        return _content(got, data, fmt, limits, profile)
    except Unreadable as exc:
        return _problem(got, exc)


def _content(got: Received, data: bytes, fmt: str, limits: Limits, profile: Profile) -> Received:
    from dataclasses import replace

    if fmt in PICTURE_FORMATS:
        from toolkit.readers.imageinfo import image_info

        _, width, height = image_info(data)
        return replace(got, pictures=((width, height),))
    if fmt in ("docx", "doc"):
        from toolkit.readers.docx import read_document

        if fmt == "doc":
            from toolkit.readers.wordconvert import convert_to_docx

            data = convert_to_docx(data, fmt, limits)
        lines, pictures = read_document(data, limits)
        return replace(got, paragraphs=tuple(lines), pictures=tuple((p.width, p.height) for p in pictures),
                       links=links_in("\n".join(lines)))
    if fmt == "text":
        from toolkit.readers.sniff import decode_text

        lines = decode_text(data).splitlines()
        return replace(got, paragraphs=tuple(ln for ln in lines if ln.strip()), links=links_in("\n".join(lines)))
    if fmt == "pdf":
        if _PDF_URI in data:  # link annotations
            got = replace(got, links=links_in(data.decode("latin-1")))
        lines = _first_page(data)
        if reads_as_form(lines, profile):  # the sealed PDF of the form: its lines name the branch
            got = replace(got, form_text=True, paragraphs=tuple(ln for ln in lines if ln.strip()))
    return got


def _first_page(data: bytes) -> list[str]:
    """The text of a PDF's first page (pypdf), to tell a copy of the form from a report; [] when it has
    none (a scan) or cannot be read. A report's own text is not read from PDFs: 字数 and headings are
    checked on the Word version."""
    import io
    import logging

    from pypdf import PdfReader

    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # a damaged PDF makes pypdf log to stderr; this is only a look
    try:
        reader = PdfReader(io.BytesIO(data))
        if not reader.pages:
            return []
        return reader.pages[0].extract_text()[:_PDF_TEXT_CHARS].splitlines()
    except Exception:  # pypdf raises many kinds on a damaged or hostile file; the copy is then named by its name
        return []
    finally:
        logger.setLevel(level)


def _problem(got: Received, exc: Unreadable) -> Received:
    from dataclasses import replace

    return replace(got, problem=unreadable_reason(exc.reason, file=got.name, **exc.params))
