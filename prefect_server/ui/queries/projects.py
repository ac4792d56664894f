"""Projects as the projects page lists them, with how much is in each."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowRun, Project

RUNS_WITHIN = dt.timedelta(hours=24)


@dataclass(frozen=True)
class ProjectRow:
    id: uuid.UUID
    name: str
    description: str | None
    created: dt.datetime
    flows: int
    recent_runs: int


async def count_projects(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Project)) or 0)


async def list_projects(
    session: AsyncSession, now: dt.datetime, *, offset: int, limit: int
) -> list[ProjectRow]:
    """One page of projects by name, with their live flows and runs of the last 24 h."""
    page = (
        await session.execute(
            select(Project.id, Project.name, Project.description, Project.created)
            .order_by(Project.name, Project.id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    ids = [row.id for row in page]
    flows = await _flow_counts(session, ids)
    recent = await _run_counts(session, ids, now - RUNS_WITHIN, now)
    return [
        ProjectRow(
            id=row.id,
            name=row.name,
            description=row.description,
            created=row.created,
            flows=flows.get(row.id, 0),
            recent_runs=recent.get(row.id, 0),
        )
        for row in page
    ]


async def _flow_counts(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Flow.project_id, func.count())
        .where(Flow.project_id.in_(list(ids)), Flow.archived.is_(False))
        .group_by(Flow.project_id)
    )
    return {project_id: int(n) for project_id, n in rows}


async def _run_counts(
    session: AsyncSession, ids: Sequence[uuid.UUID], since: dt.datetime, until: dt.datetime
) -> dict[uuid.UUID, int]:
    """Runs scheduled in the window, as the dashboard counts them for the same link."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Flow.project_id, func.count())
        .select_from(FlowRun)
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(
            Flow.project_id.in_(list(ids)),
            FlowRun.scheduled_start_time.between(since, until),
        )
        .group_by(Flow.project_id)
    )
    return {project_id: int(n) for project_id, n in rows}
