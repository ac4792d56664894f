"""Setting the state of flow runs and task runs: the one door every state change uses.

The API, the Hasura-style inserts, cancellation and the services all call
``set_flow_run_state`` / ``set_task_run_state``. Each locks the run row for the
rest of the caller's transaction (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite
the Database's write transaction is the lock), so concurrent writers queue up,
never lose an update and never repeat a version. The client's ``version`` is
ignored, as in Server 1: every state is the run's current version + 1.

The run's denormalised columns follow Server 1's trigger (spec §1.4 item 2):
state/version/serialized_state/state_* always; ``start_time`` = the first Running
write; ``end_time`` = the latest write of a state in END_TIME_STATES. Both use the
server's write time, not the client's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.models import (
    Agent,
    CloudHook,
    FlowRun,
    FlowRunState,
    TaskRun,
    TaskRunState,
)
from prefect_server.orchestration import cloud_hooks
from prefect_server.orchestration.errors import NotFound, StateUpdateFailed, ValidationFailed
from prefect_server.orchestration.state_schema import ParsedState, parse_state
from prefect_server.orchestration.state_types import (
    END_TIME_STATES,
    FINISHED_STATES,
    RUNNING_STATES,
)

# Server 1 held an in-memory lock for 30 s after a Submitted write; we ask the database.
SUBMITTED_GUARD = dt.timedelta(seconds=30)
_HEARTBEAT_STATES = RUNNING_STATES | {"Submitted"}


@dataclass(frozen=True, slots=True)
class StateWrite:
    """What a state write did: the run, its new version and state, and the state row."""

    run_id: uuid.UUID
    state_id: uuid.UUID
    version: int
    state: str
    status: str = "SUCCESS"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _as_state(state: dict[str, Any] | ParsedState, now: dt.datetime) -> ParsedState:
    return state if isinstance(state, ParsedState) else parse_state(state, now=now)


def _times(
    kind: str, now: dt.datetime, start: dt.datetime | None, end: dt.datetime | None
) -> dict[str, Any]:
    """start_time/end_time changes for a state written at ``now`` (LEAST/GREATEST of Server 1)."""
    values: dict[str, Any] = {}
    if kind == "Running" and (start is None or now < start):
        values["start_time"] = now
    if kind in END_TIME_STATES and (end is None or now > end):
        values["end_time"] = now
    return values


_RUN_COLUMNS = (
    "version",
    "state",
    "serialized_state",
    "state_timestamp",
    "state_message",
    "state_result",
    "state_start_time",
    "updated",
)


def run_values(state: ParsedState, version: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "version": version,
        "state": state.type,
        "serialized_state": state.serialized,
        "state_timestamp": now,
        "state_message": state.message,
        "state_result": None,
        "state_start_time": state.start_time,
        "updated": now,
    }


def new_state_row(
    state: ParsedState, version: int, now: dt.datetime, tenant_id: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "timestamp": now,
        "state": state.type,
        "message": state.message,
        # Clients serialise only a result's location (inside serialized_state), never a value.
        "result": None,
        "start_time": state.start_time,
        "serialized_state": state.serialized,
        "version": version,
        "created": now,
        "updated": now,
    }


async def set_flow_run_state(
    session: AsyncSession,
    flow_run_id: uuid.UUID | str | None,
    state: dict[str, Any] | ParsedState,
    *,
    agent_id: uuid.UUID | str | None = None,
) -> StateWrite:
    """Write ``state`` as the flow run's newest state (spec §3.6 set_flow_run_state)."""
    if not flow_run_id:
        raise ValidationFailed("Invalid flow run ID.")
    now = utcnow()
    parsed = _as_state(state, now)
    failed = StateUpdateFailed(f"State update failed for flow run ID {flow_run_id}")
    run_id = _uuid(flow_run_id, failed)
    stmt = select(
        FlowRun.version,
        FlowRun.state,
        FlowRun.state_timestamp,
        FlowRun.start_time,
        FlowRun.end_time,
        FlowRun.tenant_id,
        FlowRun.flow_id,
    ).where(FlowRun.id == run_id)
    row = (await session.execute(dialect.for_update(session, stmt))).one_or_none()
    if row is None:
        raise failed
    values, state_row, version = _flow_run_write(run_id, parsed, row, now)
    if parsed.type == "Cancelled":
        await _cancel_task_runs(session, run_id, parsed)
    if parsed.type == "Submitted" and agent_id:
        # Only an agent that exists is recorded; a bad header never fails the state write.
        try:
            agent = _uuid(agent_id, ValueError())
        except ValueError:
            agent = None
        if agent and await session.scalar(select(Agent.id).where(Agent.id == agent)):
            values["agent_id"] = agent
    conn = await session.connection()
    for stmt in dialect.insert_then_update(
        session,
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
    return StateWrite(run_id, state_row["id"], version, parsed.type)


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
    values.update(_times(parsed.type, now, row.start_time, row.end_time))
    if parsed.type in _HEARTBEAT_STATES:
        values["heartbeat"] = now
    state_row = new_state_row(parsed, version, now, row.tenant_id)
    state_row["flow_run_id"] = run_id
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
    ids = [run_id for run_id, _ in changes]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Each flow run may appear only once in a batch of states.")
    now = utcnow()
    conn = await session.connection()
    rows = {row.id: row for row in await conn.execute(_flow_runs_lock(session), {"run_ids": ids})}
    batch = []
    written = []
    for run_id, state in changes:
        row = rows.get(run_id)
        if row is None:
            raise StateUpdateFailed(f"State update failed for flow run ID {run_id}")
        parsed = _as_state(state, now)
        values, state_row, version = _flow_run_write(run_id, parsed, row, now)
        if parsed.type == "Cancelled":
            await _cancel_task_runs(session, run_id, parsed)
        # One statement for every run: columns a write leaves alone keep their value.
        values.setdefault("start_time", row.start_time)
        values.setdefault("end_time", row.end_time)
        values.setdefault("heartbeat", row.heartbeat)
        params = {f"r_{key}": value for key, value in values.items()}
        params.update({f"s_{key}": value for key, value in state_row.items()})
        params["run_id"] = run_id
        batch.append(params)
        written.append((row, parsed, StateWrite(run_id, state_row["id"], version, parsed.type)))
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


_FLOW_RUN_STATEMENTS: dict[str, tuple[Any, list[Any]]] = {}


def _flow_runs_lock(session: AsyncSession) -> Any:
    return _flow_run_statements(session)[0]


def _flow_run_writes(session: AsyncSession) -> list[Any]:
    return _flow_run_statements(session)[1]


def _flow_run_statements(session: AsyncSession) -> tuple[Any, list[Any]]:
    """``set_flow_run_states``' lock (``run_ids``, id order) and batch write, built once."""
    kind = dialect.dialect_name(session)
    if kind not in _FLOW_RUN_STATEMENTS:
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
            )
            .where(FlowRun.id.in_(bindparam("run_ids", expanding=True)))
            .order_by(FlowRun.id)
        )
        state_columns = [c.name for c in FlowRunState.__table__.columns]
        run_columns = [*_RUN_COLUMNS, "start_time", "end_time", "heartbeat"]
        _FLOW_RUN_STATEMENTS[kind] = (
            dialect.for_update(session, lock),
            dialect.insert_then_update(
                session,
                insert(FlowRunState).values({c: bindparam(f"s_{c}") for c in state_columns}),
                update(FlowRun)
                .where(FlowRun.id == bindparam("run_id"))
                .values({c: bindparam(f"r_{c}") for c in run_columns}),
            ),
        )
    return _FLOW_RUN_STATEMENTS[kind]


async def set_task_run_state(
    session: dialect.Executor,
    task_run_id: uuid.UUID | str | None,
    state: dict[str, Any] | ParsedState,
) -> StateWrite:
    """Write ``state`` as the task run's newest state (spec §3.6 set_task_run_state)."""
    if not task_run_id:
        raise ValidationFailed("Invalid task run ID.")
    now = utcnow()
    parsed = _as_state(state, now)
    failed = StateUpdateFailed(f"State update failed for task run ID {task_run_id}")
    run_id = _uuid(task_run_id, failed)
    lock, writes = _task_run_statements(session)
    conn = await dialect.connection(session)
    row = (await conn.execute(lock, {"run_id": run_id})).one_or_none()
    if row is None:
        raise failed
    params, write = _task_run_write(task_run_id, run_id, parsed, row, now)
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
    ids = [run_id for run_id, _ in changes]
    if len(set(ids)) != len(ids):
        raise ValidationFailed("Each task run may appear only once in a batch of states.")
    now = utcnow()
    _, writes = _task_run_statements(session)
    conn = await session.connection()
    rows = {row.id: row for row in await conn.execute(_task_runs_lock(session), {"run_ids": ids})}
    batch = []
    results = []
    for run_id, state in changes:
        row = rows.get(run_id)
        if row is None:
            raise StateUpdateFailed(f"State update failed for task run ID {run_id}")
        params, write = _task_run_write(run_id, run_id, _as_state(state, now), row, now)
        batch.append(params)
        results.append(write)
    for stmt in writes:
        await conn.execute(stmt, batch)
    return results


def _task_run_write(
    given_id: Any, run_id: uuid.UUID, parsed: ParsedState, row: Any, now: dt.datetime
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
    values.update(_times(parsed.type, now, row.start_time, row.end_time))
    state_row = new_state_row(parsed, version, now, row.tenant_id)
    state_row["task_run_id"] = run_id
    params = {f"r_{key}": value for key, value in values.items()}
    params.update({f"s_{key}": value for key, value in state_row.items()})
    params["run_id"] = run_id
    return params, StateWrite(run_id, state_row["id"], version, parsed.type)


_TASK_RUN_STATEMENTS: dict[str, tuple[Any, list[Any]]] = {}


def _task_run_statements(session: dialect.Executor) -> tuple[Any, list[Any]]:
    """The task-run state write's statements, built once per database kind.

    The hot path of every task run: prebuilt with bound parameters, SQLAlchemy only
    looks them up in its compiled cache instead of building and keying new ones.
    """
    kind = dialect.dialect_name(session)
    if kind not in _TASK_RUN_STATEMENTS:
        run_id: BindParameter[Any] = bindparam("run_id")
        # The task run, locked, with its flow run's state (not locked): one round trip.
        flow_state = select(FlowRun.state).where(FlowRun.id == TaskRun.flow_run_id)
        lock = select(
            TaskRun.version,
            TaskRun.serialized_state,
            TaskRun.start_time,
            TaskRun.end_time,
            TaskRun.heartbeat,
            TaskRun.tenant_id,
            TaskRun.flow_run_id,
            flow_state.scalar_subquery().label("flow_run_state"),
        ).where(TaskRun.id == run_id)
        state_columns = [c.name for c in TaskRunState.__table__.columns]
        run_columns = [*_RUN_COLUMNS, "start_time", "end_time", "heartbeat"]
        _TASK_RUN_STATEMENTS[kind] = (
            dialect.for_update(session, lock),
            dialect.insert_then_update(
                session,
                insert(TaskRunState).values({c: bindparam(f"s_{c}") for c in state_columns}),
                update(TaskRun)
                .where(TaskRun.id == run_id)
                .values({c: bindparam(f"r_{c}") for c in run_columns}),
            ),
        )
    return _TASK_RUN_STATEMENTS[kind]


_TASK_RUNS_LOCKS: dict[str, Any] = {}


def _task_runs_lock(session: AsyncSession) -> Any:
    """``_task_run_statements``' lock for a list of runs (``run_ids``), taken in id order."""
    kind = dialect.dialect_name(session)
    if kind not in _TASK_RUNS_LOCKS:
        flow_state = select(FlowRun.state).where(FlowRun.id == TaskRun.flow_run_id)
        lock = (
            select(
                TaskRun.id,
                TaskRun.version,
                TaskRun.serialized_state,
                TaskRun.start_time,
                TaskRun.end_time,
                TaskRun.heartbeat,
                TaskRun.tenant_id,
                TaskRun.flow_run_id,
                flow_state.scalar_subquery().label("flow_run_state"),
            )
            .where(TaskRun.id.in_(bindparam("run_ids", expanding=True)))
            .order_by(TaskRun.id)
        )
        _TASK_RUNS_LOCKS[kind] = dialect.for_update(session, lock)
    return _TASK_RUNS_LOCKS[kind]


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


async def cancel_flow_run(
    session: AsyncSession, flow_run_id: uuid.UUID | str | None, message: str | None = None
) -> str:
    """Cancel a flow run: Cancelling when running (the runner then stops), else Cancelled.

    Returns the run's state afterwards; a finished run is left as it is.
    """
    if not flow_run_id:
        raise ValidationFailed("Invalid flow run ID.")
    missing = NotFound(f"Invalid flow run ID: {flow_run_id}.")
    run_id = _uuid(flow_run_id, missing)
    stmt = select(FlowRun.state).where(FlowRun.id == run_id)
    row = (await session.execute(dialect.for_update(session, stmt))).one_or_none()
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


def _uuid(value: uuid.UUID | str, error: Exception) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise error from None
