"""Agents, their health, and why a late run is still waiting for one."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Agent
from prefect_server.orchestration.queue import labels_match
from prefect_server.ui.formatting import span

# Agents poll for runs every 10 s (prefect 1.4.1's agent loop); one that has not asked
# for two minutes has stopped or lost the server.
HEALTHY_WITHIN = dt.timedelta(minutes=2)
STALE_WITHIN = dt.timedelta(hours=12)
AGENTS_SHOWN = 200


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


async def list_agents(session: AsyncSession, limit: int = AGENTS_SHOWN) -> list[AgentRow]:
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
        .limit(limit)
    )
    return [AgentRow(**row._mapping) for row in rows]


def late_reason(
    run_labels: Sequence[str] | None, tenant_id: Any, agents: Iterable[AgentRow], now: dt.datetime
) -> str:
    """Why a run past its start time has not been picked up, in words."""
    own = [agent for agent in agents if agent.tenant_id == tenant_id]
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
