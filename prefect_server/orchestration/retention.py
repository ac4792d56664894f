"""Data retention: which finished flow runs and logs are past their period, and their deletes.

A deleted flow run takes its task runs, states, logs and artifacts with it through the
foreign keys' ON DELETE CASCADE (SQLite enforces them: the engine turns on
``PRAGMA foreign_keys``). Each delete removes at most ``limit`` rows picked by primary
key, so the caller decides how much one transaction holds.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, delete, func, select

from prefect_server.database import dialect
from prefect_server.database.models import FlowRun, Log
from prefect_server.orchestration.state_types import FINISHED_STATES
from prefect_server.utilities.clock import utcnow


def cutoff(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """Rows from before this instant are past a retention period of ``days``."""
    if days <= 0:
        # 0 means "keep forever": there is no instant to delete before.
        raise ValueError(f"A retention period is a positive number of days, got {days}.")
    return (now or utcnow()) - dt.timedelta(days=days)


def finished_before(before: dt.datetime) -> ColumnElement[bool]:
    """The flow run is finished and ended before ``before``.

    Some finished states set no end_time (Skipped, TriggerFailed, Finished itself…):
    such a run counts from its last change instead.
    """
    return and_(
        FlowRun.state.in_(FINISHED_STATES),
        func.coalesce(FlowRun.end_time, FlowRun.updated) < before,
    )


async def delete_finished_flow_runs(
    session: dialect.Executor, before: dt.datetime, limit: int
) -> int:
    """Delete up to ``limit`` flow runs that finished before ``before``; how many went."""
    old = finished_before(before)
    picked = select(FlowRun.id).where(old).limit(limit)
    # The condition is repeated on the deleted rows: a run restarted (set Scheduled)
    # after the pick is re-checked by PostgreSQL under its row lock and kept.
    stmt = delete(FlowRun).where(FlowRun.id.in_(picked), old)
    conn = await dialect.connection(session)
    return (await conn.execute(stmt)).rowcount


async def delete_logs(session: dialect.Executor, before: dt.datetime, limit: int) -> int:
    """Delete up to ``limit`` logs timestamped before ``before``, of live runs too."""
    picked = select(Log.id).where(Log.timestamp < before).limit(limit)
    stmt = delete(Log).where(Log.id.in_(picked))
    conn = await dialect.connection(session)
    return (await conn.execute(stmt)).rowcount
