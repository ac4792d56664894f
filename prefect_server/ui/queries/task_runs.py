"""Task runs for the flow-run page (one row per task) and the task-run page."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowRun, Task, TaskRun, TaskRunState
from prefect_server.ui.pages.common import Paging

TASKS_LIMIT = 200
CHILDREN_PREVIEW = 10


@dataclass
class Children:
    """What a mapped parent's children add up to."""

    counts: dict[str, int] = field(default_factory=dict)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    unfinished: bool = False
    # The first few children by map index, with their templated names; the rest are on
    # the parent's own page.
    first: list[TaskRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class TaskRow:
    id: uuid.UUID
    task_id: uuid.UUID
    task_name: str | None
    task_slug: str | None
    mapped: bool
    name: str | None
    map_index: int
    state: str | None
    state_message: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    retries: int = 0
    children: Children | None = None

    @property
    def label(self) -> str:
        return self.name or self.task_name or self.task_slug or str(self.id)[:8]


_TASK_COLUMNS = (
    TaskRun.id,
    TaskRun.task_id,
    Task.name.label("task_name"),
    Task.slug.label("task_slug"),
    Task.mapped,
    TaskRun.name,
    TaskRun.map_index,
    TaskRun.state,
    TaskRun.state_message,
    TaskRun.start_time,
    TaskRun.end_time,
)


async def task_rows(
    session: AsyncSession, flow_run_id: uuid.UUID, paging: Paging
) -> tuple[list[TaskRow], int]:
    """A page of the flow run's un-mapped task runs (one per task), their retries and
    mapped children: four queries at most whatever the number of tasks. Returns (rows,
    total)."""
    top = (TaskRun.flow_run_id == flow_run_id, TaskRun.map_index == -1)
    result = await session.execute(
        select(*_TASK_COLUMNS)
        .join(Task, Task.id == TaskRun.task_id)
        .where(*top)
        .order_by(TaskRun.start_time.is_(None), TaskRun.start_time, Task.slug, TaskRun.id)
        .offset(paging.offset)
        .limit(paging.size)
    )
    rows = [TaskRow(**row._mapping) for row in result]
    count = select(func.count()).select_from(TaskRun).where(*top)
    total = await paging.total(session, len(rows), count)
    if not rows:
        return rows, total
    retries = await session.execute(
        select(TaskRunState.task_run_id, func.count())
        .where(TaskRunState.task_run_id.in_([r.id for r in rows]), TaskRunState.state == "Retrying")
        .group_by(TaskRunState.task_run_id)
    )
    by_id = dict(retries.tuples().all())
    for row in rows:
        row.retries = int(by_id.get(row.id, 0))
    children = await children_by_task(session, flow_run_id)
    for row in rows:
        row.children = children.get(row.task_id)
    mapped = [r.task_id for r in rows if r.children]
    if mapped:
        # Map indexes run 0..n-1, so "the first few" is a range on the unique index
        # (flow_run_id, task_id, map_index): one query for every parent on the page.
        first = await session.execute(
            select(*_TASK_COLUMNS)
            .join(Task, Task.id == TaskRun.task_id)
            .where(
                TaskRun.flow_run_id == flow_run_id,
                TaskRun.task_id.in_(mapped),
                TaskRun.map_index >= 0,
                TaskRun.map_index < CHILDREN_PREVIEW,
            )
            .order_by(TaskRun.task_id, TaskRun.map_index)
        )
        for child in first:
            found = children[child.task_id]
            found.first.append(TaskRow(**child._mapping))
    return rows, total


async def children_by_task(
    session: AsyncSession, flow_run_id: uuid.UUID, task_id: uuid.UUID | None = None
) -> dict[uuid.UUID, Children]:
    """Mapped children's state counts and time span per task, in one grouped query."""
    stmt = (
        select(
            TaskRun.task_id,
            TaskRun.state,
            func.count(),
            func.min(TaskRun.start_time),
            func.max(TaskRun.end_time),
            func.count(TaskRun.start_time) - func.count(TaskRun.end_time),
        )
        .where(TaskRun.flow_run_id == flow_run_id, TaskRun.map_index >= 0)
        .group_by(TaskRun.task_id, TaskRun.state)
    )
    if task_id is not None:
        stmt = stmt.where(TaskRun.task_id == task_id)
    found: dict[uuid.UUID, Children] = {}
    for task, state, n, start, end, running in await session.execute(stmt):
        c = found.setdefault(task, Children())
        c.counts[state or "None"] = int(n)
        c.start = start if c.start is None or (start and start < c.start) else c.start
        c.end = end if c.end is None or (end and end > c.end) else c.end
        c.unfinished = c.unfinished or bool(running)
    return found


@dataclass(kw_only=True)
class TaskRunDetail(TaskRow):
    """A task run's row as its page shows it: the table's columns and where it runs."""

    cache_key: str | None
    version: int
    flow_run_id: uuid.UUID
    flow_run_name: str | None
    flow_run_state: str | None
    flow_name: str
    flow_group_id: uuid.UUID
    parent_id: uuid.UUID | None = None


async def task_run(session: AsyncSession, task_run_id: uuid.UUID) -> TaskRunDetail | None:
    stmt = (
        select(
            *_TASK_COLUMNS,
            TaskRun.cache_key,
            TaskRun.version,
            TaskRun.flow_run_id,
            FlowRun.name.label("flow_run_name"),
            FlowRun.state.label("flow_run_state"),
            Flow.name.label("flow_name"),
            Flow.flow_group_id,
        )
        .join(Task, Task.id == TaskRun.task_id)
        .join(FlowRun, FlowRun.id == TaskRun.flow_run_id)
        .join(Flow, Flow.id == FlowRun.flow_id)
        .where(TaskRun.id == task_run_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    parent = None
    if row.map_index >= 0:
        parent = await session.scalar(
            select(TaskRun.id).where(
                TaskRun.flow_run_id == row.flow_run_id,
                TaskRun.task_id == row.task_id,
                TaskRun.map_index == -1,
            )
        )
    return TaskRunDetail(**row._mapping, parent_id=parent)


async def children_page(
    session: AsyncSession, flow_run_id: uuid.UUID, task_id: uuid.UUID, paging: Paging
) -> list[TaskRow]:
    result = await session.execute(
        select(*_TASK_COLUMNS)
        .join(Task, Task.id == TaskRun.task_id)
        .where(
            TaskRun.flow_run_id == flow_run_id,
            TaskRun.task_id == task_id,
            TaskRun.map_index >= 0,
        )
        .order_by(TaskRun.map_index)
        .offset(paging.offset)
        .limit(paging.size)
    )
    return [TaskRow(**row._mapping) for row in result]
