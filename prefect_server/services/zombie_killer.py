"""The zombie killer (spec §4): runs whose process stopped heartbeating.

A Running task run whose flow run has not sent a heartbeat for the timeout is retried
(while the flow run is Running and the task has retries left) or failed; a Cancelling
flow run that stopped heartbeating is failed. Each candidate is re-checked under its
row lock, so a heartbeat that arrives between the query and the write wins.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowGroup, FlowRun, Task, TaskRun, TaskRunState
from prefect_server.orchestration.errors import APIError
from prefect_server.orchestration.states import set_flow_run_state, set_task_run_state, utcnow
from prefect_server.services.heartbeats import cutoff, for_each_candidate, not_disabled, write_log
from prefect_server.settings import Settings

logger = logging.getLogger("prefect-server.ZombieKiller")

BATCH_SIZE = 5000
FLOW_RUN_MESSAGE = "No heartbeat detected from the flow run; marking the run as failed."


async def run_once(db: Database, settings: Settings) -> int:
    """One pass: zombie task runs first, then zombie Cancelling flow runs; how many were handled."""
    stale = cutoff(settings.services.zombie_killer.heartbeat_timeout_seconds)
    task_runs = await for_each_candidate(
        db,
        lambda session: _zombie_task_runs(session, stale),
        lambda session, row: _reap_task_run(session, row, stale),
        batch_size=BATCH_SIZE,
    )
    if task_runs:
        logger.info("Addressed %d zombie task runs.", task_runs)
    flow_runs = await for_each_candidate(
        db,
        lambda session: _zombie_flow_runs(session, stale),
        lambda session, row: _reap_flow_run(session, row, stale),
        batch_size=BATCH_SIZE,
    )
    if flow_runs:
        logger.info("Addressed %d zombie flow runs.", flow_runs)
    return task_runs + flow_runs


def _zombie_task_runs(session: AsyncSession, stale: dt.datetime) -> Select[Any]:
    return (
        select(TaskRun.id)
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


async def _reap_task_run(session: AsyncSession, candidate: Any, stale: dt.datetime) -> bool:
    locked = dialect.for_update(
        session,
        select(
            TaskRun.id,
            TaskRun.name,
            TaskRun.state,
            TaskRun.flow_run_id,
            Task.max_retries,
            Task.retry_delay,
        )
        .join(Task, Task.id == TaskRun.task_id)
        .where(TaskRun.id == candidate.id),
    )
    run = (await session.execute(locked)).one_or_none()
    if run is None or run.state != "Running":
        return False
    flow_run = (
        await session.execute(
            select(FlowRun.state, FlowRun.heartbeat).where(FlowRun.id == run.flow_run_id)
        )
    ).one()
    if flow_run.heartbeat is None or flow_run.heartbeat > stale:
        return False
    retries = await session.scalar(
        select(func.count())
        .select_from(TaskRunState)
        .where(TaskRunState.task_run_id == run.id, TaskRunState.state == "Retrying")
    )
    max_retries = run.max_retries or 0
    if flow_run.state == "Running" and (retries or 0) < max_retries:
        attempt = (retries or 0) + 1
        # Server 1's text, missing space after "run." included: clients and users match it.
        message = (
            "No heartbeat detected from the remote task; retrying the run."
            f"This will be retry {attempt} of {max_retries}."
        )
        start = utcnow() + (run.retry_delay or dt.timedelta(0))
        state = {
            "type": "Retrying",
            "message": message,
            "run_count": attempt,
            "start_time": start.isoformat(),
        }
    else:
        message = (
            "No heartbeat detected from the remote task; marking the "
            f"task run {run.id} ({run.name}) as failed."
        )
        state = {"type": "Failed", "message": message}
    try:
        await set_task_run_state(session, run.id, state)
    except APIError as exc:
        logger.error("Could not update zombie task run %s: %s", run.id, exc)
        return False
    await write_log(
        session,
        name="prefect-server.ZombieKiller.TaskRun",
        level="ERROR",
        message=message,
        flow_run_id=run.flow_run_id,
        task_run_id=run.id,
    )
    return True


async def _reap_flow_run(session: AsyncSession, candidate: Any, stale: dt.datetime) -> bool:
    locked = dialect.for_update(
        session,
        select(FlowRun.state, FlowRun.heartbeat).where(FlowRun.id == candidate.id),
    )
    run = (await session.execute(locked)).one_or_none()
    if run is None or run.state != "Cancelling" or run.heartbeat is None or run.heartbeat > stale:
        return False
    try:
        await set_flow_run_state(
            session, candidate.id, {"type": "Failed", "message": FLOW_RUN_MESSAGE}
        )
    except APIError as exc:
        logger.error("Could not update zombie flow run %s: %s", candidate.id, exc)
        return False
    await write_log(
        session,
        name="prefect-server.ZombieKiller.FlowRun",
        level="ERROR",
        message=FLOW_RUN_MESSAGE,
        flow_run_id=candidate.id,
    )
    return True
