"""Deliverables (pure): what a stage must receive after the form, and the checks a received file passes.

A profile lists them as `[[deliverables]]` (a report with its 字数 limit and required section headings, a
number of photos, news links, other materials such as the 三个一), each under the stage of the notice
that asks for it. Intake keeps every attachment; merge reads the files that are not forms in the sandbox
(`toolkit.readers.deliverable` -> `Received`), `toolkit.core.plan_deliverables` matches them to branches and
marks the ledger, and `judge` here says what a branch's files for one deliverable lack, as findings with
stable rule ids (`max_chars`, `missing_section`, `photo_count`, `photo_size`, `link_count`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.core.messages import message
from toolkit.core.model import Finding
from toolkit.core.text import CharCount, count_chars, normalize_label

if TYPE_CHECKING:
    from toolkit.core.profile import Profile
    from toolkit.core.workcal import WorkCalendar

KINDS = ("report", "photos", "links", "file")
MIN_SIDE = 800  # px on a photo's long side, unless the profile says otherwise
DOCUMENT_FORMATS = frozenset({"docx", "doc", "wps", "rtf", "pdf", "pptx", "ppt", "text"})
PICTURE_FORMATS = frozenset({"png", "jpeg", "gif", "bmp", "webp", "tiff"})
# A copy of the form itself (申报表盖章版, 扫描件): a PDF or a picture that says it is the form. It is kept
# where it came and named in the output, never taken for a deliverable (toolkit.core.plan_deliverables).
COPY_FORMATS = frozenset({"pdf"}) | PICTURE_FORMATS
COPY_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
FORM_WORDS = ("申报表", "申报书", "申请表", "登记表", "情况表")  # what a branch calls its form in a file name
_LOGO_WORDS = ("标识", "logo")  # "申报表标识.png" is the form's logo, not a copy of the form
_QUOTE_MARKS = re.compile(r"[“”‘’\"'「」『』《》〈〉]")
_TITLE_MIN = 8  # characters of the form's title a copy's first line must hold (a cell may cut it short)
_URL = re.compile(r"https?://[^\s\"'<>()（）【】，。；、]+", re.I)
# Numbering before a heading: 一、 （一） 1. 1、 (1) 第一部分 — stripped before comparing with a section name.
_NUMBERING = re.compile(r"^(第?[一二三四五六七八九十\d]+(部分)?[、.．:：）)]?|[（(][一二三四五六七八九十\d]+[）)])\s*")


@dataclass(frozen=True)
class DeliverableSpec:
    """One thing a stage must receive; `name` is also its ledger column."""

    name: str
    stage: str
    kind: str = "file"  # report | photos | links | file (received, nothing checked)
    words: tuple[str, ...] = ()  # words of a file name that say it is this one (when a stage has several)
    max_chars: int | None = None  # report: 字数 limit, counted as the profile's char_count
    sections: tuple[str, ...] = ()  # report: headings it must have, in the notice's words
    min_count: int | None = None  # photos, links
    max_count: int | None = None  # photos
    min_side: int = MIN_SIDE  # photos: px on the long side
    note: str | None = None  # the notice's own words

    @property
    def column(self) -> str:
        return self.name

    def accepts(self, fmt: str) -> bool:
        """Whether a file of this sniffed format can be this deliverable."""
        if self.kind == "photos":
            return fmt in PICTURE_FORMATS
        if self.kind == "report":
            return fmt in DOCUMENT_FORMATS
        if self.kind == "links":
            return fmt in ("text", "docx")
        return fmt != "empty"


def parse_deliverables(items: list[dict[str, Any]], where: str) -> tuple[DeliverableSpec, ...]:
    """The profile's `[[deliverables]]`, every key checked (unknown keys and kinds are named)."""
    from toolkit.core.profile import ProfileError, _take

    out = []
    for i, item in enumerate(items):
        here = f"{where}: deliverables[{i}]"
        spec = _take(item, DeliverableSpec, here, {"words": tuple, "sections": tuple})
        if spec.kind not in KINDS:
            raise ProfileError(f"{here}.kind: 未知类型 {spec.kind!r}（可用：{list(KINDS)}）")
        out.append(spec)
    return tuple(out)


def check_deliverables(profile: Profile, where: str) -> None:
    """Each deliverable names a stage of the profile and a column of its own."""
    from toolkit.core.profile import ProfileError

    stages = {s.name for s in profile.stages}
    taken = {*profile.ledger.columns, *(s.column for s in profile.stages)}
    for d in profile.deliverables:
        if d.stage not in stages:
            raise ProfileError(f"{where}: 材料“{d.name}”的 stage {d.stage!r} 不是已定义的阶段")
        if d.column in taken:
            raise ProfileError(f"{where}: 材料“{d.name}”与台账已有的列重名")
        taken.add(d.column)


def stage_deliverables(profile: Profile, stage: str) -> tuple[DeliverableSpec, ...]:
    return tuple(d for d in profile.deliverables if d.stage == stage)


@dataclass(frozen=True)
class Received:
    """A file that is not a form, as the sandboxed reader saw it (no bytes). `pictures`: the pixel sizes
    of a picture file itself, or of the pictures inside a document; `links`: the web addresses in its text."""

    path: str
    name: str  # the attachment's name as sent, else the file's
    format: str  # sniffed: docx, pdf, text, png, jpeg, … ("unreadable" with `problem`)
    sha256: str
    sender: str | None = None
    received: str | None = None
    paragraphs: tuple[str, ...] = ()
    pictures: tuple[tuple[int | None, int | None], ...] = ()
    links: tuple[str, ...] = ()
    problem: str | None = None
    mail: str | None = None  # which mail it came in (set by the shell from the intake manifest)
    form_text: bool = False  # a PDF whose first page reads as the campaign's form (`reads_as_form`)

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def _plain(text: str) -> str:
    """Text reduced for comparing names and titles: width, spaces, quote marks and case ignored."""
    return _QUOTE_MARKS.sub("", "".join(unicodedata.normalize("NFKC", text).split())).lower()


def names_the_form(name: str, profile: Profile) -> bool:
    """The file name says it is the campaign's form ("护理部党支部申报表（盖章版）.pdf", a scan named
    after the form's title); a name with 标识/logo is the form's logo."""
    stem = _plain(name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0])
    if any(w in stem for w in _LOGO_WORDS):
        return False
    title = _plain(profile.form_title)
    return any(w in stem for w in FORM_WORDS) or (len(title) >= _TITLE_MIN and title in stem)


def reads_as_form(lines: Iterable[str], profile: Profile) -> bool:
    """A PDF's first page, as text, is the campaign's form: a first line that is the form's title (or
    its first 8 characters and more: a title cut short by its cell), a short first line naming a form
    (申报表, 申报书, …), or at least half (and 4) of the form's field labels. A report's title ("…创建总结
    报告") is none of these."""
    lines = [t for t in (_plain(line) for line in lines) if t]
    if not lines:
        return False
    title = _plain(profile.form_title)
    for head in lines[:3]:
        if len(head) >= _TITLE_MIN and title and (title.startswith(head) or title in head):
            return True
        if len(head) <= 30 and any(w in head for w in FORM_WORDS):
            return True
    text = "".join(lines)
    specs = profile.fields
    found = sum(1 for f in specs if any(len(k) >= 3 and k in text
                                        for k in {_plain(normalize_label(label)) for label in f.all_labels}))
    return found >= max(4, (len(specs) + 1) // 2)


def form_copy(item: Received, profile: Profile) -> bool:
    """The file is a copy of the form (盖章版, 扫描件): a PDF or picture whose name, or (a PDF) whose text,
    says so. It is kept and named, never a deliverable."""
    suffix = "." + item.name.rsplit(".", 1)[-1].lower() if "." in item.name else ""
    copy_kind = item.format in COPY_FORMATS or (item.format == "unreadable" and suffix in COPY_SUFFIXES)
    return copy_kind and (item.form_text or names_the_form(item.name, profile))


def links_in(text: str) -> tuple[str, ...]:
    """The distinct web addresses in `text`, in order."""
    return tuple(dict.fromkeys(m.group(0).rstrip(".,;") for m in _URL.finditer(text)))


def _heading(paragraph: str) -> str:
    return normalize_label(_NUMBERING.sub("", unicodedata.normalize("NFKC", paragraph).strip()))


def missing_sections(paragraphs: tuple[str, ...], sections: tuple[str, ...]) -> list[str]:
    """The sections no paragraph starts with (numbering such as 一、 or （一） ignored)."""
    heads = [_heading(p) for p in paragraphs if p.strip()]
    return [s for s in sections if not any(h.startswith(normalize_label(s)) for h in heads)]


@dataclass
class Judgement:
    """What one deliverable of one branch came to: its files, findings (errors make it 不合格), notes.
    `about`: a finding about one file (its text, a picture's size, unreadable) -> that file's path; the
    others (a count of photos or links) are about every file."""

    spec: DeliverableSpec
    files: list[Received]
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    about: dict[Finding, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def findings_about(self, path: str) -> list[Finding]:
        """The findings that concern the file at `path`: its own, and those about every file."""
        return [f for f in self.findings if self.about.get(f, path) == path]

    def add(self, finding: Finding, path: str | None = None) -> None:
        self.findings.append(finding)
        if path is not None:
            self.about[finding] = path


def judge(spec: DeliverableSpec, files: list[Received], char_count: CharCount,
          photos: list[Received] | None = None, texts: list[Received] | None = None) -> Judgement:
    """Check one branch's `files` for `spec`. `photos`: every picture (file or inside a report) the branch
    sent for the stage, for a photos deliverable; `texts`: every file whose text may hold news links."""
    j = Judgement(spec, files)
    if spec.kind == "report":
        _judge_report(j, char_count)
    elif spec.kind == "photos":
        _judge_photos(j, photos if photos is not None else files)
    elif spec.kind == "links":
        _judge_links(j, texts if texts is not None else files)
    unreadable = [(Finding("unreadable", "error", f"{f.name}：{f.problem}", field=spec.name), f.path)
                  for f in files if f.problem]
    j.findings = [*(u for u, _ in unreadable), *j.findings]
    j.about.update(unreadable)
    return j


def _judge_report(j: Judgement, char_count: CharCount) -> None:
    spec = j.spec
    readable = [f for f in j.files if not f.problem]
    report = next((f for f in reversed(readable) if f.paragraphs), None)  # the newest with text
    if report is None:
        if readable and (spec.max_chars or spec.sections):
            j.notes.append(f"“{readable[-1].name}”的文字无法读取（如 PDF），字数和标题未核对；"
                           "如需核对，请对方另交 Word 版")
        return
    count = count_chars(report.text, char_count)
    if spec.max_chars is not None and count > spec.max_chars:
        j.add(Finding("max_chars", "error", message("max_chars", field=spec.name, count=count,
                                                     limit=spec.max_chars), field=spec.name), report.path)
    for section in missing_sections(report.paragraphs, spec.sections):
        j.add(Finding("missing_section", "error", message("missing_section", field=spec.name, section=section,
                                                           sections="、".join(spec.sections)), field=spec.name),
               report.path)


def _judge_photos(j: Judgement, photos: list[Received]) -> None:
    spec = j.spec
    sizes = [(f, size) for f in photos if not f.problem for size in f.pictures]
    count = len(sizes)
    if spec.min_count is not None and count < spec.min_count:
        j.findings.append(Finding("photo_count", "error", message(
            "photo_count", field=spec.name, count=count, wanted=_wanted(spec)), field=spec.name))
    elif spec.max_count is not None and count > spec.max_count:
        j.findings.append(Finding("photo_count", "warning", message(
            "photo_count.max", field=spec.name, count=count, wanted=_wanted(spec)), field=spec.name))
    for f, (width, height) in sizes:
        if width is not None and height is not None and max(width, height) < spec.min_side:
            j.add(Finding("photo_size", "error", message(
                "photo_size", field=spec.name, file=f.name, width=width, height=height, min_side=spec.min_side),
                field=spec.name), f.path)


def _wanted(spec: DeliverableSpec) -> str:
    if spec.min_count is not None and spec.max_count is not None:
        return f"{spec.min_count}–{spec.max_count}"
    return f"至少 {spec.min_count}" if spec.min_count is not None else f"至多 {spec.max_count}"


def _judge_links(j: Judgement, texts: list[Received]) -> None:
    spec = j.spec
    links = dict.fromkeys(link for f in texts for link in f.links)
    if spec.min_count is not None and len(links) < spec.min_count:
        j.findings.append(Finding("link_count", "error", message(
            "link_count", field=spec.name, count=len(links), min=spec.min_count), field=spec.name))


@dataclass(frozen=True)
class Owed:
    """A deliverable a branch still owes: nothing handed in (未交), 缺, or 不合格 with the reasons."""

    deliverable: str
    stage: str
    branch: str
    group: str
    state: str


def stage_starts(profile: Profile, calendar: WorkCalendar | None = None) -> dict[str, dt.date | None]:
    """Each stage's first day, as `toolkit.core.stages.current_stages` draws the windows: its `start`; one
    without a start opens the day after the previous stage's due date (`stage_due`, on the master's
    `calendar`: a 公示期 counted in working days), or alongside the previous stage when that would leave it
    no days (项目申报 "11月10日前" during 品牌酝酿). None: open from the outset (no date before it)."""
    from toolkit.core.stages import stage_due
    from toolkit.core.workcal import OFFICIAL

    out: dict[str, dt.date | None] = {}
    prev_start: dt.date | None = None
    prev_due: dt.date | None = None
    for stage in profile.stages:
        due = stage_due(stage, calendar or OFFICIAL)
        start = stage.start
        if start is None and prev_due is not None:
            start = prev_due + dt.timedelta(days=1)
            if due is not None and start > due:
                start = prev_start
        out[stage.name] = start
        prev_start, prev_due = start, due or prev_due
    return out


def begun_stages(profile: Profile, today: dt.date, calendar: WorkCalendar | None = None) -> set[str]:
    """Stages under way or past on `today` (`stage_starts`: a stage with no date before it is open from
    the outset)."""
    return {name for name, start in stage_starts(profile, calendar).items() if start is None or start <= today}


def owed(profile: Profile, rows: Iterable[tuple[str, str, Mapping[str, Any]]], today: dt.date) -> list[Owed]:
    """What each branch in the ledger (branch, group, ledger values) still owes, for the deliverables of
    the stages begun by `today` (and of any stage a branch has handed something in for already)."""
    from toolkit.core.stages import parse_stamp, stamp_note
    from toolkit.core.vocabulary import NOT_HANDED_IN, Mark

    rows = list(rows)
    begun = begun_stages(profile, today)
    out = []
    for d in profile.deliverables:
        if d.stage not in begun and not any(parse_stamp(values.get(d.column)) for _, _, values in rows):
            continue
        for branch, group, values in rows:
            mark = parse_stamp(values.get(d.column))
            if mark == Mark.DONE:
                continue
            state = NOT_HANDED_IN if mark is None else mark
            if note := stamp_note(values.get(d.column)):
                state = f"{state}（{note}）"
            out.append(Owed(d.name, d.stage, branch, group, state))
    return out
