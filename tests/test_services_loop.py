"""The service loop: registration from the settings, the per-pass locks, failures."""

from __future__ import annotations

import asyncio
import logging

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from towel_util import with_services

from prefect_server.database.engine import Database
from prefect_server.services import loop, register_services
from prefect_server.settings import Settings


def _job_ids(scheduler: AsyncIOScheduler) -> set[str]:
    return {job.id for job in scheduler.get_jobs()}


def test_every_enabled_service_gets_a_tick_and_a_start_up_pass(
    db: Database, settings: Settings
) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_services(scheduler, db, settings)
    names = {"scheduler", "lazarus", "zombie_killer"}
    assert _job_ids(scheduler) == names | {f"{name}-at-start" for name in names}
    ticks = {
        job.id: job.trigger.interval.total_seconds()
        for job in scheduler.get_jobs()
        if job.id in names
    }
    assert ticks == {"scheduler": 150, "lazarus": 600, "zombie_killer": 120}


def test_disabled_services_are_not_registered(db: Database, settings: Settings) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_services(
        scheduler,
        db,
        with_services(settings, lazarus={"enabled": False}, zombie_killer={"enabled": False}),
    )
    assert _job_ids(scheduler) == {"scheduler", "scheduler-at-start"}


def test_loop_seconds_must_be_positive(db: Database, settings: Settings) -> None:
    with pytest.raises(ValueError, match="positive loop_seconds, got 0"):
        register_services(
            AsyncIOScheduler(timezone="UTC"),
            db,
            with_services(settings, scheduler={"loop_seconds": 0}),
        )


def test_lock_keys_are_stable_and_distinct() -> None:
    keys = {loop.lock_key(name) for name in ("scheduler", "lazarus", "zombie_killer")}
    assert len(keys) == 3
    assert loop.lock_key("scheduler") == loop.lock_key("scheduler")
    assert all(-(2**63) <= key < 2**63 for key in keys)


async def test_a_failing_pass_is_logged_and_the_loop_goes_on(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    async def broken(db: Database, settings: Settings) -> int:
        calls.append(1)
        raise RuntimeError("boom")

    lock = asyncio.Lock()
    with caplog.at_level(logging.ERROR, logger="prefect_server.services.loop"):
        await loop.tick(db, settings, "broken", broken, lock)
        await loop.tick(db, settings, "broken", broken, lock)
    assert len(calls) == 2
    assert caplog.messages == ["The broken pass failed."] * 2


async def test_a_tick_is_skipped_while_the_previous_pass_runs(
    db: Database, settings: Settings
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls = []

    async def slow(db: Database, settings: Settings) -> int:
        calls.append(1)
        started.set()
        await release.wait()
        return 0

    lock = asyncio.Lock()
    first = asyncio.ensure_future(loop.tick(db, settings, "slow", slow, lock))
    await started.wait()
    await loop.tick(db, settings, "slow", slow, lock)
    release.set()
    await first
    assert len(calls) == 1
