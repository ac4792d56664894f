"""Flow-run state writes: the one door for every flow-run state change, and cancellation.

See ``states`` for the rules they share with task runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Agent, CloudHook, FlowRun, FlowRunState, TaskRun
from prefect_server.observability import metrics
from prefect_server.orchestration import cloud_hooks, concurrency
from prefect_server.orchestration.errors import NotFound, StateUpdateFailed, ValidationFailed
from prefect_server.orchestration.state_schema import ParsedState
from prefect_server.orchestration.state_types import FINISHED_STATES, RUNNING_STATES
from prefect_server.orchestration.states import (
    HEARTBEAT_STATES,
    SUBMITTED_GUARD,
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
from prefect_server.orchestration.task_run_states import set_task_run_state, set_task_run_states
from prefect_server.utilities.ids import id_or_raise


async def set_flow_run_state(
    session: AsyncSession,
    flow_run_id: uuid.UUID | str | None,
    state: dict[str, Any] | ParsedState,
    *,
    agent_id: uuid.UUID | str | None = None,
) -> StateWrite:
    """Write ``state`` as the flow run's newest state (Server 1's ``api.states.set_flow_run_state``)."""
    run_id, parsed, now, failed = begin_write("flow", flow_run_id, state)
    stmt = select(
        FlowRun.version,
        FlowRun.state,
        FlowRun.state_timestamp,
        FlowRun.start_time,
        FlowRun.end_time,
        FlowRun.tenant_id,
        FlowRun.flow_id,
        FlowRun.labels,
        FlowRun.serialized_state,
    ).where(FlowRun.id == run_id)
    row = (await session.execute(dialect_of(session).for_update(stmt))).one_or_none()
    if row is None:
        raise failed
    parsed, hold, now = await _admit(session, run_id, parsed, row, now)
    values, state_row, version = _flow_run_write(run_id, parsed, row, now)
    if parsed.type == "Cancelled":
        await _cancel_task_runs(session, run_id, parsed)
    if parsed.type == "Submitted" and agent_id:
        # Only an agent that exists is recorded; a bad header never fails the state write.
        try:
            agent = id_or_raise(agent_id, ValueError())
        except ValueError:
            agent = None
        if agent and await session.scalar(select(Agent.id).where(Agent.id == agent)):
            values["agent_id"] = agent
    conn = await session.connection()
    for stmt in dialect_of(session).insert_then_update(
        insert(FlowRunState).values(state_row),
        update(FlowRun).where(FlowRun.id == run_id).values(values),
    ):
        await conn.execute(stmt)
    await cloud_hooks.flow_run_state_changed(
        session,
        flow_run_id=run_id,
        flow_id=row.flow_id,
        tenant_id=row.tenant_id,
        state=parsed,
        version=version,
    )
    if hold is not None:
        return StateWrite(run_id, state_row["id"], version, parsed.type, "QUEUED", hold.sentence())
    return StateWrite(run_id, state_row["id"], version, parsed.type)


async def _admit(
    session: AsyncSession, run_id: uuid.UUID, parsed: ParsedState, row: Any, now: dt.datetime
) -> tuple[ParsedState, concurrency.Hold | None, dt.datetime]:
    """A labelled run entering Submitted or Running without holding a slot must find a
    free slot of each limit on its labels.

    Without one, an agent's Submitted is refused with "State update failed", which the
    1.4.1 agent takes as "leave this run" (it does not deploy it; the run stays
    Scheduled and the queue offers it again once a slot is free). A flow-run process's
    Running becomes Queued, answered QUEUED: the process waits cloud.queue_interval and
    asks again, polling the run meanwhile. Its retries refresh the heartbeat (Queued is a
    heartbeat state), so lazarus returns the run to Scheduled only if the process died.
    The write's time is taken again after the count, as for task runs.
    """
    if (
        not row.labels
        or parsed.type not in ("Submitted", "Running")
        or row.state in concurrency.FLOW_HOLDING_STATES
    ):
        return parsed, None, now
    hold = await concurrency.flow_hold(session, row.tenant_id, row.labels, run_id)
    now = utcnow()
    if hold is None:
        return parsed, None, now
    if parsed.type == "Submitted":
        raise StateUpdateFailed(
            f"State update failed for flow run ID {run_id}: it waits for a free slot of "
            f"{hold.slots()}."
        )
    return queued_state(row.serialized_state, hold.sentence(), now), hold, now


def _flow_run_write(
    run_id: uuid.UUID, parsed: ParsedState, row: Any, now: dt.datetime
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The run columns, the state row and the version of one flow-run state write: the
    rules shared by ``set_flow_run_state`` and ``set_flow_run_states``."""
    if (
        parsed.type == "Submitted"
        and row.state == "Submitted"
        and row.state_timestamp is not None
        and now - row.state_timestamp < SUBMITTED_GUARD
    ):
        # The agent matches "State update failed" and quietly leaves the run to the first one.
        raise StateUpdateFailed("State update failed: this run has already been submitted.")
    version = (row.version or 0) + 1
    values = run_values(parsed, version, now)
    values.update(time_changes(parsed.type, now, row.start_time, row.end_time))
    if parsed.type in HEARTBEAT_STATES:
        values["heartbeat"] = now
    state_row = new_state_row(parsed, version, now, row.tenant_id)
    state_row["flow_run_id"] = run_id
    metrics.state_transition("flow", parsed.type, run_id)
    return values, state_row, version


async def set_flow_run_states(
    session: AsyncSession, changes: Sequence[tuple[uuid.UUID, dict[str, Any] | ParsedState]]
) -> list[StateWrite]:
    """``set_flow_run_state`` (without an agent) for many flow runs at once.

    The runs are locked together in id order, their state rows and columns written in one
    batch; cancellation cascades and cloud hooks as for single writes (the hooks are only
    looked up when some hook is active). All or nothing: a refused change raises, and the
    caller's transaction must then be rolled back. Used by the services.
    """
    if not changes:
        return []
    now, conn, rows = await lock_batch(session, "flow", changes, _flow_runs_lock(session))
    batch = []
    written = []
    cancelled: dict[uuid.UUID, ParsedState] = {}
    for run_id, state in changes:
        row = rows.get(run_id)
        if row is None:
            raise StateUpdateFailed(f"State update failed for flow run ID {run_id}")
        parsed, _, now = await _admit(session, run_id, as_parsed(state, now), row, now)
        values, state_row, version = _flow_run_write(run_id, parsed, row, now)
        if parsed.type == "Cancelled":
            cancelled[run_id] = parsed
        # One statement for every run: columns a write leaves alone keep their value.
        values.setdefault("start_time", row.start_time)
        values.setdefault("end_time", row.end_time)
        values.setdefault("heartbeat", row.heartbeat)
        batch.append(write_parameters(run_id, values, state_row))
        written.append((row, parsed, StateWrite(run_id, state_row["id"], version, parsed.type)))
    await _cancel_task_runs_of(session, cancelled)
    for stmt in _flow_run_writes(session):
        await conn.execute(stmt, batch)
    hooks = select(CloudHook.id).where(CloudHook.active.is_(True)).limit(1)
    if await session.scalar(hooks) is not None:
        for row, parsed, write in written:
            await cloud_hooks.flow_run_state_changed(
                session,
                flow_run_id=write.run_id,
                flow_id=row.flow_id,
                tenant_id=row.tenant_id,
                state=parsed,
                version=write.version,
            )
    return [write for _, _, write in written]


def _flow_runs_lock(session: AsyncSession) -> Any:
    return _flow_run_statements(session)[0]


def _flow_run_writes(session: AsyncSession) -> list[Any]:
    return _flow_run_statements(session)[1]


def _flow_run_statements(session: AsyncSession) -> tuple[Any, list[Any]]:
    """``set_flow_run_states``' lock (``run_ids``, id order) and batch write, built once
    per database."""
    return dialect_of(session).statements(_build_flow_run_statements)


def _build_flow_run_statements(sql: dialect.Dialect) -> tuple[Any, list[Any]]:
    lock = (
        select(
            FlowRun.id,
            FlowRun.version,
            FlowRun.state,
            FlowRun.state_timestamp,
            FlowRun.start_time,
            FlowRun.end_time,
            FlowRun.heartbeat,
            FlowRun.tenant_id,
            FlowRun.flow_id,
            FlowRun.labels,
            FlowRun.serialized_state,
        )
        .where(FlowRun.id.in_(bindparam("run_ids", expanding=True)))
        .order_by(FlowRun.id)
    )
    return sql.for_update(lock), write_statements(sql, FlowRunState, FlowRun)


async def _cancel_task_runs(
    session: AsyncSession, flow_run_id: uuid.UUID, state: ParsedState
) -> None:
    """A Cancelled flow run takes its unfinished task runs with it (Server 1 did the same)."""
    unfinished = await session.scalars(
        select(TaskRun.id)
        .where(TaskRun.flow_run_id == flow_run_id)
        .where(TaskRun.state.is_(None) | TaskRun.state.not_in(FINISHED_STATES))
        .order_by(TaskRun.id)
    )
    for task_run_id in list(unfinished):
        await set_task_run_state(session, task_run_id, state)


async def _cancel_task_runs_of(
    session: AsyncSession, cancelled: dict[uuid.UUID, ParsedState]
) -> None:
    """``_cancel_task_runs`` for several flow runs, in one batch of task-run states."""
    if not cancelled:
        return
    unfinished = await session.execute(
        select(TaskRun.id, TaskRun.flow_run_id)
        .where(TaskRun.flow_run_id.in_(cancelled))
        .where(TaskRun.state.is_(None) | TaskRun.state.not_in(FINISHED_STATES))
        .order_by(TaskRun.id)
    )
    changes = [(task_run.id, cancelled[task_run.flow_run_id]) for task_run in unfinished]
    await set_task_run_states(session, changes)


async def cancel_flow_run(
    session: AsyncSession, flow_run_id: uuid.UUID | str | None, message: str | None = None
) -> str:
    """Cancel a flow run: Cancelling when running (the runner then stops), else Cancelled.

    Returns the run's state afterwards; a finished run is left as it is.
    """
    if not flow_run_id:
        raise ValidationFailed("Invalid flow run ID.")
    missing = NotFound(f"Invalid flow run ID: {flow_run_id}.")
    run_id = id_or_raise(flow_run_id, missing)
    stmt = select(FlowRun.state).where(FlowRun.id == run_id)
    row = (await session.execute(dialect_of(session).for_update(stmt))).one_or_none()
    if row is None:
        raise missing
    current = row.state
    if current in FINISHED_STATES:
        return str(current)
    if current in RUNNING_STATES:
        new = {"type": "Cancelling", "message": message or "Flow run is cancelling"}
    else:
        new = {"type": "Cancelled", "message": message or "Flow run is cancelled"}
    written = await set_flow_run_state(session, run_id, new)
    return written.state
