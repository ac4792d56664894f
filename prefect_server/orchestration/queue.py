"""The run queue agents poll (``get_runs_in_queue`` of Server 1's ``src/prefect_server/api/runs.py``).

Read-only: listing a run does not claim it; the agent claims it by writing
Submitted, which set_flow_run_state refuses to do twice within 30 s, or when a
concurrency limit on the run's labels has no free slot left.

Queued runs are not offered: a Queued flow run, or a Queued task run of a Running
one, has a live flow-run process waiting for a slot (the 1.4.1 runners wait in
place and retry); handing it to an agent would start the same work twice. If that
process dies, lazarus returns the run to Scheduled.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Agent, FlowRun, TaskRun
from prefect_server.orchestration import concurrency_limits
from prefect_server.orchestration.concurrency import has_name
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.state_types import SCHEDULED_STATES
from prefect_server.settings import session_settings
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise, parse_id

# Pages of candidates one call reads at most: runs no agent of these labels may take are
# skipped in Python, and a queue full of other agents' runs must not be read whole.
MAX_PAGES = 10


def labels_match(run_labels: Any, agent_labels: set[str]) -> bool:
    """A run goes to an agent whose labels include all of its own; unlabeled runs only
    to unlabeled agents."""
    labels = set(run_labels or ())
    if agent_labels and not labels:
        return False
    return labels <= agent_labels


async def get_runs_in_queue(
    session: AsyncSession,
    tenant_id: uuid.UUID | str,
    *,
    before: dt.datetime | None = None,
    labels: list[str] | None = None,
    agent_id: uuid.UUID | str | None = None,
    limit: int | None = None,
) -> list[str]:
    """Ids of the tenant's runs ready to start by ``before``, in order of their start times.

    Ready means a scheduled-type state starting by then, or a Running run with a task
    run in such a state (a long retry whose flow-run process has exited). A run that
    would start beyond a flow-label limit is skipped, the others keep their order, and
    no more runs are offered than a limit has free slots: the oldest start first.
    At most ``limit`` ids, by default the queued_runs_returned_limit setting.
    """
    if limit is None:
        limit = session_settings(session).queued_runs_returned_limit
    tenant = id_or_raise(tenant_id, ValidationFailed(f"Invalid tenant ID: {tenant_id}"))
    before = before or utcnow()
    agent_labels = set(labels or ())
    scheduled = sorted(SCHEDULED_STATES - {"Queued"})
    waiting_task = exists().where(
        TaskRun.flow_run_id == FlowRun.id,
        TaskRun.state.in_(scheduled),
        TaskRun.state_start_time <= before,
    )
    ready = select(FlowRun.id, FlowRun.labels, FlowRun.state, FlowRun.state_start_time).where(
        FlowRun.tenant_id == tenant,
        or_(
            FlowRun.state.in_(scheduled) & (FlowRun.state_start_time <= before),
            (FlowRun.state == "Running") & waiting_task,
        ),
    )
    order = (FlowRun.state_start_time.asc().nulls_last(), FlowRun.id)
    sql = dialect_of(session)
    free = await _free_slots(session, tenant)
    found: list[str] = []
    last: tuple[Any, uuid.UUID] | None = None
    page = 3 * limit
    for _ in range(MAX_PAGES):
        stmt = ready
        held = [name for name, slots in free.items() if slots <= 0]
        if held:
            # Runs held by a full limit are left in the database, however many there are
            # (a Running run, whose tasks wait, already holds its slots).
            blocked = or_(*(has_name(sql, FlowRun.labels, name) for name in held))
            stmt = stmt.where((FlowRun.state == "Running") | ~blocked)
        if last is not None:
            stmt = stmt.where(_after(*last))
        candidates = (await session.execute(stmt.order_by(*order).limit(page))).all()
        for run_id, run_labels, state, start in candidates:
            last = (start, run_id)
            if not labels_match(run_labels, agent_labels):
                continue
            if free and state != "Running" and not _take_slots(free, run_labels):
                continue
            found.append(str(run_id))
            if len(found) >= limit:
                break
        if len(found) >= limit or len(candidates) < page:
            break
    if agent_id:
        agent = parse_id(agent_id)
        if agent is not None:
            # Agents make no other call while idle: this is how the UI and CLI see them alive.
            await session.execute(
                update(Agent).where(Agent.id == agent).values(last_queried=utcnow())
            )
    return found


def _after(start: Any, run_id: uuid.UUID) -> Any:
    """Runs after (``start``, ``run_id``) in the queue's order (start times, nulls last)."""
    if start is None:
        return FlowRun.state_start_time.is_(None) & (FlowRun.id > run_id)
    return or_(
        FlowRun.state_start_time > start,
        (FlowRun.state_start_time == start) & (FlowRun.id > run_id),
        FlowRun.state_start_time.is_(None),
    )


async def _free_slots(session: AsyncSession, tenant: uuid.UUID) -> dict[str, int]:
    """Free slots of each flow-label limit of the tenant (nothing to read when it has none)."""
    limits = await concurrency_limits.list_limits(session, "flow", tenant, with_usage=True)
    return {lim.name: lim.limit - lim.usage for lim in limits}


def _take_slots(free: dict[str, int], run_labels: Any) -> bool:
    """Take a slot of every limit on ``run_labels`` if each has one free."""
    needed = [label for label in set(run_labels or ()) if label in free]
    if any(free[label] <= 0 for label in needed):
        return False
    for label in needed:
        free[label] -= 1
    return True
