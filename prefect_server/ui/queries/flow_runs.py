"""Flow runs for the run list and the flow-run page: filters, one run, its state history."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Agent, Flow, FlowRun, Project
from prefect_server.orchestration.state_types import STATE_TYPES
from prefect_server.ui.pages.common import Paging
from prefect_server.ui.queries import runs
from prefect_server.ui.queries.runs import RunRow
from prefect_server.utilities.ids import parse_id


def parse_time(value: str) -> dt.datetime | None:
    """An ISO timestamp (naive means UTC), in UTC; None when it is not one, or is so near
    year 1 or 9999 that UTC has no such time (the database could not compare it)."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=dt.timezone.utc)
        return parsed.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        return None


def like(text: str) -> str:
    """``%text%`` for LIKE with its wildcards taken literally (escape character ``\\``).

    A NUL is dropped: PostgreSQL refuses one in any text value (the search would be an error).
    """
    escaped = text.replace("\x00", "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Choices of the state filter that stand for several states: the dashboard's
# "In progress" counts these three, and its link must list the same runs.
STATE_GROUPS = {"In progress": runs.ACTIVE_STATES}


@dataclass
class RunFilters:
    """The run list's query parameters, checked: what is unusable is dropped and said."""

    state: str | None = None
    project: uuid.UUID | None = None
    flow: uuid.UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    q: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, params: Any) -> RunFilters:
        found = cls(q=(params.get("q") or "").strip()[:200])
        state = params.get("state") or None
        if state in STATE_TYPES or state in STATE_GROUPS:
            found.state = state
        elif state:
            found.problems.append(f"There is no state called {state!r}; showing every state.")
        for name in ("project", "flow"):
            raw = params.get(name) or None
            if raw and parse_id(raw) is None:
                found.problems.append(f"The {name} {raw!r} is not an id; ignored.")
            setattr(found, name, parse_id(raw) if raw else None)
        for name in ("since", "until"):
            raw = params.get(name) or ""
            if raw and parse_time(raw) is None:
                found.problems.append(f"{name.capitalize()} {raw!r} is not an ISO time; ignored.")
            setattr(found, name, parse_time(raw) if raw else None)
        return found

    def _state_condition(self) -> ColumnElement[bool] | None:
        if self.state in STATE_GROUPS:
            return FlowRun.state.in_(STATE_GROUPS[self.state])
        return FlowRun.state == self.state if self.state else None

    def conditions(self) -> list[ColumnElement[bool] | None]:
        return [
            self._state_condition(),
            runs.in_project(self.project),
            FlowRun.flow_id.in_(select(Flow.id).where(Flow.flow_group_id == self.flow))
            if self.flow
            else None,
            FlowRun.scheduled_start_time >= self.since if self.since else None,
            FlowRun.scheduled_start_time < self.until if self.until else None,
            FlowRun.name.ilike(like(self.q), escape="\\") if self.q else None,
        ]


async def list_runs(
    session: AsyncSession, filters: RunFilters, paging: Paging
) -> tuple[list[RunRow], int]:
    conditions = filters.conditions()
    stmt = (
        runs.where(runs.run_rows(), *conditions)
        .order_by(FlowRun.scheduled_start_time.desc(), FlowRun.id)
        .offset(paging.offset)
        .limit(paging.size)
    )
    return await runs.fetch(session, stmt), await runs.count(
        session, *conditions, past=paging.offset + paging.size
    )


async def flow_names(session: AsyncSession, limit: int = 500) -> list[tuple[uuid.UUID, str]]:
    """Flow groups by name, for the list's flow filter (one name per group: the newest)."""
    rows = await session.execute(
        select(Flow.flow_group_id, Flow.name)
        .where(Flow.archived.is_(False))
        .order_by(Flow.name, Flow.version.desc())
        .limit(limit)
    )
    seen: dict[uuid.UUID, str] = {}
    for group, name in rows:
        seen.setdefault(group, name)
    return list(seen.items())


@dataclass(frozen=True)
class FlowRunDetail:
    id: uuid.UUID
    name: str | None
    state: str | None
    state_message: str | None
    state_timestamp: dt.datetime | None
    scheduled_start_time: dt.datetime
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    parameters: Any
    context: Any
    labels: list[str]
    run_config: Any
    version: int
    times_resurrected: int | None
    idempotency_key: str | None
    agent_id: uuid.UUID | None
    agent_name: str | None
    flow_id: uuid.UUID
    flow_name: str
    flow_group_id: uuid.UUID
    flow_version: int | None
    project_id: uuid.UUID
    project_name: str


async def flow_run(session: AsyncSession, run_id: uuid.UUID) -> FlowRunDetail | None:
    stmt = (
        select(
            FlowRun.id,
            FlowRun.name,
            FlowRun.state,
            FlowRun.state_message,
            FlowRun.state_timestamp,
            FlowRun.scheduled_start_time,
            FlowRun.start_time,
            FlowRun.end_time,
            FlowRun.parameters,
            FlowRun.context,
            FlowRun.labels,
            FlowRun.run_config,
            FlowRun.version,
            FlowRun.times_resurrected,
            FlowRun.idempotency_key,
            FlowRun.agent_id,
            Agent.name.label("agent_name"),
            FlowRun.flow_id,
            Flow.name.label("flow_name"),
            Flow.flow_group_id,
            Flow.version.label("flow_version"),
            Flow.project_id,
            Project.name.label("project_name"),
        )
        .join(Flow, Flow.id == FlowRun.flow_id)
        .join(Project, Project.id == Flow.project_id)
        .outerjoin(Agent, Agent.id == FlowRun.agent_id)
        .where(FlowRun.id == run_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else FlowRunDetail(**row._mapping)


async def state_of(session: AsyncSession, run_id: uuid.UUID) -> tuple[bool, str | None]:
    """(whether the run exists, its state)."""
    row = (await session.execute(select(FlowRun.state).where(FlowRun.id == run_id))).one_or_none()
    return (row is not None, row.state if row else None)
