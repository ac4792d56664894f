"""Task-run state writes: the one door for every task-run state change.

The hot path of every task run (two writes each). See ``states`` for the rules they
share with flow runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import FlowRun, Task, TaskRun, TaskRunState
from prefect_server.observability import metrics
from prefect_server.orchestration import concurrency
from prefect_server.orchestration.errors import StateUpdateFailed
from prefect_server.orchestration.state_schema import ParsedState
from prefect_server.orchestration.state_types import RUNNING_STATES
from prefect_server.orchestration.states import (
    StateWrite,
    as_parsed,
    begin_write,
    lock_batch,
    new_state_row,
    queued_state,
    run_values,
    time_changes,
    utcnow,
    write_parameters,
    write_statements,
)


async def set_task_run_state(
    session: dialect.Executor,
    task_run_id: uuid.UUID | str | None,
    state: dict[str, Any] | ParsedState,
) -> StateWrite:
    """Write ``state`` as the task run's newest state (Server 1's ``api.states.set_task_run_state``)."""
    run_id, parsed, now, failed = begin_write("task", task_run_id, state)
    lock, writes = _task_run_statements(session)
    conn = await dialect.connection(session)
    row = (await conn.execute(lock, {"run_id": run_id})).one_or_none()
    if row is None:
        raise failed
    parsed, hold, now = await _admit(conn, run_id, parsed, row, now)
    params, write = _task_run_write(task_run_id, run_id, parsed, row, now, hold)
    for stmt in writes:
        await conn.execute(stmt, params)
    return write


async def set_task_run_states(
    session: AsyncSession, changes: Sequence[tuple[uuid.UUID, dict[str, Any] | ParsedState]]
) -> list[StateWrite]:
    """``set_task_run_state`` for many task runs at once, in three round trips.

    The same rules (``_task_run_write``) for each change; the runs are locked together,
    in id order. All or nothing: a refused change raises, and the caller's transaction
    must then be rolled back. Used by the services, which change many runs per pass.
    """
    if not changes:
        return []
    _, writes = _task_run_statements(session)
    now, conn, rows = await lock_batch(session, "task", changes, _task_runs_lock(session))
    batch = []
    results = []
    for run_id, state in changes:
        row = rows.get(run_id)
        if row is None:
            raise StateUpdateFailed(f"State update failed for task run ID {run_id}")
        parsed, hold, now = await _admit(conn, run_id, as_parsed(state, now), row, now)
        params, write = _task_run_write(run_id, run_id, parsed, row, now, hold)
        batch.append(params)
        results.append(write)
    for stmt in writes:
        await conn.execute(stmt, batch)
    return results


async def _admit(
    conn: Any, run_id: uuid.UUID, parsed: ParsedState, row: Any, now: dt.datetime
) -> tuple[ParsedState, concurrency.Hold | None, dt.datetime]:
    """A Running write of a task with limited tags must find a free slot of each limit on
    them; without one it becomes a Queued write. Other tasks do nothing more here.

    Returns the state to write, the limit that refused it, and the write's time: taken
    again after the slots were counted, so a run's Running row is never older than the
    row that freed its slot (the history then shows the limit as it was enforced).
    """
    if (
        not row.tag_limited
        or parsed.type != "Running"
        or row.state in concurrency.TASK_HOLDING_STATES
        or row.flow_run_state != "Running"  # refused below, with its own error
    ):
        return parsed, None, now
    hold = await concurrency.task_hold(conn, row.tenant_id, row.task_tags, run_id)
    now = utcnow()
    if hold is None:
        return parsed, None, now
    return queued_state(row.serialized_state, hold.sentence(), now), hold, now


def _task_run_write(
    given_id: Any,
    run_id: uuid.UUID,
    parsed: ParsedState,
    row: Any,
    now: dt.datetime,
    hold: concurrency.Hold | None = None,
) -> tuple[dict[str, Any], StateWrite]:
    """The bound parameters of one task-run state write: every rule of the write is here.

    ``row`` is the locked task run as read by ``_task_run_statements``' lock.
    """
    if parsed.type in RUNNING_STATES and row.flow_run_state != "Running":
        raise StateUpdateFailed(
            f"State update failed for task run ID {given_id}: provided a running state "
            f"but associated flow run {row.flow_run_id} is not in a running state."
        )
    previous_inputs = (row.serialized_state or {}).get("cached_inputs")
    if previous_inputs and not parsed.serialized.get("cached_inputs"):
        parsed = ParsedState(
            parsed.type,
            parsed.message,
            parsed.start_time,
            {**parsed.serialized, "cached_inputs": previous_inputs},
        )

    version = (row.version or 0) + 1
    values = run_values(parsed, version, now)
    values["start_time"] = row.start_time
    values["end_time"] = row.end_time
    values["heartbeat"] = now if parsed.type in RUNNING_STATES else row.heartbeat
    values.update(time_changes(parsed.type, now, row.start_time, row.end_time))
    state_row = new_state_row(parsed, version, now, row.tenant_id)
    state_row["task_run_id"] = run_id
    metrics.state_transition("task", parsed.type, run_id)
    write = StateWrite(run_id, state_row["id"], version, parsed.type)
    if hold is not None:
        write = StateWrite(run_id, state_row["id"], version, parsed.type, "QUEUED", hold.sentence())
    return write_parameters(run_id, values, state_row), write


def _locked_columns(sql: dialect.Dialect) -> tuple[Any, ...]:
    """What a write reads of the task run it locks, its flow run's state, its task's tags
    and whether one has a limit (none locked): one round trip."""
    flow_state = select(FlowRun.state).where(FlowRun.id == TaskRun.flow_run_id)
    tags = select(Task.tags).where(Task.id == TaskRun.task_id)
    return (
        TaskRun.version,
        TaskRun.state,
        TaskRun.serialized_state,
        TaskRun.start_time,
        TaskRun.end_time,
        TaskRun.heartbeat,
        TaskRun.tenant_id,
        TaskRun.flow_run_id,
        flow_state.scalar_subquery().label("flow_run_state"),
        tags.scalar_subquery().label("task_tags"),
        concurrency.has_limited_tag(sql).label("tag_limited"),
    )


def _task_run_statements(session: dialect.Executor) -> tuple[Any, list[Any]]:
    """The task-run state write's statements, built once per database.

    The hot path of every task run: prebuilt with bound parameters, SQLAlchemy only
    looks them up in its compiled cache instead of building and keying new ones.
    """
    return dialect_of(session).statements(_build_task_run_statements)


def _build_task_run_statements(sql: dialect.Dialect) -> tuple[Any, list[Any]]:
    lock = select(*_locked_columns(sql)).where(TaskRun.id == bindparam("run_id"))
    return sql.for_update(lock), write_statements(sql, TaskRunState, TaskRun)


def _task_runs_lock(session: AsyncSession) -> Any:
    """``_task_run_statements``' lock for a list of runs (``run_ids``), taken in id order."""
    return dialect_of(session).statements(_build_task_runs_lock)


def _build_task_runs_lock(sql: dialect.Dialect) -> Any:
    lock = (
        select(TaskRun.id, *_locked_columns(sql))
        .where(TaskRun.id.in_(bindparam("run_ids", expanding=True)))
        .order_by(TaskRun.id)
    )
    return sql.for_update(lock)
