"""Validation: typed values, per-field rules, branch names against the roster, cross-submission checks.

Pure functions over `Submission` and `Profile`; every finding carries a stable rule id (DESIGN §7), the
cell, and a catalogue message with the actual figure. Findings the readers already put on
`sub.findings` are not repeated here: the caller concatenates.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
import os
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from toolkit.core.datetext import signature_text
from toolkit.core.messages import current_lang, message
from toolkit.core.model import Finding, Picture, Severity, Submission, Value, cell_ref, oldest_first
from toolkit.core.profile import CELL_LIMIT, FieldSpec, Profile
from toolkit.core.text import (
    CharCount,
    count_chars,
    is_formula_like,
    normalize_branch,
    normalize_choice,
    parse_integer,
)
from toolkit.core.values import OPEN_CHOICE, cell_number, cell_text, noted
from toolkit.validation.findings import clip, make_finding
from toolkit.validation.similar import similar_pairs
from toolkit.validation.written import date_findings, is_placeholder, phone_findings

BRAND_FIELD = "品牌名称"  # the field duplicate_brand_name compares across branches
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_OPEN_FILLER = re.compile(r"[\s(（)）:：\-—、，,]|请?注明")
_CHAR_NAMES = {"\t": ("制表符", "tab"), "\r": ("回车符", "carriage return")}


# -- typed values -----------------------------------------------------------------------------------

def _num(x: float | int) -> str:
    return str(int(x)) if float(x) == int(x) else f"{x:g}"


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _norm_choice(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _enum_finding(spec: FieldSpec, text: str, label: str, cell: str | None) -> Finding | None:
    value = normalize_choice(text)
    plain = []  # the choices as offered, open ones without their "（注明）"
    for choice in spec.choices:
        open_choice = OPEN_CHOICE.match(choice)
        stem = open_choice.group(1).strip() if open_choice else choice
        plain.append(stem)
        if not open_choice:
            if value == normalize_choice(choice) or noted(text, choice):
                return None
        elif value.startswith(normalize_choice(stem)):
            if _OPEN_FILLER.sub("", value[len(normalize_choice(stem)):]):
                return None
            return make_finding("enum", "error", field=spec.name, cell=cell, label=label, variant="open",
                                value=stem)
    normed = [normalize_choice(c) for c in plain]
    best = difflib.get_close_matches(value, normed, n=1, cutoff=0.0)
    suggestion = plain[normed.index(best[0])] if best else plain[0]
    return make_finding("enum", "error", field=spec.name, cell=cell, label=label, value=clip(text),
                        choices="、".join(spec.choices), suggestion=suggestion)


def _range_finding(spec: FieldSpec, n: float, label: str, cell: str | None) -> Finding | None:
    low = spec.min is not None and n < spec.min
    high = spec.max is not None and n > spec.max
    if not (low or high):
        return None
    variant = None if spec.min is not None and spec.max is not None else ("min" if low else "max")
    bounds: dict[str, Any] = {k: _num(v) for k, v in (("min", spec.min), ("max", spec.max)) if v is not None}
    return make_finding("range", "error", field=spec.name, cell=cell, label=label, variant=variant,
                        value=_num(n), **bounds)


def _formula_finding(spec: FieldSpec, raw: str, label: str, cell: str | None) -> Finding:
    zh, en = _CHAR_NAMES.get(raw[0], (raw[0], raw[0]))
    char = en if current_lang() == "en" else zh
    if spec.long and not spec.identity:
        return make_finding("formula_injection", "warning", field=spec.name, cell=cell, label=label,
                            variant="long", char=char)
    return make_finding("formula_injection", "error", field=spec.name, cell=cell, label=label,
                        value=clip(raw), char=char)


def check_value(spec: FieldSpec, v: Value | None, char_count: CharCount = "word",
                label: str | None = None) -> list[Finding]:
    """Every rule of one field over one value (a form field or one table cell)."""
    label = label or spec.name
    cell = v.cell if v else None
    raw = None if v is None else (v.raw if v.raw is not None else v.value)
    if _blank(raw):
        if not spec.required:
            return []
        variant = "signature" if spec.type == "signature" else None
        return [make_finding("required", spec.severity, field=spec.name, cell=cell, label=label,
                             variant=variant)]
    if spec.type == "signature" and spec.required and isinstance(raw, str) and not signature_text(raw):
        # "2023年 4 月 12 日" on the signature line is its date, not a signatory's name
        return [make_finding("required", spec.severity, field=spec.name, cell=cell, label=label,
                             variant="signature_dated", value=clip(raw))]
    if spec.required and spec.type == "text" and isinstance(raw, str) and is_placeholder(raw):
        return [make_finding("required", spec.severity, field=spec.name, cell=cell, label=label,
                             variant="placeholder", value=clip(raw))]
    text = cell_text(raw)
    out: list[Finding | None] = [_cell_length_finding(spec, raw, label, cell)]
    typed_ok = False  # a valid value of a typed field ("+86 138…", "-5") is not a formula
    if spec.type == "integer":
        n, exact = parse_integer(raw)
        if n is None:
            out.append(make_finding("integer", "error", field=spec.name, cell=cell, label=label,
                                    value=clip(raw)))
        else:
            typed_ok = exact
            if not exact:
                out.append(make_finding("integer", "warning", field=spec.name, cell=cell, label=label,
                                        variant="unit", value=clip(raw), number=n))
            out.append(_range_finding(spec, n, label, cell))
    elif spec.type == "number":
        num = cell_number(raw)
        typed_ok = num is not None
        out.append(_range_finding(spec, num, label, cell) if num is not None else
                   make_finding("range", "error", field=spec.name, cell=cell, label=label,
                                variant="not_number", value=clip(raw)))
    elif spec.type == "phone":
        typed_ok, found = phone_findings(spec, raw, label, cell)
        out += found
    elif spec.type == "email":
        typed_ok = bool(_EMAIL.fullmatch(unicodedata.normalize("NFKC", text)))
        if not typed_ok:
            out.append(make_finding("email", "error", field=spec.name, cell=cell, label=label, value=clip(raw)))
    elif spec.type == "date":
        # a date written without a year was completed with the campaign's (toolkit.validation.dates) and warned of
        found = [] if v is not None and isinstance(v.value, dt.date) else date_findings(spec, raw, label, cell)
        typed_ok = not found
        out += found
    elif spec.type == "enum":
        out.append(_enum_finding(spec, text, label, cell))
    if spec.max_chars is not None or spec.min_chars is not None:
        out += _length_findings(spec, v, text, char_count, label, cell)
    if spec.pattern and (rx := _pattern(spec.pattern)) is not None and not rx.fullmatch(text):
        out.append(make_finding("pattern", "error", field=spec.name, cell=cell, label=label,
                                value=clip(raw), expected=spec.hint or spec.pattern))
    if isinstance(raw, str) and is_formula_like(raw) and not typed_ok:
        out.append(_formula_finding(spec, raw, label, cell))
    return [f for f in out if f is not None]


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str] | None:
    """A field's 格式 rule compiled once; None when it does not compile. Loading refuses such a pattern
    (toolkit.core.profile_checks), so only a profile built in code gets here: the check is skipped, as
    a branch's form cannot be at fault for it, and the batch goes on."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _cell_length_finding(spec: FieldSpec, raw: Any, label: str, cell: str | None) -> Finding | None:
    """cell_too_long: more than an Excel cell holds, whatever 字数 counts (a run of 40,000 letters is one
    字). The value as it will be stored in one master cell (a box split into parts joined) is measured."""
    if not isinstance(raw, str):
        return None
    count = len(raw.encode("utf-16-le")) // 2
    if count <= CELL_LIMIT:
        return None
    return make_finding("cell_too_long", "error", field=spec.name, cell=cell, label=label, count=count,
                        limit=CELL_LIMIT)


def _length_findings(spec: FieldSpec, v: Value | None, text: str, char_count: CharCount, label: str,
                     cell: str | None) -> list[Finding | None]:
    """字数 limits. A box split into labelled parts counts the parts' text only (the labels brandkit
    joins them with are not the branch's words) and names every part's cell."""
    parts = v.parts if v is not None else ()
    counts = [(name, count_chars(part, char_count)) for name, part, _ in parts]
    count = sum(n for _, n in counts) if parts else count_chars(text, char_count)
    cells = tuple(c for _, _, c in parts if c)
    variant = "parts" if parts else None
    detail = "、".join(f"{name} {n} 字" for name, n in counts)
    where: dict[str, Any] = {"field": spec.name, "cell": cells[0] if cells else cell, "label": label,
                             "variant": variant, "cells": cells, "count": count, "parts": detail}
    out: list[Finding | None] = []
    if spec.max_chars is not None and count > spec.max_chars:
        out.append(make_finding("max_chars", "error", limit=spec.max_chars, **where))
    if spec.min_chars is not None and count < spec.min_chars:
        out.append(make_finding("min_chars", "error", limit=spec.min_chars, **where))
    return out


_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}


def _image_findings(spec: FieldSpec, logo: Picture | None, v: Value | None,
                    pictures: list[Picture] | tuple[Picture, ...] = ()) -> list[Finding]:
    """The logo's rules. A picture sent beside the form in the same mail (scheme "attachment", paired by
    toolkit.commands.attachments) is the logo with a warning saying so; when none could be paired, the pictures
    the mail brought are named."""
    formats = "、".join(f.upper() for f in spec.formats) or "PNG、JPG"
    sent = [p for p in pictures if p.scheme == "attachment"]
    if logo is None:
        if not spec.required:
            return []
        files = "、".join(f"“{p.name}”" for p in sent)  # the pictures the mail brought, none of them taken
        return [make_finding("image_missing", spec.severity, field=spec.name, cell=v.cell if v else None,
                             formats=formats, variant="attachments" if sent else None, files=files)]
    out = []
    if logo.scheme == "attachment":
        cell = v.cell if v else None
        out.append(make_finding("image_missing", "warning", field=spec.name, cell=cell, variant="attachment",
                                file=logo.name))
    else:
        cell = cell_ref(logo.sheet, logo.row, logo.col)
    accepted = {_FORMAT_ALIASES.get(f.lower(), f.lower()) for f in spec.formats}
    fmt = _FORMAT_ALIASES.get(logo.format.lower(), logo.format.lower())
    if accepted and fmt not in accepted:
        out.append(make_finding("image_format", "error", field=spec.name, cell=cell,
                                format=logo.format.upper(), formats=formats))
    if logo.width and logo.height:
        size: dict[str, Any] = {"width": logo.width, "height": logo.height}
        if spec.min_side and min(logo.width, logo.height) < spec.min_side:
            out.append(make_finding("image_size", "warning", field=spec.name, cell=cell,
                                    min_side=spec.min_side, **size))
        if spec.max_pixels and logo.width * logo.height > spec.max_pixels:
            out.append(make_finding("image_size", "error", field=spec.name, cell=cell, variant="large",
                                    megapixels=f"{logo.width * logo.height / 1e6:.1f}",
                                    limit=f"{spec.max_pixels / 1e6:g}", **size))
    return out


def validate(sub: Submission, profile: Profile) -> list[Finding]:
    """Every per-field rule of `profile` over one submission's form fields and table rows.

    A field the reader already reported (a finding naming it, e.g. template_mismatch: label not found)
    is skipped, so one missing label is not also reported as `required`."""
    if not sub.readable:
        return []
    reported = {f.field for f in sub.findings if f.field}
    out: list[Finding] = []
    for spec in profile.fields:
        if spec.name in reported:
            continue
        if spec.type == "image":
            out += _image_findings(spec, sub.logo, sub.fields.get(spec.name), sub.pictures)
        else:
            out += check_value(spec, sub.fields.get(spec.name), profile.char_count)
    for table in profile.tables:
        if table.name in reported:
            continue
        rows = sub.tables.get(table.name, [])
        if len(rows) < table.min_rows:
            out.append(make_finding("required", "error", field=table.name, variant="rows",
                                    min=table.min_rows, count=len(rows)))
        for n, row in enumerate(rows, start=1):
            for col in table.columns:
                out += check_value(col, row.get(col.name), profile.char_count,
                                   label=f"{table.name}第{n}项·{col.name}")
    return out


# -- branches against the roster ------------------------------------------------------------------

def match_branch(name: str, roster: list[str]) -> str | None:
    """The roster name equal to `name` after normalize_branch, else None (never a guess)."""
    key = normalize_branch(name)
    return _roster_index(tuple(roster)).get(key) if key else None


@functools.lru_cache(maxsize=4)
def _roster_index(roster: tuple[str, ...]) -> dict[str, str]:
    """Normalised name -> roster name, the first listed winning; built once per roster, not per lookup."""
    index: dict[str, str] = {}
    for r in roster:
        index.setdefault(normalize_branch(r), r)
    return index


def suggest_branches(name: str, roster: list[str], n: int = 3) -> list[str]:
    """Roster names closest to `name`: those containing it (or contained in it) first, then by shared
    characters (branch names are abbreviated and reordered: 外科第一 ~ 外一科), then difflib's ratio."""
    key = normalize_branch(name)
    if not key:
        return []
    normed = {normalize_branch(r): r for r in reversed(roster)}
    contains = [r for k, r in normed.items() if k and (key in k or k in key)]

    def score(k: str) -> tuple[float, float]:
        shared = sum((Counter(k) & Counter(key)).values())
        return 2 * shared / (len(k) + len(key)), difflib.SequenceMatcher(None, key, k).ratio()

    close = sorted((k for k in normed if k and score(k)[0] >= 0.5), key=score, reverse=True)
    return list(dict.fromkeys(sorted(contains, key=len) + [normed[k] for k in close]))[:n]


def branch_findings(sub: Submission, profile: Profile, roster: list[str]) -> list[Finding]:
    """unknown_branch when the key field names no roster branch; an empty roster checks nothing."""
    v = sub.fields.get(profile.key)
    name = sub.value(profile.key)
    if not roster or name is None or not str(name).strip() or match_branch(str(name), roster):
        return []
    suggestions = suggest_branches(str(name), roster)
    cell = v.cell if v else None
    if not suggestions:
        return [make_finding("unknown_branch", "error", field=profile.key, cell=cell, variant="none",
                             value=clip(name))]
    return [make_finding("unknown_branch", "error", field=profile.key, cell=cell, value=clip(name),
                         suggestions="、".join(f"“{s}”" for s in suggestions))]


# -- across submissions -----------------------------------------------------------------------------

def _oldest_first(subs: list[Submission], idxs: list[int]) -> list[int]:
    """By received time when every one has it; else in list order (later in the list is newer): as a
    merge takes them (toolkit.core.model.oldest_first)."""
    ordered = sorted(idxs)
    return [ordered[k] for k in oldest_first([subs[i].provenance for i in ordered])]


def cross_check(subs: list[Submission], profile: Profile) -> dict[int, list[Finding]]:
    """duplicate_submission, duplicate_brand_name and similar_text across a batch, keyed by index into
    `subs` (every index present). Superseded copies take no part in the brand and text checks."""
    out: dict[int, list[Finding]] = {i: [] for i in range(len(subs))}
    key = profile.key
    paths = Counter(s.provenance.path for s in subs)
    names = Counter(os.path.basename(path) for path in paths)  # two folders may each hold a 申报表.xlsx

    def source(i: int) -> str:
        p = subs[i].provenance
        name = os.path.basename(p.path)
        if names[name] > 1:
            name = f"{os.path.basename(os.path.dirname(p.path))}/{name}"
        return f"{name}·{p.sheet}" if p.sheet and paths[p.path] > 1 else name

    def cell(i: int, name: str) -> str | None:
        v = subs[i].fields.get(name)
        return v.cell if v else None

    live = [i for i, s in enumerate(subs) if s.readable]
    branch_of = {i: normalize_branch(str(subs[i].value(key, ""))) or f"#{i}" for i in live}
    groups: dict[str, list[int]] = defaultdict(list)
    for i in live:
        groups[branch_of[i]].append(i)
    current = set(live)
    for idxs in groups.values():
        if len(idxs) < 2:
            continue
        *older, newest = _oldest_first(subs, idxs)
        # Forms of the branch in the newest file itself (a sheet per draft) have no order: an error on
        # each, never a guess; older files are superseded by that file as by any newer one.
        twins = [i for i in idxs if subs[i].provenance.path == subs[newest].provenance.path]
        if len(twins) > 1:
            sheets = "、".join(f"“{subs[i].provenance.sheet}”" for i in twins)
            for i in twins:
                out[i].append(make_finding("duplicate_submission", "error", field=key, cell=cell(i, key),
                                           variant="same_file", branch=clip(subs[i].value(key)),
                                           count=len(twins), sheets=sheets))
        newer = os.path.basename(subs[newest].provenance.path) if len(twins) > 1 else source(newest)
        for i in older:
            current.discard(i)
            if i not in twins:
                out[i].append(make_finding("duplicate_submission", "warning", field=key, cell=cell(i, key),
                                           branch=clip(subs[i].value(key)), file=source(i), newer=newer))
    if profile.field(BRAND_FIELD):
        brands: dict[str, list[int]] = defaultdict(list)
        for i in sorted(current):
            brand = _norm_choice(str(subs[i].value(BRAND_FIELD, ""))).strip("“”\"'《》").lower()
            if brand:
                brands[brand].append(i)
        for idxs in brands.values():
            for i in idxs:
                other = next((j for j in idxs if branch_of[j] != branch_of[i]), None)
                if other is not None:
                    out[i].append(make_finding(
                        "duplicate_brand_name", "warning", field=BRAND_FIELD, cell=cell(i, BRAND_FIELD),
                        value=clip(subs[i].value(BRAND_FIELD)), other=clip(subs[other].value(key, "")),
                        other_file=source(other)))
    sim = profile.similarity
    severity: Severity = "error" if sim.severity == "error" else "warning"
    for name in sim.fields:
        texts = {i: text for i in current if not is_placeholder(text := str(subs[i].value(name, "")))}
        matches: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for i, j, score in similar_pairs(texts, sim.threshold):
            if branch_of[i] != branch_of[j]:
                matches[i].append((score, j))
                matches[j].append((score, i))
        for a in sorted(matches):  # one finding per field: the closest text, and how many more there are
            score, b = min(matches[a], key=lambda m: (-m[0], m[1]))
            found = make_finding("similar_text", severity, field=name, cell=cell(a, name),
                                 variant="error" if severity == "error" else None,
                                 other=clip(subs[b].value(key, "")), other_file=source(b),
                                 score=math.floor(score * 100), threshold=round(sim.threshold * 100))
            if len(matches[a]) > 1:
                found = replace(found, message=found.message + message("similar_text.more",
                                                                       count=len(matches[a]) - 1))
            out[a].append(found)
    return out
