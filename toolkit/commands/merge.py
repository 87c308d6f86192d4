"""`brandkit merge`: read the inbox on all cores, check, plan, apply through the transaction, keep logos.

The read workers (toolkit.commands.merge_worker) also decode each logo to its ledger thumbnail and stage
the original beside the master, so no 1 MB photo ever crosses back to the parent process.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.commands.attachments import PICTURE_SUFFIXES, attach_pictures
from toolkit.commands.merge_worker import finish_staging, original_suffix, read_for_merge, read_sent_logo
from toolkit.core.deliverables import Received
from toolkit.core.errors import UsageProblem
from toolkit.core.master import MasterSnapshot, duplicate_rows
from toolkit.core.model import Finding, Logo, Submission
from toolkit.core.plan import BranchOutcome, Incoming, plan_merge
from toolkit.core.plan_deliverables import DeliverablePlan, Delivered, not_a_form, plan_deliverables
from toolkit.core.profile import Profile
from toolkit.files.atomic import sync_dir
from toolkit.files.filenames import own_name
from toolkit.files.phases import phase
from toolkit.readers.limits import DEFAULT_LIMITS, Limits
from toolkit.validation.check import check_all

STAGING = ".staging"
# Files never read as forms when the campaign asks for deliverables: they are reports, lists of links …
# (a .txt whose text is a table is read as a form first: `not_forms`)
NOT_FORM_SUFFIXES = frozenset({".pdf", ".txt", ".ppt", ".pptx", ".md"})
TABLE_TEXT_SUFFIXES = frozenset({".txt"})  # Excel's "Unicode 文本" / tab-separated save of a form
SNIFF_BYTES = 65536  # of a .txt, to tell a table (a form saved as text) from a list of links
STALE_STAGING_S = 24 * 3600  # a run's staging folder this old was left by a killed run


def logo_dir(master: Path) -> Path:
    from toolkit.commands.batch import LOGO_SUFFIX  # the inbox walk skips this folder by the same name

    return master.with_name(master.stem + LOGO_SUFFIX)


def original_path(master: Path, branch: str, suffix: str) -> Path:
    """Where a branch's logo original is kept: `<台账>_标识/<branch><suffix>`, a name no other branch's
    can take (filenames.own_name: 内科/外科 and 内科:外科 would otherwise share one, and so would icu and
    ICU where file names ignore case)."""
    return logo_dir(master) / own_name(branch, suffix=suffix)


def kept_original(master: Path, branch: str) -> Path | None:
    """The branch's logo original kept beside `master`, whatever its format; None without one."""
    from toolkit.readers.logos import ORIGINAL_SUFFIX

    suffixes = list(dict.fromkeys(ORIGINAL_SUFFIX.values()))
    return next((path for suffix in suffixes if (path := original_path(master, branch, suffix)).is_file()),
                None) or _earlier_original(master, branch, suffixes)


def _earlier_original(master: Path, branch: str, suffixes: list[str]) -> Path | None:
    """An original kept before names were told apart by letter case: a name with lower-case letters
    (iCare党支部) had its plain file name. Taken only under that exact spelling, never as a disk that
    ignores case matches it to ICARE党支部's file."""
    import unicodedata

    from toolkit.files.filenames import safe_name

    try:
        names = set(os.listdir(logo_dir(master)))
    except OSError:
        return None
    plain = unicodedata.normalize("NFC", branch)
    return next((logo_dir(master) / name for suffix in suffixes
                 if (name := safe_name(branch, suffix=suffix)) == plain + suffix and name in names), None)


def _sent_logos(pairs: list[tuple[Submission, Logo | None]], profile: Profile, origins: dict[str, dict],
                limits: Limits, staging: str | None) -> list[tuple[Submission, Logo | None]]:
    """Forms without a logo take a picture sent in the same mail (toolkit.commands.attachments), decoded and kept
    like an embedded logo; one that cannot be decoded is an image_format error at the logo cell."""
    subs, logos = attach_pictures([s for s, _ in pairs], profile, origins, limits, read_sent_logo, (staging,),
                                  finish_staging)
    out = []
    for n, (sub, (_, logo)) in enumerate(zip(subs, pairs, strict=True)):
        got = logos.get(n, logo)
        if isinstance(got, str):
            spec = profile.logo_field
            v = sub.fields.get(spec.name) if spec else None
            bad = Finding("image_format", "error", got, field=spec.name if spec else None, cell=v.cell if v else None)
            sub = replace(sub, findings=[*sub.findings, bad])
            got = None
        out.append((sub, got))
    return out


@dataclass
class MergeResult:
    master: Path
    backup: Path | None
    outcomes: list[BranchOutcome]
    dry_run: bool
    changes: Any = None
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # path -> findings of rejected
    logos: dict[str, Logo] = field(default_factory=dict)  # branch -> logo placed
    missing_originals: list[str] = field(default_factory=list)  # branches whose original was not kept
    staging: Path | None = None  # this run's staged originals (None: a dry run)
    # the forms as read, before checks, so the merge can be planned again on a master changed meanwhile
    read: list[tuple[Submission, Logo | None]] = field(default_factory=list, repr=False)
    # files that are not forms (reports, photos, news links): as read, and what became of them
    delivered: Delivered = field(default_factory=Delivered, repr=False)
    deliverables: DeliverablePlan = field(default_factory=lambda: DeliverablePlan([], []))
    warnings: list[str] = field(default_factory=list)  # about the master itself (a branch in two rows)

    def names(self, action: str) -> list[str]:
        return [o.branch for o in self.outcomes if o.action == action]

    @property
    def rejected(self) -> list[BranchOutcome]:
        return [o for o in self.outcomes if o.action in ("rejected", "held")]

    @property
    def form_missing(self) -> list[str]:
        """Copies of a form (盖章版, 扫描件) from branches that sent no Excel/Word form: their form is still due."""
        return [c.name for c in self.deliverables.copies if c.alone]

    def to_json(self) -> dict[str, Any]:
        return {
            "master": str(self.master), "backup": str(self.backup) if self.backup else None,
            "dry_run": self.dry_run,
            "added": self.names("added"), "updated": self.names("updated"),
            "unchanged": self.names("unchanged"), "superseded": self.names("superseded"),
            "rejected": [{"path": o.path, "branch": o.branch or None, "held": o.action == "held",
                          "findings": [f.to_json() for f in self.findings.get(o.path, [])]}
                         for o in self.rejected],
            "changes": {o.branch: [{"field": k, "before": b, "after": a} for k, b, a in o.changes]
                        for o in self.outcomes if o.changes},
            "missing_originals": self.missing_originals,
            "deliverables": [o.to_json() for o in self.deliverables.outcomes],
            "unmatched_files": self.deliverables.unmatched,
            "form_copies": [c.to_json() for c in self.deliverables.copies],
            "set_aside": [a.to_json() for a in self.deliverables.aside],
            "warnings": self.warnings,
        }


def merge(master: Path, inputs: list[Path], *, dry_run: bool = False, operator: str | None = None,
          accept_warnings: bool = False, limits: Limits = DEFAULT_LIMITS,
          progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None) -> MergeResult:
    """`brandkit merge`: read the inbox on a snapshot taken without the lock (reading may take minutes),
    then apply through the transaction, which plans again under its lock when the master changed
    meanwhile (another merge, a stamp, an undo): nothing another run wrote is lost."""
    from toolkit.files.masterfile import load_master
    from toolkit.files.sandbox import warm_up
    from toolkit.files.transaction import (
        import_for_apply,
        master_path,
        no_cycle_collection,
        refuse_if_open,
        update,
    )

    warm_up("toolkit.commands.merge_worker")
    master = master_path(master)
    refuse_if_open(master)
    if not dry_run:
        import_for_apply()  # meanwhile: the master's reader waits for the workers' server
    snap = load_master(master)
    operator = operator or os.environ.get("BRANDKIT_OPERATOR") or getpass.getuser()
    now = now or dt.datetime.now().replace(microsecond=0)
    with no_cycle_collection():  # the forms as read, their checks and the plan: many objects, no cycles
        result = plan_inbox(snap, inputs, dry_run=dry_run, operator=operator, accept_warnings=accept_warnings,
                            limits=limits, progress=progress, now=now)

    def plan(current: MasterSnapshot) -> MergeResult:
        if current is snap:
            return result
        if current.profile.id != snap.profile.id:
            raise UsageProblem(f"{master.name} 的活动方案在合并期间被改动（{snap.profile.id} → {current.profile.id}），"
                               "请重新运行合并；台账未改动")
        return plan_read(current, result.read, result.staging, accept_warnings=accept_warnings, operator=operator,
                         now=now, delivered=result.delivered)

    def keep(planned: MergeResult) -> None:  # under the lock, so the originals match the ledger's logos
        vars(result).update(vars(planned))
        keep_originals(result)

    try:
        if not dry_run:
            result.backup = update(master, plan, lambda r: r.changes, snap=snap, then=keep)[1]
    finally:
        with phase("merge: clear staging"):
            clear_staging(result.staging)
    return result


def finish(result: MergeResult, apply: Callable[[], Path | None] | None) -> None:
    """Apply a planned merge with `apply` (None: do not apply), keep the placed logos' originals, and
    always clear the originals staged for it: the Excel button's (the workbook open in Excel is the
    lock there). The CLI's `merge` does the same through the transaction's lock."""
    try:
        if apply is not None:
            result.backup = apply()
            keep_originals(result)
    finally:
        clear_staging(result.staging)


def new_staging(master: Path) -> Path:
    """A staging folder for one run's logo originals (`<台账>_标识/.staging/<run>/`): runs at the same
    time never clear each other's. Folders a killed run left over a day ago are removed."""
    import shutil
    import time
    import uuid

    shared = logo_dir(master) / STAGING
    folder = shared / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    for attempt in range(3):
        try:
            folder.mkdir(parents=True)
            break
        except FileNotFoundError:  # another run removed the shared folder as it emptied it
            if attempt == 2:
                raise
    for old in shared.iterdir():
        try:
            if old != folder and time.time() - old.stat().st_mtime > STALE_STAGING_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return folder


def clear_staging(staging: Path | None) -> None:
    """Remove one run's staging folder, and the shared one once no run uses it."""
    import shutil

    if staging is None:
        return
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.parent.rmdir()
    except OSError:  # another run's folder is in it
        pass


def plan_inbox(snap: MasterSnapshot, inputs: list[Path], *, dry_run: bool = False, operator: str | None = None,
               accept_warnings: bool = False, limits: Limits = DEFAULT_LIMITS,
               progress: Callable[[int, int], None] | None = None, now: dt.datetime | None = None,
               exclude: Iterable[Path] = ()) -> MergeResult:
    """Read, check and plan a merge of `inputs` into the master `snap` describes; nothing is applied.
    Shared by the CLI (file backend) and the Excel buttons (live backend; `exclude`: its 汇总文件)."""
    from toolkit.commands.batch import collect_paths, failed_submission, origins_for, read_each
    from toolkit.files.sandbox import Failure

    master = snap.path
    if snap.ledger is None:
        raise UsageProblem(f"{master.name} 中没有找到台账（含“{snap.profile.key}”列的表头），"
                           f"请先运行 brandkit init {master.name} --profile {snap.profile.id}")
    files = collect_paths(inputs, exclude=[snap.path, *exclude])  # the master, in an input folder, is no form
    others = not_forms(files, snap.profile)
    files = [f for f in files if f not in others]
    if not files and not others:
        raise UsageProblem("没有找到要合并的申报表文件")
    staging = None if dry_run else new_staging(master)
    try:  # the staged originals belong to this merge: gone if planning fails; `finish` removes them otherwise
        origins = origins_for(inputs)
        with phase("merge: read forms (workers)"):
            results = read_each(files, read_for_merge, snap.profile, str(staging) if staging else None,
                                origins=origins, limits=limits, progress=progress, after_batch=finish_staging)
        pairs = [pair for path, result in zip(files, results, strict=True)
                 for pair in ([(failed_submission(path, result, limits), None)] if isinstance(result, Failure)
                              else result)]
        pairs = _sent_logos(pairs, snap.profile, origins, limits, str(staging) if staging else None)
        pairs, delivered = read_deliverables(inputs, pairs, others, snap.profile, origins, limits)
        with phase("merge: check + plan"):
            result = plan_read(snap, pairs, staging, accept_warnings=accept_warnings,
                               operator=operator or os.environ.get("BRANDKIT_OPERATOR") or getpass.getuser(),
                               now=now or dt.datetime.now().replace(microsecond=0), delivered=delivered)
        result.dry_run = dry_run
        return result
    except BaseException:
        clear_staging(staging)
        raise


def plan_read(snap: MasterSnapshot, pairs: list[tuple[Submission, Logo | None]], staging: Path | None, *,
              accept_warnings: bool, operator: str, now: dt.datetime, delivered: Delivered | None = None,
              ) -> MergeResult:
    """Pure: check the forms as read against the master `snap` describes (its rules and roster) and plan
    the merge, then mark the deliverables (`delivered`: the files that are not forms, as read).
    `staging`: where the logos' originals are staged (None only in a dry run)."""
    checked = check_all([s for s, _ in pairs], snap.profile, snap.named_branches())
    incoming = [Incoming(c, logo) for c, (_, logo) in zip(checked, pairs, strict=True)]
    plan = plan_merge(snap, incoming, accept_warnings=accept_warnings, now=now, operator=operator)
    delivered = delivered or Delivered()
    marks = plan_deliverables(snap, checked, delivered, plan.changes, operator=operator, now=now)
    return MergeResult(snap.path, None, plan.outcomes, staging is None, plan.changes,  # no staging: a dry run
                       {c.submission.provenance.path: c.findings for c in checked if c.findings}, plan.logos,
                       staging=staging, read=pairs, delivered=delivered, deliverables=marks,
                       warnings=duplicate_rows(snap.ledger) if snap.ledger else [])


def not_forms(files: list[Path], profile: Profile) -> list[Path]:
    """The files never read as forms. When the campaign asks for deliverables: PDFs, text, slides,
    pictures named one by one (a folder's pictures are never taken for forms) — but not a .txt whose
    text is a table (a form saved as Excel "Unicode 文本" or tab-separated: `toolkit.readers.sniff` says
    so), which is read as a form and goes back to the deliverables if it holds none (`not_a_form`). In
    any campaign: a PDF or picture whose name says it is the form (a sealed copy, a scan), kept and named
    as such (`read_deliverables`)."""
    from toolkit.core.deliverables import COPY_SUFFIXES, names_the_form

    out = []
    for f in files:
        suffix = f.suffix.lower()
        if profile.deliverables and suffix in NOT_FORM_SUFFIXES | PICTURE_SUFFIXES:
            if not (suffix in TABLE_TEXT_SUFFIXES and _text_table(f)):
                out.append(f)
        elif suffix in COPY_SUFFIXES and names_the_form(f.name, profile):
            out.append(f)
    return out


def _text_table(path: Path) -> bool:
    """The text file's first lines are a table (CSV/TSV in UTF-8, UTF-16 or GB18030, HTML, SpreadsheetML),
    as `toolkit.readers.sniff` tells a form from its bytes; False when unreadable or anything else."""
    from toolkit.readers.errors import Unreadable
    from toolkit.readers.sniff import sniff

    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES + 1)
    except OSError:
        return False
    if len(head) > SNIFF_BYTES:  # whole lines only, and whole UTF-16 units
        head = head[:SNIFF_BYTES]
        head = head[:cut] if (cut := head.rfind(b"\n")) > 0 else head
        if head.startswith((b"\xff\xfe", b"\xfe\xff")) and len(head) % 2:
            head = head[:-1]
    try:
        return sniff(head) in ("csv", "html", "xml2003")
    except (Unreadable, UnicodeError, ValueError):
        return False


def read_deliverables(inputs: list[Path], pairs: list[tuple[Submission, Logo | None]], others: list[Path],
                      profile: Profile, origins: dict[str, dict], limits: Limits,
                      ) -> tuple[list[tuple[Submission, Logo | None]], Delivered]:
    """The files that are not forms, read in the sandbox: `others` (PDF, text, …), the Word files (and
    .txt tables) the form reader found no form in (taken out of `pairs`), and the pictures of the inbox no
    form took as its logo — all of them when a deliverable wants photos, else those named as the form.
    Each is named as sent and knows its mail. Copies of the form (a sealed PDF, a scan: `form_copy`) are
    kept apart (`Delivered.copies`): never a deliverable, in any campaign."""
    from toolkit.commands.attachments import mail_of
    from toolkit.commands.batch import collect_paths, read_each
    from toolkit.core.deliverables import form_copy, names_the_form
    from toolkit.files.sandbox import Failure
    from toolkit.readers.deliverable import read_deliverable

    asks = bool(profile.deliverables)
    words = [Path(s.provenance.path) for s, _ in pairs if asks and not_a_form(s)]
    pairs = [(s, logo) for s, logo in pairs if not (asks and not_a_form(s))]
    photos = any(d.kind == "photos" for d in profile.deliverables)
    logos = {(mail_of(origins.get(str(Path(s.provenance.path).resolve()))), s.logo.name) for s, _ in pairs
             if s.logo is not None and s.logo.scheme == "attachment"}  # pictures a form took as its logo
    pictures = []
    for picture in collect_paths(inputs, pictures=True):
        if picture.suffix.lower() in PICTURE_SUFFIXES:
            record = origins.get(str(picture.resolve()), {})
            name = record.get("name") or picture.name
            if (photos or names_the_form(name, profile)) and (mail_of(record), name) not in logos:
                pictures.append(picture)
    paths = list(dict.fromkeys([*others, *words, *pictures]))
    if not paths:
        return pairs, Delivered()
    items: list[Received] = []
    copies: list[Received] = []
    for path, got in zip(paths, read_each(paths, read_deliverable, profile, origins=origins, limits=limits),
                         strict=True):
        record = origins.get(str(path.resolve()), {})
        if isinstance(got, Failure):
            got = Received(str(path), path.name, "unreadable", "", problem=f"读取失败（{got.reason}）")
        mail = mail_of(record)
        got = replace(got, name=record.get("name") or path.name, mail="|".join(map(str, mail)) if mail else None)
        # a campaign without deliverables reads only the files named as the form: each is its copy
        (copies if form_copy(got, profile) or not asks else items).append(got)
    form_mails = {s.provenance.path: "|".join(map(str, m)) for s, _ in pairs  # resolve(): a syscall or more
                  if (m := mail_of(origins.get(str(Path(s.provenance.path).resolve())))) is not None} if origins else {}
    return pairs, Delivered(items, form_mails, copies)


def keep_originals(result: MergeResult) -> None:
    """Once the merge is applied: name each placed logo's original after its branch, beside the master;
    branches whose staged original is missing are noted in `result.missing_originals`."""
    staged = {branch: (result.staging / (logo.key + original_suffix(logo)) if result.staging else None,
                       original_suffix(logo)) for branch, logo in result.logos.items()}
    result.missing_originals += keep_files(result.master, staged)


def keep_files(master: Path, originals: dict[str, tuple[Path | None, str]], *, link: bool = True) -> list[str]:
    """Put each branch's original logo (branch -> (file, suffix)) beside the master as `<台账>_标识/<branch>
    <suffix>`: linked rather than copied where the disk allows (`link`: a staged file, removed afterwards;
    another master's original is copied), the same content never written twice. Returns the branches
    whose original is missing or could not be put there."""
    import filecmp
    import shutil

    folder = logo_dir(master)
    missing = []
    for branch, (source, suffix) in originals.items():
        target = original_path(master, branch, suffix)
        if source is None or not source.exists():
            missing.append(branch)
            continue
        if target.exists() and filecmp.cmp(source, target, shallow=False):
            continue
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        linked = False
        if link:
            try:
                os.link(source, tmp)  # no 1 MB copy per logo
                linked = True
            except OSError:
                pass
        if not linked:
            shutil.copyfile(source, tmp)
        try:
            os.replace(tmp, target)
        except PermissionError:  # Windows: a picture viewer holds the previous original open
            tmp.unlink(missing_ok=True)
            missing.append(branch)
    if originals:
        sync_dir(folder)
    return missing
