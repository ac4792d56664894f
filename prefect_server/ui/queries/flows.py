"""Flows as a person sees them: flow groups, each shown through its current version.

The current version of a group is its newest unarchived flow (the newest archived one
when every version is archived), picked by one window function so that a list page
is one query however many versions the groups have.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Edge, Flow, FlowGroup, FlowRun, Project, Task
from prefect_server.ui.pages.common import Paging
from prefect_server.ui.queries import runs

LAST_RUNS = 10
# Versions of the listed flows whose runs make the marks (SQLite joins at most 500 SELECTs).
MARKED_VERSIONS = 200
MAX_VERSIONS = 50
MAX_TASKS = 1000
MAX_EDGES = 5000


@dataclass(frozen=True)
class RunMark:
    id: uuid.UUID
    name: str | None
    state: str | None
    scheduled_start_time: dt.datetime


@dataclass
class FlowRow:
    flow_group_id: uuid.UUID
    flow_id: uuid.UUID
    name: str
    project_id: uuid.UUID
    project_name: str
    version: int | None
    archived: bool
    is_schedule_active: bool
    has_schedule: bool
    next_run: dt.datetime | None = None
    last_runs: list[RunMark] = field(default_factory=list)


def _current_versions() -> Any:
    """Every flow with its rank in its group: 1 is the group's current version."""
    rank = (
        func.row_number()
        .over(partition_by=Flow.flow_group_id, order_by=(Flow.archived, Flow.version.desc()))
        .label("rank")
    )
    return select(Flow.id, Flow.flow_group_id, rank).subquery("ranked")


def _listed(q: str | None, project_id: uuid.UUID | None, archived: bool) -> Any:
    ranked = _current_versions()
    stmt = (
        select(
            Flow.flow_group_id,
            Flow.id.label("flow_id"),
            Flow.name,
            Flow.project_id,
            Project.name.label("project_name"),
            Flow.version,
            Flow.archived,
            Flow.is_schedule_active,
            ((Flow.schedule.is_not(None)) | (FlowGroup.schedule.is_not(None))).label(
                "has_schedule"
            ),
        )
        .join(ranked, ranked.c.id == Flow.id)
        .join(Project, Project.id == Flow.project_id)
        .join(FlowGroup, FlowGroup.id == Flow.flow_group_id)
        .where(ranked.c.rank == 1)
    )
    conditions: list[ColumnElement[bool]] = []
    if q:
        conditions.append(Flow.name.icontains(q, autoescape=True))
    if project_id is not None:
        conditions.append(Flow.project_id == project_id)
    if not archived:
        conditions.append(Flow.archived.is_(False))
    return stmt.where(*conditions)


async def list_flows(
    session: AsyncSession,
    paging: Paging,
    *,
    q: str | None = None,
    project_id: uuid.UUID | None = None,
    archived: bool = False,
    now: dt.datetime,
) -> tuple[list[FlowRow], int]:
    """One page of flow groups by name, with their next run and last runs; and the total."""
    listed = _listed(q, project_id, archived)
    total = int(await session.scalar(select(func.count()).select_from(listed.subquery())) or 0)
    page = listed.order_by(func.lower(Flow.name), Flow.flow_group_id)
    rows = [
        FlowRow(**row._mapping)
        for row in await session.execute(page.limit(paging.size).offset(paging.offset))
    ]
    by_group = {row.flow_group_id: row for row in rows}
    if by_group:
        for group_id, when in await _next_runs(session, list(by_group), now):
            by_group[group_id].next_run = when
        for group_id, mark in await _last_runs(session, list(by_group), now):
            by_group[group_id].last_runs.append(mark)
    return rows, total


async def _next_runs(
    session: AsyncSession, group_ids: list[uuid.UUID], now: dt.datetime
) -> list[tuple[uuid.UUID, dt.datetime]]:
    stmt = (
        select(Flow.flow_group_id, func.min(FlowRun.scheduled_start_time))
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(
            Flow.flow_group_id.in_(group_ids),
            FlowRun.state == "Scheduled",
            FlowRun.scheduled_start_time > now,
        )
        .group_by(Flow.flow_group_id)
    )
    return [(group_id, when) for group_id, when in await session.execute(stmt)]


async def _last_runs(
    session: AsyncSession, group_ids: list[uuid.UUID], now: dt.datetime
) -> list[tuple[uuid.UUID, RunMark]]:
    """The last LAST_RUNS runs due by now of each group, oldest first: one query for all.

    One small index range per flow version (``ix_flow_run_flow_id_scheduled_start_time``,
    newest first, LAST_RUNS rows each), glued with UNION ALL: its cost does not grow with
    a flow's history, where ranking every run of the page's flows did.
    """
    versions = await session.execute(
        select(Flow.id, Flow.flow_group_id)
        .where(Flow.flow_group_id.in_(group_ids))
        .order_by(Flow.version.desc())
        .limit(MARKED_VERSIONS)
    )
    group_of = {flow_id: group_id for flow_id, group_id in versions}
    if not group_of:
        return []
    parts = [
        select(
            FlowRun.flow_id, FlowRun.id, FlowRun.name, FlowRun.state, FlowRun.scheduled_start_time
        )
        .where(FlowRun.flow_id == flow_id, FlowRun.scheduled_start_time <= now)
        .order_by(FlowRun.scheduled_start_time.desc())
        .limit(LAST_RUNS)
        .subquery()
        for flow_id in group_of
    ]
    stmt = union_all(*(select(part) for part in parts))
    newest: dict[uuid.UUID, list[Any]] = {}
    for row in await session.execute(stmt):
        newest.setdefault(group_of[row.flow_id], []).append(row)
    marks = []
    for group_id, found in newest.items():
        found.sort(key=lambda r: r.scheduled_start_time, reverse=True)
        for r in reversed(found[:LAST_RUNS]):
            marks.append((group_id, RunMark(r.id, r.name, r.state, r.scheduled_start_time)))
    return marks


async def flow_group(session: AsyncSession, group_id: uuid.UUID) -> FlowGroup | None:
    return await session.get(FlowGroup, group_id)


async def flow_version(
    session: AsyncSession, group_id: uuid.UUID, version: int | None
) -> tuple[Flow, str] | None:
    """The group's flow of that version (default: the current one) and its project's name."""
    stmt = (
        select(Flow, Project.name)
        .join(Project, Project.id == Flow.project_id)
        .where(Flow.flow_group_id == group_id)
    )
    if version is not None:
        stmt = stmt.where(Flow.version == version)
    row = (
        await session.execute(stmt.order_by(Flow.archived, Flow.version.desc()).limit(1))
    ).first()
    return None if row is None else (row[0], row[1])


async def current_flow(session: AsyncSession, group_id: uuid.UUID) -> Flow | None:
    found = await flow_version(session, group_id, None)
    return None if found is None else found[0]


async def versions(
    session: AsyncSession, group_id: uuid.UUID, paging: Paging
) -> tuple[list[Any], int]:
    """A page of the group's versions, newest first (a flow registered by every deploy
    has hundreds), and how many there are."""
    of_group = Flow.flow_group_id == group_id
    stmt = (
        select(Flow.id, Flow.version, Flow.created, Flow.archived)
        .where(of_group)
        .order_by(Flow.version.desc(), Flow.id)
        .offset(paging.offset)
        .limit(paging.size)
    )
    found = list(await session.execute(stmt))
    count = select(func.count()).select_from(Flow).where(of_group)
    return found, await paging.total(session, len(found), count)


async def tasks(session: AsyncSession, flow_id: uuid.UUID) -> tuple[list[Task], int]:
    total = int(
        await session.scalar(select(func.count()).select_from(Task).where(Task.flow_id == flow_id))
        or 0
    )
    stmt = select(Task).where(Task.flow_id == flow_id).order_by(Task.name, Task.slug)
    return list(await session.scalars(stmt.limit(MAX_TASKS))), total


async def edges(session: AsyncSession, flow_id: uuid.UUID) -> list[Any]:
    stmt = select(Edge.upstream_task_id, Edge.downstream_task_id, Edge.mapped, Edge.key)
    return list(await session.execute(stmt.where(Edge.flow_id == flow_id).limit(MAX_EDGES)))


def group_run_conditions(
    group_id: uuid.UUID, state: str | None, q: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        FlowRun.flow_id.in_(select(Flow.id).where(Flow.flow_group_id == group_id))
    ]
    if state:
        conditions.append(FlowRun.state == state)
    if q:
        conditions.append(FlowRun.name.icontains(q, autoescape=True))
    return conditions


async def group_runs(
    session: AsyncSession,
    group_id: uuid.UUID,
    paging: Paging,
    *,
    state: str | None = None,
    q: str | None = None,
) -> tuple[list[runs.RunRow], int]:
    """Runs of every version of the group, newest scheduled first; and how many match."""
    conditions = group_run_conditions(group_id, state, q)
    stmt = runs.where(runs.run_rows(), *conditions).order_by(
        FlowRun.scheduled_start_time.desc(), FlowRun.id
    )
    rows = await runs.fetch(session, stmt.limit(paging.size).offset(paging.offset))
    return rows, await runs.count(session, *conditions, past=paging.offset + paging.size)


async def upcoming(session: AsyncSession, group_id: uuid.UUID, now: dt.datetime) -> list[Any]:
    """The next few Scheduled runs already created for the group."""
    conditions = group_run_conditions(group_id, "Scheduled", None)
    stmt = runs.where(runs.run_rows(), *conditions, FlowRun.scheduled_start_time > now)
    return await runs.fetch(session, stmt.order_by(FlowRun.scheduled_start_time).limit(5))


async def run_name(session: AsyncSession, run_id: uuid.UUID) -> str | None:
    return await session.scalar(select(FlowRun.name).where(FlowRun.id == run_id))
