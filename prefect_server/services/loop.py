"""Running a service pass on a timer, at most one pass at a time across replicas.

Several server processes may share one PostgreSQL database. Each pass runs under an
advisory lock named after its service, so when two replicas tick together one of them
runs the pass and the other skips it. The lock is an economy, not the guarantee: the
passes are idempotent (the scheduler relies on the unique idempotency key, the killers
re-check every run under its row lock), so an unlucky overlap creates no duplicate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from prefect_server.database.engine import Database
from prefect_server.observability import metrics
from prefect_server.settings import Settings

RunOnce = Callable[[Database, Settings], Awaitable[int]]

# Ticks fall on multiples of loop_seconds counted from here, the same instants in every
# replica, so the replicas try the lock together and one pass runs per tick.
TICK_ORIGIN = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)

logger = logging.getLogger(__name__)

# Passes running now, so that shutdown can let them finish (APScheduler's shutdown would
# cancel them mid-pass).
_running: set[asyncio.Task[None]] = set()


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for the service ``name``."""
    digest = hashlib.blake2b(f"prefect-server:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def run_exclusively(
    db: Database, settings: Settings, name: str, run_once: RunOnce
) -> int | None:
    """One pass of the service, or None when another process is running it right now."""
    async with db.dialect.advisory_lock(db.engine, lock_key(name)) as acquired:
        if not acquired:
            logger.debug("Skipped a %s pass: another process is running it.", name)
            return None
        return await run_once(db, settings)


async def tick(
    db: Database, settings: Settings, name: str, run_once: RunOnce, local: asyncio.Lock
) -> None:
    """One scheduled pass; a failing pass is logged and the next tick tries again."""
    if local.locked():
        # The pass at start-up is still running when the first tick comes.
        return
    task = asyncio.current_task()
    if task is not None:
        _running.add(task)
    async with local:
        started = time.monotonic()
        try:
            handled = await run_exclusively(db, settings, name, run_once)
        except Exception:
            metrics.service_failed(name)
            logger.exception("The %s pass failed.", name)
        else:
            if handled is not None:
                metrics.service_pass(name, time.monotonic() - started, handled)
        finally:
            _running.discard(task)  # type: ignore[arg-type]


async def wait_for_passes(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for the passes running now; cancel the rest (they
    are idempotent and their transactions roll back). True when all finished."""
    pending = {task for task in _running if not task.done()}
    if not pending:
        return True
    _, still_running = await asyncio.wait(pending, timeout=timeout)
    for task in still_running:
        task.cancel()
    return not still_running


def add_service(
    scheduler: AsyncIOScheduler,
    db: Database,
    settings: Settings,
    name: str,
    run_once: RunOnce,
    loop_seconds: float,
) -> None:
    """Run ``run_once`` now and then on every tick (never two passes at once here)."""
    if loop_seconds <= 0:
        raise ValueError(f"The {name} service needs a positive loop_seconds, got {loop_seconds}.")
    args = (db, settings, name, run_once, asyncio.Lock())
    scheduler.add_job(
        tick, "date", args=args, id=f"{name}-at-start", name=name, misfire_grace_time=None
    )
    scheduler.add_job(
        tick,
        "interval",
        seconds=loop_seconds,
        start_date=TICK_ORIGIN,
        args=args,
        id=name,
        name=name,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
