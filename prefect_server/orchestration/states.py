"""The rules every state write shares; the writes themselves are in ``flow_run_states``
and ``task_run_states``, one door per kind of run.

The API, the Hasura-style inserts, cancellation and the services all call
``flow_run_states.set_flow_run_state`` / ``task_run_states.set_task_run_state``.
Each locks the run row for the rest of the caller's transaction (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite
the Database's write transaction is the lock), so concurrent writers queue up,
never lose an update and never repeat a version. The client's ``version`` is
ignored, as in Server 1: every state is the run's current version + 1.

The run's denormalised columns follow Server 1's triggers
``update_{flow,task}_run_details_on_state_insert`` (PrefectHQ/server,
``services/postgres/alembic/versions/2020-09-02T203435_simplify_run_state_update_triggers.py``):
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

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from prefect_server.database import dialect
from prefect_server.database.models import RUN_STATE_COLUMNS
from prefect_server.observability import context as log_context
from prefect_server.orchestration.errors import StateUpdateFailed, ValidationFailed
from prefect_server.orchestration.state_schema import ParsedState, parse_state
from prefect_server.orchestration.state_types import (
    END_TIME_STATES,
    RUNNING_STATES,
)
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise

# Server 1 held an in-memory lock for 30 s after a Submitted write; we ask the database.
SUBMITTED_GUARD = dt.timedelta(seconds=30)
# A Queued flow run's process is alive and retrying: lazarus watches its heartbeat too.
HEARTBEAT_STATES = RUNNING_STATES | {"Submitted", "Queued"}


@dataclass(frozen=True, slots=True)
class StateWrite:
    """What a state write did: the run, its new version and state, and the state row."""

    run_id: uuid.UUID
    state_id: uuid.UUID
    version: int
    state: str
    # "QUEUED" when a concurrency limit turned a Running write into Queued (the client
    # waits cloud.queue_interval and tries again); ``message`` then names the limit.
    status: str = "SUCCESS"
    message: str | None = None


def as_parsed(state: dict[str, Any] | ParsedState, now: dt.datetime) -> ParsedState:
    return state if isinstance(state, ParsedState) else parse_state(state, now=now)


def time_changes(
    kind: str, now: dt.datetime, start: dt.datetime | None, end: dt.datetime | None
) -> dict[str, Any]:
    """start_time/end_time changes for a state written at ``now`` (LEAST/GREATEST of Server 1)."""
    values: dict[str, Any] = {}
    if kind == "Running" and (start is None or now < start):
        values["start_time"] = now
    if kind in END_TIME_STATES and (end is None or now > end):
        values["end_time"] = now
    return values


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


def queued_state(previous: dict[str, Any] | None, message: str, now: dt.datetime) -> ParsedState:
    """The Queued state written instead of a Running one a concurrency limit refused.

    It wraps the state the run was in (not a Queued one: a run refused again keeps
    its original state inside), so a new flow-run process that finds it unwraps it
    and starts from there, as Prefect's runners unwrap every meta state.
    """
    inner = previous
    if inner is not None and inner.get("type") == "Queued":
        inner = inner.get("state")
    raw = {"type": "Queued", "message": message, "start_time": now.isoformat(), "state": inner}
    return parse_state(raw, now=now)


def begin_write(
    kind: str, given_id: uuid.UUID | str | None, state: dict[str, Any] | ParsedState
) -> tuple[uuid.UUID, ParsedState, dt.datetime, StateUpdateFailed]:
    """What a single ``kind`` ("flow"/"task") run state write checks first, in Server 1's
    order: an id was given, the state parses, the id is a UUID.

    Returns the run id, the parsed state, the write's time and the error for a run
    that cannot take the state.
    """
    if not given_id:
        raise ValidationFailed(f"Invalid {kind} run ID.")
    now = utcnow()
    parsed = as_parsed(state, now)
    failed = StateUpdateFailed(f"State update failed for {kind} run ID {given_id}")
    run_id = id_or_raise(given_id, failed)
    # The request's later lines (a refusal's included) name the run as a field.
    log_context.bind_run(kind, run_id)
    return run_id, parsed, now, failed


async def lock_batch(
    session: dialect.Executor,
    kind: str,
    changes: Sequence[tuple[uuid.UUID, Any]],
    lock: Any,
) -> tuple[dt.datetime, AsyncConnection, dict[uuid.UUID, Any]]:
    """What a batched ``kind`` run state write does first: refuse a run named twice, then
    lock every run with ``lock`` (its ``run_ids`` in id order, so batches never deadlock).

    Returns the write's time, the connection and the locked rows by run id.
    """
    ids = [run_id for run_id, _ in changes]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(f"Each {kind} run may appear only once in a batch of states.")
    now = utcnow()
    conn = await dialect.connection(session)
    rows = {row.id: row for row in await conn.execute(lock, {"run_ids": ids})}
    return now, conn, rows


def write_statements(sql: dialect.Dialect, state_model: Any, run_model: Any) -> list[Any]:
    """The batched write of state rows and their runs' columns, with bound parameters:
    ``s_<column>`` for the state row, ``r_<column>`` for the run, ``run_id``."""
    state_columns = [c.name for c in state_model.__table__.columns]
    run_columns = [*RUN_STATE_COLUMNS, "updated"]
    return sql.insert_then_update(
        insert(state_model).values({c: bindparam(f"s_{c}") for c in state_columns}),
        update(run_model)
        .where(run_model.id == bindparam("run_id"))
        .values({c: bindparam(f"r_{c}") for c in run_columns}),
    )


def write_parameters(
    run_id: uuid.UUID, values: dict[str, Any], state_row: dict[str, Any]
) -> dict[str, Any]:
    """``write_statements``' parameters for one run."""
    params = {f"r_{key}": value for key, value in values.items()}
    params.update({f"s_{key}": value for key, value in state_row.items()})
    params["run_id"] = run_id
    return params
