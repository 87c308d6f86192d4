"""One untrusted file -> one Submission per form sheet. Runs inside the sandbox's worker process."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import zipfile
from contextlib import nullcontext
from dataclasses import replace

from toolkit.core.grid import Grid
from toolkit.core.messages import current_lang, message, unreadable_reason
from toolkit.core.model import WORD_KINDS, Finding, Logo, Picture, Provenance, Submission, cell_ref
from toolkit.core.profile import Profile
from toolkit.core.text import normalize_label
from toolkit.readers.errors import Unreadable
from toolkit.readers.form import FormFields
from toolkit.readers.grid import read_grids
from toolkit.readers.limits import DEFAULT_LIMITS, Limits, check_size, check_zip
from toolkit.readers.logos import Stage, decode_logos
from toolkit.readers.parts import (
    attach_continued_tables,
    join_word_parts,
    looks_like_form,
    moved,
    read_sheet,
)
from toolkit.readers.sniff import ZIP_MAGICS, sniff
from toolkit.readers.table import TableRows
from toolkit.readers.zipparts import package_zip

TEMPLATE_SHEET = "_brandkit"  # hidden sheet of brandkit's own templates: profile id, version, cells
PICTURE_KINDS = ("xlsx", "xlsb", "xls", "ods")


def read_path(path: str, profile: Profile, sender: str | None = None, received: str | None = None,
              limits: Limits = DEFAULT_LIMITS) -> list[Submission]:
    """Read a file from disk (size checked before reading) into submissions, each logo decoded as the
    merge decodes it: a picture the merge could not put in the ledger is a finding here as well."""
    return [sub for sub, _ in read_forms(path, profile, sender, received, limits)]


def read_forms(path: str, profile: Profile, sender: str | None = None, received: str | None = None,
               limits: Limits = DEFAULT_LIMITS, stage: Stage | None = None) -> list[tuple[Submission, Logo | None]]:
    """The submissions of a file, each with its logo's ledger thumbnail (logos.decode_logos: one decode
    per logo, shared by validate and merge; `stage` sees each original before it is decoded)."""
    subs = _read_file(path, profile, sender, received, limits)
    return list(zip(subs, decode_logos(subs, profile, limits, stage), strict=True))


def _read_file(path: str, profile: Profile, sender: str | None, received: str | None,
               limits: Limits) -> list[Submission]:
    if received is None:
        try:
            # with this PC's offset: a PC whose clock is not Beijing's still orders it with mail times
            received = dt.datetime.fromtimestamp(os.path.getmtime(path)).astimezone().isoformat(timespec="seconds")
        except OSError:
            received = None
    prov = Provenance(path=path, sha256="", sender=sender, received=received)
    try:
        check_size(os.path.getsize(path), limits)
        with open(path, "rb") as fh:
            data = fh.read()
    except Unreadable as exc:
        return [unreadable_submission(prov, exc)]
    except OSError as exc:
        return [unreadable_submission(prov, Unreadable("io_error", detail=exc.strerror or str(exc)))]
    return read_bytes(data, prov, profile, limits)


def read_bytes(data: bytes, prov: Provenance, profile: Profile,
               limits: Limits = DEFAULT_LIMITS) -> list[Submission]:
    prov = replace(prov, sha256=hashlib.sha256(data).hexdigest())
    # a package's directory is parsed once: sniffing, the limits and the readers share its zip
    with package_zip(data, None) if data.startswith(ZIP_MAGICS) else nullcontext() as package:
        try:
            check_size(len(data), limits)
            kind = sniff(data, package)
            prov = replace(prov, kind=kind)
            if kind in WORD_KINDS:
                from toolkit.readers.docx import read_word

                word = read_word(data, kind, limits, package)
            else:
                if kind in ("xlsx", "xlsb", "ods"):
                    check_zip(package or data, limits)
                grids = read_grids(data, kind, package)
        except Unreadable as exc:
            return [unreadable_submission(prov, exc)]
        if kind in WORD_KINDS:
            return submissions_from_grids(word.grids, word.pictures, prov, profile, linked=word.linked)
        linked: list[Picture] = []
        subs = submissions_from_grids(grids, _pictures(data, kind, package, linked), prov, profile, linked)
        if kind == "xlsx" and package is not None:
            from toolkit.readers.formulas import unsaved_formula_findings

            unsaved_formula_findings(package, subs, profile)
    return subs


def unreadable_submission(prov: Provenance, exc: Unreadable) -> Submission:
    text = unreadable_reason(exc.reason, file=os.path.basename(prov.path), **exc.params)
    return Submission(prov, findings=[Finding("unreadable", "error", text)])


def _pictures(data: bytes, kind: str, package: zipfile.ZipFile | None, linked: list[Picture]) -> list[Picture]:
    """Embedded pictures; `linked` receives those that only link to outside files."""
    if kind not in PICTURE_KINDS:
        return []
    from toolkit.readers.pictures import find_pictures

    return find_pictures(data, kind, package, linked)


def submissions_from_grids(grids: dict[str, Grid], pictures: list[Picture], prov: Provenance,
                           profile: Profile, linked: list[Picture] | None = None) -> list[Submission]:
    """`linked`: pictures that only link to outside files, never fetched; said where they are."""
    notes: list[str] = []
    findings: list[Finding] = []
    template = grids.get(TEMPLATE_SHEET)
    if template is not None:
        used = str(template.get(0, 1) or "")
        if used and used != profile.id:
            findings.append(Finding("template_mismatch", "warning",
                                    message("template_mismatch", expected=profile.id, found=used)))
    if profile.ledger.log_sheet in grids:  # a master (every master has the log), left among the forms
        return [Submission(prov, findings=findings + [Finding(
            "template_mismatch", "error", message("template_mismatch.master", sheet=profile.ledger.log_sheet))])]
    shown = [g for g in grids.values() if g.name != TEMPLATE_SHEET and not g.hidden]
    hidden = [g for g in grids.values() if g.name != TEMPLATE_SHEET and g.hidden]
    subs, blank = _forms(shown, pictures, prov, profile, findings, notes, linked)
    if not subs and hidden:
        # the only form is on a hidden sheet (hidden by mistake, or the branch hid the template's other
        # sheets): read it, and say so, rather than refuse a filled form as "no form found"
        subs, blank = _forms(hidden, pictures, prov, profile, findings, [], linked, blank)  # skipped: below
        for sub in subs:
            sub.findings.append(Finding("template_mismatch", "warning", message(
                "template_mismatch.hidden_sheet", sheet=sub.provenance.sheet or "")))
    read_from = {sub.provenance.sheet for sub in subs} | set(blank)
    for grid in hidden:
        if grid.name in read_from:
            continue
        if subs and looks_like_form(read_sheet(grid, profile), profile):  # an older draft, a second branch
            notes.append(f"工作表“{grid.name}”是隐藏的，其中的申报表未读取（已读取未隐藏的申报表）；"
                         "如也要申报，请取消隐藏后重新提交")
        else:
            notes.append(f"工作表“{grid.name}”是隐藏的，已跳过")
    if not subs and blank:
        subs.append(Submission(replace(prov, sheet=blank[0]), findings=findings + [Finding(
            "required", "error", message("required.blank_form", sheet=blank[0]))]))
    elif not subs and prov.kind in WORD_KINDS and (seen := _form_words(grids, profile)):
        # the form typed as paragraphs or drawn in shapes: refused as a form, never taken for a report
        subs.append(unreadable_submission(prov, Unreadable("form_unreadable", labels=seen)))
    elif not subs:
        labels = "、".join(f.name for f in profile.fields[:3])
        subs.append(Submission(prov, findings=findings + [Finding(
            "template_mismatch", "error", message("template_mismatch.no_form", labels=labels))]))
    else:
        notes += [f"工作表“{name}”是空白申报表，已跳过" for name in blank]
    for sub in subs:
        sub.notes.extend(notes)
    return subs


def _forms(grids: list[Grid], pictures: list[Picture], prov: Provenance, profile: Profile,
           findings: list[Finding], notes: list[str], linked: list[Picture] | None,
           blank: list[str] | None = None) -> tuple[list[Submission], list[str]]:
    """The submissions of the form sheets among `grids`, and the names of the blank forms (added to
    `blank`); what is skipped on the way goes to `notes`."""
    blank = [] if blank is None else blank
    subs: list[Submission] = []
    reads = [read_sheet(grid, profile) for grid in grids]
    if prov.kind in WORD_KINDS:
        reads, moves = join_word_parts(reads, profile)
        pictures, linked = moved(pictures, moves), moved(linked or [], moves)
    for read in attach_continued_tables(reads, profile):
        grid, form, tables = read.grid, read.form, read.tables
        if not looks_like_form(read, profile):
            if any(grid.rows):
                notes.append(f"工作表“{grid.name}”不是申报表，已跳过")
            continue
        if form.filled() == 0 and not any(t.rows for t in tables.values()):
            blank.append(grid.name)
            continue
        sheet_pictures = [p for p in pictures if p.sheet == grid.name]
        logo, rivals = _logo(form, sheet_pictures, profile)
        sub = Submission(
            provenance=replace(prov, sheet=grid.name),
            fields=form.values,
            tables={name: t.rows for name, t in tables.items()},
            pictures=sheet_pictures,
            logo=logo,
            findings=findings + form.findings + [f for t in tables.values() for f in t.findings]
            + _missing_labels(form, tables, profile, grid.name)
            + _rival_logos(logo, rivals, sheet_pictures, profile),
            notes=list(read.notes),
        )
        _linked_pictures(sub, form, [p for p in linked or [] if p.sheet == grid.name], profile)
        subs.append(sub)
    return subs, blank


def _form_words(grids: dict[str, Grid], profile: Profile) -> str | None:
    """What shows a document with no form read to be the form all the same: a line holding the form's
    title, or lines opening with half (at least 3) of its printed fields' labels. A report's prose
    rarely opens lines so; short labels ("党支部", "电话") are left out, as they open prose too."""
    title = normalize_label(profile.form_title)
    starts = {normalize_label(label): spec.name for spec in profile.printed_fields
              for label in spec.all_labels if len(normalize_label(label)) >= 4 or label == spec.name}
    found: dict[str, None] = {}
    for grid in grids.values():
        for row in grid.rows:
            for value in row:
                if not isinstance(value, str):
                    continue
                key = normalize_label(value[:200])
                if title and title in key:
                    return f"《{profile.form_title}》"
                found.update((name, None) for label, name in starts.items() if key.startswith(label))
    need = max(3, math.ceil(len(profile.printed_fields) / 2))
    return "".join(f"“{name}”" for name in list(found)[:3]) if len(found) >= need else None


def _missing_labels(form: FormFields, tables: dict[str, TableRows], profile: Profile,
                    sheet: str) -> list[Finding]:
    found = [Finding("template_mismatch", "error" if spec.required else "warning",
                     message("template_mismatch.field", field=spec.name), field=spec.name)
             for spec in profile.printed_fields if spec.name not in form.labels]
    found += [Finding("template_mismatch", "error" if spec.min_rows else "warning",
                      message("template_mismatch.table", table=spec.name), field=spec.name)
              for spec in profile.tables if tables[spec.name].header_row is None]
    return found


def _logo(form: FormFields, pictures: list[Picture], profile: Profile) -> tuple[Picture | None, list[Picture]]:
    """The logo, and the other pictures as close to its cell (pictures.logo_candidates)."""
    spec = profile.logo_field
    if spec is None or not pictures:
        return None, []
    from toolkit.readers.pictures import logo_candidates

    area = form.areas.get(spec.name)
    if area is None:
        label = form.labels.get(spec.name)
        if label is None:
            return None, []
        area = (*label, *label)
    r1, c1, r2, c2 = area
    return logo_candidates(pictures, pictures[0].sheet, r1, c1, r2, c2)


def _rival_logos(logo: Picture | None, rivals: list[Picture], pictures: list[Picture],
                 profile: Profile) -> list[Finding]:
    """Several pictures in the logo's cell (a logo and its older version, a seal): which one was taken
    and which were not, each told by its place in the sheet's drawing order, name, format, size and
    cell, so the branch can check. Not tied to the field: the logo's own rules still apply to it."""
    spec = profile.logo_field
    if logo is None or not rivals or spec is None:
        return []
    place = {id(p): n for n, p in enumerate(pictures, start=1)}
    ranked = sorted([logo, *rivals], key=lambda p: place.get(id(p), 0))
    number = {id(p): n for n, p in enumerate(ranked, start=1)}

    english = current_lang() == "en"

    def told(p: Picture) -> str:
        named = bool(p.name) and not p.name.startswith("ID_")  # a WPS cell image's ID tells the branch nothing
        if english:
            size = f", {p.width}×{p.height} px" if p.width and p.height else ""
            return f"picture {number[id(p)]} ({repr(p.name) + ', ' if named else ''}{p.format.upper()}{size}, {p.cell})"
        size = f"，{p.width}×{p.height} 像素" if p.width and p.height else ""
        return f"第 {number[id(p)]} 张（{'“' + p.name + '”，' if named else ''}{p.format.upper()}{size}，{p.cell}）"

    others = (", " if english else "、").join(told(p) for p in ranked if p is not logo)
    text = message("image_several", field=spec.name, count=len(ranked), chosen=told(logo), others=others)
    return [Finding("image_several", "warning", text, cell=cell_ref(logo.sheet, logo.row, logo.col))]


def _linked_pictures(sub: Submission, form: FormFields, linked: list[Picture], profile: Profile) -> None:
    """A logo that is only a link to an outside file is missing, and said so; other links are noted."""
    if not linked:
        return
    spec = profile.logo_field
    meant = _logo(form, linked, profile)[0] if sub.logo is None and spec is not None else None
    if meant is not None and spec is not None:
        target = meant.name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1][:60] or meant.name[:60]
        variant = "image_missing.linked" if sub.provenance.kind in WORD_KINDS else "image_missing.linked_sheet"
        sub.findings.append(Finding("image_missing", spec.severity, message(variant, field=spec.name, target=target),
                                    field=spec.name, cell=cell_ref(meant.sheet, meant.row, meant.col)))
    others = [p for p in linked if p is not meant]
    if others:
        where = "、".join(cell_ref(p.sheet, p.row, p.col) for p in others[:5])
        sub.notes.append(f"文件中有 {len(others)} 张图片只是指向外部文件的链接（{where}），没有插入文件，未读取")
