"""The run list, the flow-run page, its log download and its actions (cancel, restart,
set state)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from prefect_server.orchestration import restarts
from prefect_server.orchestration.concurrency_usage import holds_on_run
from prefect_server.orchestration.errors import APIError, NotFound
from prefect_server.orchestration.flow_run_states import cancel_flow_run, set_flow_run_state
from prefect_server.orchestration.state_types import FINISHED_STATES, STATE_TYPES
from prefect_server.ui import security, timeline
from prefect_server.ui.formatting import now
from prefect_server.ui.pages.common import (
    PageNotFound,
    Paging,
    database,
    id_from_url,
    nul_refusal,
    require,
)
from prefect_server.ui.queries import artifacts, flow_runs, logs, runs, states, task_runs
from prefect_server.ui.queries.flow_runs import RunFilters
from prefect_server.ui.queries.logs import LogFilter
from prefect_server.ui.queries.task_runs import TaskRow
from prefect_server.ui.templating import fragment_of, render, wants

router = APIRouter()
SETTABLE_STATES = ("Scheduled", "Running", "Success", "Failed", "Cancelled", "Skipped", "Pending")
UI_MESSAGE = "from the web UI"


def page_url(request: Request, run_id: uuid.UUID) -> str:
    return f"{request.scope.get('root_path', '')}/ui/flow-runs/{run_id}"


@router.get("/flow-runs")
async def run_list(request: Request) -> Response:
    filters = RunFilters.of(request.query_params)
    paging = Paging.of(request)
    fragment = fragment_of(request)
    context: dict[str, Any] = {
        "filters": filters,
        "paging": paging,
        "states": sorted(STATE_TYPES),
        "state_groups": flow_runs.STATE_GROUPS,
    }
    async with database(request).session() as session:
        if fragment is None:
            context["projects"] = await runs.projects(session)
            context["flows"] = await flow_runs.flow_names(session)
        if wants(fragment, "live_rows"):
            context["rows"], context["total"] = await flow_runs.list_runs(session, filters, paging)
    return render(request, "flow_runs.html", context)


@router.get("/flow-runs/{run_id}")
async def run_page(request: Request, run_id: str) -> Response:
    return await show(request, id_from_url(run_id, "flow run"))


def gantt_spans(prefix: str, rows: list[TaskRow], finished: bool) -> list[timeline.Span]:
    """A bar per task run that started; a mapped parent spans its children."""
    spans = []
    for row in rows:
        start, end = row.start_time, row.end_time
        if row.children and row.children.start:
            start = min(filter(None, (start, row.children.start)))
            if row.children.unfinished:
                end = None
            elif row.children.end:
                end = max(filter(None, (end, row.children.end)))
        if start is None:
            continue
        if end is None and (finished or row.state in FINISHED_STATES) and not row.children:
            end = start  # a finished run without an end time: a sliver, not a bar to now
        spans.append(
            timeline.Span(row.label, row.state, start, end, f"{prefix}/task-runs/{row.id}")
        )
    return spans


async def show(
    request: Request,
    run_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    fragment = fragment_of(request)
    db = database(request)
    prefix = request.scope.get("root_path", "") + "/ui"
    log_filter = LogFilter.of(request.query_params)
    async with db.session() as session:
        run = require(await flow_runs.flow_run(session, run_id), "flow run", run_id)
        finished = run.state in FINISHED_STATES
        context: dict[str, Any] = {
            "run": run,
            "live": not finished,
            "errors": errors or {},
            "form": form or {},
            "settable": SETTABLE_STATES,
            "log_filter": log_filter,
            "log_levels": logs.LEVELS,
            "logs_url": f"{prefix}/flow-runs/{run_id}/logs.txt",
        }
        if wants(fragment, "live_state"):
            context["holds"] = await holds_on_run(session, "flow", run_id)
        if fragment is None:
            context["history"] = await states.flow_run_history(session, run_id)
            size = artifacts.PAGE_SIZE
            artifacts_paging = Paging.of(request, size=size, max_size=size, param="artifacts_page")
            context["artifacts"], context["artifacts_total"] = await artifacts.for_flow_run(
                session, run_id, artifacts_paging
            )
            context["artifacts_paging"] = artifacts_paging
        if wants(fragment, "live_tasks"):
            size = task_runs.TASKS_LIMIT
            tasks_paging = Paging.of(request, size=size, max_size=size, param="tasks_page")
            rows, total = await task_runs.task_rows(session, run_id, tasks_paging)
            context.update(tasks=rows, tasks_total=total, tasks_paging=tasks_paging)
            reference = (run.end_time or now()) if finished else now()
            context["gantt"] = timeline.gantt(gantt_spans(prefix, rows, finished), reference)
    if wants(fragment, "live_logs"):
        context["logs"], context["older_logs"] = await logs.recent(db, run_id, None, log_filter)
    return render(request, "flow_run.html", context, status=status)


@router.get("/flow-runs/{run_id}/logs.txt")
async def logs_txt(request: Request, run_id: str) -> Response:
    key = id_from_url(run_id, "flow run")
    db = database(request)
    raw_task_run = request.query_params.get("task_run")
    task_run_id = id_from_url(raw_task_run, "task run") if raw_task_run else None
    async with db.session() as session:
        exists, _ = await flow_runs.state_of(session, key)
    if not exists:
        raise PageNotFound(f"There is no flow run with the id {key}.")
    filters = LogFilter.of(request.query_params)

    async def body() -> AsyncIterator[str]:
        async for batch in logs.all_lines(db, key, task_run_id, filters):
            yield "".join(line.as_text() for line in batch)

    name = f"flow-run-{key}" + (f"-task-run-{task_run_id}" if task_run_id else "") + "-logs.txt"
    return StreamingResponse(
        body(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/flow-runs/{run_id}/cancel")
async def cancel(request: Request, run_id: str) -> Response:
    key = id_from_url(run_id, "flow run")
    async with database(request).transaction() as session:
        exists, before = await flow_runs.state_of(session, key)
        if not exists:
            raise PageNotFound(f"There is no flow run with the id {key}.")
        if before in FINISHED_STATES:
            message = f"This run already finished ({before}); nothing to cancel."
        else:
            after = await cancel_flow_run(session, key, f"Cancelled {UI_MESSAGE}")
            message = (
                "Cancelling: the flow-run process will stop"
                if after == "Cancelling"
                else "Cancelled"
            )
    return security.redirect(request, page_url(request, key), message)


@router.post("/flow-runs/{run_id}/restart")
async def restart(request: Request, run_id: str) -> Response:
    key = id_from_url(run_id, "flow run")
    try:
        async with database(request).transaction() as session:
            done = await restarts.restart_flow_run(session, key, f"Restarted {UI_MESSAGE}")
    except restarts.RestartRefused as refused:
        return security.redirect(request, page_url(request, key), str(refused))
    except NotFound as missing:
        raise PageNotFound(f"There is no flow run with the id {key}.") from missing
    return security.redirect(
        request,
        page_url(request, key),
        f"Restarted: {done.task_runs_reset} task run(s) back to Pending; "
        "the run is Scheduled for an agent to pick up.",
    )


@router.post("/flow-runs/{run_id}/set-state")
async def set_state(request: Request, run_id: str) -> Response:
    key = id_from_url(run_id, "flow run")
    form = await security.read_form(request)
    state = form.get("state", "")
    message = form.get("message", "").strip()[:1000] or None
    if state not in SETTABLE_STATES:
        error = f"{state!r} is not a state this form sets; choose one of the list."
        return await show(request, key, errors={"state": error}, form=form, status=400)
    try:
        async with database(request).transaction() as session:
            exists, _ = await flow_runs.state_of(session, key)
            if not exists:
                raise PageNotFound(f"There is no flow run with the id {key}.")
            await set_flow_run_state(session, key, {"type": state, "message": message})
    except APIError as refused:
        return await show(request, key, errors={"state": str(refused)}, form=form, status=400)
    except DBAPIError as refused:
        error = nul_refusal(refused)
        return await show(request, key, errors={"state": error}, form=form, status=400)
    return security.redirect(request, page_url(request, key), f"State set to {state}.")
