"""Validate a batch of submissions: per-file rules, branch matching, cross-submission rules. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from toolkit.core.model import Checked, Finding, Submission
from toolkit.core.profile import Profile
from toolkit.validation.dates import complete_dates
from toolkit.validation.rules import branch_findings, cross_check, match_branch, validate
from toolkit.validation.similar import Pairs


def check_all(subs: list[Submission], profile: Profile, roster: list[str] | None = None,
              similar: Callable[[], Mapping[str, Pairs]] | None = None) -> list[Checked]:
    """`similar`: gives the similar-text pairs searched elsewhere (see rules.cross_check), asked for
    only once every form's own checks are done, so a search running in another process overlaps them."""
    own = []
    for sub in subs:
        sub, dated = complete_dates(sub, profile)  # "4月14日" takes the campaign's year
        found = list(sub.findings) + dated
        if sub.readable and sub.fields:
            no_label = {f.field for f in sub.findings if f.rule == "template_mismatch"}
            found += [f for f in validate(sub, profile) if not (f.rule == "required" and f.field in no_label)]
        name = sub.value(profile.key)
        branch, unknown = None, []
        if roster is not None and sub.readable and sub.fields:
            branch = match_branch(str(name), roster) if name else None
            if name and branch is None:
                unknown = branch_findings(sub, profile, roster)
        elif name:
            branch = str(name)
        own.append((sub, found, branch, unknown))
    cross = cross_check(subs, profile, similar() if similar else None)
    return [Checked(sub, _dedupe([*found, *cross.get(n, []), *unknown]), branch)
            for n, (sub, found, branch, unknown) in enumerate(own)]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
