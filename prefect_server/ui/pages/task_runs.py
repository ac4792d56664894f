"""The task-run page: its state and history, its logs, and a mapped parent's children."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.orchestration.concurrency_usage import holds_on_run
from prefect_server.orchestration.state_types import FINISHED_STATES
from prefect_server.ui.pages.common import Paging, database, id_from_url, require
from prefect_server.ui.queries import logs, states, task_runs
from prefect_server.ui.queries.logs import LogFilter
from prefect_server.ui.templating import fragment_of, render, wants

router = APIRouter()


@router.get("/task-runs/{task_run_id}")
async def task_run_page(request: Request, task_run_id: str) -> Response:
    key = id_from_url(task_run_id, "task run")
    fragment = fragment_of(request)
    db = database(request)
    prefix = request.scope.get("root_path", "") + "/ui"
    log_filter = LogFilter.of(request.query_params)
    paging = Paging.of(request, size=50)
    async with db.session() as session:
        run = require(await task_runs.task_run(session, key), "task run", key)
        # A task run can change while its flow run has not finished (retries, restarts).
        live = run.flow_run_state not in FINISHED_STATES
        context: dict[str, Any] = {
            "run": run,
            "live": live,
            "paging": paging,
            "log_filter": log_filter,
            "log_levels": logs.LEVELS,
            "logs_url": f"{prefix}/flow-runs/{run.flow_run_id}/logs.txt",
        }
        if wants(fragment, "live_state"):
            context["holds"] = await holds_on_run(session, "task", key)
        if fragment is None:
            context["history"] = await states.task_run_history(session, key)
        if wants(fragment, "live_children") and run.map_index == -1:
            counts = await task_runs.children_by_task(session, run.flow_run_id, run.task_id)
            context["children"] = counts.get(run.task_id)
            context["child_rows"] = (
                await task_runs.children_page(session, run.flow_run_id, run.task_id, paging)
                if context["children"]
                else []
            )
        else:
            context.update(children=None, child_rows=[])
    if wants(fragment, "live_logs"):
        context["logs"], context["older_logs"] = await logs.recent(
            db, run.flow_run_id, key, log_filter
        )
    return render(request, "task_run.html", context)
