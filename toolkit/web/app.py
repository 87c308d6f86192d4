"""The local page as an ASGI app: the routes, the guard around them, the home page and file downloads.

Each handler parses the request, calls the same function the CLI calls (toolkit.commands.validate, merging, stamp,
status, summary, mail) and renders what it returns; nothing here decides anything about a campaign.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from toolkit.core.errors import UsageProblem
from toolkit.web import checks, inbox, merges, reports, stamps
from toolkit.web.campaign import Campaign
from toolkit.web.jobs import Jobs
from toolkit.web.render import page, problem, refusal, text
from toolkit.web.security import MAX_UPLOAD_BYTES, Guard, Refused, Session, confine

STATIC = Path(__file__).with_name("static")


def create_app(folder: Path, session: Session, port: int, *, max_upload: int = MAX_UPLOAD_BYTES) -> Any:
    """The page for the campaign in `folder`, answering only at 127.0.0.1/localhost:`port` to the
    holder of `session`'s cookie."""
    routes = [
        Route("/", home),
        Route("/master", choose_master, methods=["POST"]),
        Route("/init", init, methods=["POST"]),
        Route("/files/{path:path}", download),
        Route("/jobs/{job_id}", job),
        *inbox.ROUTES, *checks.ROUTES, *merges.ROUTES, *stamps.ROUTES, *reports.ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={UsageProblem: _usage_problem, Refused: _refused,
                                                       HTTPException: _http_problem})
    app.state.campaign = Campaign(Path(folder).resolve())
    app.state.session = session
    app.state.jobs = Jobs()
    app.state.merging = merges.Merging()
    app.state.max_upload = max_upload
    return Guard(app, session, port)


async def _usage_problem(request: Request, exc: Exception) -> Response:
    return refusal(request, str(exc), 400)


async def _refused(request: Request, exc: Exception) -> Response:
    return refusal(request, str(exc), 403)


# Starlette's own refusals (an unknown address, a GET on an action, a form it cannot parse), said in Chinese
HTTP_PROBLEMS = {
    404: "找不到这个页面：请从页面上方的菜单进入",
    405: "这个地址是页面上按钮提交用的，不能直接打开：请回到相应页面，用页面上的按钮操作",
}
FORM_PROBLEM = "提交的内容不完整或无法读取，没有处理：请刷新页面后重试"


async def _http_problem(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    return refusal(request, HTTP_PROBLEMS.get(status, FORM_PROBLEM), status)


def campaign(request: Request) -> Campaign:
    return request.app.state.campaign


# -- 首页 ------------------------------------------------------------------------------------------------

def home(request: Request) -> HTMLResponse:
    from toolkit.commands.profiles import list_profiles

    camp = campaign(request)
    master = camp.master()
    if master is None:
        return page(request, "home.html", progress=None, candidates=[p.name for p in camp.candidates()],
                    profiles=list_profiles(), todo=[], due_workdays=None, error=None)
    try:
        progress = overview(master)
    except UsageProblem as exc:
        return page(request, "home.html", progress=None, candidates=[p.name for p in camp.candidates()],
                    profiles=list_profiles(), todo=[], due_workdays=None, error=str(exc))
    from toolkit.commands.batch import collect_paths
    from toolkit.commands.status import group_table
    from toolkit.core.stages import workdays_between

    due = progress.submission_due
    workdays = None
    if due is not None and due.due is not None:
        workdays = workdays_between(progress.today, due.due) if due.due >= progress.today else \
            -workdays_between(due.due, progress.today)
    waiting = len(collect_paths([camp.inbox])) if camp.inbox.is_dir() else 0
    return page(request, "home.html", progress=progress, groups=group_table(progress), due_workdays=workdays,
                todo=next_steps(progress, waiting), candidates=[], profiles=[], error=None)


def overview(master: Path) -> Any:
    from toolkit.commands.status import status

    return status(master)


def next_steps(progress: Any, waiting: int) -> list[tuple[str, str]]:
    """(text, link) for what needs doing next, from the same figures `brandkit status` prints."""
    steps = []
    if waiting:
        steps.append((f"收件箱中有 {waiting} 个文件：先校验，再合并进台账", "/check"))
    missing = progress.missing
    if missing:
        must = len(progress.must_join_missing)
        steps.append((f"还有 {len(missing)} 个支部未提交" + (f"（其中必须参与 {must} 个）" if must else "")
                      + "：下载汇总表的“未提交名单”催报", "/summary"))
    if progress.issues:
        steps.append((f"待处理问题 {len(progress.issues)} 条：见汇总表的“问题汇总”", "/summary"))
    nxt = progress.next_due
    if nxt is not None:
        steps.append((f"下一个截止：“{nxt.stage.name}” {nxt.due}，还有 {nxt.days_left} 天", "/stamp"))
    return steps or [("目前没有待办事项", "/")]


async def choose_master(request: Request) -> Response:
    form = await request.form()
    camp = campaign(request)
    name = str(form.get("master", ""))
    if name not in {p.name for p in camp.candidates()}:
        raise Refused(f"活动文件夹中没有工作簿“{name}”")
    camp.remember(master=name)
    return _go_home(request)


async def init(request: Request) -> Response:
    """新建台账: `brandkit init` with the campaign chosen and, optionally, the roster uploaded."""
    from toolkit.commands.init import init_master
    from toolkit.commands.profiles import resolve_profile
    from toolkit.commands.stamp import default_operator

    form = await request.form()
    camp = campaign(request)
    chosen = str(form.get("profile", ""))
    if not chosen:  # resolve_profile's own message names the CLI's options
        raise UsageProblem("请在“活动方案”中选择这次活动的方案，再点“新建台账”")
    profile = resolve_profile(chosen)
    master = camp.folder / f"{profile.ledger.sheet}.xlsx"
    if master.exists():
        raise UsageProblem(f"活动文件夹中已有 {master.name}：请在首页选择它")
    # the roster is only read by init: kept outside the campaign folder, and gone afterwards
    with tempfile.TemporaryDirectory(prefix="brandkit-", ignore_cleanup_errors=True) as scratch:
        roster = await inbox.saved_upload(request, form.get("roster"), Path(scratch) / "支部名单")
        await run_in_threadpool(init_master, master, profile.id, roster, default_operator())
    camp.remember(master=master.name)
    return _go_home(request)


def _go_home(request: Request) -> Response:
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": "/"})
    return RedirectResponse("/", status_code=303)


# -- files and jobs ---------------------------------------------------------------------------------------

def download(request: Request) -> Response:
    """A file inside the campaign folder (a report, the summary, a chart), as a download."""
    camp = campaign(request)
    path = confine(camp.folder, request.path_params["path"])
    if not path.is_file():
        raise UsageProblem(f"找不到文件：{camp.relative(path)}")
    return FileResponse(path, filename=path.name,
                        content_disposition_type="inline" if path.suffix.lower() == ".png" else "attachment")


def job(request: Request) -> HTMLResponse:
    found = request.app.state.jobs.get(request.path_params["job_id"])
    if found is None:
        return problem("这项操作已不在（服务曾重启）：请重新操作", 404)
    if not found.finished.is_set():
        return HTMLResponse(text("_job.html", job=found))
    if found.error is not None:
        return problem(found.error, 200)
    context = found.context(found.result)
    return HTMLResponse(text(found.template, csrf=request.app.state.session.csrf, now=dt.datetime.now(), **context))
