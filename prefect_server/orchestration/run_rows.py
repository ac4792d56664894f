"""New flow runs: the rows every way of creating one writes, and their batched insert.

``runs.create_flow_run`` (one run) and the scheduler (``scheduling``, thousands per pass)
both build runs with ``new_run`` and write them with ``insert_runs``, so a run has the
same columns, initial state and task runs whichever way it came. A new run is inserted
already in its Scheduled state (version 1) with that state's row: the first state of a
row being created is not a change ``flow_run_states`` has to guard.

Each un-mapped task of the flow gets a task run (map_index -1, Pending "Task run
created", version 1) in the same transaction: Server 1 did this with a trigger on every
flow_run insert, and the 1.4.1 flow-run process relies on finding them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import (
    CloudHook,
    Flow,
    FlowGroup,
    FlowRun,
    FlowRunState,
    Task,
    TaskRun,
    TaskRunState,
)
from prefect_server.observability import metrics
from prefect_server.orchestration import cloud_hooks
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.run_names import random_name
from prefect_server.orchestration.state_schema import ParsedState, parse_state
from prefect_server.orchestration.states import new_state_row, run_values
from prefect_server.orchestration.task_runs import (
    TASK_RUN_CREATED,
    created_state_row,
    new_task_run_row,
)

# Rows per INSERT: ~25 columns each stays far below PostgreSQL's 32,767 bind parameters.
INSERT_CHUNK = 500

# What a new run reads of its flow and flow group (``new_run``'s ``flow``).
FLOW_COLUMNS = (
    Flow.id,
    Flow.tenant_id,
    Flow.parameters,
    Flow.run_config,
    Flow.environment,
    FlowGroup.labels.label("group_labels"),
    FlowGroup.run_config.label("group_run_config"),
    FlowGroup.default_parameters,
)


@dataclass(frozen=True, slots=True)
class NewRun:
    """A flow_run row in its Scheduled state (version 1), and that state."""

    row: dict[str, Any]
    state: ParsedState


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


def new_run(
    flow: Any,
    *,
    start: dt.datetime,
    now: dt.datetime,
    parameters: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    name: str | None = None,
    labels: list[str] | None = None,
    run_config: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    auto_scheduled: bool = False,
) -> NewRun:
    """The run of ``flow`` (a row with ``FLOW_COLUMNS``) at ``start``; raises
    ValidationFailed when a required parameter has no value."""
    state = parse_state(
        {"type": "Scheduled", "message": "Flow run scheduled.", "start_time": start.isoformat()},
        now=now,
    )
    row = {
        "id": uuid.uuid4(),
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
        "name": name or random_name(),
        "idempotency_key": idempotency_key,
        "times_resurrected": 0,
        "created": now,
        **run_values(state, 1, now),
    }
    return NewRun(row, state)


def _table(model: Any) -> Table:
    # Core statements on the table skip the ORM's per-row bookkeeping in bulk inserts.
    return cast(Table, model.__table__)


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), INSERT_CHUNK):
        yield items[start : start + INSERT_CHUNK]


async def insert_runs(
    session: AsyncSession, runs: Sequence[NewRun], now: dt.datetime
) -> list[NewRun]:
    """Insert the runs whose (idempotency_key, flow_id) is new, with their state rows and
    task runs; the runs inserted.

    The unique constraint decides, never a read-then-insert, so two callers creating
    the same keyed run at once create it once.
    """
    if not runs:
        return []
    # Core executemany: SQLAlchemy sends "insertmanyvalues" batches from one cached compiled
    # statement, where a multi-row .values() would be compiled anew for every page.
    stmt = (
        dialect_of(session)
        .insert(_table(FlowRun))
        .on_conflict_do_nothing(index_elements=["idempotency_key", "flow_id"])
        .returning(_table(FlowRun).c.id)
    )
    result = await session.execute(stmt, [run.row for run in runs])
    new_ids = set(result.scalars())
    created = [run for run in runs if run.row["id"] in new_ids]
    if not created:
        return created
    states = []
    for run in created:
        state_row = new_state_row(run.state, 1, now, run.row["tenant_id"])
        state_row["flow_run_id"] = run.row["id"]
        states.append(state_row)
    await session.execute(insert(_table(FlowRunState)), states)
    await insert_task_runs(session, [run.row for run in created], now)
    metrics.STATE_TRANSITIONS.labels("flow", "Scheduled").inc(len(created))
    await _notify_hooks(session, created)
    return created


async def insert_task_runs(
    session: AsyncSession, runs: Sequence[dict[str, Any]], now: dt.datetime
) -> None:
    """Each run's un-mapped task runs: ``runs`` give ``id``, ``flow_id`` and ``tenant_id``."""
    tasks: dict[uuid.UUID, list[Any]] = {}
    flow_ids = {run["flow_id"] for run in runs}
    for task in await session.execute(
        select(Task.id, Task.flow_id, Task.cache_key).where(Task.flow_id.in_(flow_ids))
    ):
        tasks.setdefault(task.flow_id, []).append(task)
    task_runs: list[dict[str, Any]] = []
    task_states: list[dict[str, Any]] = []
    for run in runs:
        for task in tasks.get(run["flow_id"], ()):
            task_run_id = uuid.uuid4()
            task_runs.append(
                new_task_run_row(
                    task_run_id,
                    run["id"],
                    task.id,
                    -1,
                    task.cache_key,
                    run["tenant_id"],
                    now,
                    TASK_RUN_CREATED,
                )
            )
            task_states.append(
                created_state_row(task_run_id, run["tenant_id"], now, TASK_RUN_CREATED)
            )
    if task_runs:
        await session.execute(insert(_table(TaskRun)), task_runs)
        await session.execute(insert(_table(TaskRunState)), task_states)


async def _notify_hooks(session: AsyncSession, created: Sequence[NewRun]) -> None:
    """Cloud hooks see the Scheduled state of every new run, as after set_flow_run_state."""
    active = select(CloudHook.id).where(CloudHook.active.is_(True)).limit(1)
    if await session.scalar(active) is None:
        return
    for run in created:
        await cloud_hooks.flow_run_state_changed(
            session,
            flow_run_id=run.row["id"],
            flow_id=run.row["flow_id"],
            tenant_id=run.row["tenant_id"],
            state=run.state,
            version=1,
        )
