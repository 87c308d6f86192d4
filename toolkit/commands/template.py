"""`brandkit template`: the branch form (or the macro-enabled master) for a campaign."""

from __future__ import annotations

from pathlib import Path

from toolkit.commands.profiles import resolve_profile


def write_template(profile_name: str, output: Path, as_master: bool = False) -> Path:
    profile = resolve_profile(profile_name)
    output.parent.mkdir(parents=True, exist_ok=True)
    if as_master:
        from toolkit.excel.master_template import write_master_template

        return write_master_template(profile, output)
    from toolkit.files.templates import write_form

    write_form(profile, output)
    return output
