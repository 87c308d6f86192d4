"""Plan a roll-up (pure): the masters several 党总支 keep for one campaign -> the 党委's upper master.

Every branch the lower masters list is one row of the upper ledger, carrying its master's name in 来源台账,
its values, its stage stamps (with their colours), its logo and its table rows. A branch two masters hold
is taken once when the versions agree: the same values, or the same submission (its sha256, else the same
来源文件 and 提交时间) with the same values and no two stamps that decide differently (a blank stamp agrees,
and the group's stamps fill it). When they differ it is a conflict: nothing of that branch is written until
`--prefer` names the master that wins (for that branch, or for every conflict that master is in). The upper master's own row
counts as a version when it did not come from one of the masters rolled up now (the 党委 merged it itself,
or rolled it up from another master before). A row already as its master has it writes nothing, so a
second roll-up of unchanged masters changes nothing. A stamp the row's own master withdrew (blank there
again) is cleared from the upper when a roll-up from that master put it there (the upper's 操作记录 says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from toolkit.core.changeset import CellWrite, ChangeSet
from toolkit.core.errors import UsageProblem
from toolkit.core.logsheet import LogEntry, append_log
from toolkit.core.master import SOURCE_FILE, SOURCE_MASTER, SUBMITTED_AT, LedgerRow, MasterSnapshot
from toolkit.core.model import Logo, Provenance, Submission, Value, parse_instant
from toolkit.core.plan import SERIAL, _Columns, _same, new_branch_row, place_logo, value_write
from toolkit.core.plan_tables import TablePlanner
from toolkit.core.profile import Profile
from toolkit.core.stages import KIND_FILLS, parse_stamp, status_fill
from toolkit.core.text import normalize_branch
from toolkit.core.values import cell_number
from toolkit.core.vocabulary import MARK_KINDS, PAPER_COLUMNS, LogAction, Outcome

MASTER_COLUMN_WIDTH = 24.0


@dataclass(frozen=True)
class LowerMaster:
    """A 党总支's master as read: its file name (what 来源台账 says), its snapshot, its ledger's logos."""

    name: str
    snap: MasterSnapshot
    logos: dict[int, Logo] = field(default_factory=dict)  # ledger row -> the thumbnail placed there
    shas: dict[str, str] = field(default_factory=dict)  # normalised branch -> sha256 of its merged submission


@dataclass(frozen=True)
class Prefer:
    """`--prefer`: `master` wins the conflicts of `branch` (None: every conflict it is in)."""

    master: str
    branch: str | None = None


@dataclass(frozen=True)
class Version:
    """One master's row of a branch: the values it carries (without 序号, logo cell and 来源台账)."""

    master: str
    branch: str
    values: dict[str, Any]
    logo: Logo | None = None
    lower: LowerMaster | None = None  # None: the upper master's own row
    sha: str = ""  # of the submission the row holds, as its master's log says ("" when unknown)
    merged: frozenset[str] = frozenset()  # the upper's own row: every submission its log merged for the branch

    @property
    def submissions(self) -> frozenset[str]:
        return self.merged or frozenset({self.sha} - {""})

    @property
    def origin(self) -> tuple[Any, Any]:
        return self.values.get(SOURCE_FILE), self.values.get(SUBMITTED_AT)


@dataclass
class RollupOutcome:
    branch: str
    action: str  # an Outcome: added | updated | unchanged | conflict
    source: str = ""  # the master its row comes from (a conflict: the one the upper row holds now, if any)
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # (column, before, after)
    also: list[str] = field(default_factory=list)  # other masters that hold the same
    versions: list[Version] = field(default_factory=list)  # a conflict's differing versions
    fields: list[str] = field(default_factory=list)  # the columns in which they differ
    settled: str = ""  # the --prefer that settled a conflict

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"branch": self.branch, "action": self.action, "source": self.source or None,
                               "changes": [{"field": k, "before": b, "after": a} for k, b, a in self.changes],
                               "also": self.also}
        if self.versions:
            doc["versions"] = [{"master": v.master, "source_file": v.origin[0], "submitted_at": v.origin[1],
                                "values": {k: v.values.get(k) for k in self.fields}} for v in self.versions]
        if self.settled:
            doc["settled_by"] = self.settled
        return doc


@dataclass
class RollupPlan:
    changes: ChangeSet
    outcomes: list[RollupOutcome]
    logos: dict[str, tuple[str, Logo]]  # branch -> (the master it came from, the logo placed)
    warnings: list[str] = field(default_factory=list)


def decision_columns(profile: Profile) -> set[str]:
    """Columns an office stamps (stages, deliverables, paper copies): a master that leaves one blank does
    not clear the upper master's stamp there (the 党委 stamps its own stages)."""
    return {s.column for s in profile.stages} | {d.column for d in profile.deliverables} | set(PAPER_COLUMNS)


def cell_fill(profile: Profile, name: str, value: Any) -> str | None:
    """The colour a stamp's cell carries: a stage status's kind, a deliverable's mark; None for the rest."""
    if value in (None, ""):
        return None
    if name in {s.column for s in profile.stages}:
        return status_fill(profile.statuses, parse_stamp(value) or "")
    if name in {d.column for d in profile.deliverables} and value in MARK_KINDS:
        return KIND_FILLS[MARK_KINDS[value]]
    return None


def version_of(master: str, row: LedgerRow, profile: Profile, lower: LowerMaster | None = None) -> Version:
    skip = {SERIAL, SOURCE_MASTER, profile.key, profile.ledger.logo_column}
    # a master's numbers read back as floats: 23 stays 23 in the upper (<v>23</v>, not 23.0)
    values = {k: cell_number(v) if isinstance(v, float) else v for k, v in row.values.items() if k not in skip}
    if lower is not None and values.get(profile.group) in (None, "") and lower.snap.groups.get(row.branch):
        values[profile.group] = lower.snap.groups[row.branch]  # the lower's roster knows its 党总支
    if lower is None:
        return Version(master, row.branch, values)
    return Version(master, row.branch, values, lower.logos.get(row.row), lower,
                   lower.shas.get(normalize_branch(row.branch), ""))


def differences(base: dict[str, Any], incoming: dict[str, Any], keep: Collection[str] = ()
                ) -> list[tuple[str, Any, Any]]:
    """(column, before, after) where `incoming` differs from `base`; a blank in a `keep` column is no change."""
    return [(k, base.get(k), v) for k, v in incoming.items()
            if not (v in (None, "") and k in keep) and not _same(base.get(k), v)]


def same_submission(a: Version, b: Version) -> bool:
    """Both hold one submission: its sha256 where both logs name it, else the same 来源文件 and 提交时间."""
    if a.submissions and b.submissions:
        return bool(a.submissions & b.submissions)
    return all(x not in (None, "") for x in (*a.origin, *b.origin)) and all(map(_same, a.origin, b.origin))


def stamps_differ(before: Any, after: Any) -> bool:
    """Two stamps decide differently: both set, with another status (the date and who stamped aside)."""
    if before in (None, "") or after in (None, ""):
        return False
    return parse_stamp(before) != parse_stamp(after)


def agree(a: Version, b: Version, keep: set[str]) -> bool:
    """Not a conflict: the same submission with the same values (a hand correction is a difference) and no
    two stamps that decide differently, or the same values and logo. The upper master's own row agrees with
    a version that differs only where that one is blank in a stamp column."""
    if same_submission(a, b):  # received apart, perhaps under another file name: that is no difference
        names = {*a.values, *b.values} - {SOURCE_FILE, SUBMITTED_AT}
        return not any(stamps_differ(x, y) if k in keep else not _same(x, y)
                       for k in names for x, y in [(a.values.get(k), b.values.get(k))])
    if a.lower is None or b.lower is None:
        upper, lower = (a, b) if a.lower is None else (b, a)
        return not differences(upper.values, lower.values, keep)
    logos = (a.logo.data if a.logo else None) == (b.logo.data if b.logo else None)
    return logos and not differences(a.values, b.values) and not differences(b.values, a.values)


def match_master(text: str, names: list[str]) -> str | None:
    """The master `text` names (its file name, its stem or a path to it), None when it names none."""
    name = Path(text.strip()).name
    for candidate in names:
        if name in (candidate, Path(candidate).stem):
            return candidate
    return None


def parse_prefers(options: list[str], names: list[str]) -> list[Prefer]:
    """`--prefer 内科党总支台账.xlsx` (that master wins every conflict it is in) or `--prefer 支部=台账`
    (only that branch's), the masters named as in `names` (file names)."""
    out = []
    for option in options:
        branch, sep, master = option.rpartition("=")
        if sep and match_master(branch, names):
            raise UsageProblem(f"--prefer {option}：等号前应是支部名，“{branch.strip()}”是台账。应写成 支部名=台账文件名"
                               f"（只此一个支部），或只写 台账文件名（该台账的冲突都以它为准）")
        if sep and branch.strip() and (found := match_master(master, names)):
            out.append(Prefer(found, branch.strip()))
        elif found := match_master(option, names):
            out.append(Prefer(found))
        else:
            raise UsageProblem(f"--prefer {option}：没有这个台账。应写成 台账文件名（该台账的冲突都以它为准），"
                               f"或 支部名=台账文件名（只此一个支部）；本次汇总的台账：{'、'.join(names)}")
    return out


def with_stamps(pick: Version, group: list[Version], keep: set[str]) -> Version:
    """`pick` with its blank stamps filled from the versions it agrees with (a blank is no decision)."""
    filled = {k: x for k in keep if pick.values.get(k) in (None, "")
              for x in [next((v.values[k] for v in group if v.values.get(k) not in (None, "")), None)] if x}
    return replace(pick, values={**pick.values, **filled}) if filled else pick


def plan_rollup(upper: MasterSnapshot, lowers: list[LowerMaster], prefers: list[Prefer], *, operator: str,
                now: dt.datetime, rolled: dict[tuple[str, str], tuple[str, str]] | None = None) -> RollupPlan:
    """The roll-up as a ChangeSet on the upper master: each branch's versions, agreed or settled, written
    where the upper row differs; conflicts left as they are and reported. `rolled`: the stamps the upper's
    操作记录 says each stage last got ((branch, stage) -> (来源文件, 新值)); a roll-up clears a withdrawn one."""
    profile, ledger = upper.profile, upper.ledger
    if ledger is None:
        raise UsageProblem(f"{upper.path.name} 中没有找到台账（含“{profile.key}”列的表头），"
                           f"请先运行 brandkit init {upper.path.name} --profile {profile.id}")
    for lower in lowers:
        if lower.snap.ledger is None:
            raise UsageProblem(f"{lower.name} 中没有找到台账（含“{profile.key}”列的表头），无法汇总")
    writer = _RollupWriter(upper, operator, now, rolled or {})
    names = {lower.name for lower in lowers}
    keep = decision_columns(profile)
    rows = ledger.by_branch()
    held: dict[str, list[Version]] = {}
    for lower in lowers:
        assert lower.snap.ledger is not None
        for row in lower.snap.ledger.rows:
            held.setdefault(normalize_branch(row.branch), []).append(version_of(lower.name, row, lower.snap.profile,
                                                                                lower))
    _check_prefers(prefers, held, names)
    outcomes = []
    for key, versions in held.items():
        existing = rows.get(key)
        recorded = str(existing.values.get(SOURCE_MASTER) or "").strip() if existing else ""
        if existing is not None and recorded not in names:  # the upper's own row, or one from another master
            own = replace(version_of(recorded or upper.path.name, existing, profile),
                          merged=frozenset(sha for k, sha in upper.merged if k == key))
            versions = [own, *versions]
        groups: list[list[Version]] = []
        for v in versions:
            group = next((g for g in groups if agree(g[0], v, keep)), None)
            group.append(v) if group is not None else groups.append([v])
        settled = ""
        if len(groups) > 1:
            chosen, settled = _settle(groups, prefers, versions[0].branch)
            if chosen is None:  # the upper row stays as it is: from `recorded`, or its own
                outcomes.append(_conflict(versions[0].branch, groups, (recorded or upper.path.name) if existing else ""))
                continue
        else:
            chosen = groups[0]
        pick = with_stamps(next((v for v in chosen if v.master == recorded), None) or chosen[0], chosen, keep)
        outcome = writer.write(pick, existing) if pick.lower is not None else \
            RollupOutcome(pick.branch, Outcome.UNCHANGED, pick.master)
        outcome.also = [v.master for v in versions if v.master != pick.master]
        outcome.settled = settled
        outcomes.append(outcome)
    append_log(writer.changes, profile.ledger.log_sheet, upper.log_rows, writer.log)
    return RollupPlan(writer.changes, outcomes, writer.logos)


def _check_prefers(prefers: list[Prefer], held: dict[str, list[Version]], lowers: set[str]) -> None:
    """Refuse a `--prefer 支部=台账` whose branch no master rolled up holds, or whose master does not hold it."""
    for p in prefers:
        if p.branch is None:
            continue
        versions = held.get(normalize_branch(p.branch))
        if versions is None:
            example = next((v[0].branch for v in held.values()), "某党支部")
            raise UsageProblem(f"--prefer {p.branch}={p.master}：本次汇总的台账中没有支部“{p.branch}”。等号前应写支部名"
                               f"（如 {example}={p.master}），请核对支部名称")
        if p.master in lowers and all(v.master != p.master for v in versions):
            raise UsageProblem(f"--prefer {p.branch}={p.master}：{p.master} 中没有“{p.branch}”；有它的台账："
                               f"{'、'.join(v.master for v in versions)}")


def _settle(groups: list[list[Version]], prefers: list[Prefer], branch: str) -> tuple[list[Version] | None, str]:
    """The group a --prefer names (a branch's own first, then those for every conflict, in order given)."""
    key = normalize_branch(branch)
    ordered = [p for p in prefers if p.branch and normalize_branch(p.branch) == key] + \
              [p for p in prefers if not p.branch]
    for p in ordered:
        for group in groups:
            if any(v.master == p.master for v in group):
                return group, f"{p.branch}={p.master}" if p.branch else p.master
    return None, ""


def _conflict(branch: str, groups: list[list[Version]], current: str) -> RollupOutcome:
    versions = [g[0] for g in groups]
    names = list(dict.fromkeys(k for v in versions for k in v.values))
    differ = [k for k in names if any(not _same(versions[0].values.get(k), v.values.get(k)) for v in versions[1:])]
    if len({v.logo.data if v.logo else None for v in versions if v.lower is not None}) > 1:
        differ.append("品牌标识图片")
    return RollupOutcome(branch, Outcome.CONFLICT, current, versions=[v for g in groups for v in g], fields=differ)


class _RollupWriter:
    """Writes a chosen version into the upper ledger: the cells that differ, its logo, its table rows, a log row."""

    def __init__(self, upper: MasterSnapshot, operator: str, now: dt.datetime,
                 rolled: dict[tuple[str, str], tuple[str, str]]) -> None:
        assert upper.ledger is not None
        self.upper, self.profile, self.ledger = upper, upper.profile, upper.ledger
        self.operator, self.now = operator, now
        self.changes = ChangeSet()
        self.cols = _Columns(self.ledger, self.changes)
        self.tables = TablePlanner(upper, self.changes, now)
        self.next_row = self.ledger.last_row + 1
        self.keep = decision_columns(self.profile)
        self.stages = {s.column: s.name for s in self.profile.stages}
        self.rolled = rolled
        self.log: list[LogEntry] = []
        self.logos: dict[str, tuple[str, Logo]] = {}

    def write(self, v: Version, existing: LedgerRow | None) -> RollupOutcome:
        profile, ledger, sheet = self.profile, self.ledger, self.ledger.sheet
        values = {SOURCE_MASTER: v.master, **v.values}
        if existing is None:
            row = self.next_row
            self.next_row += 1
            new_branch_row(self.changes, ledger, row)
            values[profile.key] = v.branch
            diffs: list[tuple[str, Any, Any]] = [(k, None, x) for k, x in values.items() if x not in (None, "")]
        else:
            row = existing.row
            diffs = differences(existing.values, values, self.keep - self._withdrawn(v, existing))
        for name, _before, after in diffs:
            write = value_write(sheet, row, self.cols.get(name, MASTER_COLUMN_WIDTH if name == SOURCE_MASTER else None),
                                name, after)
            fill = cell_fill(profile, name, after)
            self.changes.writes.append(CellWrite(write.sheet, write.row, write.col, write.value, fill,
                                                 write.number_format) if fill else write)
        logo_column = profile.ledger.logo_column
        if v.logo is not None and logo_column and (existing is None or {k for k, _, _ in diffs} & {SOURCE_FILE, SUBMITTED_AT}):
            place_logo(self.changes, self.cols, logo_column, row, v.branch, v.logo)
            self.logos[v.branch] = (v.master, v.logo)
            diffs.append((logo_column, None, f"图片（{v.master}）"))
        tables = self.tables.plan(existing.branch if existing else v.branch, self._submission(v))
        for t in tables:
            diffs.append((t.table, f"{t.before} 项" if t.before else None, f"{t.after} 项"))
        if not diffs:
            return RollupOutcome(v.branch, Outcome.UNCHANGED, v.master)
        action = Outcome.ADDED if existing is None else Outcome.UPDATED
        self.log.append(LogEntry(self.now, self.operator, LogAction.ADDED if existing is None else LogAction.UPDATED,
                                 existing.branch if existing else v.branch, "",
                                 "；".join(f"{k}：{b}" for k, b, _ in diffs if b not in (None, "")),
                                 "；".join(f"{k}：{_text(a)}" for k, _, a in diffs), v.master, v.sha))
        self.log += [LogEntry(self.now, self.operator, LogAction.STAMPED, existing.branch if existing else v.branch,
                              self.stages[k], _text(b), _text(a), v.master, v.sha) for k, b, a in diffs if k in self.stages]
        return RollupOutcome(v.branch, action, v.master, diffs)

    def _withdrawn(self, v: Version, existing: LedgerRow) -> set[str]:
        """The stage columns the row's own master left blank whose upper stamp a roll-up from it wrote
        (logged per stage): cleared. A stamp the 党委 put there itself, or another master's blank, stays."""
        if str(existing.values.get(SOURCE_MASTER) or "").strip() != v.master:
            return set()
        key = normalize_branch(existing.branch)
        return {k for k, stage in self.stages.items() if k in v.values and v.values[k] in (None, "")
                and existing.values.get(k) not in (None, "")
                and self.rolled.get((key, stage)) == (v.master, _text(existing.values[k]))}

    def _submission(self, v: Version) -> Submission:
        """The version's table rows as a submission for the table planner, with the row's 来源文件 and 提交时间."""
        assert v.lower is not None
        when = parse_instant(v.values.get(SUBMITTED_AT))
        sub = Submission(Provenance(str(v.values.get(SOURCE_FILE) or ""), "", received=when.isoformat() if when else None))
        for spec in self.profile.tables:
            sheet = v.lower.snap.tables.get(spec.name)
            if sheet is not None:
                sub.tables[spec.name] = [{c.name: Value(c.name, r.values.get(c.name), r.values.get(c.name), None)
                                          for c in spec.columns if c.store}
                                         for r in sheet.of_branch(v.branch, spec.item_column)]
        return sub


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)
