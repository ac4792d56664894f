"""Towel as in-process jobs: the scheduler, lazarus and the zombie killer."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from prefect_server.database.engine import Database
from prefect_server.settings import Settings


def register_services(scheduler: AsyncIOScheduler, db: Database, settings: Settings) -> None:
    """Add every enabled service to the scheduler as an interval job."""
