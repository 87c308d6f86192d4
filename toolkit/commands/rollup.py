"""`brandkit rollup UPPER LOWER...`: combine the masters several 党总支 keep into the 党委's upper master.

The lower masters are only read (each in a child process, as any master is: toolkit.files.masterfile),
their ledgers' logos with them; the upper master, created like `init` does when it does not exist yet, is
changed only through the transaction (lock, backup, verify, atomic replace) with the ChangeSet that
toolkit.core.plan_rollup plans. Each placed logo's original, where the lower master keeps one beside it,
is copied beside the upper master.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.errors import UsageProblem
from toolkit.core.grid import Grid
from toolkit.core.logsheet import LOG_COLUMNS
from toolkit.core.master import MasterSnapshot
from toolkit.core.model import Logo
from toolkit.core.plan_rollup import LowerMaster, RollupOutcome, RollupPlan, parse_prefers, plan_rollup
from toolkit.core.profile import Profile, Stage
from toolkit.core.text import normalize_branch
from toolkit.core.vocabulary import LogAction, Outcome


@dataclass
class RollupResult:
    master: Path
    lowers: list[str]
    outcomes: list[RollupOutcome]
    dry_run: bool
    created: bool = False
    backup: Path | None = None
    missing_originals: list[str] = field(default_factory=list)  # originals found but not copied
    warnings: list[str] = field(default_factory=list)  # lowers open in Excel, empty, or on other stage dates

    def names(self, action: str) -> list[str]:
        return [o.branch for o in self.outcomes if o.action == action]

    @property
    def conflicts(self) -> list[RollupOutcome]:
        return [o for o in self.outcomes if o.action == Outcome.CONFLICT]

    def to_json(self) -> dict[str, Any]:
        return {"master": str(self.master), "lowers": self.lowers, "created": self.created, "dry_run": self.dry_run,
                "backup": str(self.backup) if self.backup else None,
                **{key: self.names(key) for key in (Outcome.ADDED, Outcome.UPDATED, Outcome.UNCHANGED)},
                "conflicts": [o.to_json() for o in self.conflicts],
                "branches": [o.to_json() for o in self.outcomes if o.action != Outcome.CONFLICT],
                "missing_originals": self.missing_originals, "warnings": self.warnings}


def ledger_logos(data: bytes, sheet: str, column: int) -> dict[int, Logo]:
    """Child process: the pictures in the ledger's logo column, by row, as ledger-ready logos (a thumbnail
    brandkit placed is taken as it is; a picture pasted by hand is scaled like a form's)."""
    from toolkit.readers.limits import DEFAULT_LIMITS
    from toolkit.readers.logos import LOGO_BOX, LogoError, fit, normalize_logo
    from toolkit.readers.pictures_xlsx import find_xlsx_pictures

    out = {}
    for p in find_xlsx_pictures(data):
        if p.sheet != sheet or p.col != column or not p.data:
            continue
        key = hashlib.sha256(p.data).hexdigest()[:16]
        if p.format in ("png", "jpeg") and p.width and p.height and p.width <= 2 * LOGO_BOX[0] \
                and p.height <= 2 * LOGO_BOX[1]:
            out[p.row] = Logo(p.data, p.format, *fit(p.width, p.height), key, p.format)
            continue
        try:
            out[p.row] = normalize_logo(p.data, DEFAULT_LIMITS.max_picture_pixels, key)
        except LogoError:
            continue  # not a picture brandkit can place: the row travels without it
    return out


def submission_shas(log: Grid | None) -> dict[str, str]:
    """normalised branch -> the sha256 of the submission a master's 操作记录 last merged for it (新增/更新)."""
    if log is None or not log.rows:
        return {}
    header = {str(v).strip(): c for c, v in enumerate(log.rows[0]) if v}
    b, s, a = header.get(LOG_COLUMNS[3]), header.get(LOG_COLUMNS[8]), header.get(LOG_COLUMNS[2])
    if b is None or s is None or a is None:
        return {}
    return {normalize_branch(str(row[b])): str(row[s]) for row in log.rows[1:]
            if len(row) > max(a, b, s) and row[a] in (LogAction.ADDED, LogAction.UPDATED) and row[b] and row[s]}


# -- the lowers against each other and the upper: one campaign, one year, its dates -----------------

def campaign_year(profile: Profile) -> int | None:
    """The year a master's campaign starts in (`init --year`): its first dated stage's."""
    for stage in profile.stages:
        if day := stage.start or stage.due:
            return day.year
    return None


def other_campaign(lower: LowerMaster, profile: Profile, name: str) -> str | None:
    """Why `lower` cannot be rolled up with the master `name` of `profile`: another campaign, or another year."""
    if lower.snap.profile.id != profile.id:
        return (f"{lower.name} 是“{lower.snap.profile.title}”的台账，与 {name}（“{profile.title}”）不是同一个活动，"
                "不能汇总")
    mine, theirs = campaign_year(profile), campaign_year(lower.snap.profile)
    if mine and theirs and mine != theirs:
        return (f"{lower.name} 是 {theirs} 年度活动的台账，{name} 是 {mine} 年度的：不同年度的台账不能汇总。请只汇总"
                f" {mine} 年度各党总支的台账；{theirs} 年度的汇总到该年度的上级台账"
                f"（如 brandkit rollup 党委{theirs}台账.xlsx {lower.name}）")
    return None


def _span(stage: Stage) -> str:
    return f"{stage.start}~{stage.due}" if stage.start and stage.due else str(stage.due or stage.start or "无日期")


def other_dates(lower: LowerMaster, profile: Profile, name: str) -> str | None:
    """A warning naming the stages whose dates `lower` sets otherwise than the master `name`."""
    theirs = {s.name: s for s in lower.snap.profile.stages}
    differ = [f"{s.name} {_span(o)}（{name}：{_span(s)}）" for s in profile.stages
              if (o := theirs.get(s.name)) is not None and (o.start, o.due) != (s.start, s.due)]
    return (f"{lower.name} 的阶段日期与上级台账不同：{'；'.join(differ)}。汇总照常进行，进度与逾期按上级台账 {name} "
            "的日期计算；如应一致，请在其中一方“填报规则”工作表的阶段表中改正") if differ else None


def rolled_stamps(log: Grid | None) -> dict[tuple[str, str], tuple[str, str]]:
    """(normalised branch, stage) -> (来源文件, 新值) of the last 操作记录 row that stamped that stage: a
    roll-up names the lower master there, `stamp` nothing, a merge the form."""
    if log is None or not log.rows:
        return {}
    header = {str(v).strip(): c for c, v in enumerate(log.rows[0]) if v}
    cols = [header.get(LOG_COLUMNS[n]) for n in (2, 3, 4, 6, 7)]
    stamping = {LogAction.STAMPED, LogAction.ADDED, LogAction.UPDATED, LogAction.RETURNED}
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for row in log.rows[1:]:
        action, branch, stage, new, source = (str(row[c] or "").strip() if c is not None and c < len(row) else ""
                                              for c in cols)
        if action in stamping and branch and stage:
            out[normalize_branch(branch), stage.split("：")[0]] = (source, new)
    return out


def read_master(path: Path) -> tuple[MasterSnapshot, Grid | None, bytes]:
    """A master's snapshot and its 操作记录 (read in a child process), with its bytes."""
    from toolkit.core.master import snapshot
    from toolkit.files.masterfile import digest, master_bytes, master_grids

    data = master_bytes(path)
    grids = master_grids(path.name, data)
    snap = snapshot(path, grids, None)
    snap.sha256 = digest(data)
    return snap, grids.get(snap.profile.ledger.log_sheet), data


def read_lowers(paths: list[Path]) -> list[LowerMaster]:
    """Each lower master's snapshot and its ledger's logos, read in child processes."""
    from toolkit.files.masterfile import MASTER_LIMITS, master_problem
    from toolkit.files.sandbox import Failure, run_isolated

    datas, snaps, shas = [], [], []
    for path in paths:
        snap, log, data = read_master(path)
        datas.append(data)
        snaps.append(snap)
        shas.append(submission_shas(log))
    jobs = []
    for n, (snap, data) in enumerate(zip(snaps, datas, strict=True)):
        column = snap.profile.ledger.logo_column
        if snap.ledger is not None and column and column in snap.ledger.columns:
            jobs.append((n, (data, snap.ledger.sheet, snap.ledger.columns[column])))
    logos: dict[int, dict[int, Logo]] = {}
    for n, got in run_isolated(ledger_logos, jobs, timeout_s=MASTER_LIMITS.timeout_s,
                               memory_bytes=MASTER_LIMITS.memory_bytes, workers=min(2, len(jobs) or 1)):
        if isinstance(got, Failure):
            raise UsageProblem(master_problem(paths[n].name, "timeout" if got.reason == "timeout" else "crashed"))
        logos[n] = got
    return [LowerMaster(p.name, snap, logos.get(n, {}), shas[n]) for n, (p, snap) in enumerate(zip(paths, snaps, strict=True))]


def stage_dates(profile: Profile) -> tuple[str, ...]:
    """The lower master's stage dates as `init --date` options, so a new upper master runs the same calendar."""
    return tuple(f"{s.name}={s.start}~{s.due}" if s.start and s.due else f"{s.name}={s.due or s.start}"
                 for s in profile.stages if s.start or s.due)


def rollup(upper: Path, lowers: list[Path], *, prefer: list[str] | None = None, operator: str | None = None,
           dry_run: bool = False, now: dt.datetime | None = None) -> RollupResult:
    """`brandkit rollup`: read the lower masters, then plan and apply the roll-up on the upper master under
    its lock (planned again there when the upper changed meanwhile)."""
    from toolkit.commands.init import init_master
    from toolkit.files.masterfile import load_master
    from toolkit.files.transaction import master_path, owner_files, refuse_if_open, update

    given, upper = upper, master_path(upper)
    lowers = [Path(p) for p in lowers]
    if any(p.resolve() == upper.resolve() for p in lowers):
        raise UsageProblem(f"上级台账 {upper.name} 不能同时作为下级台账汇总")
    names = [p.name for p in lowers]
    if len(set(names)) != len(names) or upper.name in names:
        raise UsageProblem(f"各台账的文件名必须互不相同（“来源台账”列按文件名记录来源）：{'、'.join(names)}")
    warnings = [open_warning(p, owner) for p in lowers for owner in owner_files(p) if owner.exists()]
    read = read_lowers(lowers)
    prefers = parse_prefers(list(prefer or ()), [*names, upper.name])
    operator = operator or os.environ.get("BRANDKIT_OPERATOR") or getpass.getuser()
    now = now or dt.datetime.now().replace(microsecond=0)
    profile = read[0].snap.profile
    for lower in read[1:]:  # before a new upper master is made on the first one's calendar
        if problem := other_campaign(lower, profile, read[0].name):
            raise UsageProblem(problem)
    warnings += [f"{lower.name} 中没有支部（台账没有数据行），没有可汇总的内容" for lower in read
                 if lower.snap.ledger is not None and not lower.snap.ledger.rows]
    result = RollupResult(given, names, [], dry_run, warnings=warnings)
    read_upper: list[tuple[MasterSnapshot, Grid | None]] = []  # the upper as read before its lock, with its log

    def plan(snap: MasterSnapshot) -> RollupPlan:
        log = read_upper[0][1] if read_upper and read_upper[0][0].sha256 == snap.sha256 else read_master(snap.path)[1]
        result.warnings = warnings + check_upper(snap, read)
        planned = plan_rollup(snap, read, prefers, operator=operator, now=now, rolled=rolled_stamps(log))
        result.outcomes = planned.outcomes
        return planned

    if dry_run:
        if upper.exists():
            plan(read_master(upper)[0])
        else:  # planned on the master `init` would create, made in a scratch folder
            with tempfile.TemporaryDirectory(prefix="brandkit-rollup-") as scratch:
                fresh = Path(scratch) / upper.name
                init_master(fresh, profile.id, None, operator, dates=stage_dates(profile))
                plan(load_master(fresh))
        return result
    refuse_if_open(upper)
    if upper.exists():  # a lower of another campaign or year is refused before anything is written
        snap, log, _ = read_master(upper)
        check_upper(snap, read)
        read_upper.append((snap, log))
    else:
        init_master(upper, profile.id, None, operator, dates=stage_dates(profile))
        result.created = True

    def keep(planned: RollupPlan) -> None:  # under the lock, so the originals match the ledger's logos
        result.missing_originals = keep_originals(upper, lowers, planned)

    result.backup = update(upper, plan, lambda p: p.changes, snap=read_upper[0][0] if read_upper else None,
                           then=keep)[1]
    return result


def open_warning(lower: Path, owner: Path) -> str:
    return (f"{lower.name} 正在 Excel/WPS 中打开（发现 {owner.name}）：汇总读的是它上次保存的内容，未保存的修改不会汇总。"
            f"请先保存并关闭 {lower.name}，再运行一次 brandkit rollup")


def check_upper(upper: MasterSnapshot, lowers: list[LowerMaster]) -> list[str]:
    """Refuse a lower of another campaign or year than the upper master; warn of one on other stage dates."""
    name = upper.path.name
    for lower in lowers:
        if problem := other_campaign(lower, upper.profile, f"上级台账 {name}"):
            raise UsageProblem(problem)
    return [w for lower in lowers if (w := other_dates(lower, upper.profile, name))]


def keep_originals(upper: Path, lowers: list[Path], planned: RollupPlan) -> list[str]:
    """Copy each placed logo's original from beside its lower master to beside the upper master (where the
    lower keeps one); returns the branches whose original was there but could not be copied."""
    from toolkit.commands.merge import keep_files, kept_original

    by_name = {p.name: p for p in lowers}
    found: dict[str, tuple[Path | None, str]] = {}
    for branch, (master, _logo) in planned.logos.items():
        if (original := kept_original(by_name[master], branch)) is not None:
            found[branch] = (original, original.suffix)
    return keep_files(upper, found, link=False) if found else []
