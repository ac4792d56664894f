"""What a Concurrency page shows: every limit with its usage, the runs holding its slots
and the runs waiting for one (in admission order), and, for a waiting run, the limits
that hold it back. Reads only; nothing here is locked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import Dialect, dialect_of
from prefect_server.database.models import FlowRun, Task, TaskRun
from prefect_server.orchestration.concurrency import (
    FLOW_HOLDING_STATES,
    TASK_HOLDING_STATES,
    Hold,
    has_name,
)
from prefect_server.orchestration.concurrency_limits import KINDS, count_usage, list_limits
from prefect_server.orchestration.state_types import SCHEDULED_STATES
from prefect_server.utilities.clock import utcnow

RUNS_PER_LIMIT = 20


@dataclass(frozen=True, slots=True)
class RunRef:
    """A task run or flow run as the page lists it."""

    id: uuid.UUID
    name: str | None
    flow_run_id: uuid.UUID
    state: str | None
    # Holding: when it entered its state; waiting: its start time (admission order).
    since: dt.datetime | None


@dataclass(slots=True)
class LimitUsage:
    kind: str  # "task" (name is a tag) or "flow" (name is a label)
    id: uuid.UUID
    name: str
    limit: int
    usage: int
    holding: list[RunRef] = field(default_factory=list)
    waiting: list[RunRef] = field(default_factory=list)


def _waiting_flow_states() -> list[str]:
    return sorted(SCHEDULED_STATES)


async def concurrency_overview(
    session: AsyncSession, tenant_id: uuid.UUID, *, runs_per_limit: int = RUNS_PER_LIMIT
) -> list[LimitUsage]:
    """Task-tag limits then flow-label limits, each by name, with at most
    ``runs_per_limit`` holding and waiting runs each (``usage`` counts them all)."""
    sql = dialect_of(session)
    now = utcnow()
    out = []
    for kind in KINDS:
        for lim in await list_limits(session, kind, tenant_id, with_usage=True):
            entry = LimitUsage(kind, lim.id, lim.name, lim.limit, lim.usage)
            if kind == "task":
                entry.holding = await _task_runs(
                    session, tenant_id, sql, lim.name, TASK_HOLDING_STATES, runs_per_limit
                )
                entry.waiting = await _task_runs(
                    session, tenant_id, sql, lim.name, {"Queued"}, runs_per_limit
                )
            else:
                entry.holding = await _flow_runs(
                    session, tenant_id, sql, lim.name, FLOW_HOLDING_STATES, runs_per_limit
                )
                entry.waiting = await _flow_runs(
                    session,
                    tenant_id,
                    sql,
                    lim.name,
                    set(_waiting_flow_states()),
                    runs_per_limit,
                    due_by=now,
                )
            out.append(entry)
    return out


async def _task_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    sql: Dialect,
    tag: str,
    states: set[str] | frozenset[str],
    limit: int,
) -> list[RunRef]:
    since = TaskRun.state_timestamp
    rows = await session.execute(
        select(TaskRun.id, TaskRun.name, TaskRun.flow_run_id, TaskRun.state, since)
        .join(Task, Task.id == TaskRun.task_id)
        .where(
            TaskRun.tenant_id == tenant_id,
            TaskRun.state.in_(sorted(states)),
            has_name(sql, Task.tags, tag),
        )
        .order_by(since.asc(), TaskRun.id)
        .limit(limit)
    )
    return [RunRef(*row) for row in rows]


async def _flow_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    sql: Dialect,
    label: str,
    states: set[str] | frozenset[str],
    limit: int,
    *,
    due_by: dt.datetime | None = None,
) -> list[RunRef]:
    since = FlowRun.state_timestamp if due_by is None else FlowRun.state_start_time
    stmt = select(FlowRun.id, FlowRun.name, FlowRun.id, FlowRun.state, since).where(
        FlowRun.tenant_id == tenant_id,
        FlowRun.state.in_(sorted(states)),
        has_name(sql, FlowRun.labels, label),
    )
    if due_by is not None:
        # Waiting means due: a run scheduled for next week is not waiting for a slot.
        stmt = stmt.where(FlowRun.state_start_time <= due_by)
    rows = await session.execute(stmt.order_by(since.asc(), FlowRun.id).limit(limit))
    return [RunRef(*row) for row in rows]


async def holds_on_run(session: AsyncSession, kind: str, run_id: uuid.UUID) -> list[Hold]:
    """The limits with no free slot that keep a waiting run from starting (empty for a
    run that is not waiting: Queued, or a flow run Scheduled and due)."""
    if kind == "task":
        task_row = (
            await session.execute(
                select(TaskRun.tenant_id, TaskRun.state, Task.tags)
                .join(Task, Task.id == TaskRun.task_id)
                .where(TaskRun.id == run_id)
            )
        ).one_or_none()
        row: Any = task_row
        waiting = row is not None and row.state == "Queued"
        names = row.tags if row is not None else []
    else:
        row = (
            await session.execute(
                select(
                    FlowRun.tenant_id, FlowRun.state, FlowRun.state_start_time, FlowRun.labels
                ).where(FlowRun.id == run_id)
            )
        ).one_or_none()
        waiting = row is not None and row.state in SCHEDULED_STATES
        names = row.labels if row is not None else []
    if not waiting or not names:
        return []
    limits = await list_limits(session, kind, row.tenant_id, [str(n) for n in names])
    usage = await count_usage(session, kind, row.tenant_id, [lim.name for lim in limits])
    return [
        Hold(kind, lim.name, lim.limit, usage[lim.name])
        for lim in limits
        if usage[lim.name] >= lim.limit
    ]
