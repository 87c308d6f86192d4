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
from toolkit.core.master import MasterSnapshot
from toolkit.core.model import Logo
from toolkit.core.plan_rollup import (
    LowerMaster,
    RollupOutcome,
    RollupPlan,
    parse_prefers,
    plan_rollup,
    submission_shas,
)
from toolkit.core.profile import Profile
from toolkit.core.vocabulary import Outcome


@dataclass
class RollupResult:
    master: Path
    lowers: list[str]
    outcomes: list[RollupOutcome]
    dry_run: bool
    created: bool = False
    backup: Path | None = None
    missing_originals: list[str] = field(default_factory=list)  # originals found but not copied

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
                "missing_originals": self.missing_originals}


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


def read_lowers(paths: list[Path]) -> list[LowerMaster]:
    """Each lower master's snapshot and its ledger's logos, read in child processes."""
    from toolkit.core.master import snapshot
    from toolkit.files.masterfile import MASTER_LIMITS, digest, master_bytes, master_grids, master_problem
    from toolkit.files.sandbox import Failure, run_isolated

    datas, snaps, shas = [], [], []
    for path in paths:
        data = master_bytes(path)
        grids = master_grids(path.name, data)
        snap = snapshot(path, grids, None)
        snap.sha256 = digest(data)
        datas.append(data)
        snaps.append(snap)
        shas.append(submission_shas(grids.get(snap.profile.ledger.log_sheet)))
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
    from toolkit.files.transaction import master_path, refuse_if_open, update

    upper = master_path(upper)
    lowers = [Path(p) for p in lowers]
    if any(p.resolve() == upper.resolve() for p in lowers):
        raise UsageProblem(f"上级台账 {upper.name} 不能同时作为下级台账汇总")
    names = [p.name for p in lowers]
    if len(set(names)) != len(names) or upper.name in names:
        raise UsageProblem(f"各台账的文件名必须互不相同（“来源台账”列按文件名记录来源）：{'、'.join(names)}")
    read = read_lowers(lowers)
    prefers = parse_prefers(list(prefer or ()), [*names, upper.name])
    operator = operator or os.environ.get("BRANDKIT_OPERATOR") or getpass.getuser()
    now = now or dt.datetime.now().replace(microsecond=0)
    profile = read[0].snap.profile
    result = RollupResult(upper, names, [], dry_run)

    def plan(snap: MasterSnapshot) -> RollupPlan:
        planned = plan_rollup(snap, read, prefers, operator=operator, now=now)
        result.outcomes = planned.outcomes
        return planned

    if dry_run:
        if upper.exists():
            plan(load_master(upper))
        else:  # planned on the master `init` would create, made in a scratch folder
            with tempfile.TemporaryDirectory(prefix="brandkit-rollup-") as scratch:
                fresh = Path(scratch) / upper.name
                init_master(fresh, profile.id, None, operator, dates=stage_dates(profile))
                plan(load_master(fresh))
        return result
    refuse_if_open(upper)
    if not upper.exists():
        init_master(upper, profile.id, None, operator, dates=stage_dates(profile))
        result.created = True

    def keep(planned: RollupPlan) -> None:  # under the lock, so the originals match the ledger's logos
        result.missing_originals = keep_originals(upper, lowers, planned)

    result.backup = update(upper, plan, lambda p: p.changes, then=keep)[1]
    return result


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
