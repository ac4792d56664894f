"""Lazarus (Server 1's ``src/prefect_server/services/towel/lazarus.py``): flow runs whose process
died before their tasks started or after
they finished.

A Running, Submitted or Queued flow run whose heartbeat is older than the timeout and that has
no task run waiting or running is rescheduled (Scheduled now, so the run queue hands it
to an agent again) until it has been resurrected ``resurrection_attempt_limit`` times;
then it is failed. Flow groups that disable heartbeats or lazarus are left alone. Each
candidate is re-checked under its row lock before anything is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowGroup, FlowRun, TaskRun
from prefect_server.orchestration.flow_run_states import set_flow_run_states
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

BATCH_SIZE = 500
# Queued: a flow-run process waiting for a flow-label slot retries (and so heartbeats)
# every cloud.queue_interval; one that stopped has died, and its run must start again.
RESURRECTABLE_STATES = ("Running", "Submitted", "Queued")
# A task run in one of these is still (or about to be) worked on by the flow-run process.
ACTIVE_TASK_RUN_STATES = ("Scheduled", "Paused", "Resume", "Retrying", "Running", "Cancelling")
RESCHEDULED_MESSAGE = "Rescheduled by a Lazarus process."
LOG_NAME = "prefect-server.Lazarus.FlowRun"


async def run_once(db: Database, settings: Settings) -> int:
    """One pass; returns how many flow runs were rescheduled (failed ones are not counted)."""
    config = settings.services.lazarus
    stale = cutoff(config.heartbeat_timeout_seconds)
    limit = config.resurrection_attempt_limit
    rescheduled = await for_each_chunk(
        db,
        lambda session: _candidates(session, stale),
        lambda session, rows: _resurrect(session, rows, stale, limit),
        batch_size=BATCH_SIZE,
    )
    if rescheduled:
        logger.info("Rescheduled %d flow runs.", rescheduled)
    return rescheduled


def _no_active_task_run() -> Any:
    return ~exists().where(
        TaskRun.flow_run_id == FlowRun.id, TaskRun.state.in_(ACTIVE_TASK_RUN_STATES)
    )


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


async def _resurrect(
    session: AsyncSession, rows: Sequence[Any], stale: dt.datetime, limit: int
) -> int:
    still_dead = dialect_of(session).for_update(
        select(FlowRun.id, FlowRun.times_resurrected)
        .where(
            FlowRun.id.in_([row.id for row in rows]),
            FlowRun.state.in_(RESURRECTABLE_STATES),
            FlowRun.heartbeat <= stale,
            _no_active_task_run(),
        )
        .order_by(FlowRun.id),
    )
    failed_message = (
        f"A Lazarus process attempted to reschedule this run {limit} times without success. "
        "Marking as failed."
    )
    changes: list[tuple[Any, dict[str, Any]]] = []
    entries = []
    rescheduled: list[Any] = []
    for run_id, times_resurrected in (await session.execute(still_dead)).all():
        attempts = times_resurrected or 0
        if attempts < limit:
            message = f"{RESCHEDULED_MESSAGE} This is attempt {attempts + 1}."
            state = {
                "type": "Scheduled",
                "message": RESCHEDULED_MESSAGE,
                "start_time": utcnow().isoformat(),
            }
            entries.append(log_entry(LOG_NAME, "INFO", message, run_id))
            rescheduled.append(run_id)
        else:
            state = {"type": "Failed", "message": failed_message}
            entries.append(log_entry(LOG_NAME, "ERROR", failed_message, run_id))
        changes.append((run_id, state))
    # All or nothing: a refused change fails the chunk, which is then retried run by run.
    await set_flow_run_states(session, changes)
    if rescheduled:
        await session.execute(
            update(FlowRun)
            .where(FlowRun.id.in_(rescheduled))
            .values(times_resurrected=func.coalesce(FlowRun.times_resurrected, 0) + 1)
        )
    await write_logs(session, entries)
    return len(rescheduled)
