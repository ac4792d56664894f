"""The retention service: finished flow runs and logs older than their retention period go.

Both periods default to 0 (keep forever), and then the service is not registered at
all. Rows go in batches, one transaction each, so a pass never holds a long
transaction (or, on SQLite, the writer lock) and the API's writes slip in between; a
cap per pass leaves a large backlog, such as the first pass over years of history, to
the following passes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from prefect_server.database import dialect
from prefect_server.database.engine import Database
from prefect_server.orchestration import retention
from prefect_server.settings import RetentionSettings, Settings

logger = logging.getLogger(__name__)

# Each flow run takes its task runs, states, logs and artifacts with it (a mapped run
# can have thousands), so a flow-run batch is far smaller than a log batch.
FLOW_RUN_BATCH = 100
LOG_BATCH = 10_000
MAX_BATCHES_PER_PASS = 100

Delete = Callable[[dialect.Executor, dt.datetime, int], Awaitable[int]]


def is_active(config: RetentionSettings) -> bool:
    """Enabled, with at least one period that deletes something."""
    return config.enabled and (config.flow_run_days > 0 or config.log_days > 0)


async def run_once(
    db: Database,
    settings: Settings,
    *,
    flow_run_batch: int = FLOW_RUN_BATCH,
    log_batch: int = LOG_BATCH,
    max_batches: int = MAX_BATCHES_PER_PASS,
) -> int:
    """One pass; returns how many flow runs and logs it deleted (not counting the rows
    that went with the flow runs)."""
    config = settings.services.retention
    flow_runs = logs = 0
    # Flow runs first: their logs go with them, which leaves fewer for the log deletes.
    if config.flow_run_days > 0:
        before = retention.cutoff(config.flow_run_days)
        flow_runs = await _in_batches(
            db, retention.delete_finished_flow_runs, before, flow_run_batch, max_batches
        )
    if config.log_days > 0:
        before = retention.cutoff(config.log_days)
        logs = await _in_batches(db, retention.delete_logs, before, log_batch, max_batches)
    if flow_runs or logs:
        done = []
        if config.flow_run_days > 0:
            done.append(f"{flow_runs} finished flow runs older than {config.flow_run_days} days")
        if config.log_days > 0:
            done.append(f"{logs} logs older than {config.log_days} days")
        logger.info("Deleted %s.", " and ".join(done))
    return flow_runs + logs


async def _in_batches(
    db: Database, delete: Delete, before: dt.datetime, batch_size: int, max_batches: int
) -> int:
    if batch_size <= 0 or max_batches <= 0:
        raise ValueError(
            f"Retention batches need a positive size and count, got {batch_size} and {max_batches}."
        )
    deleted = 0
    for _ in range(max_batches):
        async with db.transaction() as session:
            batch = await delete(session, before, batch_size)
        deleted += batch
        if batch < batch_size:
            return deleted
    logger.debug("Reached the cap of %d batches; the next pass goes on.", max_batches)
    return deleted
