"""Task runs: lookup and on-demand creation (mapped children), names, heartbeats,
mapped-children summaries (Server 1's ``src/prefect_server/api/runs.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from prefect_server.database import dialect
from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import FlowRun, Task, TaskRun, TaskRunState
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.orchestration.state_schema import parse_state
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise as _uuid

# Exactly what Server 1's trigger insert_task_runs_after_flow_run_insert wrote for
# pre-created task runs (services/postgres/alembic/versions/2020-06-24T092037_initial_database_migration.py).
TASK_RUN_CREATED = {"type": "Pending", "message": "Task run created"}


async def _update(session: AsyncSession, row_id: Any, values: dict[str, Any]) -> bool:
    try:
        key = _uuid(row_id, ValueError())
    except ValueError:
        return False
    return await changes_rows(session, update(TaskRun).where(TaskRun.id == key).values(values))


@dataclass(frozen=True, slots=True)
class TaskRunInfo:
    id: uuid.UUID
    version: int
    state: str | None
    serialized_state: Any


def new_task_run_row(
    task_run_id: uuid.UUID,
    flow_run_id: uuid.UUID,
    task_id: uuid.UUID,
    map_index: int,
    cache_key: str | None,
    tenant_id: uuid.UUID | None,
    now: dt.datetime,
    serialized_state: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": task_run_id,
        "tenant_id": tenant_id,
        "flow_run_id": flow_run_id,
        "task_id": task_id,
        "map_index": map_index,
        "cache_key": cache_key,
        "version": 1,
        "state": "Pending",
        "state_timestamp": now,
        "state_message": "Task run created",
        "serialized_state": serialized_state,
        "created": now,
        "updated": now,
    }


def created_state_row(
    task_run_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    now: dt.datetime,
    serialized: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "task_run_id": task_run_id,
        "timestamp": now,
        "state": "Pending",
        "message": "Task run created",
        "serialized_state": serialized,
        "version": 1,
        "created": now,
        "updated": now,
    }


async def get_or_create_task_run_info(
    session: dialect.Executor,
    flow_run_id: uuid.UUID | str,
    task_id: uuid.UUID | str,
    map_index: int | None = None,
) -> TaskRunInfo:
    """The task run for (flow run, task, map index), created Pending when new.

    A new run is reported with version 0, as Server 1 did, though its row holds 1.
    """
    map_index = -1 if map_index is None else map_index
    run_id = _uuid(flow_run_id, ValidationFailed("Invalid ID"))
    task = _uuid(task_id, ValidationFailed("Invalid task ID"))
    conn = await dialect.connection(session)
    # Un-mapped task runs were created with their flow run, so look first; mapped
    # children are usually new, so insert first and look only when one exists.
    if map_index < 0 and (found := await _find_task_run(conn, run_id, task, map_index)):
        return found
    if created := await _insert_task_run(session, conn, run_id, task, map_index):
        return created
    if found := await _find_task_run(conn, run_id, task, map_index):
        return found
    if await conn.scalar(select(Task.id).where(Task.id == task)) is None:
        raise NotFound("Invalid task ID")
    raise NotFound("Invalid ID")


_FIND = select(TaskRun.id, TaskRun.version, TaskRun.state, TaskRun.serialized_state).where(
    TaskRun.flow_run_id == bindparam("run_id"),
    TaskRun.task_id == bindparam("task_id"),
    TaskRun.map_index == bindparam("map_index"),
)


async def _find_task_run(
    conn: AsyncConnection, run_id: uuid.UUID, task_id: uuid.UUID, map_index: int
) -> TaskRunInfo | None:
    params = {"run_id": run_id, "task_id": task_id, "map_index": map_index}
    row = (await conn.execute(_FIND, params)).one_or_none()
    return (
        None if row is None else TaskRunInfo(row.id, row.version, row.state, row.serialized_state)
    )


# What Server 1 stored for task runs it created on demand: Core's serialised Pending.
_PENDING_CREATED = parse_state({"type": "Pending", "message": "Task run created"}).serialized


def _insert_statements(sql: dialect.Dialect) -> tuple[Any, Any]:
    """INSERT … SELECT of a task run (tenant and cache key read by the database) and of its
    first state, with bound parameters: built once per database (a hot path)."""
    columns = TaskRun.__table__.c
    source = (
        select(
            bindparam("id", type_=columns.id.type),
            FlowRun.tenant_id,
            FlowRun.id,
            Task.id,
            bindparam("map_index", type_=columns.map_index.type),
            Task.cache_key,
            literal(1),
            literal("Pending"),
            bindparam("now", type_=columns.state_timestamp.type),
            literal("Task run created"),
            bindparam("serialized_state", type_=columns.serialized_state.type),
            bindparam("created", type_=columns.created.type),
            bindparam("updated", type_=columns.updated.type),
        )
        .select_from(Task)
        .join(FlowRun, FlowRun.id == bindparam("run_id", type_=columns.flow_run_id.type))
        # SQLite needs a WHERE here to tell the upsert's ON from the join's.
        .where(Task.id == bindparam("task_id", type_=columns.task_id.type))
    )
    task_run = (
        sql.insert(TaskRun)
        .from_select(
            [
                "id",
                "tenant_id",
                "flow_run_id",
                "task_id",
                "map_index",
                "cache_key",
                "version",
                "state",
                "state_timestamp",
                "state_message",
                "serialized_state",
                "created",
                "updated",
            ],
            source,
        )
        .on_conflict_do_nothing(index_elements=["flow_run_id", "task_id", "map_index"])
        .returning(TaskRun.tenant_id)
    )
    state = insert(TaskRunState).values(
        {c.name: bindparam(f"s_{c.name}") for c in TaskRunState.__table__.columns}
    )
    return task_run, state


async def _insert_task_run(
    session: dialect.Executor,
    conn: AsyncConnection,
    run_id: uuid.UUID,
    task_id: uuid.UUID,
    map_index: int,
) -> TaskRunInfo | None:
    """Insert the task run and its Pending state; None when it already exists or the flow
    run or task does not."""
    now = utcnow()
    task_run_id = uuid.uuid4()
    insert_run, insert_state = dialect_of(session).statements(_insert_statements)
    params = {
        "id": task_run_id,
        "map_index": map_index,
        "now": now,
        "serialized_state": _PENDING_CREATED,
        "created": now,
        "updated": now,
        "run_id": run_id,
        "task_id": task_id,
    }
    created = (await conn.execute(insert_run, params)).one_or_none()
    if created is None:
        return None
    state = created_state_row(task_run_id, created.tenant_id, now, _PENDING_CREATED)
    state["result"] = None
    state["start_time"] = None
    await conn.execute(insert_state, {f"s_{key}": value for key, value in state.items()})
    return TaskRunInfo(task_run_id, 0, "Pending", _PENDING_CREATED)


async def get_or_create_task_run(
    session: AsyncSession,
    flow_run_id: uuid.UUID | str,
    task_id: uuid.UUID | str,
    map_index: int | None = None,
) -> uuid.UUID:
    try:
        return (await get_or_create_task_run_info(session, flow_run_id, task_id, map_index)).id
    except (NotFound, ValidationFailed):
        raise ValidationFailed("Invalid ID") from None


async def get_task_run_info(session: AsyncSession, task_run_id: uuid.UUID | str) -> TaskRunInfo:
    error = NotFound("Invalid task run ID")
    row = (
        await session.execute(
            select(TaskRun.id, TaskRun.version, TaskRun.state, TaskRun.serialized_state).where(
                TaskRun.id == _uuid(task_run_id, error)
            )
        )
    ).one_or_none()
    if row is None:
        raise error
    return TaskRunInfo(row.id, row.version, row.state, row.serialized_state)


async def set_task_run_name(session: AsyncSession, task_run_id: Any, name: str | None) -> bool:
    if not task_run_id:
        raise ValidationFailed("Invalid task run ID")
    if not name:
        raise ValidationFailed("Invalid name")
    return await _update(session, task_run_id, {"name": name})


async def update_task_run_heartbeat(session: AsyncSession, task_run_id: Any) -> None:
    if not await _update(session, task_run_id, {"heartbeat": utcnow()}):
        raise NotFound("Invalid task run ID")


async def mapped_children(session: AsyncSession, task_run_id: Any) -> dict[str, Any]:
    """Start/end bounds and state counts of a mapped task run's children."""
    empty: dict[str, Any] = {"min_start_time": None, "max_end_time": None, "state_counts": {}}
    try:
        key = _uuid(task_run_id, ValueError())
    except ValueError:
        return empty
    parent = (
        await session.execute(
            select(TaskRun.flow_run_id, TaskRun.task_id, TaskRun.map_index).where(TaskRun.id == key)
        )
    ).one_or_none()
    if parent is None or parent.map_index >= 0:
        return empty
    children = (
        TaskRun.flow_run_id == parent.flow_run_id,
        TaskRun.task_id == parent.task_id,
        TaskRun.map_index >= 0,
    )
    bounds = (
        await session.execute(
            select(func.min(TaskRun.start_time), func.max(TaskRun.end_time)).where(*children)
        )
    ).one()
    counts = await session.execute(
        select(TaskRun.state, func.count()).where(*children).group_by(TaskRun.state)
    )
    return {
        "min_start_time": bounds[0],
        "max_end_time": bounds[1],
        "state_counts": {state: count for state, count in counts if state is not None},
    }
