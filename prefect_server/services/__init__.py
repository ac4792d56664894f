"""Towel as in-process jobs: the scheduler, lazarus, the zombie killer, and retention.

Each service is a module with ``async def run_once(db, settings) -> int`` (one pass,
what tests call); ``register_services`` puts the enabled ones on the app's scheduler.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from prefect_server.database.engine import Database
from prefect_server.services.loop import add_service
from prefect_server.settings import Settings


def register_services(scheduler_: AsyncIOScheduler, db: Database, settings: Settings) -> None:
    """Add every enabled service to the scheduler as an interval job."""
    # Imported here: the service modules reach into the domain layer, which tests of one
    # service need not load in full.
    from prefect_server.services import lazarus, retention, scheduler, zombie_killer

    # APScheduler logs every job run at INFO: with a 1 s loop that drowns the server log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    services = settings.services
    if services.scheduler.enabled:
        add_service(
            scheduler_,
            db,
            settings,
            "scheduler",
            scheduler.run_once,
            services.scheduler.loop_seconds,
        )
    if services.lazarus.enabled:
        add_service(
            scheduler_, db, settings, "lazarus", lazarus.run_once, services.lazarus.loop_seconds
        )
    if services.zombie_killer.enabled:
        add_service(
            scheduler_,
            db,
            settings,
            "zombie_killer",
            zombie_killer.run_once,
            services.zombie_killer.loop_seconds,
        )
    # With both periods at 0 (the default) a pass would have nothing to do.
    if retention.is_active(services.retention):
        add_service(
            scheduler_,
            db,
            settings,
            "retention",
            retention.run_once,
            services.retention.loop_seconds,
        )
