"""The booklet of a campaign's brands (pure): which branches go in, in what order, and what each
section holds. `toolkit.commands.booklet` writes it as a Word document (and a PDF).

What goes in is the profile's `[booklet]` (`BookletSpec`): the booklet's title, each section's heading
(ledger columns in braces), the short facts under the heading, the long texts, and the default choice of
branches. Branches go in by 党总支 (in the roster's order), then in the roster's order; each section
ends with the stages the branch has been stamped on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.core.errors import UsageProblem
from toolkit.core.master import LedgerRow
from toolkit.core.profile import Profile
from toolkit.core.stages import DONE_KINDS, branch_statuses, resolve_stage, stamp_date
from toolkit.core.text import normalize_branch

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Section:
    """One branch's pages: its heading (a PDF bookmark), facts, long texts (paragraphs) and stages."""

    branch: str
    group: str
    heading: str
    facts: tuple[tuple[str, str], ...]
    texts: tuple[tuple[str, tuple[str, ...]], ...]
    outcomes: tuple[tuple[str, str, dt.date | None], ...]  # stage, status, date stamped


@dataclass(frozen=True)
class Booklet:
    title: str
    campaign: str  # the notice's title, else the campaign's
    issuer: str
    date: dt.date
    chosen: str  # which branches, in words: 申报已受理 / 评选为“入选”
    sections: tuple[Section, ...]


def text_of(value: Any) -> str:
    """A ledger value as the booklet prints it (whole numbers without ".0")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def paragraphs(value: Any) -> tuple[str, ...]:
    return tuple(line.strip() for line in text_of(value).splitlines() if line.strip())


def plan_booklet(profile: Profile, rows: Sequence[LedgerRow], groups: Mapping[str, str], roster: Sequence[str],
                 date: dt.date, stage: str | None = None, status: str | None = None) -> Booklet:
    """The booklet of the branches at `stage` with `status` (only `stage`: a passed or late status there;
    neither: the profile's choice, else every branch whose form was accepted, late ones included)."""
    spec = profile.booklet
    if status and not stage:
        raise UsageProblem("--status 须与 --stage 一起使用，如 --stage 评选 --status 入选")
    stage, status = (stage, status) if stage else (spec.stage or None, spec.status or None)
    target = profile.stage(stage) if stage else profile.submission_stage
    if target is None or (status and status not in target.statuses):
        resolve_stage(profile, stage or "", status or "")  # refused, naming the stages or statuses there are
    assert target is not None
    chosen = f"“{target.name}”为“{status}”" if status else f"“{target.name}”" + ("已完成" if stage else "已受理")

    def taken(row: LedgerRow) -> bool:
        got = branch_statuses(profile, row.values)[target.name]
        return got == status if status else got is not None and profile.statuses.kind_of(got) in DONE_KINDS

    order = {normalize_branch(b): n for n, b in enumerate(roster)}
    group_of = {normalize_branch(b): g for b, g in groups.items()}
    group_order = {g: n for n, g in enumerate(dict.fromkeys(group_of.get(normalize_branch(b), "") for b in roster))}

    def group(row: LedgerRow) -> str:
        return group_of.get(normalize_branch(row.branch)) or text_of(row.values.get(profile.group))

    picked = sorted((r for r in rows if taken(r)), key=lambda r: (
        group_order.get(group(r), len(group_order)), order.get(normalize_branch(r.branch), len(order)), r.row))
    return Booklet(spec.title or f"“{profile.title}”品牌汇编", profile.notice_title or profile.title, profile.issuer,
                   date, chosen, tuple(section(profile, r, group(r)) for r in picked))


def section(profile: Profile, row: LedgerRow, group: str) -> Section:
    spec = profile.booklet
    values = {**row.values, profile.group: row.values.get(profile.group) or group, profile.key: row.branch}
    heading = _PLACEHOLDER.sub(lambda m: text_of(values.get(m.group(1))), spec.heading) if spec.heading else ""
    facts = spec.facts or (profile.group, profile.key)
    texts = spec.fields or tuple(f.name for f in profile.fields if f.long and f.name in profile.ledger.columns)
    statuses = branch_statuses(profile, row.values)
    return Section(row.branch, group, heading.strip("：: ") or row.branch,
                   tuple((name, text_of(values.get(name))) for name in facts if text_of(values.get(name))),
                   tuple((name, paragraphs(values.get(name))) for name in texts if paragraphs(values.get(name))),
                   tuple((s.name, got, stamp_date(row.values.get(s.column)))
                         for s in profile.stages if (got := statuses[s.name])))
