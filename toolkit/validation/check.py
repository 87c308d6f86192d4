"""Validate a batch of submissions: per-file rules, branch matching, cross-submission rules. Pure."""

from __future__ import annotations

from toolkit.core.model import Checked, Finding, Submission
from toolkit.core.profile import Profile
from toolkit.validation.dates import complete_dates
from toolkit.validation.rules import branch_findings, cross_check, match_branch, validate


def check_all(subs: list[Submission], profile: Profile, roster: list[str] | None = None) -> list[Checked]:
    cross = cross_check(subs, profile)
    checked = []
    for n, sub in enumerate(subs):
        sub, dated = complete_dates(sub, profile)  # "4月14日" takes the campaign's year
        found = list(sub.findings) + dated
        if sub.readable and sub.fields:
            no_label = {f.field for f in sub.findings if f.rule == "template_mismatch"}
            found += [f for f in validate(sub, profile) if not (f.rule == "required" and f.field in no_label)]
        found += cross.get(n, [])
        name = sub.value(profile.key)
        branch = None
        if roster is not None and sub.readable and sub.fields:
            branch = match_branch(str(name), roster) if name else None
            if name and branch is None:
                found += branch_findings(sub, profile, roster)
        elif name:
            branch = str(name)
        checked.append(Checked(sub, _dedupe(found), branch))
    return checked


def _dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
