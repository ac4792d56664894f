"""The end of the lifespan, after uvicorn stopped accepting connections and finished
the requests in flight: services stop between passes, cloud hooks under way get a
bounded moment, then the pool closes."""

from __future__ import annotations

import logging
import signal
import time

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from prefect_server.settings import Settings

logger = logging.getLogger(__name__)

# What is left of Kubernetes' grace period after the requests: the Deployment's
# terminationGracePeriodSeconds covers its preStop pause, graceful_shutdown_seconds and
# this (tests/test_deploy.py holds it to that).
MAX_DRAIN_SECONDS = 10.0


async def stop_background_work(scheduler: AsyncIOScheduler, settings: Settings) -> None:
    from prefect_server.orchestration import hook_delivery
    from prefect_server.services import loop

    started = time.monotonic()
    bound = min(MAX_DRAIN_SECONDS, settings.graceful_shutdown_seconds)
    if scheduler.running:
        # No new passes; the ones running finish (APScheduler's shutdown cancels them).
        scheduler.pause()
        if not await loop.wait_for_passes(bound / 2):
            logger.warning("Cancelled a service pass still running at shutdown.")
        scheduler.shutdown(wait=False)
    await hook_delivery.drain(max(0.0, bound - (time.monotonic() - started)))


def exit_zero_on_sigterm() -> None:
    """Make a SIGTERM that uvicorn handled end the process with status 0.

    uvicorn (0.29+) shuts down gracefully and then raises the signal again with the
    handler that was in place before it started; with the default one the process dies
    "killed by SIGTERM", which Kubernetes and systemd report as a failure. A SIGTERM
    before uvicorn took over exits at once, also with 0.
    """

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)
