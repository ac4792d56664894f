"""The dashboard: what runs, what is late and why, what failed, whether agents are alive."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.ui import charts
from prefect_server.ui.formatting import now
from prefect_server.ui.pages.common import database
from prefect_server.ui.queries import agents, dashboard, runs
from prefect_server.ui.queries.dashboard import Scope
from prefect_server.ui.templating import fragment_of, render, wants

router = APIRouter()
CHART_WIDTH, CHART_HEIGHT = 720.0, 140.0


def scope_of(request: Request) -> Scope:
    from prefect_server.utilities.ids import parse_id

    window = request.query_params.get("window", "24h")
    return Scope(
        project_id=parse_id(request.query_params.get("project")),
        window=window if window in dashboard.WINDOWS else "24h",
        now=now(),
    )


@router.get("/")
async def dashboard_page(request: Request) -> Response:
    scope = scope_of(request)
    fragment = fragment_of(request)
    context: dict[str, object] = {"scope": scope, "windows": list(dashboard.WINDOWS)}
    async with database(request).session() as session:
        if fragment is None:
            context["projects"] = await runs.projects(session)
        if wants(fragment, "live_counts"):
            context["counts"] = await dashboard.state_counts(session, scope)
            buckets = await dashboard.history(session, scope)
            bars, tallest = charts.stacked_bars(
                [(b.start, b.end, b.counts) for b in buckets],
                width=CHART_WIDTH,
                height=CHART_HEIGHT,
            )
            context.update(bars=bars, tallest=tallest, chart=(CHART_WIDTH, CHART_HEIGHT))
        if wants(fragment, "live_active"):
            context["active"], context["active_total"] = await dashboard.in_progress(session, scope)
        if wants(fragment, "live_late", "live_agents"):
            context["agents"] = await agents.list_agents(session)
        if wants(fragment, "live_late"):
            late, late_total = await dashboard.late(session, scope)
            context["late"] = [
                (run, agents.late_reason(run.labels, run.tenant_id, context["agents"], scope.now))  # type: ignore[arg-type]
                for run in late
            ]
            context["late_total"] = late_total
        if wants(fragment, "live_upcoming"):
            context["upcoming"] = await dashboard.upcoming(session, scope)
        if wants(fragment, "live_failures"):
            context["failures"] = await dashboard.failures(session, scope)
    return render(request, "dashboard.html", context)
