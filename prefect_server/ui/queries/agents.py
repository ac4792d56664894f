"""Agents, their health, and why a late run is still waiting for one."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Agent, FlowRun
from prefect_server.orchestration.queue import labels_match
from prefect_server.orchestration.state_types import SCHEDULED_STATES
from prefect_server.ui.formatting import span
from prefect_server.ui.queries import runs
from prefect_server.ui.queries.runs import RunRow

# Agents poll for runs every 10 s (prefect 1.4.1's agent loop); one that has not asked
# for two minutes has stopped or lost the server.
HEALTHY_WITHIN = dt.timedelta(minutes=2)
STALE_WITHIN = dt.timedelta(hours=12)
AGENTS_SHOWN = 200
# The agents page looks this far ahead for runs an agent could take next, at this many
# of the oldest waiting runs (matched to agents in Python: labels are JSON lists).
WAITING_AHEAD = dt.timedelta(hours=1)
WAITING_LIMIT = 200
SUBMITTED_PER_AGENT = 5
# An agent's recent runs are found among this many runs most recently due.
RECENT_RUNS_SCANNED = 1000


@dataclass(frozen=True)
class AgentRow:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str | None
    type: str | None
    core_version: str | None
    labels: list[str]
    last_queried: dt.datetime | None
    created: dt.datetime

    def health(self, now: dt.datetime) -> str:
        return health(self.last_queried, now)


def health(last_queried: dt.datetime | None, now: dt.datetime) -> str:
    """``healthy``, ``stale`` (not polling for a while) or ``lost``."""
    if last_queried is None:
        return "lost"
    quiet = now - last_queried
    if quiet <= HEALTHY_WITHIN:
        return "healthy"
    return "stale" if quiet <= STALE_WITHIN else "lost"


AGENTS_COUNT = select(func.count()).select_from(Agent)


async def list_agents(
    session: AsyncSession, limit: int = AGENTS_SHOWN, offset: int = 0
) -> list[AgentRow]:
    """Agents, the ones that asked for work most recently first."""
    rows = await session.execute(
        select(
            Agent.id,
            Agent.tenant_id,
            Agent.name,
            Agent.type,
            Agent.core_version,
            Agent.labels,
            Agent.last_queried,
            Agent.created,
        )
        .order_by(Agent.last_queried.desc().nulls_last(), Agent.id)
        .offset(offset)
        .limit(limit)
    )
    return [AgentRow(**row._mapping) for row in rows]


def late_reason(
    run_labels: Sequence[str] | None, tenant_id: Any, agents: Iterable[AgentRow], now: dt.datetime
) -> str:
    """Why a run past its start time has not been picked up, in words."""
    agents = list(agents)
    own = [agent for agent in agents if agent.tenant_id == tenant_id]
    if not own and agents:
        # An agent only ever takes runs of the tenant it queried for.
        return (
            "No agent of this run's tenant has ever connected; agents of other tenants "
            "do not take its runs."
        )
    if not own:
        return "No agent has ever connected to this server: start one with `prefect agent local start`."
    matching = [a for a in own if labels_match(run_labels, set(a.labels or ()))]
    labels = ", ".join(sorted(run_labels or ())) or "none"
    if not matching:
        if run_labels:
            return (
                f"No agent has all of this run's labels ({labels}); an agent takes a run only "
                "if its own labels include every label of the run."
            )
        return (
            "This run has no labels, and every agent has labels: only an agent without "
            "labels takes an unlabelled run."
        )
    healthy = [a for a in matching if a.health(now) == "healthy"]
    if not healthy:
        newest = max((a.last_queried for a in matching if a.last_queried), default=None)
        quiet = f"for {span((now - newest).total_seconds())}" if newest else "ever"
        names = ", ".join(sorted({a.name or str(a.id)[:8] for a in matching})[:3])
        return f"The agents that could take it ({names}) have not asked for work {quiet}."
    return "An agent that can take it is polling: it should be submitted within seconds."


async def waiting_runs(
    session: AsyncSession, now: dt.datetime, limit: int = WAITING_LIMIT
) -> list[RunRow]:
    """The oldest runs in a scheduled-type state due by ``now`` + an hour, due first."""
    stmt = runs.where(
        runs.run_rows(),
        FlowRun.state.in_(sorted(SCHEDULED_STATES)),
        FlowRun.state_start_time <= now + WAITING_AHEAD,
    )
    return await runs.fetch(
        session, stmt.order_by(FlowRun.state_start_time, FlowRun.id).limit(limit)
    )


def could_take(agent: AgentRow, waiting: Iterable[RunRow]) -> list[RunRow]:
    """The waiting runs this agent would be given: its tenant's, with labels it covers."""
    labels = set(agent.labels or ())
    return [
        run
        for run in waiting
        if run.tenant_id == agent.tenant_id and labels_match(run.labels, labels)
    ]


async def submitted_runs(
    session: AsyncSession,
    agent_ids: Sequence[uuid.UUID],
    now: dt.datetime,
    per_agent: int = SUBMITTED_PER_AGENT,
) -> dict[uuid.UUID, list[RunRow]]:
    """Each agent's latest runs among the ``RECENT_RUNS_SCANNED`` runs most recently due by
    ``now``, in one query.

    The runs looked at are one bounded range of the scheduled-start-time index, so the
    page (which refreshes itself) costs the same over a million runs as over a thousand;
    picking each agent's newest runs by ``agent_id`` would read every run it ever took.
    """
    if not agent_ids:
        return {}
    recent = (
        select(FlowRun.id, FlowRun.agent_id, FlowRun.scheduled_start_time)
        .where(FlowRun.scheduled_start_time <= now)
        .order_by(FlowRun.scheduled_start_time.desc(), FlowRun.id)
        .limit(RECENT_RUNS_SCANNED)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=recent.c.agent_id,
            order_by=(recent.c.scheduled_start_time.desc(), recent.c.id),
        )
        .label("rank")
    )
    ranked = (
        select(recent.c.id, recent.c.agent_id, rank)
        .where(recent.c.agent_id.in_(list(agent_ids)))
        .subquery()
    )
    stmt = (
        runs.run_rows()
        .add_columns(ranked.c.agent_id)
        .join(ranked, ranked.c.id == FlowRun.id)
        .where(ranked.c.rank <= per_agent)
        .order_by(ranked.c.agent_id, ranked.c.rank)
    )
    found: dict[uuid.UUID, list[RunRow]] = {}
    for row in await session.execute(stmt):
        values = dict(row._mapping)
        agent_id = values.pop("agent_id")
        found.setdefault(agent_id, []).append(RunRow(**values))
    return found
