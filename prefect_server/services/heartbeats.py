"""What lazarus and the zombie killer share: the stale-heartbeat cutoff, the flow-group
opt-outs, the run-log entries they write, and working through candidates in chunks."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, not_
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.engine import Database
from prefect_server.database.models import FlowGroup
from prefect_server.orchestration import logs
from prefect_server.utilities.clock import utcnow

logger = logging.getLogger(__name__)

# Runs handled per transaction: commits (a WAL flush each on PostgreSQL) are shared by
# this many runs, while the row locks taken for a chunk are held only briefly.
CHUNK_SIZE = 100
# Chunks are disjoint sets of runs, so several can be in flight on separate connections:
# the database works on one while Python prepares the next.
CONCURRENT_CHUNKS = 4


def cutoff(timeout_seconds: float) -> dt.datetime:
    """Heartbeats at or before this instant are stale."""
    return utcnow() - dt.timedelta(seconds=timeout_seconds)


def not_disabled(session: AsyncSession, *flags: str) -> list[ColumnElement[bool]]:
    """The flow group does not set any of ``flags`` to false (no flow group: not disabled)."""
    return [
        not_(func.coalesce(dialect_of(session).json_flag_is_false(FlowGroup.settings, flag), False))
        for flag in flags
    ]


def log_entry(
    name: str, level: str, message: str, flow_run_id: Any, task_run_id: Any = None
) -> dict[str, Any]:
    return {
        "flow_run_id": flow_run_id,
        "task_run_id": task_run_id,
        "name": name,
        "level": level,
        "message": message,
        "timestamp": utcnow().isoformat(),
    }


async def write_logs(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """The run logs explaining a chunk's state changes, in the same transaction."""
    if entries:
        await logs.write_run_logs(session, entries)


async def for_each_chunk(
    db: Database,
    query: Callable[[AsyncSession], Select[Any]],
    handle: Callable[[AsyncSession, Sequence[Any]], Awaitable[int]],
    *,
    batch_size: int,
) -> int:
    """Page through ``query`` (at most ``batch_size`` rows a page) and ``handle`` the rows
    in chunks, one transaction each; returns the sum of what ``handle`` reported.

    ``handle`` re-checks its rows under their row locks, so a stale page does no harm.
    Handled rows leave the candidate set, so the query is simply asked again; rows seen
    before are not handled twice in one pass, and a page with nothing new ends it. A
    chunk that fails is retried row by row, so one bad run cannot hold up the others.
    """
    seen: set[Any] = set()
    handled = 0
    slots = asyncio.Semaphore(CONCURRENT_CHUNKS)

    async def one(chunk: Sequence[Any]) -> int:
        async with slots:
            return await _handle_chunk(db, handle, chunk)

    while True:
        async with db.session() as session:
            rows: Sequence[Any] = (await session.execute(query(session).limit(batch_size))).all()
        fresh = [row for row in rows if row.id not in seen]
        seen.update(row.id for row in fresh)
        chunks = [fresh[start : start + CHUNK_SIZE] for start in range(0, len(fresh), CHUNK_SIZE)]
        handled += sum(await asyncio.gather(*(one(chunk) for chunk in chunks)))
        if not fresh or len(rows) < batch_size:
            return handled


async def _handle_chunk(
    db: Database,
    handle: Callable[[AsyncSession, Sequence[Any]], Awaitable[int]],
    chunk: Sequence[Any],
) -> int:
    try:
        async with db.transaction() as session:
            return await handle(session, chunk)
    except Exception:
        if len(chunk) == 1:
            logger.exception("Could not handle run %s.", chunk[0].id)
            return 0
    handled = 0
    for row in chunk:
        handled += await _handle_chunk(db, handle, [row])
    return handled
