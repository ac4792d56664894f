"""Concurrency limits at the moment a run would start: the check the state writes call.

A task run about to enter Running needs a free slot of every limit on its task's tags
(slots are held by task runs in Running); a flow run about to enter Submitted or
Running needs one of every limit on its labels (held by flow runs in Submitted,
Running or Cancelling, since a Cancelling run's process is still working).

The check and the write are one atomic step. The limit rows are locked (``FOR
UPDATE``) before the slots are counted, so two writers wanting the last slot of a
limit queue up on its row, and the second one counts after the first has committed.
Runs freeing a slot need no lock: a concurrent release can only make a writer see one
slot too few and wait a little longer, never one too many. On SQLite the single
writer is the lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, select

from prefect_server.database import dialect
from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import FlowLabelLimit, FlowRun, Task, TaskRun, TaskTagLimit
from prefect_server.orchestration.state_types import RUNNING_STATES

# The states in which a run holds a slot of its limits.
TASK_HOLDING_STATES = frozenset({"Running"})
FLOW_HOLDING_STATES = frozenset(RUNNING_STATES | {"Submitted"})


@dataclass(frozen=True, slots=True)
class Hold:
    """A limit with no free slot: what keeps a run from starting."""

    kind: str  # "task" (a tag) or "flow" (a label)
    name: str
    limit: int
    in_use: int

    def slots(self) -> str:
        what = "tag" if self.kind == "task" else "label"
        return f"the concurrency limit on {what} {self.name!r} ({self.in_use} of {self.limit} slots in use)"

    def sentence(self) -> str:
        """The message of a QUEUED answer and of the Queued state written."""
        return f"Queued by {self.slots()}."


def _names(values: Any) -> list[str]:
    return sorted({str(v) for v in values or () if isinstance(v, str) and v})


async def task_hold(
    conn: dialect.Executor, tenant_id: uuid.UUID | None, tags: Any, run_id: uuid.UUID
) -> Hold | None:
    """The first limit on ``tags`` with no slot free for task run ``run_id``, or None.

    Locks the tags' limit rows for the rest of the transaction.
    """
    return await _hold(conn, "task", tenant_id, tags, run_id)


async def flow_hold(
    conn: dialect.Executor, tenant_id: uuid.UUID | None, labels: Any, run_id: uuid.UUID
) -> Hold | None:
    """The first limit on ``labels`` with no slot free for flow run ``run_id``, or None.

    Locks the labels' limit rows for the rest of the transaction.
    """
    return await _hold(conn, "flow", tenant_id, labels, run_id)


async def _hold(
    conn: dialect.Executor, kind: str, tenant_id: uuid.UUID | None, values: Any, run_id: uuid.UUID
) -> Hold | None:
    names = _names(values)
    if not names:
        return None
    model: Any = TaskTagLimit if kind == "task" else FlowLabelLimit
    column = model.tag if kind == "task" else model.label
    usage = _task_usage(conn) if kind == "task" else _flow_usage(conn)
    for name, limit in await _locked_limits(conn, model, column, tenant_id, names):
        in_use = await _count(conn, usage, tenant_id, name, run_id)
        if in_use >= limit:
            return Hold(kind, name, limit, in_use)
    return None


async def _locked_limits(
    conn: dialect.Executor, model: Any, column: Any, tenant_id: Any, names: list[str]
) -> list[tuple[str, int]]:
    # In id order, so writers needing several limits never wait on each other in a circle.
    stmt = (
        select(column, model.limit)
        .where(model.tenant_id == tenant_id, column.in_(names))
        .order_by(model.id)
    )
    connection = await dialect.connection(conn)
    rows = await connection.execute(dialect_of(conn).for_update(stmt))
    return [(str(name), int(limit)) for name, limit in rows]


async def _count(
    conn: dialect.Executor, stmt: Any, tenant_id: Any, name: str, run_id: uuid.UUID
) -> int:
    connection = await dialect.connection(conn)
    params = {"tenant_id": tenant_id, "name": name, "run_id": run_id}
    return int(await connection.scalar(stmt, params) or 0)


def has_name(sql: dialect.Dialect, column: Any, name: Any) -> Any:
    """``column`` (a JSON list of strings) contains the string ``name`` (may be bound)."""
    return sql.json_array_has(column, name)


def has_limited_tag(sql: dialect.Dialect) -> Any:
    """Whether the task of the task run in the enclosing query carries a tag limited in the
    run's tenant. Read with the run's lock, so tags without a limit cost no round trip."""
    return exists().where(
        Task.id == TaskRun.task_id,
        TaskTagLimit.tenant_id == TaskRun.tenant_id,
        has_name(sql, Task.tags, TaskTagLimit.tag),
    )


def _task_usage(conn: dialect.Executor) -> Any:
    return dialect_of(conn).statements(_build_task_usage)


def _flow_usage(conn: dialect.Executor) -> Any:
    return dialect_of(conn).statements(_build_flow_usage)


def _build_task_usage(sql: dialect.Dialect) -> Any:
    """How many other task runs of the tenant hold a slot of tag ``name``."""
    return (
        select(func.count())
        .select_from(TaskRun)
        .join(Task, Task.id == TaskRun.task_id)
        .where(
            TaskRun.state.in_(sorted(TASK_HOLDING_STATES)),
            TaskRun.tenant_id == bindparam("tenant_id"),
            TaskRun.id != bindparam("run_id"),
            has_name(sql, Task.tags, bindparam("name")),
        )
    )


def _build_flow_usage(sql: dialect.Dialect) -> Any:
    """How many other flow runs of the tenant hold a slot of label ``name``."""
    return (
        select(func.count())
        .select_from(FlowRun)
        .where(
            FlowRun.state.in_(sorted(FLOW_HOLDING_STATES)),
            FlowRun.tenant_id == bindparam("tenant_id"),
            FlowRun.id != bindparam("run_id"),
            has_name(sql, FlowRun.labels, bindparam("name")),
        )
    )
