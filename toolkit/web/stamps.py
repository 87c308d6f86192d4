"""盖章: choose a stage and a status, tick branches, stamp (`brandkit stamp 台账 --stage … --status …
--branch …`); each refusal is shown with the reason the planner gives."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from toolkit.core.errors import UsageProblem
from toolkit.core.stages import FORCE_HINT
from toolkit.web.render import page, text

SEP = "\x1f"  # between stage and status in the choice's value (neither holds a control character)
FORCE_WEB = "需勾选“允许退回到较早的状态”后再盖章"  # the page's checkbox for the CLI's --force (stamp.html)


def stamp_page(request: Request) -> HTMLResponse:
    from toolkit.commands.status import status

    camp = request.app.state.campaign
    try:
        progress = status(camp.require_master())
    except UsageProblem as exc:  # no master yet, or one it cannot read: the tab as the others show it
        return page(request, "stamp.html", progress=None, groups={}, sep=SEP, error=str(exc))
    groups: dict[str, list] = {}
    for rec in progress.records:
        groups.setdefault(rec.group, []).append(rec)
    return page(request, "stamp.html", progress=progress, groups=groups, sep=SEP, error=None)


async def do_stamp(request: Request) -> HTMLResponse:
    from toolkit.commands.stamp import stamp

    form = await request.form()
    camp = request.app.state.campaign
    master = camp.require_master()
    stage, _, status = str(form.get("choice", "")).partition(SEP)
    branches = [str(b) for b in form.getlist("branch")]
    if not stage or not status:
        raise UsageProblem("请选择阶段和状态")
    if not branches:
        raise UsageProblem("请勾选要盖章的支部")
    note = str(form.get("note", "")).strip() or None
    result = await run_in_threadpool(lambda: stamp(master, stage, status, branches, note=note,
                                                   force=form.get("force") == "1"))
    refused = [(branch, reason.replace(FORCE_HINT, FORCE_WEB)) for branch, reason in result.plan.refused]
    return HTMLResponse(text("_stamp_result.html", plan=result.plan, refused=refused, stage=stage, status=status,
                             backup=camp.relative(result.backup) if result.backup else None))


ROUTES = [Route("/stamp", stamp_page), Route("/stamp", do_stamp, methods=["POST"])]
