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

from prefect_server.database.models import Agent, FlowRun, TaskRun
from prefect_server.orchestration import concurrency_limits
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.state_types import SCHEDULED_STATES
from prefect_server.settings import session_settings
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise, parse_id


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
    candidates = await session.execute(
        select(FlowRun.id, FlowRun.labels, FlowRun.state)
        .where(
            FlowRun.tenant_id == tenant,
            or_(
                FlowRun.state.in_(scheduled) & (FlowRun.state_start_time <= before),
                (FlowRun.state == "Running") & waiting_task,
            ),
        )
        .order_by(FlowRun.state_start_time.asc().nulls_last(), FlowRun.id)
        .limit(3 * limit)
    )
    free = await _free_slots(session, tenant)
    found: list[str] = []
    for run_id, run_labels, state in candidates:
        if not labels_match(run_labels, agent_labels):
            continue
        # A Running run (its tasks wait) already holds its slots.
        if free and state != "Running" and not _take_slots(free, run_labels):
            continue
        found.append(str(run_id))
        if len(found) >= limit:
            break
    if agent_id:
        agent = parse_id(agent_id)
        if agent is not None:
            # Agents make no other call while idle: this is how the UI and CLI see them alive.
            await session.execute(
                update(Agent).where(Agent.id == agent).values(last_queried=utcnow())
            )
    return found


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
