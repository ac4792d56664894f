"""What lazarus and the zombie killer share: the stale-heartbeat cutoff, the flow-group
opt-outs, the run-log entries they write, and paging through candidates."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, not_
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.engine import Database
from prefect_server.database.models import FlowGroup
from prefect_server.orchestration import logs
from prefect_server.orchestration.states import utcnow


def cutoff(timeout_seconds: float) -> dt.datetime:
    """Heartbeats at or before this instant are stale."""
    return utcnow() - dt.timedelta(seconds=timeout_seconds)


def not_disabled(session: AsyncSession, *flags: str) -> list[ColumnElement[bool]]:
    """The flow group does not set any of ``flags`` to false (no flow group: not disabled)."""
    return [
        not_(func.coalesce(dialect.json_flag_is_false(session, FlowGroup.settings, flag), False))
        for flag in flags
    ]


async def write_log(
    session: AsyncSession,
    *,
    name: str,
    level: str,
    message: str,
    flow_run_id: uuid.UUID,
    task_run_id: uuid.UUID | None = None,
) -> None:
    """One run log, written in the transaction of the state change it explains."""
    await logs.write_run_logs(
        session,
        [
            {
                "flow_run_id": flow_run_id,
                "task_run_id": task_run_id,
                "name": name,
                "level": level,
                "message": message,
                "timestamp": utcnow().isoformat(),
            }
        ],
    )


async def for_each_candidate(
    db: Database,
    query: Callable[[AsyncSession], Select[Any]],
    handle: Callable[[AsyncSession, Any], Awaitable[bool]],
    *,
    batch_size: int,
) -> int:
    """Page through ``query`` (bounded by ``batch_size``) and ``handle`` each row in a
    transaction of its own; returns how many rows ``handle`` reported as handled.

    Handled rows leave the candidate set, so the query is simply asked again; rows seen
    before are not handled twice in one pass, and a page that brings nothing new ends it.
    """
    seen: set[Any] = set()
    handled = 0
    while True:
        async with db.session() as session:
            rows: Sequence[Any] = (await session.execute(query(session).limit(batch_size))).all()
        fresh = [row for row in rows if row.id not in seen]
        if not fresh:
            return handled
        for row in fresh:
            seen.add(row.id)
            async with db.transaction() as session:
                if await handle(session, row):
                    handled += 1
        if len(rows) < batch_size:
            return handled
