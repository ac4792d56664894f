"""Flow runs as the UI lists them: one row shape, the filters the lists share."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowRun, Project
from prefect_server.orchestration.state_types import descendants

ACTIVE_STATES = ("Submitted", "Running", "Cancelling")
FAILED_STATES = tuple(descendants("Failed"))


@dataclass(frozen=True)
class RunRow:
    id: uuid.UUID
    name: str | None
    state: str | None
    state_message: str | None
    state_timestamp: dt.datetime | None
    state_start_time: dt.datetime | None
    scheduled_start_time: dt.datetime
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    labels: list[str]
    tenant_id: uuid.UUID | None
    flow_id: uuid.UUID
    flow_name: str
    flow_group_id: uuid.UUID
    flow_version: int | None


def run_rows() -> Select[Any]:
    """The select of ``RunRow`` columns (flow run joined to its flow)."""
    return select(
        FlowRun.id,
        FlowRun.name,
        FlowRun.state,
        FlowRun.state_message,
        FlowRun.state_timestamp,
        FlowRun.state_start_time,
        FlowRun.scheduled_start_time,
        FlowRun.start_time,
        FlowRun.end_time,
        FlowRun.labels,
        FlowRun.tenant_id,
        FlowRun.flow_id,
        Flow.name.label("flow_name"),
        Flow.flow_group_id,
        Flow.version.label("flow_version"),
    ).join(Flow, Flow.id == FlowRun.flow_id)


def in_project(project_id: uuid.UUID | None) -> ColumnElement[bool] | None:
    if project_id is None:
        return None
    return FlowRun.flow_id.in_(select(Flow.id).where(Flow.project_id == project_id))


S = TypeVar("S", bound=Select)  # type: ignore[type-arg]


def where(stmt: S, *conditions: ColumnElement[bool] | None) -> S:
    return stmt.where(*(c for c in conditions if c is not None))


async def fetch(session: AsyncSession, stmt: Select[Any]) -> list[RunRow]:
    return [RunRow(**row._mapping) for row in await session.execute(stmt)]


# Counting every matching run of a long history costs more than the page it counts for:
# counts stop here (or just past the page asked for), and say "more than" beyond it.
COUNT_CAP = 10_000


class Count(int):
    """A count that may have stopped early: ``more`` means "at least this many"."""

    more: bool = False

    def __str__(self) -> str:
        return f"{int(self):,}+" if self.more else str(int(self))


async def count(
    session: AsyncSession, *conditions: ColumnElement[bool] | None, past: int = 0
) -> Count:
    """How many runs match, counted up to COUNT_CAP or ``past`` (an offset) if larger."""
    cap = max(COUNT_CAP, past)
    matching = where(select(FlowRun.id), *conditions).limit(cap + 1).subquery()
    found = int(await session.scalar(select(func.count()).select_from(matching)) or 0)
    total = Count(min(found, cap))
    total.more = found > cap
    return total


async def projects(session: AsyncSession, limit: int = 500) -> list[tuple[uuid.UUID, str]]:
    rows = await session.execute(
        select(Project.id, Project.name).order_by(Project.name).limit(limit)
    )
    return [(row.id, row.name) for row in rows]
