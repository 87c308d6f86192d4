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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.core.campaign import PrintedDate, default_year, printed_date, resolve
from toolkit.core.deliverables import DeliverableSpec, check_deliverables, parse_deliverables
from toolkit.core.model import Severity, china_today
from toolkit.core.profile_checks import (  # ProfileError is imported from here by callers
    ProfileError,
    aliases,
    check_field,
    check_keys,
    check_profile,
    decode_profile,
    table_list,
    toml_problem,
)
from toolkit.core.text import CharCount
from toolkit.core.vocabulary import Receipt
from toolkit.core.workcal import HOLIDAY_SHEET

if TYPE_CHECKING:
    pass

PROFILE_DIR = Path(__file__).parents[1] / "profiles"  # data beside the code, at the package top
FIELD_TYPES = {"text", "integer", "number", "phone", "email", "date", "enum", "image", "signature"}
RULES_SHEET = "填报规则"
PROFILE_SHEET = "活动方案文件"
CELL_LIMIT = 32_767  # the most text Excel keeps in one cell, in UTF-16 units


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
    # The field the date written on the box's "年 月 日" line is read into ("日期"); None: it stays in the box.
    dated: str | None = None
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


# The kinds a profile sorts its statuses into (`[statuses]`), in the order status and the summary count them.
STATUS_KINDS = ("passed", "pending", "returned", "late", "declined")


@dataclass(frozen=True)
class StatusKinds:
    passed: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    returned: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    # Final outcomes that leave a branch out (未推荐, 未入选, 未立项): decided, not sent back to fix.
    declined: tuple[str, ...] = ()
    # Statuses that record something arriving from a branch (已提交): only these become the stage's late
    # status when stamped after its due date. Every other status is a decision (审核通过, 已推荐, 优秀),
    # kept as stamped whatever the date.
    receipts: tuple[str, ...] = (Receipt.SUBMITTED,)

    def kind_of(self, status: str) -> str | None:
        for kind in STATUS_KINDS:
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
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ProfileError(f"找不到活动方案文件 {path}：请检查路径和文件名（含 .toml 后缀）是否正确") from exc
    except OSError as exc:
        raise ProfileError(f"{path}：无法读取活动方案文件（{exc.strerror or exc}）") from exc
    return profile_from_text(decode_profile(data, str(path)), where=str(path))


def profile_from_text(text: str, where: str) -> Profile:
    """A profile from its TOML text (a file's, or the one a master stores); `where` names it in errors."""
    text = text.removeprefix("\ufeff")  # a BOM Notepad wrote, kept by a reader that did not drop it
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_problem(exc, text, where) from exc
    return parse_profile(data, where=where, text=text)


# -- parsing with key checks -------------------------------------------------------------------

def _take(data: dict[str, Any], cls: type, where: str, convert: dict[str, Any] | None = None) -> Any:
    """Build dataclass `cls` from `data`, refusing unknown keys and wrong types by name."""
    if not isinstance(data, dict):
        check_keys(data, cls, where)  # refuses what is not a table
    names = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    unknown = set(data) - set(names)
    if unknown:
        raise ProfileError(f"{where}: 未知的键 {sorted(unknown)}（可用：{sorted(names)}）")
    check_keys(data, cls, where)
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
    check_field(spec, where)
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
    for key, example in (("fields", "[[fields]]"), ("ledger", "[ledger]"), ("stages", "[[stages]]")):
        if key not in data:
            raise ProfileError(f"{where}：缺少 {key}（应有 {example} 表），请对照内置活动方案补上")
    if not isinstance(data["ledger"], dict):
        raise ProfileError(f"{where}：ledger 应写成一个 [ledger] 表")
    fields = tuple(_parse_field(f, f"{where}: fields[{i}]") for i, f in enumerate(table_list(data, "fields", where)))
    ledger = dict(data.pop("ledger"))
    stages_raw = table_list(data, "stages", where)
    del data["fields"], data["stages"]
    tables = tuple(
        _take({**t, "columns": tuple(_parse_field(c, f"{where}: tables[{i}].columns[{j}]")
                                     for j, c in enumerate(table_list(t, "columns", f"{where}: tables[{i}]")))},
              TableSpec, f"{where}: tables[{i}]", {"labels": tuple})
        for i, t in enumerate(table_list(data, "tables", where)))
    data.pop("tables", None)
    ledger_spec = _take({**ledger, "aliases": aliases(ledger.pop("aliases", {}), f"{where}: ledger")}, LedgerSpec,
                        f"{where}: ledger", {"columns": tuple})
    stages = tuple(_parse_stage(s, f"{where}: stages[{i}]") for i, s in enumerate(stages_raw))
    statuses = _take(data.pop("statuses", {}), StatusKinds, f"{where}: statuses",
                     {k: tuple for k in (*STATUS_KINDS, "receipts")})
    paper = _take(data.pop("paper"), PaperSpec, f"{where}: paper") if "paper" in data else None
    booklet = _take(data.pop("booklet", {}), BookletSpec, f"{where}: booklet", {"facts": tuple, "fields": tuple})
    similarity = _take(data.pop("similarity", {}), Similarity, f"{where}: similarity", {"fields": tuple})
    data["deliverables"] = parse_deliverables(table_list(data, "deliverables", where), where)
    profile = _take({**data, "fields": fields, "tables": tables, "ledger": ledger_spec, "stages": stages,
                     "statuses": statuses, "similarity": similarity, "paper": paper,
                     "booklet": booklet}, Profile, where,
                    {"notes": tuple, "confirm_rules": tuple, "form_rows": lambda rows: tuple(map(tuple, rows))})
    _check_references(profile, where)
    return dataclasses.replace(resolve(profile, default_year(profile, today or china_today())), text=text)


def _check_references(p: Profile, where: str) -> None:
    check_profile(p, where, (RULES_SHEET, PROFILE_SHEET, HOLIDAY_SHEET))
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
    for spec in p.fields:
        dated = p.field(spec.dated) if spec.dated is not None else None
        if spec.dated is not None and (dated is None or dated.type != "date"):
            raise ProfileError(f"{where}: 字段 {spec.name!r} 的 dated 须是已定义的日期字段，{spec.dated!r} 不是")
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
