"""Plan the deliverables of a merge (pure): files that are not forms -> branches -> deliverables -> ledger marks.

A file belongs to a branch by, in order: a form of the same mail (its sender sent both), a branch named in
its file name, a branch named in its first lines, the sender of a form in this run. Within the branch it
is the deliverable whose kind takes its format (a report takes documents, photos take pictures); among
several, the one whose words its name holds, else the one of the branch's current stage (the earliest it
has not handed in). Only the deliverables of a stage that has begun (its dates, `deliverables.stage_starts`
on the master's calendar, or a stamp or mark already in the branch's row) take a file: one that fits a
later stage only is set aside and said (`SetAside`), never credited early. A copy of the form itself (a
sealed PDF, a scan: `deliverables.form_copy`) is no deliverable either: it is named, with what to do when
the branch sent no Excel/Word form beside it (`FormCopy`). Each deliverable of a stage the branch sent
something for is judged and marked in its ledger column: 已交, 不合格 (with the reasons) or, when nothing
came for it, 缺 (only in a blank cell: a mark already there is never taken back by a mail that did not
carry that deliverable). Marks go in as ChangeSet cell writes with a 操作记录 row each, like a merge's; a
mark already in place is not written again.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.core.changeset import CellWrite, ChangeSet, NewColumn
from toolkit.core.deliverables import DeliverableSpec, Judgement, Received, begun_stages, judge, stage_starts
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.core.master import MasterSnapshot
from toolkit.core.messages import message
from toolkit.core.model import CHINA_TZ, WORD_KINDS, Checked, Finding, Provenance, Submission, china_today
from toolkit.core.plan import holds_form
from toolkit.core.profile import Profile
from toolkit.core.roster import RosterEntry
from toolkit.core.stages import KIND_FILLS, parse_stamp, stamp_note, stamp_text
from toolkit.core.text import CharCount, normalize_branch
from toolkit.core.vocabulary import MARK_KINDS, LogAction, Mark
from toolkit.core.workcal import WorkCalendar

_HEAD_LINES = 5  # the first lines of a document that may name its branch


def not_a_form(sub: Submission) -> bool:
    """A Word file, or a .txt whose text looked like a table (so it was read as one), read as a form that
    holds none: a report, a list of news links or other material, not a returned form."""
    text = sub.provenance.kind in WORD_KINDS or Path(sub.provenance.path).suffix.lower() == ".txt"
    return (text and not sub.fields and not sub.tables
            and any(f.rule == "template_mismatch" for f in sub.findings))


@dataclass
class Delivered:
    """A merge's deliverable files as read, and which mail each form of the run came in (path -> mail)."""

    items: list[Received] = field(default_factory=list)
    form_mails: dict[str, str] = field(default_factory=dict)
    copies: list[Received] = field(default_factory=list)  # copies of the form (盖章版, 扫描件): no deliverable


@dataclass
class FormCopy:
    """A sealed or scanned copy of a branch's form (申报表盖章版/扫描件), kept where it came (`path`, in the
    inbox) and never a deliverable. `alone`: the branch sent no Excel/Word form (in this run, nor one the
    ledger holds already), so its form is still missing and the branch is asked for it. `branch` None: no
    branch was found for it."""

    branch: str | None
    name: str
    path: str
    alone: bool

    def finding(self) -> Finding | None:
        """`validate`: what the branch is told when the copy is all it sent (an error: no form to merge)."""
        if not self.alone:
            return None
        return Finding("template_mismatch", "error", message("template_mismatch.form_copy", file=self.name,
                                                             branch=self.branch or "该支部"))

    def note(self) -> str | None:
        return None if self.alone else f"申报表盖章版/扫描件已收到（{self.name}），原件留在收件箱备查，不计为材料"

    def to_json(self) -> dict[str, object]:
        return {"branch": self.branch, "file": self.name, "path": self.path, "form_missing": self.alone}


@dataclass(frozen=True)
class SetAside:
    """A branch's file that fits only a deliverable of a stage that has not begun: not credited, said."""

    branch: str | None
    name: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"branch": self.branch, "file": self.name, "reason": self.reason}


@dataclass
class DeliverableOutcome:
    """One branch's deliverable after the merge (or as `validate` judged it): its mark, the files, what
    was found. `branch` None: files no branch was found for (validate only)."""

    branch: str | None
    name: str
    stage: str
    mark: Mark
    files: list[str]
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: bool = False  # the ledger cell changed

    def to_json(self) -> dict[str, object]:
        return {"branch": self.branch, "deliverable": self.name, "stage": self.stage, "mark": self.mark,
                "files": self.files, "findings": self.findings, "notes": self.notes, "written": self.written}


@dataclass
class DeliverablePlan:
    outcomes: list[DeliverableOutcome]
    unmatched: list[str]  # files no branch could be found for (said, never dropped silently)
    copies: list[FormCopy] = field(default_factory=list)  # copies of the form (盖章版, 扫描件): named, kept
    aside: list[SetAside] = field(default_factory=list)  # files for a stage that has not begun


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _named(text: str, branches: dict[str, str]) -> str | None:
    """The branch (longest name first) that `text` names: by its full name, or the name without 党支部."""
    key = _key(text)
    hits = [b for b in branches if _key(b) in key] or [b for b, n in branches.items() if len(n) > 1 and n in key]
    return max(hits, key=len) if hits else None


def match_branches(items: list[Received], checked: list[Checked], delivered: Delivered, roster: Iterable[str],
                   entries: Mapping[str, RosterEntry]) -> tuple[dict[str, list[Received]], list[Received]]:
    """Branch (as `roster` writes it) -> its files, and the files no branch was found for. `entries`: the
    roster's rows, whose e-mail addresses name a sender's branch."""
    branches = {b: normalize_branch(b) for b in roster}
    by_mail: dict[str, set[str]] = {}
    by_sender: dict[str, set[str]] = {}
    for c in checked:
        if not c.branch:
            continue
        if (mail := delivered.form_mails.get(c.submission.provenance.path)) is not None:
            by_mail.setdefault(mail, set()).add(c.branch)
        if c.submission.provenance.sender:
            by_sender.setdefault(_address(c.submission.provenance.sender), set()).add(c.branch)
    for name, entry in entries.items():
        for value in entry.contacts.values():
            if "@" in value:
                by_sender.setdefault(_address(value), set()).add(name)
    out: dict[str, list[Received]] = {}
    unmatched: list[Received] = []
    for item in items:
        same_mail = by_mail.get(item.mail or "", set())
        senders = by_sender.get(_address(item.sender or ""), set()) if item.sender else set()
        branch: str | None = (next(iter(same_mail)) if len(same_mail) == 1 else None) or _named(Path(item.name).stem, branches) \
            or _named("\n".join(item.paragraphs[:_HEAD_LINES]), branches) \
            or (next(iter(senders)) if len(senders) == 1 else None)
        if branch is None:
            unmatched.append(item)
        else:
            out.setdefault(branch, []).append(item)
    return out, unmatched


def _address(sender: str) -> str:
    return sender.rsplit("<", 1)[-1].rstrip(">").strip().lower()


def assign(item: Received, specs: Sequence[DeliverableSpec], marks: dict[str, str | None],
           begun: Collection[str] | None = None) -> DeliverableSpec | None:
    """The deliverable a branch's file is: by kind, then the words of its name, then the current stage
    (the earliest whose deliverable the branch has not handed in). `marks`: deliverable -> its mark;
    `begun`: the stages that have begun (None: every one) — a later stage's deliverable takes nothing."""
    if item.format == "text" and item.links and any(d.kind == "links" for d in specs):
        return None  # a list of news links: the links deliverable counts it, it is no report
    candidates = [d for d in specs if d.kind != "links" and d.accepts(item.format)
                  and (begun is None or d.stage in begun)]
    if len(candidates) > 1:
        head = _key(" ".join([Path(item.name).stem, *item.paragraphs[:2]]))
        worded = [d for d in candidates if any(_key(w) in head for w in d.words)]
        candidates = worded or candidates
    owed = [d for d in candidates if marks.get(d.name) != Mark.DONE]
    pool = owed or candidates
    return pool[0] if pool else None


def open_stages(profile: Profile, today: dt.date, calendar: WorkCalendar | None,
                cells: Mapping[str, object]) -> set[str]:
    """The stages whose deliverables a branch's files may be on `today`: those begun by the campaign's
    dates (`deliverables.begun_stages`), and every stage up to the last one the branch's row holds a
    stamp or a deliverable's mark for (the office moved it on, whatever the dates say)."""
    names = [s.name for s in profile.stages]
    reached = {s.name for s in profile.stages if parse_stamp(cells.get(s.column))} | \
        {d.stage for d in profile.deliverables if parse_stamp(cells.get(d.column))}
    last = max((names.index(n) for n in reached if n in names), default=-1)
    return begun_stages(profile, today, calendar) | set(names[:last + 1])


def judge_branch(profile_specs: tuple[DeliverableSpec, ...], files: list[Received], marks: dict[str, str | None],
                 char_count: CharCount, begun: Collection[str] | None = None,
                 ) -> tuple[list[Judgement], list[tuple[Received, DeliverableSpec]]]:
    """Each deliverable of every begun stage the branch sent something for, judged on its files; and
    the files that fit only a deliverable of a stage not begun (`begun`; None: every stage has), with it."""
    specs = tuple(d for d in profile_specs if begun is None or d.stage in begun)
    assigned: dict[str, list[Received]] = {d.name: [] for d in specs}
    early: list[tuple[Received, DeliverableSpec]] = []
    links = [d for d in specs if d.kind == "links"]
    for item in sorted(files, key=lambda f: f.received or ""):
        spec = assign(item, profile_specs, marks, begun)
        if spec is not None:
            assigned[spec.name].append(item)
        elif begun is not None:
            later = assign(item, profile_specs, marks) or (
                next((d for d in profile_specs if d.kind == "links"), None)
                if item.links and item.format == "text" and not links else None)
            if later is not None and later.stage not in begun:
                early.append((item, later))
    texts = [f for f in files if f.links]
    touched = {d.stage for d in specs if assigned[d.name]} | ({d.stage for d in links} if texts else set())
    out = []
    for spec in specs:
        if spec.stage not in touched:
            continue
        stage_files = [f for d in specs if d.stage == spec.stage for f in assigned[d.name]]
        photos = [f for f in stage_files if f.pictures]  # picture files and reports with pictures inside
        mine = {"links": texts, "photos": photos}.get(spec.kind, assigned[spec.name])
        out.append(judge(spec, mine, char_count, photos=photos, texts=texts))
    return out, early


def early_note(spec: DeliverableSpec, profile: Profile, calendar: WorkCalendar | None = None) -> str:
    """Why a file was not credited: the stage it fits has not begun."""
    start = stage_starts(profile, calendar).get(spec.stage)
    when = f"（{start.isoformat()} 起）" if start else ""
    return (f"“{spec.stage}”阶段尚未开始{when}，本文件不计为“{spec.name}”，台账未记；"
            "该阶段开始后再合并一次即可计入")


def place_copies(copies: list[Received], checked: list[Checked], delivered: Delivered, roster: Iterable[str],
                 entries: Mapping[str, RosterEntry], formed: Collection[str] = ()) -> list[FormCopy]:
    """Each copy of a form (盖章版, 扫描件) with its branch, found as a deliverable's is (its mail, its name,
    its first lines, its sender) or, failing those, the one branch whose forms lie in the same folder;
    `alone` when that branch sent no Excel/Word form in this run and `formed` (normalised branches whose
    form the ledger holds) does not list it."""
    if not copies:
        return []
    by_branch, _ = match_branches(copies, checked, delivered, roster, entries)
    owner = {id(item): branch for branch, items in by_branch.items() for item in items}
    folders: dict[str, set[str]] = {}
    sent: set[str] = set(formed)
    for c in checked:
        if c.branch and c.submission.readable and (c.submission.fields or c.submission.tables):
            folders.setdefault(str(Path(c.submission.provenance.path).parent), set()).add(c.branch)
            sent.add(normalize_branch(c.branch))
    out = []
    for item in copies:
        branch = owner.get(id(item))
        if branch is None and len(near := folders.get(str(Path(item.path).parent), set())) == 1:
            branch = next(iter(near))
        out.append(FormCopy(branch, item.name, item.path, branch is None or normalize_branch(branch) not in sent))
    return out


@dataclass
class FileVerdict:
    """`validate`: one file that is not a form, judged as the deliverables of its branch (those it was
    counted for: a report with photos inside is both), with the findings about it."""

    item: Received
    branch: str | None
    deliverables: list[str]
    findings: list[Finding]
    notes: list[str]
    copy: FormCopy | None = None  # a copy of the form (盖章版, 扫描件), not a deliverable

    def checked(self) -> Checked:
        """As a checked submission with no fields, so the returned report and 校验汇总 list it like a form."""
        item = self.item
        provenance = Provenance(item.path, item.sha256, sender=item.sender, received=item.received, kind=item.format)
        unreadable = [f for f in self.findings if f.rule == "unreadable"]
        return Checked(Submission(provenance, findings=unreadable, notes=list(self.notes)), self.findings, self.branch)


def judge_received(profile: Profile, delivered: Delivered, checked: list[Checked], snap: MasterSnapshot | None = None,
                   today: dt.date | None = None) -> tuple[list[FileVerdict], list[DeliverableOutcome]]:
    """`validate` (pure): each file that is not a form, matched to a branch as a merge matches it (with no
    master, the branches are the forms' of this run) and judged with the branch's other files, as a merge
    would mark them on `today`; files no branch was found for are judged together by mail, and the files named
    outside any mail together. Each report is judged on its own text (a merge takes a branch's newest).
    Copies of the form (盖章版, 扫描件) come last, each with its note, or its finding when the branch
    sent no Excel/Word form."""
    specs = profile.deliverables
    today = today or china_today()
    calendar = snap.calendar if snap else None
    roster = snap.roster if snap else sorted({c.branch for c in checked if c.branch})
    entries = snap.roster_entries if snap else {}
    by_branch, unmatched = match_branches(delivered.items, checked, delivered, roster, entries)
    rows = snap.ledger.by_branch() if snap and snap.ledger else {}
    groups: list[tuple[str | None, list[Received], Mapping[str, object]]] = [
        (b, files, row.values if (row := rows.get(normalize_branch(b))) else {}) for b, files in by_branch.items()]
    loose: dict[str, list[Received]] = {}
    for item in unmatched:
        loose.setdefault(item.mail or "", []).append(item)
    groups += [(None, files, {}) for files in loose.values()]
    verdicts, outcomes = [], []
    for branch, files, cells in groups:
        judgements, early = judge_branch(specs, files, _marks(specs, cells), profile.char_count,
                                         open_stages(profile, today, calendar, cells))
        outcomes += [outcome_of(branch, j)[0] for j in judgements]
        later = {id(item): spec for item, spec in early}
        for item in files:
            concern = [j if j.spec.kind != "report" else judge(j.spec, [item], profile.char_count)
                       for j in judgements if any(f is item for f in j.files)]
            found = [f for j in concern for f in j.findings_about(item.path)]
            notes = [n for j in concern for n in j.notes] or \
                ([] if concern else [early_note(later[id(item)], profile, calendar)] if id(item) in later else
                 ["不是本活动要求提交的材料（格式或名称与各项材料都不符），未核对"])
            verdicts.append(FileVerdict(item, branch, [j.spec.name for j in concern], list(dict.fromkeys(found)),
                                        notes))
    formed = {k for k, row in rows.items() if holds_form(row, profile)}
    for item, copy in zip(delivered.copies, place_copies(delivered.copies, checked, delivered, roster, entries,
                                                         formed), strict=True):
        bad = copy.finding()
        verdicts.append(FileVerdict(item, copy.branch, [], [bad] if bad else [], [n] if (n := copy.note()) else [],
                                    copy))
    return verdicts, outcomes


def plan_deliverables(snap: MasterSnapshot, checked: list[Checked], delivered: Delivered, changes: ChangeSet, *,
                      operator: str, now: dt.datetime) -> DeliverablePlan:
    """Mark the ledger for the deliverables in `delivered`, adding to `changes` (after the merge's own
    writes and log rows)."""
    profile, ledger = snap.profile, snap.ledger
    specs = profile.deliverables
    rows = ledger.by_branch() if ledger is not None else {}
    copies = place_copies(delivered.copies, checked, delivered, snap.roster, snap.roster_entries,
                          {k for k, row in rows.items() if holds_form(row, profile)})
    if not specs or ledger is None or not delivered.items:
        return DeliverablePlan([], [], copies)
    by_branch, unmatched = match_branches(delivered.items, checked, delivered, snap.roster, snap.roster_entries)
    columns = dict(ledger.columns)
    width = max(ledger.width, max((c.col + 1 for c in changes.new_columns if c.sheet == ledger.sheet), default=0))
    key = ledger.columns.get(profile.key)
    added = {normalize_branch(str(w.value)): w.row for w in changes.writes  # the rows this merge adds
             if w.sheet == ledger.sheet and w.col == key and w.row > ledger.last_row}
    log: list[LogEntry] = []
    outcomes: list[DeliverableOutcome] = []
    aside: list[SetAside] = []
    for branch, files in by_branch.items():
        row = rows.get(normalize_branch(branch))
        row_no = row.row if row else added.get(normalize_branch(branch))
        cells = row.values if row else {}
        judgements, early = judge_branch(specs, files, _marks(specs, cells), profile.char_count,
                                         open_stages(profile, now.date(), snap.calendar, cells))
        aside += [SetAside(branch, item.name, early_note(spec, profile, snap.calendar)) for item, spec in early]
        for j in judgements:
            spec = j.spec
            outcome, note = outcome_of(branch, j)
            mark = outcome.mark
            outcomes.append(outcome)
            if row_no is None:
                outcome.notes.append("台账中还没有该支部（申报表尚未合并），材料情况未记入台账")
                continue
            old = cells.get(spec.column)
            same = parse_stamp(old) == mark and stamp_note(old) == note
            if same or (mark == Mark.MISSING and parse_stamp(old)):
                continue
            if spec.column not in columns:
                columns[spec.column] = width
                changes.new_columns.append(NewColumn(ledger.sheet, width, ledger.header_row, spec.column, 24.0))
                width += 1
            day = _day(j.files, now)
            text = stamp_text(mark, day, operator, note)
            changes.writes.append(CellWrite(ledger.sheet, row_no, columns[spec.column], text,
                                            fill=KIND_FILLS[MARK_KINDS[mark]]))
            outcome.written = True
            first = j.files[-1] if j.files else None
            log.append(LogEntry(now, operator, LogAction.DELIVERED, branch, spec.stage, str(old or ""),
                                f"{spec.name}：{text}", "、".join(outcome.files)[:200],
                                first.sha256 if first else ""))
    if log:
        sheet = profile.ledger.log_sheet
        used = max((w.row for w in changes.writes if w.sheet == sheet), default=snap.log_rows)  # the merge's rows
        append_log(changes, sheet, used, log)
    return DeliverablePlan(outcomes, [f.name for f in unmatched], copies, aside)


def _marks(specs: Iterable[DeliverableSpec], cells: Mapping[str, object]) -> dict[str, str | None]:
    """Deliverable -> the mark its ledger cell holds (None: blank)."""
    return {d.name: parse_stamp(cells.get(d.column)) for d in specs}


def outcome_of(branch: str | None, j: Judgement) -> tuple[DeliverableOutcome, str]:
    """A judgement as its mark (缺 when nothing came for it, 不合格 with errors, else 已交) and the note
    its ledger cell carries (the errors' reasons; for 已交, the warnings and notes)."""
    mark = Mark.MISSING if not j.files else (Mark.FAILED if j.errors else Mark.DONE)
    note = "；".join(f.message for f in j.errors) if mark == Mark.FAILED else \
        "；".join([*(f.message for f in j.findings), *j.notes])
    return DeliverableOutcome(branch, j.spec.name, j.spec.stage, mark, [f.name for f in j.files],
                              [f.message for f in j.findings], list(j.notes)), note


def _day(files: list[Received], now: dt.datetime) -> dt.date:
    """The day the newest file came (Beijing time), else today."""
    from toolkit.core.model import parse_instant

    times = [t for f in files if (t := parse_instant(f.received)) is not None]
    return max(times).astimezone(CHINA_TZ).date() if times else now.date()
