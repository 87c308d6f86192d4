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

from toolkit.commands.profiles import resolve_profile
from toolkit.core.errors import UsageProblem
from toolkit.core.model import Checked
from toolkit.core.plan_deliverables import DeliverableOutcome
from toolkit.core.profile import Profile
from toolkit.validation.check import check_all

Progress = Callable[[int, int], None] | None










@dataclass
class ValidationResult:
    profile: Profile
    checked: list[Checked]
    report_paths: dict[int, Path] = field(default_factory=dict)  # index into checked -> report file
    report_errors: dict[int, str] = field(default_factory=dict)  # index into checked -> why it has none
    overview: Path | None = None
    overview_error: str | None = None  # why 校验汇总.xlsx could not be written
    # files that are not forms (reports, photos, news links): index into checked -> the deliverables it
    # was judged as, and each branch's deliverables as a merge would mark them
    materials: dict[int, list[str]] = field(default_factory=dict)
    deliverables: list[DeliverableOutcome] = field(default_factory=list)
    copies: set[int] = field(default_factory=set)  # index into checked: a copy of a form (盖章版, 扫描件)
    groups: dict[str, str] = field(default_factory=dict)  # branch -> 党总支, from the master's roster

    @property
    def rejected(self) -> bool:
        return any(c.status in ("error", "unreadable") for c in self.checked)

    def to_json(self) -> dict[str, Any]:
        files = [file_json(c) for c in self.checked]
        for n, doc in enumerate(files):  # with --report-dir: where each report went, or why it did not
            if n in self.materials:
                doc["deliverables"] = self.materials[n]
            if n in self.copies:
                doc["form_copy"] = True
            if n in self.report_paths:
                doc["report"] = str(self.report_paths[n])
            elif n in self.report_errors:
                doc["report_error"] = self.report_errors[n]
        out = {"files": files}
        if self.profile.deliverables:
            out["deliverables"] = [o.to_json() for o in self.deliverables]
        return out


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
    from toolkit.commands.batch import collect_paths, origins_for, read_all
    from toolkit.commands.merge import not_forms, read_deliverables
    from toolkit.core.plan_deliverables import judge_received
    from toolkit.readers.limits import DEFAULT_LIMITS

    roster, snapshot = None, None
    groups: dict[str, str] = {}
    if master is not None:
        from toolkit.files.masterfile import load_master

        snapshot = load_master(master, profile_name)
        profile, roster, groups = snapshot.profile, snapshot.named_branches(), snapshot.groups
    else:
        profile = resolve_profile(profile_name)
    files = collect_paths(paths)
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageProblem(f"找不到文件或文件夹：{'、'.join(map(str, missing))}")
    if not files:
        raise UsageProblem("没有找到可校验的文件（支持 xlsx、xlsm、xls、et、ods、csv、docx、doc）")
    origins = origins_for(paths)
    others = not_forms(files, profile)
    subs = read_all([f for f in files if f not in others], profile, origins=origins, progress=progress)
    # reports, photos and news links: read as a merge reads them and judged as the branch's deliverables
    pairs, delivered = read_deliverables(paths, [(s, None) for s in subs], others, profile, origins, DEFAULT_LIMITS)
    checked = check_all([s for s, _ in pairs], profile, roster)
    result = ValidationResult(profile, checked, groups=groups)
    if delivered.items or delivered.copies:
        verdicts, result.deliverables = judge_received(profile, delivered, checked, snapshot)
        result.materials = {len(checked) + n: v.deliverables for n, v in enumerate(verdicts) if v.copy is None}
        result.copies = {len(checked) + n for n, v in enumerate(verdicts) if v.copy is not None}
        result.checked = [*checked, *(v.checked() for v in verdicts)]
    if report_dir is not None:
        write_reports(result, report_dir)
    return result


def write_reports(result: ValidationResult, report_dir: Path) -> None:
    """One `<原文件名>_校验结果.xlsx` per file (a 党总支 workbook's sheets share one; files named alike get
    `<原文件名> (2)_校验结果.xlsx`) and 校验汇总.xlsx. A report that cannot be written is recorded in
    `report_errors` (and in the summary) and the others are still written."""
    from toolkit.files.office_summary import SUMMARY_NAME, write_office_summary
    from toolkit.files.report import ReportError, ReportRow, report_name, write_file_report

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
            path = write_file_report(items, report_dir, name=report_name(items[0][0], taken),
                                     copy_file=indexes[0] not in result.materials  # a report: the list alone
                                     and indexes[0] not in result.copies)
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
