"""校验: `brandkit validate 收件箱/ --master 台账 --report-dir 校验结果/`, one row per file with its
verdict and problems, and each file's returned report (校验结果) to download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from toolkit.core.errors import UsageProblem
from toolkit.web.render import page, text

# A material (report, photo, link) no branch was found for: the merge leaves it out of the ledger
UNMATCHED = ("没有找到所属支部，合并时不会记入台账：请在文件名中写明支部名称（如“内科第一党支部_总结报告.docx”）"
             "后重新上传，或请该支部用其邮箱发送")


def check_page(request: Request) -> HTMLResponse:
    return page(request, "check.html")


def run(request: Request) -> HTMLResponse:
    from toolkit.commands.validate import validate

    camp = request.app.state.campaign
    master = camp.require_master()
    if not camp.inbox.is_dir():
        raise UsageProblem("收件箱还是空的：请先在“收件”页上传申报表或邮件")

    def work(progress: Any) -> Any:
        return validate([camp.inbox], profile_name=None, master=master, report_dir=camp.reports, progress=progress)

    job = request.app.state.jobs.start("校验", work, "_check_result.html", lambda result: rows(camp, result))
    return HTMLResponse(text("_job.html", job=job))


def rows(camp: Any, result: Any) -> dict[str, Any]:
    """The template's rows: file (relative to the inbox), sheet, branch, verdict, findings, report link."""
    out = []
    for n, c in enumerate(result.checked):
        sub = c.submission
        report = result.report_paths.get(n)
        where = _inside(Path(sub.provenance.path).parent, camp.inbox)
        materials = result.materials.get(n)
        out.append({"name": Path(sub.provenance.path).name, "where": "" if where == "." else where, "sheet": sub.provenance.sheet,
                    "branch": c.branch, "status": c.status, "findings": c.findings, "notes": sub.notes,
                    "materials": materials or [], "unmatched": materials is not None and not c.branch,
                    "report": camp.relative(report) if report else None,
                    "report_error": result.report_errors.get(n)})
    counts = {k: sum(1 for r in out if r["status"] == k and not r["unmatched"])
              for k in ("ok", "warning", "error", "unreadable")}
    overview = camp.relative(result.overview) if result.overview else None
    return {"rows": out, "counts": counts, "unmatched": sum(r["unmatched"] for r in out), "why": UNMATCHED,
            "overview": overview, "overview_error": result.overview_error}


def _inside(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path.name


ROUTES = [Route("/check", check_page), Route("/check/run", run, methods=["POST"])]
