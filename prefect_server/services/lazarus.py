"""Lazarus (spec §4): flow runs whose process died before their tasks started or after
they finished.

A Running or Submitted flow run whose heartbeat is older than the timeout and that has
no task run waiting or running is rescheduled (Scheduled now, so the run queue hands it
to an agent again) until it has been resurrected ``resurrection_attempt_limit`` times;
then it is failed. Flow groups that disable heartbeats or lazarus are left alone. Each
candidate is re-checked under its row lock before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import Select, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowGroup, FlowRun, TaskRun
from prefect_server.orchestration.errors import APIError
from prefect_server.orchestration.states import set_flow_run_state, utcnow
from prefect_server.services.heartbeats import cutoff, for_each_candidate, not_disabled, write_log
from prefect_server.settings import Settings

logger = logging.getLogger("prefect-server.Lazarus")

BATCH_SIZE = 500
RESURRECTABLE_STATES = ("Running", "Submitted")
# A task run in one of these is still (or about to be) worked on by the flow-run process.
ACTIVE_TASK_RUN_STATES = ("Scheduled", "Paused", "Resume", "Retrying", "Running", "Cancelling")
RESCHEDULED_MESSAGE = "Rescheduled by a Lazarus process."


async def run_once(db: Database, settings: Settings) -> int:
    """One pass; returns how many flow runs were rescheduled (failed ones are not counted)."""
    config = settings.services.lazarus
    stale = cutoff(config.heartbeat_timeout_seconds)
    limit = config.resurrection_attempt_limit
    rescheduled = await for_each_candidate(
        db,
        lambda session: _candidates(session, stale),
        lambda session, row: _resurrect(session, row, stale, limit),
        batch_size=BATCH_SIZE,
    )
    if rescheduled:
        logger.info("Rescheduled %d flow runs.", rescheduled)
    return rescheduled


def _no_active_task_run() -> Any:
    return ~exists().where(
        TaskRun.flow_run_id == FlowRun.id, TaskRun.state.in_(ACTIVE_TASK_RUN_STATES)
    )


async def _has_active_task_run(session: AsyncSession, flow_run_id: Any) -> bool:
    active = select(TaskRun.id).where(
        TaskRun.flow_run_id == flow_run_id, TaskRun.state.in_(ACTIVE_TASK_RUN_STATES)
    )
    return await session.scalar(active.limit(1)) is not None


def _candidates(session: AsyncSession, stale: dt.datetime) -> Select[Any]:
    return (
        select(FlowRun.id)
        .join(Flow, Flow.id == FlowRun.flow_id)
        .outerjoin(FlowGroup, FlowGroup.id == Flow.flow_group_id)
        .where(
            FlowRun.state.in_(RESURRECTABLE_STATES),
            FlowRun.heartbeat <= stale,
            _no_active_task_run(),
            *not_disabled(session, "heartbeat_enabled", "lazarus_enabled"),
        )
        .order_by(FlowRun.updated.asc())
    )


async def _resurrect(session: AsyncSession, candidate: Any, stale: dt.datetime, limit: int) -> bool:
    locked = dialect.for_update(
        session,
        select(FlowRun.state, FlowRun.heartbeat, FlowRun.times_resurrected).where(
            FlowRun.id == candidate.id
        ),
    )
    run = (await session.execute(locked)).one_or_none()
    if (
        run is None
        or run.state not in RESURRECTABLE_STATES
        or run.heartbeat is None
        or run.heartbeat > stale
        or await _has_active_task_run(session, candidate.id)
    ):
        return False
    attempts = run.times_resurrected or 0
    if attempts < limit:
        state = {
            "type": "Scheduled",
            "message": RESCHEDULED_MESSAGE,
            "start_time": utcnow().isoformat(),
        }
        level, message = "INFO", f"{RESCHEDULED_MESSAGE} This is attempt {attempts + 1}."
    else:
        message = (
            f"A Lazarus process attempted to reschedule this run {limit} times without success. "
            "Marking as failed."
        )
        state, level = {"type": "Failed", "message": message}, "ERROR"
    try:
        await set_flow_run_state(session, candidate.id, state)
    except APIError as exc:
        logger.error("Could not update flow run %s: %s", candidate.id, exc)
        return False
    if level == "INFO":
        await session.execute(
            update(FlowRun).where(FlowRun.id == candidate.id).values(times_resurrected=attempts + 1)
        )
    await write_log(
        session,
        name="prefect-server.Lazarus.FlowRun",
        level=level,
        message=message,
        flow_run_id=candidate.id,
    )
    return level == "INFO"
