"""Jinja2 templates (autoescaped: every name and value from a form or a mail is text, never markup) and
the small helpers every handler uses to answer: a whole page, a fragment for htmx, a problem."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from toolkit.core.vocabulary import KIND_ZH, OUTCOME_ZH, SEVERITY_ZH, VERDICT_ZH, LogAction

TEMPLATES = Path(__file__).with_name("templates")
NAV = [("/", "首页"), ("/intake", "收件"), ("/check", "校验"), ("/merge", "合并"), ("/stamp", LogAction.STAMPED),
       ("/summary", "汇总")]


@cache
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(NAV=NAV, VERDICT_ZH=VERDICT_ZH, OUTCOME_ZH=OUTCOME_ZH, KIND_ZH=KIND_ZH,
                       SEVERITY_ZH=SEVERITY_ZH)
    env.filters["short"] = _short
    env.filters["when"] = _when
    return env


def text(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A template with what every page needs: the campaign, the CSRF token, which tab is open."""
    state = request.app.state
    master = state.campaign.master()
    body = text(name, csrf=state.session.csrf, path=request.url.path, folder=state.campaign.folder,
                master=master, **context)
    return HTMLResponse(body, status_code=status_code)


def problem(message: str, status_code: int = 400) -> HTMLResponse:
    """A refusal or failure said in place (htmx swaps it in: see base.html's htmx-config)."""
    return HTMLResponse(text("_problem.html", message=message), status_code=status_code)


def refusal(request: Request, message: str, status_code: int) -> HTMLResponse:
    """A problem where the officer is: in place for htmx, else (a page the browser opened: a typed address,
    a link) the whole page, with the navigation, titled as the tab asked for."""
    if request.method in ("GET", "HEAD") and not request.headers.get("hx-request"):
        return page(request, "problem.html", status_code, message=message,
                    title=dict(NAV).get(request.url.path, "无法打开"))
    return problem(message, status_code)


def _short(value: Any, limit: int = 60) -> str:
    s = "" if value is None else str(value).replace("\n", " ")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)
