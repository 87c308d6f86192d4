"""What each command does, between the CLI (or a button) and the pure core.

Functions here read files, call the pure core, and write outputs; they return plain results that the
CLI renders as text or JSON. Nothing here prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.check import Checked, check_all
from toolkit.errors import UsageProblem
from toolkit.profile import Profile, ProfileError, builtin_profiles, load_profile

Progress = Callable[[int, int], None] | None


def list_profiles() -> list[dict[str, Any]]:
    from toolkit.profile import profile_summary

    return [profile_summary(load_profile(name)) for name in builtin_profiles()]


def describe_profile(name: str) -> dict[str, Any]:
    from toolkit.profile import profile_details

    return profile_details(resolve_profile(name))


def resolve_profile(name: str | None) -> Profile:
    if not name:
        raise UsageProblem("请用 --profile 指定活动方案（brandkit profiles 可列出全部），或用 --master 指定台账")
    try:
        return load_profile(name)
    except ProfileError as exc:
        raise UsageProblem(str(exc)) from exc


def write_template(profile_name: str, output: Path, as_master: bool = False) -> Path:
    profile = resolve_profile(profile_name)
    output.parent.mkdir(parents=True, exist_ok=True)
    if as_master:
        from toolkit.master_template import write_master_template

        return write_master_template(profile, output)
    from toolkit.templates import write_form

    write_form(profile, output)
    return output


@dataclass
class ValidationResult:
    profile: Profile
    checked: list[Checked]
    report_paths: dict[int, Path] = field(default_factory=dict)  # index into checked -> report file
    report_errors: dict[int, str] = field(default_factory=dict)  # index into checked -> why it has none
    overview: Path | None = None
    overview_error: str | None = None  # why 校验汇总.xlsx could not be written
    groups: dict[str, str] = field(default_factory=dict)  # branch -> 党总支, from the master's roster

    @property
    def rejected(self) -> bool:
        return any(c.status in ("error", "unreadable") for c in self.checked)

    def to_json(self) -> dict[str, Any]:
        files = [file_json(c) for c in self.checked]
        for n, doc in enumerate(files):  # with --report-dir: where each report went, or why it did not
            if n in self.report_paths:
                doc["report"] = str(self.report_paths[n])
            elif n in self.report_errors:
                doc["report_error"] = self.report_errors[n]
        return {"files": files}


def file_json(c: Checked) -> dict[str, Any]:
    sub = c.submission
    doc: dict[str, Any] = {
        "path": sub.provenance.path,
        "sheet": sub.provenance.sheet,
        "branch": c.branch,
        "status": c.status,
        "fields": {name: _plain(v.value) for name, v in sub.fields.items()},
        "pictures": [p.to_json() for p in sub.pictures],
        "findings": [f.to_json() for f in c.findings],
    }
    if sub.tables:
        doc["tables"] = {name: [{k: _plain(v.value) for k, v in row.items()} for row in rows]
                         for name, rows in sub.tables.items()}
    return doc


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def validate(paths: list[Path], *, profile_name: str | None, master: Path | None,
             report_dir: Path | None, progress: Progress = None) -> ValidationResult:
    from toolkit.batch import collect_paths, origins_for, read_all

    roster = None
    groups: dict[str, str] = {}
    if master is not None:
        from toolkit.ledger import load_master

        snapshot = load_master(master, profile_name)
        profile, roster, groups = snapshot.profile, snapshot.roster, snapshot.groups
    else:
        profile = resolve_profile(profile_name)
    files = collect_paths(paths)
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageProblem(f"找不到文件或文件夹：{'、'.join(map(str, missing))}")
    if not files:
        raise UsageProblem("没有找到可校验的文件（支持 xlsx、xlsm、xls、et、ods、csv、docx、doc）")
    checked = check_all(read_all(files, profile, origins=origins_for(paths), progress=progress), profile, roster)
    result = ValidationResult(profile, checked, groups=groups)
    if report_dir is not None:
        write_reports(result, report_dir)
    return result


def write_reports(result: ValidationResult, report_dir: Path) -> None:
    """One `<原文件名>_校验结果.xlsx` per file (a 党总支 workbook's sheets share one; files named alike get
    `<原文件名> (2)_校验结果.xlsx`) and 校验汇总.xlsx. A report that cannot be written is recorded in
    `report_errors` (and in the summary) and the others are still written."""
    from toolkit.report import (
        SUMMARY_NAME,
        ReportError,
        ReportRow,
        report_name,
        write_file_report,
        write_office_summary,
    )

    report_dir.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[int]] = {}
    for n, c in enumerate(result.checked):
        by_file.setdefault(c.submission.provenance.path, []).append(n)
    rows = []
    taken = {SUMMARY_NAME.casefold()}
    for indexes in by_file.values():
        items = [(result.checked[n].submission, result.checked[n].findings) for n in indexes]
        path: Path | None = None
        error = None
        try:
            path = write_file_report(items, report_dir, name=report_name(items[0][0], taken))
        except ReportError as exc:
            error = str(exc)
        for n in indexes:
            c = result.checked[n]
            if path is not None:
                result.report_paths[n] = path
            else:
                result.report_errors[n] = error or ""
            prov = c.submission.provenance
            group = result.groups.get(c.branch or "") or c.submission.value(result.profile.group)
            rows.append(ReportRow(path=prov.path, sheet=prov.sheet, branch=c.branch, status=c.status,
                                  findings=c.findings, report_path=str(path) if path else None,
                                  report_error=error, group=str(group) if group else None, sender=prov.sender))
    try:
        result.overview = write_office_summary(rows, report_dir / SUMMARY_NAME, result.profile.title)
    except ReportError as exc:
        result.overview_error = str(exc)
