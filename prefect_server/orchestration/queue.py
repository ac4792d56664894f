"""The run queue agents poll (``get_runs_in_queue``, spec §3.5).

Read-only: listing a run does not claim it; the agent claims it by writing
Submitted, which set_flow_run_state refuses to do twice within 30 s.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Agent, FlowRun, TaskRun
from prefect_server.orchestration.state_types import SCHEDULED_STATES
from prefect_server.orchestration.states import utcnow

QUEUED_RUNS_RETURNED_LIMIT = 25


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
    limit: int = QUEUED_RUNS_RETURNED_LIMIT,
) -> list[str]:
    """Ids of the tenant's runs ready to start by ``before``, in order of their start times.

    Ready means a scheduled-type state starting by then, or a Running run with a task
    run in such a state (a long retry whose flow-run process has exited).
    """
    tenant = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
    before = before or utcnow()
    agent_labels = set(labels or ())
    scheduled = sorted(SCHEDULED_STATES)
    waiting_task = exists().where(
        TaskRun.flow_run_id == FlowRun.id,
        TaskRun.state.in_(scheduled),
        TaskRun.state_start_time <= before,
    )
    candidates = await session.execute(
        select(FlowRun.id, FlowRun.labels)
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
    found: list[str] = []
    for run_id, run_labels in candidates:
        if labels_match(run_labels, agent_labels):
            found.append(str(run_id))
            if len(found) >= limit:
                break
    if agent_id:
        try:
            agent = uuid.UUID(str(agent_id))
        except ValueError:
            agent = None
        if agent is not None:
            # Agents make no other call while idle: this is how the UI and CLI see them alive.
            await session.execute(
                update(Agent).where(Agent.id == agent).values(last_queried=utcnow())
            )
    return found
