"""The zombie killer: runs whose process stopped heartbeating (Server 1's
``src/prefect_server/services/towel/zombie_killer.py``).

A Running task run whose flow run has not sent a heartbeat for the timeout is retried
(while the flow run is Running and the task has retries left) or failed; a Cancelling
flow run that stopped heartbeating is failed. Candidates are re-checked under their row
locks, so a heartbeat or state that arrives between the query and the write wins.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowGroup, FlowRun, Task, TaskRun, TaskRunState
from prefect_server.orchestration.errors import APIError
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.orchestration.task_run_states import set_task_run_states
from prefect_server.services.heartbeats import (
    cutoff,
    for_each_chunk,
    log_entry,
    not_disabled,
    write_logs,
)
from prefect_server.settings import Settings
from prefect_server.utilities.clock import utcnow

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
TASK_RUN_LOG = "prefect-server.ZombieKiller.TaskRun"
FLOW_RUN_LOG = "prefect-server.ZombieKiller.FlowRun"
FLOW_RUN_MESSAGE = "No heartbeat detected from the flow run; marking the run as failed."


async def run_once(db: Database, settings: Settings) -> int:
    """One pass: zombie task runs first, then zombie Cancelling flow runs; how many were handled."""
    stale = cutoff(settings.services.zombie_killer.heartbeat_timeout_seconds)
    task_runs = await for_each_chunk(
        db,
        lambda session: _zombie_task_runs(session, stale),
        lambda session, rows: _reap_task_runs(session, rows, stale),
        batch_size=BATCH_SIZE,
    )
    if task_runs:
        logger.info("Addressed %d zombie task runs.", task_runs)
    flow_runs = await for_each_chunk(
        db,
        lambda session: _zombie_flow_runs(session, stale),
        lambda session, rows: _reap_flow_runs(session, rows, stale),
        batch_size=BATCH_SIZE,
    )
    if flow_runs:
        logger.info("Addressed %d zombie flow runs.", flow_runs)
    return task_runs + flow_runs


def _zombie_task_runs(session: AsyncSession, stale: dt.datetime) -> Select[Any]:
    retries = (
        select(func.count())
        .where(TaskRunState.task_run_id == TaskRun.id, TaskRunState.state == "Retrying")
        .scalar_subquery()
    )
    return (
        select(
            TaskRun.id,
            TaskRun.name,
            TaskRun.flow_run_id,
            Task.max_retries,
            Task.retry_delay,
            retries.label("retries"),
        )
        .join(FlowRun, FlowRun.id == TaskRun.flow_run_id)
        .join(Task, Task.id == TaskRun.task_id)
        .join(Flow, Flow.id == Task.flow_id)
        .outerjoin(FlowGroup, FlowGroup.id == Flow.flow_group_id)
        .where(
            TaskRun.state == "Running",
            FlowRun.heartbeat <= stale,
            *not_disabled(session, "heartbeat_enabled"),
        )
        .order_by(TaskRun.updated.desc())
    )


def _zombie_flow_runs(session: AsyncSession, stale: dt.datetime) -> Select[Any]:
    return (
        select(FlowRun.id)
        .join(Flow, Flow.id == FlowRun.flow_id)
        .outerjoin(FlowGroup, FlowGroup.id == Flow.flow_group_id)
        .where(
            FlowRun.state == "Cancelling",
            FlowRun.heartbeat <= stale,
            *not_disabled(session, "heartbeat_enabled"),
        )
        .order_by(FlowRun.updated.desc())
    )


def _task_run_state(row: Any, flow_state: str | None) -> dict[str, Any]:
    max_retries = row.max_retries or 0
    if flow_state == "Running" and row.retries < max_retries:
        attempt = row.retries + 1
        # Server 1's text, missing space after "run." included: users search for it.
        message = (
            "No heartbeat detected from the remote task; retrying the run."
            f"This will be retry {attempt} of {max_retries}."
        )
        start = utcnow() + (row.retry_delay or dt.timedelta(0))
        return {
            "type": "Retrying",
            "message": message,
            "run_count": attempt,
            "start_time": start.isoformat(),
        }
    message = (
        "No heartbeat detected from the remote task; marking the "
        f"task run {row.id} ({row.name}) as failed."
    )
    return {"type": "Failed", "message": message}


async def _reap_task_runs(session: AsyncSession, rows: Sequence[Any], stale: dt.datetime) -> int:
    stale_flow_runs = select(FlowRun.id).where(FlowRun.heartbeat <= stale)
    still_zombies = dialect_of(session).for_update(
        select(TaskRun.id)
        .where(
            TaskRun.id.in_([row.id for row in rows]),
            TaskRun.state == "Running",
            TaskRun.flow_run_id.in_(stale_flow_runs),
        )
        .order_by(TaskRun.id),
    )
    locked = set((await session.scalars(still_zombies)).all())
    flow_run_ids = {row.flow_run_id for row in rows if row.id in locked}
    flow_states = dict(
        (
            await session.execute(
                select(FlowRun.id, FlowRun.state).where(FlowRun.id.in_(flow_run_ids))
            )
        ).all()
    )
    zombies = [row for row in rows if row.id in locked]
    changes = [(row.id, _task_run_state(row, flow_states.get(row.flow_run_id))) for row in zombies]
    # All or nothing: a refused change fails the chunk, which is then retried run by run.
    await set_task_run_states(session, changes)
    entries = [
        log_entry(TASK_RUN_LOG, "ERROR", state["message"], row.flow_run_id, row.id)
        for row, (_, state) in zip(zombies, changes, strict=True)
    ]
    await write_logs(session, entries)
    return len(changes)


async def _reap_flow_runs(session: AsyncSession, rows: Sequence[Any], stale: dt.datetime) -> int:
    still_zombies = dialect_of(session).for_update(
        select(FlowRun.id).where(
            FlowRun.id.in_([row.id for row in rows]),
            FlowRun.state == "Cancelling",
            FlowRun.heartbeat <= stale,
        ),
    )
    entries = []
    for run_id in (await session.scalars(still_zombies)).all():
        try:
            await set_flow_run_state(
                session, run_id, {"type": "Failed", "message": FLOW_RUN_MESSAGE}
            )
        except APIError as exc:
            logger.error("Could not update zombie flow run %s: %s", run_id, exc)
            continue
        entries.append(log_entry(FLOW_RUN_LOG, "ERROR", FLOW_RUN_MESSAGE, run_id))
    await write_logs(session, entries)
    return len(entries)
