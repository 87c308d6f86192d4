"""`brandkit profiles`: the built-in campaign profiles, and the one a command runs with."""

from __future__ import annotations

from typing import Any

from toolkit.core.errors import UsageProblem
from toolkit.core.profile import Profile, ProfileError, builtin_profiles, load_profile


def list_profiles() -> list[dict[str, Any]]:
    from toolkit.core.profile import profile_summary

    return [profile_summary(load_profile(name)) for name in builtin_profiles()]


def describe_profile(name: str) -> dict[str, Any]:
    from toolkit.core.profile import profile_details

    return profile_details(resolve_profile(name))


def resolve_profile(name: str | None) -> Profile:
    if not name:
        raise UsageProblem("请用 --profile 指定活动方案（brandkit profiles 可列出全部），或用 --master 指定台账")
    try:
        return load_profile(name)
    except ProfileError as exc:
        raise UsageProblem(str(exc)) from exc
