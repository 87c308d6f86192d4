"""合并: the dry run as a table (`brandkit merge 台账 收件箱/ --dry-run`), then a confirm that applies only
when the master and the inbox are what the preview saw (else it previews again), then undo.

The preview records the master's sha256 and the inbox's listing digest (campaign.fingerprint) taken
before it read anything; the confirm compares them with the folder as it is now. The apply itself is
`commands.merge.merge` through the transaction, so the CLI, a button and the page never interleave on one master.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from toolkit.commands.stamp import default_operator
from toolkit.core.errors import UsageProblem
from toolkit.web.campaign import fingerprint
from toolkit.web.checks import UNMATCHED
from toolkit.web.jobs import Job
from toolkit.web.render import page, text

CHANGED = "台账或收件箱在预览之后有了变动（有人合并、盖章、撤销，或收到了新文件），没有合并。下面是按现在的内容重新预览的结果，请核对后再确认。"
BUSY = "另一次合并正在进行（可能是“确认合并”点了两次，或在另一个窗口中确认了），这次没有再合并。下面是那一次合并的结果。"


class Merging:
    """The page's one confirmed merge at a time: held from the confirm's digest check to the merge's end,
    so a second confirm of the same preview cannot pass the check before the first has changed the master."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.job: Job | None = None


def merge_page(request: Request) -> HTMLResponse:
    from toolkit.files.transaction import backups_of

    camp = request.app.state.campaign
    master = camp.master()
    return page(request, "merge.html", backups=len(backups_of(master)) if master else 0)


async def preview(request: Request) -> HTMLResponse:
    form = await request.form()
    return start_preview(request, accept=form.get("accept_warnings") == "1")


def start_preview(request: Request, accept: bool, note: str | None = None) -> HTMLResponse:
    from toolkit.commands.merge import merge

    camp = request.app.state.campaign
    master = camp.require_master()
    if not camp.inbox.is_dir():
        raise UsageProblem("收件箱还是空的：请先在“收件”页上传申报表或邮件")

    def work(progress: Any) -> Any:
        seen = fingerprint(master, camp.inbox)
        result = merge(master, [camp.inbox], dry_run=True, operator=default_operator(), accept_warnings=accept,
                       progress=progress)
        return result, seen

    def context(done: Any) -> dict[str, Any]:
        result, seen = done
        return {**outcome_rows(camp, result), "digests": seen, "accept": accept, "note": note}

    job = request.app.state.jobs.start("预览", work, "_merge_preview.html", context)
    return HTMLResponse(text("_job.html", job=job))


async def confirm(request: Request) -> HTMLResponse:
    from toolkit.commands.merge import merge

    form = await request.form()
    camp = request.app.state.campaign
    master = camp.require_master()
    accept = form.get("accept_warnings") == "1"
    seen = (str(form.get("master_digest", "")), str(form.get("inbox_digest", "")))
    merging: Merging = request.app.state.merging
    if not merging.lock.acquire(blocking=False):  # released by the merge's end, in its thread
        running = merging.job
        return HTMLResponse(text("_problem.html", message=BUSY) + (text("_job.html", job=running) if running else ""))
    merging.job = None  # set once this merge starts: until then the previous one is not "that merge"
    try:
        changed = await run_in_threadpool(fingerprint, master, camp.inbox) != seen
    except BaseException:
        merging.lock.release()
        raise
    if changed:
        merging.lock.release()
        return start_preview(request, accept, CHANGED)

    def work(progress: Any) -> Any:
        try:
            return merge(master, [camp.inbox], operator=default_operator(), accept_warnings=accept, progress=progress)
        finally:
            merging.lock.release()

    merging.job = request.app.state.jobs.start("合并", work, "_merge_done.html", lambda result: outcome_rows(camp, result))
    return HTMLResponse(text("_job.html", job=merging.job))


def outcome_rows(camp: Any, result: Any) -> dict[str, Any]:
    """One row per submission: what the merge does with it, the fields it changes, why it is held."""
    rows = []
    for o in result.outcomes:
        rows.append({"action": o.action, "branch": o.branch, "file": Path(o.path).name, "changes": o.changes,
                     "reasons": o.reasons, "findings": result.findings.get(o.path, []) if o.action in
                     ("rejected", "held") else []})
    order = ["added", "updated", "held", "rejected", "superseded", "unchanged"]
    rows.sort(key=lambda r: order.index(r["action"]) if r["action"] in order else len(order))
    counts = {k: len(result.names(k)) for k in order}
    marks = result.deliverables
    materials = [o for o in marks.outcomes if o.written or o.notes]  # notes: why a mark was not written
    return {"rows": rows, "counts": counts, "dry_run": result.dry_run, "materials": materials,
            "unmatched": marks.unmatched, "why": UNMATCHED, "writes": any(o.written for o in materials),
            "backup": camp.relative(result.backup) if result.backup else None,
            "held": counts["held"] > 0, "missing_originals": result.missing_originals}


def undo(request: Request) -> HTMLResponse:
    from toolkit.files.transaction import undo as run_undo
    from toolkit.render import undo_lines

    camp = request.app.state.campaign
    master = camp.require_master()
    return HTMLResponse(text("_message.html", message="；".join(undo_lines(master, run_undo(master)))))


ROUTES = [Route("/merge", merge_page), Route("/merge/preview", preview, methods=["POST"]),
          Route("/merge/confirm", confirm, methods=["POST"]), Route("/merge/undo", undo, methods=["POST"])]
