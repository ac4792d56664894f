"""Flow runs: creation, names, labels, heartbeats, deletion (Server 1's
``src/prefect_server/api/runs.py``).

The rows a new run writes (its columns, Scheduled state and task runs) are built and
inserted by ``run_rows``, which the scheduler uses too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowGroup, FlowRun, TaskRun
from prefect_server.database.results import changes_rows
from prefect_server.database.types import parse_timestamp
from prefect_server.observability import context as log_context
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.orchestration.run_rows import (
    FLOW_COLUMNS,
    insert_runs,
    insert_task_runs,
    new_run,
)
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise as _uuid


async def _find_flow(session: AsyncSession, flow_id: Any, version_group_id: str | None) -> Any:
    stmt = select(*FLOW_COLUMNS, Flow.archived).join(FlowGroup, FlowGroup.id == Flow.flow_group_id)
    if flow_id:
        stmt = stmt.where(Flow.id == _uuid(flow_id, NotFound(f"Flow {flow_id} not found")))
        flow = (await session.execute(stmt)).one_or_none()
        if flow is None:
            raise NotFound(f"Flow {flow_id} not found")
    else:
        stmt = stmt.where(Flow.version_group_id == version_group_id, Flow.archived.is_(False))
        flow = (await session.execute(stmt.order_by(Flow.version.desc()).limit(1))).one_or_none()
        if flow is None:
            raise NotFound(f"Version group {version_group_id} has no unarchived flows.")
    if flow.archived:
        raise ValidationFailed(f"Flow {flow.id} is archived.")
    return flow


async def create_flow_run(
    session: AsyncSession,
    *,
    flow_id: uuid.UUID | str | None = None,
    version_group_id: str | None = None,
    parameters: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    scheduled_start_time: dt.datetime | str | None = None,
    flow_run_name: str | None = None,
    labels: list[str] | None = None,
    run_config: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    auto_scheduled: bool = False,
) -> uuid.UUID:
    """Create a Scheduled flow run with its task runs; an existing (flow, key) returns its id."""
    if not flow_id and not version_group_id:
        raise ValidationFailed("A flow id or version group ID must be provided.")
    for name, value in (("parameters", parameters), ("run_config", run_config)):
        if value is not None and not isinstance(value, dict):
            raise ValidationFailed(f"Invalid {name}: expected an object, got {value!r:.100}.")
    flow = await _find_flow(session, flow_id, version_group_id)
    now = utcnow()
    start = parse_timestamp(scheduled_start_time) if scheduled_start_time else now
    run = new_run(
        flow,
        start=start,
        now=now,
        parameters=parameters,
        context=context,
        name=flow_run_name,
        labels=labels,
        run_config=run_config,
        idempotency_key=idempotency_key,
        auto_scheduled=auto_scheduled,
    )
    if not await insert_runs(session, [run], now):
        existing = await session.scalar(
            select(FlowRun.id).where(
                FlowRun.flow_id == flow.id, FlowRun.idempotency_key == idempotency_key
            )
        )
        assert existing is not None
        return existing
    log_context.bind_run("flow", run.row["id"])
    run_id: uuid.UUID = run.row["id"]
    return run_id


async def create_initial_task_runs(session: AsyncSession, flow_run_id: uuid.UUID) -> None:
    """Give a flow run inserted by other means (a Hasura-style ``insert_flow_run``) the
    un-mapped task runs every flow run starts with: Server 1 did this in a trigger on
    every flow_run insert, and the 1.4.1 flow-run process depends on them."""
    run = (
        await session.execute(
            select(FlowRun.id, FlowRun.flow_id, FlowRun.tenant_id).where(FlowRun.id == flow_run_id)
        )
    ).first()
    if run is None:
        return
    has_task_runs = await session.scalar(
        select(TaskRun.id).where(TaskRun.flow_run_id == flow_run_id).limit(1)
    )
    if has_task_runs is None:
        await insert_task_runs(session, [run._asdict()], utcnow())


async def _update(session: AsyncSession, model: Any, row_id: Any, values: dict[str, Any]) -> bool:
    try:
        key = _uuid(row_id, ValueError())
    except ValueError:
        return False
    return await changes_rows(session, update(model).where(model.id == key).values(values))


async def set_flow_run_name(session: AsyncSession, flow_run_id: Any, name: str | None) -> bool:
    if not flow_run_id:
        raise ValidationFailed("Invalid flow run ID")
    if not name:
        raise ValidationFailed("Invalid name")
    return await _update(session, FlowRun, flow_run_id, {"name": name})


async def set_flow_run_labels(
    session: AsyncSession, flow_run_id: Any, labels: list[str] | None
) -> bool:
    if not flow_run_id:
        raise ValidationFailed("Invalid flow run ID")
    if labels is None:
        raise ValidationFailed("Invalid labels")
    return await _update(session, FlowRun, flow_run_id, {"labels": sorted(labels)})


async def delete_flow_run(session: AsyncSession, flow_run_id: Any) -> bool:
    """Delete a flow run; its task runs, states and logs go with it (ON DELETE CASCADE)."""
    if not flow_run_id:
        raise ValidationFailed("Invalid flow run ID.")
    try:
        key = _uuid(flow_run_id, ValueError())
    except ValueError:
        return False
    return await changes_rows(session, delete(FlowRun).where(FlowRun.id == key))


async def update_flow_run_heartbeat(session: AsyncSession, flow_run_id: Any) -> None:
    if not await _update(session, FlowRun, flow_run_id, {"heartbeat": utcnow()}):
        raise NotFound("Invalid flow run ID")
