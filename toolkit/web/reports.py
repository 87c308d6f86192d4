"""汇总: `brandkit summary 台账 -o 汇总.xlsx --png 图表/`, then the workbook and the charts to download."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from toolkit.web.render import page, text


def outputs(camp: Any) -> dict[str, Any]:
    """What the folder holds now: the summary workbook and the chart PNGs (relative paths)."""
    from toolkit.files.office_summary import SUMMARY_NAME

    overview = camp.reports / SUMMARY_NAME
    charts = sorted(camp.charts.glob("*.png")) if camp.charts.is_dir() else []
    return {"summary": camp.relative(camp.summary) if camp.summary.is_file() else None,
            "charts": [camp.relative(p) for p in charts],
            "reports_overview": camp.relative(overview) if overview.is_file() else None}


def summary_page(request: Request) -> HTMLResponse:
    return page(request, "summary.html", **outputs(request.app.state.campaign))


async def make(request: Request) -> HTMLResponse:
    from toolkit.commands.summary import summary

    camp = request.app.state.campaign
    master = camp.require_master()
    result = await run_in_threadpool(summary, master, camp.summary, camp.charts)
    return HTMLResponse(text("_summary_files.html", made=True, font=result.font, **outputs(camp)))


ROUTES = [Route("/summary", summary_page), Route("/summary", make, methods=["POST"])]
