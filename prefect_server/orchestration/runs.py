"""Flow runs: creation, names, labels, heartbeats, deletion (spec §3.5).

A new flow run gets one task run per task of its flow (map_index -1, Pending
"Task run created", version 1) in the same transaction — Server 1 did this with a
trigger, and the flow-run process relies on finding them (client.md §7.1).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Flow, FlowGroup, FlowRun, Task, TaskRun, TaskRunState
from prefect_server.database.types import parse_timestamp
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.orchestration.run_names import random_name
from prefect_server.orchestration.serialization import id_or_raise as _uuid
from prefect_server.orchestration.states import utcnow
from prefect_server.orchestration.task_runs import (  # noqa: F401 (scheduling uses these)
    TASK_RUN_CREATED,
    created_state_row,
    new_task_run_row,
)


def default_labels(labels: list[str] | None, run_config: Any, flow: Any) -> list[str]:
    """The first of: explicit labels, the given run_config's, the flow group's, the flow's."""
    if labels is not None:
        return sorted(labels)
    if run_config is not None:
        return sorted(run_config.get("labels") or [])
    if flow.group_labels is not None:
        return sorted(flow.group_labels)
    for config in (flow.group_run_config, flow.run_config, flow.environment):
        if config is not None:
            return sorted(config.get("labels") or [])
    return []


def run_parameters(flow: Any, given: dict[str, Any] | None) -> dict[str, Any]:
    declared = flow.parameters if isinstance(flow.parameters, list) else []
    # Server 1 kept only truthy defaults (`if param["default"]`); so do we.
    values = {p["name"]: p["default"] for p in declared if p.get("default")}
    values.update(flow.default_parameters or {})
    values.update(given or {})
    missing = {p["name"] for p in declared if p.get("required")} - set(values)
    if missing:
        raise ValidationFailed(f"Required parameters were not supplied: {missing}")
    return values


async def _find_flow(session: AsyncSession, flow_id: Any, version_group_id: str | None) -> Any:
    stmt = select(
        Flow.id,
        Flow.tenant_id,
        Flow.archived,
        Flow.parameters,
        Flow.run_config,
        Flow.environment,
        FlowGroup.labels.label("group_labels"),
        FlowGroup.run_config.label("group_run_config"),
        FlowGroup.default_parameters,
    ).join(FlowGroup, FlowGroup.id == Flow.flow_group_id)
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
    flow = await _find_flow(session, flow_id, version_group_id)
    start = parse_timestamp(scheduled_start_time) if scheduled_start_time else utcnow()
    now = utcnow()
    run_id = uuid.uuid4()
    values = {
        "id": run_id,
        "tenant_id": flow.tenant_id,
        "flow_id": flow.id,
        "labels": default_labels(labels, run_config, flow),
        "parameters": run_parameters(flow, parameters),
        "run_config": run_config
        if run_config is not None
        else (flow.group_run_config if flow.group_run_config is not None else flow.run_config),
        "context": context if context is not None else {},
        "scheduled_start_time": start,
        "auto_scheduled": auto_scheduled,
        "name": flow_run_name or random_name(),
        "idempotency_key": idempotency_key,
        "version": 0,
        "times_resurrected": 0,
        "created": now,
        "updated": now,
    }
    if idempotency_key is None:
        await session.execute(insert(FlowRun).values(values))
    else:
        # The unique (idempotency_key, flow_id) constraint decides, never a read-then-insert.
        stmt = (
            dialect_of(session).insert(FlowRun)
            .values(values)
            .on_conflict_do_nothing(index_elements=["idempotency_key", "flow_id"])
            .returning(FlowRun.id)
        )
        if (await session.execute(stmt)).scalar() is None:
            existing = await session.scalar(
                select(FlowRun.id).where(
                    FlowRun.flow_id == flow.id, FlowRun.idempotency_key == idempotency_key
                )
            )
            assert existing is not None
            return existing
    await _create_task_runs(session, run_id, flow.id, flow.tenant_id, now)
    await set_flow_run_state(
        session,
        run_id,
        {"type": "Scheduled", "message": "Flow run scheduled.", "start_time": start.isoformat()},
    )
    return run_id


async def create_initial_task_runs(session: AsyncSession, flow_run_id: uuid.UUID) -> None:
    """Give a flow run inserted by other means (a Hasura-style ``insert_flow_run``) the
    un-mapped task runs every flow run starts with: Server 1 did this in a trigger on
    every flow_run insert, and the 1.4.1 flow-run process depends on them."""
    run = (
        await session.execute(
            select(FlowRun.flow_id, FlowRun.tenant_id).where(FlowRun.id == flow_run_id)
        )
    ).first()
    if run is None:
        return
    has_task_runs = await session.scalar(
        select(TaskRun.id).where(TaskRun.flow_run_id == flow_run_id).limit(1)
    )
    if has_task_runs is None:
        now = dt.datetime.now(dt.timezone.utc)
        await _create_task_runs(session, flow_run_id, run.flow_id, run.tenant_id, now)


async def _create_task_runs(
    session: AsyncSession,
    flow_run_id: uuid.UUID,
    flow_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    now: dt.datetime,
) -> None:
    tasks = (
        await session.execute(select(Task.id, Task.cache_key).where(Task.flow_id == flow_id))
    ).all()
    if not tasks:
        return
    runs = []
    states = []
    for task in tasks:
        task_run_id = uuid.uuid4()
        runs.append(
            new_task_run_row(
                task_run_id,
                flow_run_id,
                task.id,
                -1,
                task.cache_key,
                tenant_id,
                now,
                TASK_RUN_CREATED,
            )
        )
        states.append(created_state_row(task_run_id, tenant_id, now, TASK_RUN_CREATED))
    await session.execute(insert(TaskRun), runs)
    await session.execute(insert(TaskRunState), states)


async def _update(session: AsyncSession, model: Any, row_id: Any, values: dict[str, Any]) -> bool:
    try:
        key = _uuid(row_id, ValueError())
    except ValueError:
        return False
    result = await session.execute(update(model).where(model.id == key).values(values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    result = await session.execute(delete(FlowRun).where(FlowRun.id == key))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def update_flow_run_heartbeat(session: AsyncSession, flow_run_id: Any) -> None:
    if not await _update(session, FlowRun, flow_run_id, {"heartbeat": utcnow()}):
        raise NotFound("Invalid flow run ID")
