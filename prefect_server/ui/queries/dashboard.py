"""The dashboard's numbers: counts, run history, what runs, what is late, what failed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import FlowRun
from prefect_server.orchestration.state_types import SCHEDULED_STATES
from prefect_server.ui.queries import runs
from prefect_server.ui.queries.runs import RunRow

WINDOWS = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
}
BUCKETS = 24
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Agents poll every 10 s: a run this far past its start time has been missed.
LATE_AFTER = dt.timedelta(seconds=30)
LIST_LIMIT = 10


@dataclass(frozen=True)
class Scope:
    """The runs a dashboard looks at: a project (or all) and a time window ending now."""

    project_id: uuid.UUID | None
    window: str
    now: dt.datetime

    @property
    def width(self) -> dt.timedelta:
        """One bucket of the history chart."""
        return WINDOWS[self.window] / BUCKETS

    @property
    def since(self) -> dt.datetime:
        """The window's start, on a multiple of the bucket width: the buckets (and the
        counts) keep their edges from one refresh to the next, so an unchanged chart is
        an unchanged fragment (a 304) until runs change or the next bucket begins."""
        start = self.now - WINDOWS[self.window]
        return start - (start - EPOCH) % self.width

    def in_window(self) -> ColumnElement[bool]:
        return FlowRun.scheduled_start_time.between(self.since, self.now)


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime
    end: dt.datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def state_counts(session: AsyncSession, scope: Scope) -> dict[str, int]:
    stmt = runs.where(
        select(FlowRun.state, func.count()).group_by(FlowRun.state),
        scope.in_window(),
        runs.in_project(scope.project_id),
    )
    return {state or "None": int(n) for state, n in await session.execute(stmt)}


async def history(session: AsyncSession, scope: Scope) -> list[Bucket]:
    """Runs per time bucket by state, counted in the database (one row per bucket and
    state): BUCKETS whole buckets and the one now is in."""
    width = scope.width
    starts = [scope.since + width * i for i in range(BUCKETS + 1)]
    bucket = case(
        *((FlowRun.scheduled_start_time < start + width, i) for i, start in enumerate(starts)),
        else_=BUCKETS,
    ).label("bucket")
    stmt = runs.where(
        select(bucket, FlowRun.state, func.count()).group_by(bucket, FlowRun.state),
        scope.in_window(),
        runs.in_project(scope.project_id),
    )
    counts: list[dict[str, int]] = [{} for _ in starts]
    for index, state, n in await session.execute(stmt):
        counts[int(index)][state or "None"] = int(n)
    return [Bucket(start, start + width, c) for start, c in zip(starts, counts, strict=True)]


async def in_progress(session: AsyncSession, scope: Scope) -> tuple[list[RunRow], int]:
    condition = FlowRun.state.in_(runs.ACTIVE_STATES)
    project = runs.in_project(scope.project_id)
    rows = await runs.fetch(
        session,
        runs.where(runs.run_rows(), condition, project)
        .order_by(FlowRun.start_time.desc().nulls_last(), FlowRun.id)
        .limit(LIST_LIMIT * 2),
    )
    return rows, await runs.count(session, condition, project)


async def late(session: AsyncSession, scope: Scope) -> tuple[list[RunRow], int]:
    condition = FlowRun.state.in_(sorted(SCHEDULED_STATES)) & (
        FlowRun.state_start_time < scope.now - LATE_AFTER
    )
    project = runs.in_project(scope.project_id)
    rows = await runs.fetch(
        session,
        runs.where(runs.run_rows(), condition, project)
        .order_by(FlowRun.state_start_time, FlowRun.id)
        .limit(LIST_LIMIT),
    )
    return rows, await runs.count(session, condition, project)


async def upcoming(session: AsyncSession, scope: Scope) -> list[RunRow]:
    condition = (FlowRun.state == "Scheduled") & (FlowRun.scheduled_start_time > scope.now)
    return await runs.fetch(
        session,
        runs.where(runs.run_rows(), condition, runs.in_project(scope.project_id))
        .order_by(FlowRun.scheduled_start_time, FlowRun.id)
        .limit(LIST_LIMIT),
    )


async def failures(session: AsyncSession, scope: Scope) -> list[RunRow]:
    condition = FlowRun.state.in_(runs.FAILED_STATES)
    return await runs.fetch(
        session,
        runs.where(runs.run_rows(), condition, scope.in_window(), runs.in_project(scope.project_id))
        .order_by(FlowRun.scheduled_start_time.desc(), FlowRun.id)
        .limit(LIST_LIMIT),
    )
