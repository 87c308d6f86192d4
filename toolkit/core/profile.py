"""Campaign profiles: the form's fields, the ledger's columns, the stages. Data, not code.

Profiles are TOML files in `toolkit/profiles/`. `load_profile` checks every key and names the bad one;
`apply_rule_overrides` lets a master's `填报规则` sheet win over the file. A master carries the text of the
profile it was set up with in a hidden sheet (`profile_sheet`, `stored_profile_text`), so a custom
profile's file is not needed once the master exists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.core.campaign import PrintedDate, default_year, printed_date, resolve, stage_rows
from toolkit.core.changeset import NewSheet
from toolkit.core.deliverables import DeliverableSpec, check_deliverables, parse_deliverables
from toolkit.core.model import Severity
from toolkit.core.text import CharCount
from toolkit.core.vocabulary import Receipt

if TYPE_CHECKING:
    from toolkit.core.grid import Grid

PROFILE_DIR = Path(__file__).parents[1] / "profiles"  # data beside the code, at the package top
FIELD_TYPES = {"text", "integer", "number", "phone", "email", "date", "enum", "image", "signature"}
RULES_SHEET = "填报规则"
OFFICE_LABEL = "落款单位"  # the 填报规则 row naming the office that signs the mails to branches
# Header of the 填报规则 sheet: column title -> FieldSpec attribute.
RULE_COLUMNS = {"字段": "name", "必填": "required", "最多字数": "max_chars", "最少字数": "min_chars",
                "最小值": "min", "最大值": "max", "可选值": "choices", "格式": "pattern"}
# The hidden, protected sheet holding the profile's TOML text; its A1 says what it is, the text follows in
# column A from row 2, split over cells of at most CELL_LIMIT.
PROFILE_SHEET = "活动方案文件"
PROFILE_SHEET_TITLE = "活动方案文件（TOML 原文）"
PROFILE_SHEET_NOTE = ("本台账所用活动方案的原文，从下一行起依次相连。台账拷到别的电脑也按它运行，不需要原来的方案文件。"
                      "请勿修改；各字段的填报规则请在“填报规则”工作表中修改。")
CELL_LIMIT = 32_767  # the most text Excel keeps in one cell, in UTF-16 units


class ProfileError(ValueError):
    """A profile file or 填报规则 sheet is malformed; the message names the key."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "text"
    labels: tuple[str, ...] = ()
    required: bool = False
    severity: Severity = "error"  # severity of `required` when missing
    identity: bool = False  # short identity field: formula injection is an error here
    long: bool = False  # free text laid out in a merged block
    max_chars: int | None = None
    min_chars: int | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    formats: tuple[str, ...] = ()  # image formats accepted
    min_side: int | None = None  # image: smallest acceptable width/height in px
    max_pixels: int | None = None
    hint: str | None = None
    # The label exactly as the notice's form prints it (hints included): the template's label cell.
    printed: str | None = None
    # Labelled parts one box may be split into ("创建计划", "创建举措", "预期成效"): read into this one
    # field, joined in this order as "创建计划：…" lines; the limits count the parts' text only.
    parts: tuple[str, ...] = ()
    # A signature box's foot as the notice prints it, one line each; the lines may name another field
    # ("支部书记签字："), which is then read from that line and not printed twice.
    sign: tuple[str, ...] = ("签字（盖章）：", "年　　月　　日")
    store: bool = True  # kept in the master (a ledger column, or its table's sheet)
    reason: str | None = None  # why a field is not stored (required when store is false)

    @property
    def all_labels(self) -> tuple[str, ...]:
        extra = [self.printed] if self.printed else []
        return tuple(dict.fromkeys([self.name, *extra, *self.labels]))

    @property
    def form_label(self) -> str:
        """The label cell brandkit's template prints: the notice's own words, else the field's name."""
        return self.printed or self.name


@dataclass(frozen=True)
class TableSpec:
    """A table-layout section: a header row of `columns` and any number of data rows."""

    name: str
    columns: tuple[FieldSpec, ...]
    min_rows: int = 0
    labels: tuple[str, ...] = ()  # titles that may stand above the table
    sheet: str | None = None  # the master sheet for its rows (one per item); default: the table's name
    item_column: str = "序号"  # numbers a branch's items 1..n in that sheet
    count_column: str | None = None  # ledger column holding the branch's item count

    @property
    def sheet_name(self) -> str:
        return self.sheet or self.name


@dataclass(frozen=True)
class Constraint:
    kind: str  # "per_group": count of `status` per group within [min, max]; "must_join": category list
    status: str | None = None
    min: int | None = None
    max: int | None = None
    field: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    statuses: tuple[str, ...]
    requires: tuple[str, ...] = ()
    start: dt.date | None = None
    due: dt.date | None = None
    workdays: int | None = None  # e.g. 公示 5 个工作日
    count_start_day: bool = False
    # The status whose stamp opens a 公示 of `workdays` working days (公示中): it ends that many working
    # days after the stamp's date; `status` says 公示期满 then, and the office stamps the outcome.
    publicity: str | None = None
    constraints: tuple[Constraint, ...] = ()
    note: str | None = None
    # start and due as the profile prints them (month-days); `campaign.resolve` makes them the dates above.
    printed: tuple[PrintedDate | None, PrintedDate | None] = field(default=(None, None), repr=False,
                                                                   metadata={"internal": True})

    @property
    def column(self) -> str:
        return f"{self.name}状态"


@dataclass(frozen=True)
class Similarity:
    fields: tuple[str, ...] = ()
    threshold: float = 0.85
    severity: str = "warning"


@dataclass(frozen=True)
class LedgerSpec:
    sheet: str
    log_sheet: str
    columns: tuple[str, ...]
    logo_column: str | None
    aliases: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class StatusKinds:
    passed: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    # Statuses that record something arriving from a branch (已提交): only these become the stage's late
    # status when stamped after its due date. Every other status is a decision (审核通过, 已推荐, 优秀),
    # kept as stamped whatever the date.
    receipts: tuple[str, ...] = (Receipt.SUBMITTED,)

    def kind_of(self, status: str) -> str | None:
        for kind in ("passed", "pending", "returned", "late"):
            if status in getattr(self, kind):
                return kind
        return None


@dataclass(frozen=True)
class PaperSpec:
    """The paper copies a notice asks for (纸质版一式五份、盖章): `stamp --paper` records their arrival."""

    copies: int = 1
    sealed: bool = False
    # The notice asks for the paper form only: forms are typed in (or scanned) by the office, a branch
    # has submitted when its paper is in, and no e-copy is chased.
    only: bool = False


@dataclass(frozen=True)
class BookletSpec:
    """The booklet of the campaign's brands (`brandkit booklet`, toolkit.core.booklet): what it is called,
    each section's heading (ledger column names in braces; "" names the branch), the short facts under
    it and the long texts that follow (empty: the group and the branch; the long fields), and which
    branches it takes by default (a stage and a status; empty: every accepted form)."""

    title: str = ""  # "" : “<title>”品牌汇编
    heading: str = ""
    facts: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    stage: str = ""
    status: str = ""


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    source: str
    form_title: str
    key: str
    group: str
    fields: tuple[FieldSpec, ...]
    tables: tuple[TableSpec, ...]
    ledger: LedgerSpec
    stages: tuple[Stage, ...]
    statuses: StatusKinds
    similarity: Similarity
    char_count: CharCount = "word"
    template_version: int = 1
    # Warnings that hold a submission out of a merge until the officer confirms (--accept-warnings);
    # other warnings (a blank signature in the e-copy) never block.
    confirm_rules: tuple[str, ...] = ("similar_text", "duplicate_brand_name")
    notes: tuple[str, ...] = ()
    # The notice itself, as printed: its title, who issued it, its document number (文号), and where
    # the form goes (the 填报说明 line under the template's title).
    notice_title: str = ""
    issuer: str = ""
    doc_number: str = ""
    submit_to: str = ""
    notice_year: int | None = None  # the year the notice prints for its first dated stage, if it prints one
    # The printed form's rows, top to bottom: one or two field names each (label | value | label |
    # value), as the notice lays them out. Fields not listed follow, laid out by kind.
    form_rows: tuple[tuple[str, ...], ...] = ()
    # What each stage must receive after the form (reports, photos, news links): toolkit.core.deliverables.
    deliverables: tuple[DeliverableSpec, ...] = ()
    paper: PaperSpec | None = None  # None: the notice asks for no paper copies
    booklet: BookletSpec = BookletSpec()
    # The TOML text the profile was read from ("" when built from data): what a master stores. Not a key.
    text: str = field(default="", repr=False, compare=False, metadata={"internal": True})
    # The campaign year its stages' dates are resolved in (`campaign.resolve`). Not a key.
    year: int | None = field(default=None, metadata={"internal": True})
    # The office that runs the campaign and signs its mails (init --office; the 填报规则 sheet's
    # 落款单位 row, editable there). Not a key.
    office: str = field(default="", metadata={"internal": True})

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def stage(self, name_or_id: str) -> Stage | None:
        return next((s for s in self.stages if name_or_id in (s.name, s.id)), None)

    @property
    def logo_field(self) -> FieldSpec | None:
        return next((f for f in self.fields if f.type == "image"), None)

    @property
    def printed_fields(self) -> tuple[FieldSpec, ...]:
        """The fields the notice's printed form has (all of them when the profile gives no form_rows)."""
        names = {name for row in self.form_rows for name in row}
        return tuple(f for f in self.fields if not names or f.name in names)

    @property
    def submission_stage(self) -> Stage:
        """The stage the form belongs to, which a merge stamps: the first that knows 已提交 (stages
        before it, such as 宣传发动 or 品牌酝酿, are the office's own)."""
        return next((s for s in self.stages if Receipt.SUBMITTED in s.statuses), self.stages[0])


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a built-in profile by id, or a TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise ProfileError(f"没有名为 {name_or_path} 的活动方案；可用：{', '.join(builtin_profiles())}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    return profile_from_text(text, where=str(path))


def profile_from_text(text: str, where: str) -> Profile:
    """A profile from its TOML text (a file's, or the one a master stores); `where` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{where}: {exc}") from exc
    return parse_profile(data, where=where, text=text)


# -- parsing with key checks -------------------------------------------------------------------

def _take(data: dict[str, Any], cls: type, where: str, convert: dict[str, Any] | None = None) -> Any:
    """Build dataclass `cls` from `data`, refusing unknown keys and wrong types by name."""
    names = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = set(data) - set(names)
    if unknown:
        raise ProfileError(f"{where}: 未知的键 {sorted(unknown)}（可用：{sorted(names)}）")
    kwargs = {}
    for key, value in data.items():
        conv = (convert or {}).get(key)
        try:
            kwargs[key] = conv(value) if conv else value
        except (TypeError, ValueError) as exc:
            raise ProfileError(f"{where}.{key}: {exc}") from exc
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ProfileError(f"{where}: {exc}") from exc


def _parse_field(data: dict[str, Any], where: str) -> FieldSpec:
    spec = _take(data, FieldSpec, where, {"labels": tuple, "choices": tuple, "formats": tuple, "parts": tuple,
                                                       "sign": tuple})
    if spec.type not in FIELD_TYPES:
        raise ProfileError(f"{where}.type: 未知类型 {spec.type!r}（可用：{sorted(FIELD_TYPES)}）")
    if spec.severity not in ("error", "warning"):
        raise ProfileError(f"{where}.severity: 只能是 error 或 warning")
    if spec.type == "enum" and not spec.choices:
        raise ProfileError(f"{where}.choices: enum 字段需要可选值")
    return spec


def _parse_stage(data: dict[str, Any], where: str) -> Stage:
    def constraints(items: list[dict[str, Any]]) -> tuple[Constraint, ...]:
        return tuple(_take(c, Constraint, f"{where}.constraints[{i}]", {"values": tuple})
                     for i, c in enumerate(items))
    data = dict(data)
    printed = []
    for key in ("start", "due"):
        try:
            printed.append(printed_date(data.pop(key)) if key in data else None)
        except (TypeError, ValueError) as exc:
            raise ProfileError(f"{where}.{key}: {exc}（应写成 月-日，如 \"03-31\"）") from exc
    stage = _take(data, Stage, where, {"statuses": tuple, "requires": tuple, "constraints": constraints})
    return dataclasses.replace(stage, printed=(printed[0], printed[1]))


def parse_profile(data: dict[str, Any], where: str = "profile", text: str = "", today: dt.date | None = None) -> Profile:
    """A profile from parsed TOML `data`, every key checked; `text` is the TOML it came from, if any. Its
    stages' month-days are dates in the notice's printed year, else in `today`'s (default: today)."""
    data = dict(data)
    try:
        fields = tuple(_parse_field(f, f"{where}: fields[{i}]") for i, f in enumerate(data.pop("fields")))
        ledger = dict(data.pop("ledger"))
        stages_raw = data.pop("stages")
    except KeyError as exc:
        raise ProfileError(f"{where}: 缺少键 {exc.args[0]!r}") from exc
    tables = tuple(
        _take({**t, "columns": tuple(_parse_field(c, f"{where}: tables[{i}].columns[{j}]")
                                     for j, c in enumerate(t.get("columns", [])))},
              TableSpec, f"{where}: tables[{i}]", {"labels": tuple})
        for i, t in enumerate(data.pop("tables", [])))
    aliases = {k: tuple(v) for k, v in ledger.pop("aliases", {}).items()}
    ledger_spec = _take({**ledger, "aliases": aliases}, LedgerSpec, f"{where}: ledger", {"columns": tuple})
    stages = tuple(_parse_stage(s, f"{where}: stages[{i}]") for i, s in enumerate(stages_raw))
    statuses = _take(data.pop("statuses", {}), StatusKinds, f"{where}: statuses",
                     {k: tuple for k in ("passed", "pending", "returned", "late", "receipts")})
    paper = _take(data.pop("paper"), PaperSpec, f"{where}: paper") if "paper" in data else None
    booklet = _take(data.pop("booklet", {}), BookletSpec, f"{where}: booklet", {"facts": tuple, "fields": tuple})
    similarity = _take(data.pop("similarity", {}), Similarity, f"{where}: similarity", {"fields": tuple})
    data["deliverables"] = parse_deliverables(data.pop("deliverables", []), where)
    profile = _take({**data, "fields": fields, "tables": tables, "ledger": ledger_spec, "stages": stages,
                     "statuses": statuses, "similarity": similarity, "paper": paper,
                     "booklet": booklet}, Profile, where,
                    {"notes": tuple, "confirm_rules": tuple, "form_rows": lambda rows: tuple(map(tuple, rows))})
    _check_references(profile, where)
    return dataclasses.replace(resolve(profile, default_year(profile, today or dt.date.today())), text=text)


def _check_references(p: Profile, where: str) -> None:
    names = {f.name for f in p.fields}
    if p.key not in names:
        raise ProfileError(f"{where}: key {p.key!r} 不是已定义的字段")
    if p.char_count not in ("word", "chars"):
        raise ProfileError(f"{where}: char_count 只能是 word 或 chars")
    stage_names = [s.name for s in p.stages]
    for s in p.stages:
        for r in s.requires:
            if r not in stage_names[: stage_names.index(s.name)]:
                raise ProfileError(f"{where}: stages[{s.name}].requires 引用了未在其前定义的阶段 {r!r}")
        if s.publicity is not None and (s.publicity not in s.statuses or not s.workdays):
            raise ProfileError(f"{where}: stages[{s.name}].publicity 须是该阶段的状态之一，并用 workdays 写明公示几个工作日")
    for r in p.statuses.receipts:
        if p.statuses.kind_of(r) not in (None, "passed"):
            raise ProfileError(f"{where}: statuses.receipts 中的 {r!r} 是收到材料的状态，应列在 statuses.passed 中")
    for name in p.similarity.fields:
        if name not in names:
            raise ProfileError(f"{where}: similarity.fields 中的 {name!r} 不是已定义的字段")
    placed = [name for row in p.form_rows for name in row]
    for row in p.form_rows:
        if not 1 <= len(row) <= 2 or any(name not in names for name in row):
            raise ProfileError(f"{where}: form_rows 的每一行应为 1–2 个已定义的字段，{list(row)} 不符合")
    if len(placed) != len(set(placed)):
        raise ProfileError(f"{where}: form_rows 中有字段出现了不止一次")
    _check_destinations(p, where)
    check_deliverables(p, where)
    _check_booklet(p, where)


def _check_booklet(p: Profile, where: str) -> None:
    """The booklet names ledger columns (or the group) and a stage with one of its statuses."""
    b = p.booklet
    known = {*p.ledger.columns, p.group, p.key}
    for name in [*b.facts, *b.fields, *re.findall(r"\{([^{}]+)\}", b.heading)]:
        if name not in known:
            raise ProfileError(f"{where}: booklet 中的 {name!r} 不是台账的列（可用：{'、'.join(p.ledger.columns)}）")
    stage = p.stage(b.stage) if b.stage else None
    if bool(b.stage) != bool(b.status) or (b.stage and (stage is None or b.status not in stage.statuses)):
        raise ProfileError(f"{where}: booklet.stage 和 booklet.status 须同时给出，且 status 是该阶段的状态之一")


def _check_destinations(p: Profile, where: str) -> None:
    """Nothing is lost at merge: every stored field has a ledger column (a picture: the logo column),
    every table a sheet of its own; a field kept out of the master says why."""
    from toolkit.core.changeset import sheet_name_problem

    columns = set(p.ledger.columns)
    for spec in [*p.fields, *[c for t in p.tables for c in t.columns]]:
        if not spec.store and not (spec.reason or "").strip():
            raise ProfileError(f"{where}: 字段 {spec.name!r} 设为 store = false，须用 reason 说明为何不存入台账")
    for spec in p.fields:
        if not spec.store or spec.name == p.key:
            continue
        if spec.type == "image" and not p.ledger.logo_column:
            raise ProfileError(f"{where}: 图片字段 {spec.name!r} 在台账中没有存放位置：请设置 ledger.logo_column，"
                               f"或为该字段加 store = false 和 reason")
        if spec.type != "image" and spec.name not in columns:
            raise ProfileError(f"{where}: 字段 {spec.name!r} 在台账中没有存放位置：请把它加入 ledger.columns，"
                               f"或为该字段加 store = false 和 reason")
    owned = {p.ledger.sheet, p.ledger.log_sheet, RULES_SHEET, PROFILE_SHEET}
    for t in p.tables:
        for name in (t.sheet_name, history_sheet(t)):
            if problem := sheet_name_problem(name, sorted(owned)):
                raise ProfileError(f"{where}: 表格 {t.name!r} 的工作表：{problem}")
            owned.add(name)
        if t.count_column and t.count_column not in columns:
            raise ProfileError(f"{where}: 表格 {t.name!r} 的 count_column {t.count_column!r} 不在 ledger.columns 中")
        if t.item_column in {c.name for c in t.columns} | {p.key}:
            raise ProfileError(f"{where}: 表格 {t.name!r} 的 item_column {t.item_column!r} 与已有列重名")


def history_sheet(table: TableSpec) -> str:
    """The brandkit-owned sheet that keeps a table's replaced rows."""
    return f"{table.sheet_name}历史"


# -- 填报规则 sheet overrides -----------------------------------------------------------------------

def apply_rule_overrides(profile: Profile, rows: list[list[Any]]) -> Profile:
    """Apply a master's 填报规则 sheet: a header row (字段, 必填, 最多字数, …) then one row per field.
    Blank cells keep the profile's value; an unknown field or column names itself in the error."""
    if not rows:
        return profile
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    unknown = [h for h in header if h and h not in RULE_COLUMNS and h != "说明"]
    if unknown or "字段" not in header:
        raise ProfileError(f"{RULES_SHEET}: 表头应为 {list(RULE_COLUMNS)}（无法识别：{unknown or '缺少“字段”列'}）")
    by_name = {f.name: f for f in profile.fields}
    for n, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, row, strict=False))
        name = str(cells.get("字段") or "").strip()
        if not name:
            continue
        if name not in by_name:
            raise ProfileError(f"{RULES_SHEET} 第 {n} 行：字段 {name!r} 不在活动方案中")
        changes: dict[str, Any] = {}
        for title, attr in RULE_COLUMNS.items():
            raw = cells.get(title)
            if attr == "name" or raw is None or str(raw).strip() == "":
                continue
            text = str(raw).strip()
            try:
                if attr == "required":
                    changes[attr] = text in ("是", "必填", "true", "True", "1", "Y", "y")
                elif attr in ("max_chars", "min_chars"):
                    changes[attr] = int(float(text))
                elif attr in ("min", "max"):
                    changes[attr] = float(text)
                elif attr == "choices":
                    changes[attr] = tuple(c.strip() for c in text.replace("，", ",").replace("、", ",")
                                          .split(",") if c.strip())
                else:
                    changes[attr] = text
            except ValueError as exc:
                raise ProfileError(f"{RULES_SHEET} 第 {n} 行“{title}”：{text!r} 不是数字") from exc
        by_name[name] = dataclasses.replace(by_name[name], **changes)
    return dataclasses.replace(profile, fields=tuple(by_name[f.name] for f in profile.fields))


def profile_summary(p: Profile) -> dict[str, Any]:
    return {"id": p.id, "title": p.title, "source": p.source, "fields": [f.name for f in p.fields],
            "tables": [t.name for t in p.tables], "stages": [s.name for s in p.stages]}


def profile_details(p: Profile) -> dict[str, Any]:
    """Everything an officer needs to recognise the notice in a profile: its own words (title, issuer,
    文号, the form's printed labels and limits), the stages with their dates and requirements, the notes."""
    def spec(f: FieldSpec) -> dict[str, Any]:
        return {"name": f.name, "label": f.form_label, "type": f.type, "required": f.required,
                "max_chars": f.max_chars, "choices": list(f.choices), "parts": list(f.parts),
                "stored": f.store, "reason": f.reason}
    return {**profile_summary(p), "notice_title": p.notice_title, "issuer": p.issuer,
            "doc_number": p.doc_number, "form_title": p.form_title, "submit_to": p.submit_to,
            "fields": [spec(f) for f in p.fields],
            "tables": [{"name": t.name, "columns": [spec(c) for c in t.columns], "min_rows": t.min_rows}
                       for t in p.tables],
            "stages": [{"name": s.name, "start": s.start, "due": s.due, "workdays": s.workdays,
                        "note": s.note, "submission": s is p.submission_stage} for s in p.stages],
            "deliverables": [{"name": d.name, "stage": d.stage, "kind": d.kind, "max_chars": d.max_chars,
                              "sections": list(d.sections), "min_count": d.min_count, "max_count": d.max_count,
                              "note": d.note} for d in p.deliverables],
            "notes": list(p.notes)}



def rules_sheet_rows(profile: Profile) -> list[list[Any]]:
    """The 填报规则 sheet a master carries: the campaign id, the campaign's stage dates (read back by
    `campaign.apply_stage_dates`), then one editable row per field (`apply_rule_overrides`)."""
    rows: list[list[Any]] = [["活动方案", profile.id, profile.title],
                             [OFFICE_LABEL, profile.office or None, "（发给各支部的回执、退回和催报邮件以此署名，可修改）"],
                             [], *stage_rows(profile), [], [*RULE_COLUMNS, "说明"]]
    for f in profile.fields:
        rows.append([f.name, "是" if f.required else "否", f.max_chars, f.min_chars, f.min, f.max,
                     "、".join(f.choices) or None, f.pattern, f.hint])
    return rows


# -- the profile a master stores ------------------------------------------------------------------------

def split_cells(text: str, limit: int = CELL_LIMIT) -> list[str]:
    """`text` in consecutive pieces of at most `limit` UTF-16 units (what Excel counts), each cut after a
    line end when one falls in range, else where the limit falls (never inside a character)."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end, units, line_end = start, 0, 0
        while end < len(text):
            width = 2 if ord(text[end]) > 0xFFFF else 1
            if units + width > limit:
                break
            units += width
            end += 1
            if text[end - 1] == "\n":
                line_end = end
        if end < len(text) and line_end:
            end = line_end
        pieces.append(text[start:end])
        start = end
    return pieces


def stored_text(profile: Profile) -> str:
    """The profile's text as a master stores it: Windows line ends as \\n, which TOML reads alike."""
    return profile.text.replace("\r\n", "\n")


def profile_sheet(profile: Profile) -> NewSheet | None:
    """The hidden, protected sheet that carries the profile's TOML text in a master (None for a profile
    built from data, which has no text). A cell of blanks alone would read back empty: TOML text never
    holds 32,767 blank units in a row."""
    if not profile.text:
        return None
    rows = [[PROFILE_SHEET_TITLE, PROFILE_SHEET_NOTE], *([piece] for piece in split_cells(stored_text(profile)))]
    return NewSheet(PROFILE_SHEET, rows, [120, 60], hidden=True, protected=True)


def stored_profile_text(grids: Mapping[str, Grid]) -> str | None:
    """The TOML text a master stores (its cells joined), or None when it has no such sheet."""
    grid = grids.get(PROFILE_SHEET)
    if grid is None or grid.get(0, 0) != PROFILE_SHEET_TITLE:
        return None
    return "".join(str(row[0]) for row in grid.rows[1:] if row and row[0] is not None)


def stored_profile_id(text: str) -> str | None:
    """The id in a stored profile's text, without checking the rest (None when it does not parse)."""
    try:
        value = tomllib.loads(text).get("id")
    except tomllib.TOMLDecodeError:
        return None
    return value if isinstance(value, str) else None
