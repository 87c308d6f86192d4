"""Find a form's fields by their labels, wherever the branch put them.

Labels are matched after `normalize_label` (full/half width, spaces and line breaks, hints in brackets,
trailing colons). A field's value is, in order: the text after the colon in the label's own cell; the
nearest non-label cell to the right (over merged ranges); the cell below (vertical forms).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from toolkit.core.datetext import SIGNATURE_FILLER, date_in, month_in, signature_text
from toolkit.core.grid import Grid, Merge
from toolkit.core.messages import message
from toolkit.core.model import Finding, Value, cell_ref
from toolkit.core.profile import FieldSpec
from toolkit.core.text import normalize_label
from toolkit.core.values import coerce, has_ticks, read_choice

_COLON = re.compile(r"[:：]")
_MAX_RIGHT_GAP = 3  # empty cells a value may sit behind (labels padded with blank columns)
_LABEL_MAX = 60  # longest text a label (with its hints) is printed as
NOTE_PREFIXES = ("注", "说明", "备注", "填表说明", "填报说明")
_NOTE_HINT = re.compile(r"(?:注|说明|备注|填表说明|填报说明)\s*[:：]")
_BRACKETED_HINT = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]*)[)\]】〕]")  # after NFKC: （ is (
_HINT_WORDS = re.compile(r"\d\s*字|字数|以内|限|不超过|不少于|左右|附页|png|jpe?g|格式|盖章|签字|签名|填写|注明",
                         re.IGNORECASE)


@dataclass
class FormFields:
    """What one sheet yielded: values by field name, each value's area (for pictures), labels found."""

    values: dict[str, Value] = field(default_factory=dict)
    areas: dict[str, Merge] = field(default_factory=dict)
    labels: dict[str, tuple[int, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # what reading a value found wrong in it

    def value_of(self, name: str) -> object:
        v = self.values.get(name)
        return None if v is None or v.value in (None, "") else v.value

    def filled(self) -> int:
        return sum(1 for v in self.values.values() if v.value not in (None, ""))


class SheetIndex:
    """A grid with merged ranges resolved and every label cell recognised."""

    def __init__(self, grid: Grid, lookup: Mapping[str, str], skip: Container[int] = ()) -> None:
        self.grid = grid
        self.lookup = lookup
        self.master: dict[tuple[int, int], tuple[int, int]] = {}
        self.extent: dict[tuple[int, int], tuple[int, int]] = {}
        for r1, c1, r2, c2 in grid.merged:
            self.extent[(r1, c1)] = (r2, c2)
            for r in range(r1, min(r2, r1 + 500) + 1):
                for c in range(c1, min(c2, c1 + 100) + 1):
                    self.master[(r, c)] = (r1, c1)
        # label cell -> (field name, inline value after a colon or None)
        # calamine trims empty trailing columns; merged value blocks still count as the form's width
        self.width = max([grid.width] + [c2 + 1 for _, _, _, c2 in grid.merged])
        self.labels: dict[tuple[int, int], tuple[str, str | None]] = {}
        for r, row in enumerate(grid.rows):
            if r in skip:
                continue
            for c, value in enumerate(row):
                if isinstance(value, str):
                    hit = _match_label(value, lookup)
                    if hit:
                        self.labels[(r, c)] = hit
        for at in sorted(self.labels):  # left to right: a cell demoted is no label for the next one
            if self._is_content(*at):
                del self.labels[at]

    def _is_content(self, r: int, c: int) -> bool:
        """A cell that reads like a label but stands where a label's value goes is that value: "品牌名称：
        生命红帆…" right of 品牌内涵 is its text, "摸底情况。" right of 调查摸底情况 restates its label."""
        name, inline = self.labels[(r, c)]
        owner = self._left_label(r, c)
        if owner is None:
            owner = self._label_above(r, c)
        if owner is None:
            return False
        return inline is not None or self.labels[owner] == (name, None)

    def _left_label(self, r: int, c: int) -> tuple[int, int] | None:
        """The bare label (one waiting for its value) this cell is the first filled cell right of."""
        col, gap = c - 1, 0
        while col >= 0 and gap <= _MAX_RIGHT_GAP:
            m = self.resolve(r, col)
            value = self.grid.get(*m)
            if m in self.labels:
                return m if self.labels[m][1] is None else None
            if value not in (None, "") and not _is_hint(value):
                return None
            gap += value in (None, "")
            col = m[1] - 1
        return None

    def _label_above(self, r: int, c: int) -> tuple[int, int] | None:
        """The bare label right above this cell in a row of labels (a vertical form's header)."""
        above = self.resolve(r - 1, c) if r > 0 else None
        if above is None or self.labels.get(above, ("", ""))[1] is not None:
            return None
        return above if _label_row(self, above[0]) else None

    def resolve(self, r: int, c: int) -> tuple[int, int]:
        return self.master.get((r, c), (r, c))

    def area(self, r: int, c: int) -> Merge:
        r2, c2 = self.extent.get((r, c), (r, c))
        return r, c, r2, c2

    def is_label(self, r: int, c: int) -> bool:
        return self.resolve(r, c) in self.labels


PART = "\x1f"  # joins a field's name and one of its parts in a lookup target: "计划…成效\x1f创建计划"
# Prefixes branches add to or drop from a label ("党建品牌标识" for 品牌标识); tried only on the
# form's text, never on the profile's labels, so "党支部名称" never shrinks to "名称".
_LABEL_PREFIXES = ("党支部", "党建", "支部")
_INNER_PUNCT = re.compile(r"[、，,；;/／·・.．]")


def _loose(key: str) -> str:
    """A normalised label without its inner punctuation: "创建计划、创建举措" ~ "创建计划创建举措"."""
    return _INNER_PUNCT.sub("", key)


def label_lookup(specs: tuple[FieldSpec, ...] | list[FieldSpec]) -> Mapping[str, str]:
    """normalised label -> field name (or "field\x1fpart" for a labelled part of a box); a field's own
    name wins over another field's alias, and exact labels over their loose forms. Read-only: one is
    built per set of fields and shared by every sheet of every form read with them."""
    return _label_lookup(tuple(specs))


@functools.lru_cache(maxsize=64)
def _label_lookup(specs: tuple[FieldSpec, ...]) -> Mapping[str, str]:
    targets: list[tuple[str, str]] = []
    for spec in specs:
        targets.append((spec.name, spec.name))
    for spec in specs:
        targets += [(label, spec.name) for label in spec.all_labels]
        targets += [(part, f"{spec.name}{PART}{part}") for part in spec.parts]
    lookup: dict[str, str] = {}
    for label, target in targets:
        lookup.setdefault(normalize_label(label), target)
    for label, target in targets:
        lookup.setdefault(_loose(normalize_label(label)), target)
    lookup.pop("", None)
    return MappingProxyType(lookup)


def lookup_label(text: str, lookup: Mapping[str, str]) -> str | None:
    key = normalize_label(text)
    hit = lookup.get(key) or lookup.get(_loose(key))
    if hit is None:
        prefix = next((p for p in _LABEL_PREFIXES if key.startswith(p) and len(key) > len(p) + 1), "")
        if prefix:
            hit = lookup.get(_loose(key[len(prefix):]))
    return hit


def _match_label(text: str, lookup: Mapping[str, str]) -> tuple[str, str | None] | None:
    """(field, the text after its colon or None); a long cell is a label only by what leads its colon
    ("支部意见：经支部委员会研究……" is the box as printed, whatever the opinion's length)."""
    name = lookup_label(text, lookup) if len(text) <= _LABEL_MAX else None
    if name:
        return name, None
    parts = _COLON.split(text, maxsplit=1)
    if len(parts) == 2 and len(parts[0]) <= _LABEL_MAX:
        name = lookup_label(parts[0], lookup)
        if name:
            return name, parts[1].strip() or None
    return None


def extract_form(grid: Grid, specs: tuple[FieldSpec, ...], skip: Container[int] = ()) -> FormFields:
    """`skip`: rows a table owns (an activity named "调查摸底" is a table value, not the form's label)."""
    index = SheetIndex(grid, label_lookup(specs), skip)
    by_name = {s.name: s for s in specs}
    found = FormFields()
    parts: dict[str, FormFields] = {}  # field -> its labelled parts found, by part label
    # Reading order; the first label of a field that carries a value wins.
    for (r, c), (target, inline) in sorted(index.labels.items()):
        name, _, part = target.partition(PART)
        into = parts.setdefault(name, FormFields()) if part else found
        key = part or name
        if key in into.values and into.values[key].value not in (None, ""):
            continue
        spec = by_name[name]
        raw: object
        at: tuple[int, int] | None
        area: Merge | None
        if inline is not None:
            raw, at = inline, (r, c)
            area = index.area(r, c)
        else:
            raw, at, area = _value_near(index, r, c)
            raw = _without_label(raw, grid.get(r, c))
        if spec.type == "enum" and isinstance(raw, str) and has_ticks(raw) and inline is None and at:
            raw = _choice_row(index, *at)
        raw, many = read_choice(spec, raw)
        cell = cell_ref(grid.name, *at) if at else None
        if many:
            found.findings.append(ticked_many(spec.name, many, cell))
        if spec.type == "signature" and isinstance(raw, str) and not SIGNATURE_FILLER.sub("", raw):
            raw = None
        if spec.type == "image" and isinstance(raw, str) and "DISPIMG" in raw.upper():
            raw = None  # a WPS cell image's cached formula text: the picture itself is the value
        if key in into.values and raw in (None, ""):
            continue
        into.values[key] = Value(name, raw if part else coerce(spec, raw), raw, cell)
        into.labels[key] = (r, c)
        if area:
            into.areas[key] = area
    for name, split in parts.items():
        whole = found.values.get(name)
        if whole is None or whole.value in (None, ""):
            _join_parts(found, by_name[name], split)
    for spec in specs:
        if spec.type == "signature" and spec.sign and spec.name in found.values:
            _split_sign(found, spec, by_name)
        if spec.dated and spec.name in found.labels and found.value_of(spec.dated) is None:
            _date_line(found, spec, by_name[spec.dated], index)
    return found


def _date_line(found: FormFields, spec: FieldSpec, dated: FieldSpec, index: SheetIndex) -> None:
    """The box's "年 月 日" line typed in a row of its own under the box and its signature line: the
    first unlabelled cell there holding a date only is the `dated` field."""
    lookup = index.lookup
    signers = {spec.name} | {lookup_label(_COLON.split(line, maxsplit=1)[0], lookup) for line in spec.sign}
    last = max(index.area(*at)[2] for name, at in found.labels.items() if name in signers)
    for r in range(last + 1, min(last + len(spec.sign), len(index.grid.rows) - 1) + 1):
        for c, raw in enumerate(index.grid.rows[r]):
            if (r, c) in index.labels or raw in (None, ""):
                continue
            if isinstance(raw, dt.date) or isinstance(raw, str) and _only_date(raw):
                found.values[dated.name] = Value(dated.name, coerce(dated, raw), raw, cell_ref(index.grid.name, r, c))
                return


def _only_date(text: str) -> bool:
    """True when a line of a signature box holds a date and nothing else but printed prompts: a day
    ("2023 年 4 月 13 日", "二〇二三年四月十三日") or a month ("2023年4月", "二〇二三年四月": the notices set
    no format for a date)."""
    return bool(date_in(text) or month_in(text)) and not signature_text(text)


def _split_sign(found: FormFields, spec: FieldSpec, by_name: dict[str, FieldSpec]) -> None:
    """A signature box typed whole ("同意申报。\n支部书记签字：陈静\n2023 年 4 月 13 日") split along its
    printed foot (`sign`): a "支部书记签字：" line fills the field it names, the date line the `dated`
    field; prompts left blank are print, not text; the opinion keeps the rest."""
    box = found.values[spec.name]
    if not isinstance(box.raw, str) or "\n" not in box.raw.strip():
        return
    lookup = label_lookup(tuple(by_name.values()))
    named = {hit for line in spec.sign if (hit := lookup_label(_COLON.split(line, maxsplit=1)[0], lookup))}
    keep: list[str] = []
    for line in box.raw.strip().split("\n"):
        parts = _COLON.split(line, maxsplit=1)
        target = lookup_label(parts[0], lookup) if len(parts) == 2 else None
        if target in named and target != spec.name:
            rest = parts[1].strip()
            if rest and found.value_of(target) is None:
                found.values[target] = Value(target, coerce(by_name[target], rest), rest, box.cell)
        elif spec.dated and _only_date(line):
            date = line.strip()
            if found.value_of(spec.dated) is None:
                found.values[spec.dated] = Value(spec.dated, coerce(by_name[spec.dated], date), date, box.cell)
        elif SIGNATURE_FILLER.sub("", line):
            keep.append(line)
    text = "\n".join(keep).strip() or None
    found.values[spec.name] = Value(spec.name, coerce(spec, text), text, box.cell)


def _choice_row(index: SheetIndex, r: int, c: int) -> str:
    """Checkbox choices spread over the cells of a row ("□省级样板支部 | ☑校级样板支部 | □其他"), from
    the value cell rightwards up to the next label or the first cell without a box, joined."""
    texts: list[str] = []
    while c < index.width:
        m = index.resolve(r, c)
        value = index.grid.get(*m)
        if m in index.labels or (texts and not (isinstance(value, str) and has_ticks(value))):
            break
        if isinstance(value, str):
            texts.append(value)
        c = index.area(*m)[3] + 1
    return " ".join(texts)


def ticked_many(name: str, picks: list[str], cell: str | None) -> Finding:
    return Finding("enum", "error", message("enum.ticked_many", field=name, count=len(picks),
                                            ticked="".join(f"“{p}”" for p in picks)), field=name, cell=cell)


def _without_label(raw: object, label: object) -> object:
    """A value that opens by repeating the label beside it ("品牌名称：杏林先锋" right of 品牌名称) without
    that repeat; any other lead-in ("主要举措：一是…" right of 工作举措) is the branch's text, kept."""
    if not isinstance(raw, str) or not isinstance(label, str):
        return raw
    parts = _COLON.split(raw, maxsplit=1)
    if len(parts) == 2 and normalize_label(parts[0]) == normalize_label(label):
        return parts[1].strip() or None
    return raw


def _join_parts(found: FormFields, spec: FieldSpec, split: FormFields) -> None:
    """One box the branch split into labelled parts becomes the field's one value: "创建计划：…" lines
    in the notice's order; the parts stay on the Value so limits count their text only."""
    order = [p for p in spec.parts if p in split.values]
    pieces = tuple((p, str(split.values[p].raw).strip(), split.values[p].cell) for p in order
                   if split.values[p].raw not in (None, ""))
    text = "\n".join(f"{p}：{t}" for p, t, _ in pieces) or None
    first = split.values[order[0]]
    found.values[spec.name] = Value(spec.name, coerce(spec, text), text, pieces[0][2] if pieces else first.cell,
                                    pieces)
    found.labels[spec.name] = split.labels[order[0]]
    if order[0] in split.areas:
        found.areas[spec.name] = split.areas[order[0]]


def _value_near(index: SheetIndex, r: int, c: int) -> tuple[object, tuple[int, int] | None, Merge | None]:
    """(raw value, its cell, its merged area) right of the label, else below; blank gives the cell where
    the value belongs, so findings can point at it. A label merged over several rows owns the value
    cells right of every one of them: their texts are joined, none is dropped."""
    grid = index.grid
    r_end, c_end = index.extent.get((r, c), (r, c))
    first, hit = _right_of(index, r, c_end + 1)
    hits = [hit] if hit else []
    for row in range(r + 1, min(r_end, r + 500) + 1):
        more = _right_of(index, row, c_end + 1)[1]
        if more and more not in hits:
            hits.append(more)
    if len(hits) > 1:
        areas = [index.area(*m) for m in hits]
        text = "\n".join(str(grid.get(*m)).strip() for m in hits)
        return text, hits[0], (min(a[0] for a in areas), min(a[1] for a in areas),
                               max(a[2] for a in areas), max(a[3] for a in areas))
    if hits:
        return grid.get(*hits[0]), hits[0], index.area(*hits[0])
    if first is None or _label_row(index, r):
        below = index.resolve(r_end + 1, c)
        value = grid.get(*below)
        # in a row of labels with blanks beside them, a value below is theirs only if it stands under
        # the label: a block starting left of it is the next row's (品牌名称 left blank, 品牌标识 beside it)
        under = first is None or below[1] == c
        if below not in index.labels and under and not _is_note(value) and (value not in (None, "") or first is None):
            return value, below, index.area(*below)
    return None, first, index.area(*first) if first else None


def _right_of(index: SheetIndex, r: int, col: int) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(the first cell from `col` rightwards in row `r`, the first filled one), up to the next label."""
    first: tuple[int, int] | None = None
    gap = 0
    while col < index.width and gap <= _MAX_RIGHT_GAP:
        m = index.resolve(r, col)
        if m in index.labels:
            break
        value = index.grid.get(*m)
        col = index.area(*m)[3] + 1
        if _is_hint(value):
            continue  # the label's own hint typed in a cell of its own: the value is further right
        first = first or m
        if value not in (None, ""):
            return first, m
        gap += 1
    return first, None


def _is_hint(value: object) -> bool:
    """A cell holding only a hint the notices print beside a label: "（10字以内）", "(限500字)",
    "（png.jpg）", "注：…"."""
    if not isinstance(value, str) or len(value) > 60:
        return False
    text = unicodedata.normalize("NFKC", value).strip()
    bracketed = _BRACKETED_HINT.fullmatch(text)
    return bool(_NOTE_HINT.match(text) or (bracketed and _HINT_WORDS.search(bracketed.group(1))))


def _label_row(index: SheetIndex, r: int) -> bool:
    """A row of labels with no values beside them: a vertical form's header, values below."""
    cells = {index.resolve(r, c) for c, v in enumerate(index.grid.rows[r]) if v not in (None, "")}
    return len(cells) >= 2 and all(cell in index.labels for cell in cells)


def _is_note(value: object) -> bool:
    return isinstance(value, str) and value.lstrip().startswith(NOTE_PREFIXES)
