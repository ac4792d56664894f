"""A run's state history as its page lists it (flow runs and task runs alike)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import FlowRunState, TaskRunState

HISTORY_LIMIT = 100


@dataclass(frozen=True)
class StateRow:
    timestamp: dt.datetime
    state: str
    message: str | None
    version: int | None


async def _history(
    session: AsyncSession, model: Any, run_column: Any, run_id: uuid.UUID, limit: int
) -> list[StateRow]:
    rows = await session.execute(
        select(model.timestamp, model.state, model.message, model.version)
        .where(run_column == run_id)
        .order_by(model.timestamp.desc(), model.version.desc())
        .limit(limit)
    )
    return [StateRow(**row._mapping) for row in rows]


async def flow_run_history(
    session: AsyncSession, run_id: uuid.UUID, limit: int = HISTORY_LIMIT
) -> list[StateRow]:
    """The newest ``limit`` states of a flow run, newest first."""
    return await _history(session, FlowRunState, FlowRunState.flow_run_id, run_id, limit)


async def task_run_history(
    session: AsyncSession, run_id: uuid.UUID, limit: int = HISTORY_LIMIT
) -> list[StateRow]:
    """The newest ``limit`` states of a task run, newest first."""
    return await _history(session, TaskRunState, TaskRunState.task_run_id, run_id, limit)
