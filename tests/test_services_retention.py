"""Retention against a real database: finished flow runs (with everything under them) and
logs older than their periods are deleted in batches; nothing else is, and by default
nothing at all."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select, update
from towel_util import make_flow, make_run, set_task_state, with_services

from prefect_server.database.engine import Database
from prefect_server.database.models import (
    Flow,
    FlowRun,
    FlowRunState,
    Log,
    Task,
    TaskRun,
    TaskRunArtifact,
    TaskRunState,
)
from prefect_server.orchestration import artifacts, logs
from prefect_server.orchestration import retention as domain
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.services import register_services, retention
from prefect_server.settings import Settings

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
UNFINISHED = ("Scheduled", "Submitted", "Running", "Cancelling", "Paused")


def _keep(settings: Settings, **retention_settings: Any) -> Settings:
    return with_services(settings, retention=retention_settings)


async def _run(db: Database, state: str, *, tasks: int = 1) -> uuid.UUID:
    flow_id = await make_flow(db, tasks=tasks)
    return await make_run(db, flow_id, state)


async def _age_run(db: Database, run_id: uuid.UUID, days: float, *, end: bool = True) -> None:
    """The run last changed (and, with ``end``, ended) ``days`` ago."""
    when = dt.datetime.now(UTC) - days * DAY
    values: dict[str, Any] = {"updated": when}
    if end:
        values["end_time"] = when
    async with db.transaction() as session:
        await session.execute(update(FlowRun).where(FlowRun.id == run_id).values(**values))


async def _write_logs(
    db: Database,
    run_id: uuid.UUID,
    days_ago: float,
    count: int = 1,
    task_run_id: uuid.UUID | None = None,
) -> None:
    timestamp = (dt.datetime.now(UTC) - days_ago * DAY).isoformat()
    entry = {"flow_run_id": run_id, "task_run_id": task_run_id, "timestamp": timestamp}
    async with db.transaction() as session:
        await logs.write_run_logs(session, [{**entry, "message": f"{i}"} for i in range(count)])


async def _task_run_ids(db: Database, run_id: uuid.UUID) -> list[uuid.UUID]:
    async with db.session() as session:
        return list(await session.scalars(select(TaskRun.id).where(TaskRun.flow_run_id == run_id)))


async def _count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def _rows_under(
    db: Database, run_id: uuid.UUID, task_run_ids: list[uuid.UUID]
) -> tuple[int, ...]:
    """(flow-run states, task runs, task-run states, artifacts, logs) of one flow run."""
    return (
        await _count(db, FlowRunState, FlowRunState.flow_run_id == run_id),
        await _count(db, TaskRun, TaskRun.flow_run_id == run_id),
        await _count(db, TaskRunState, TaskRunState.task_run_id.in_(task_run_ids)),
        await _count(db, TaskRunArtifact, TaskRunArtifact.task_run_id.in_(task_run_ids)),
        await _count(db, Log, Log.flow_run_id == run_id),
    )


async def _flow_run_ids(db: Database) -> set[uuid.UUID]:
    async with db.session() as session:
        return set(await session.scalars(select(FlowRun.id)))


async def test_by_default_nothing_is_deleted(db: Database, settings: Settings) -> None:
    run_id = await _run(db, "Success")
    await _age_run(db, run_id, 10_000)
    await _write_logs(db, run_id, 10_000, count=3)

    assert await retention.run_once(db, settings) == 0

    assert await _flow_run_ids(db) == {run_id}
    assert await _count(db, Log) == 3


async def test_an_old_finished_run_goes_with_everything_under_it(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    old = await _run(db, "Running", tasks=2)
    kept = await _run(db, "Running", tasks=2)
    for run_id in (old, kept):
        for task_run_id in await _task_run_ids(db, run_id):
            await set_task_state(db, task_run_id, "Running")
            await set_task_state(db, task_run_id, "Success")
            await _write_logs(db, run_id, 0, task_run_id=task_run_id)
            async with db.transaction() as session:
                await artifacts.create_task_run_artifact(
                    session, task_run_id=task_run_id, kind="markdown", data={"markdown": "#"}
                )
        await _write_logs(db, run_id, 0, count=2)
        async with db.transaction() as session:
            await set_flow_run_state(session, run_id, {"type": "Success"})
    await _age_run(db, old, 31)
    await _age_run(db, kept, 29)
    old_task_runs = await _task_run_ids(db, old)
    kept_task_runs = await _task_run_ids(db, kept)
    kept_rows = await _rows_under(db, kept, kept_task_runs)
    assert kept_rows == await _rows_under(db, old, old_task_runs) == (3, 2, 6, 2, 4)

    with caplog.at_level(logging.INFO, logger="prefect_server.services.retention"):
        assert await retention.run_once(db, _keep(settings, flow_run_days=30)) == 1

    assert await _flow_run_ids(db) == {kept}
    assert await _rows_under(db, old, old_task_runs) == (0, 0, 0, 0, 0)
    assert await _rows_under(db, kept, kept_task_runs) == kept_rows
    # Flows and tasks are not history: they stay.
    assert await _count(db, Flow) == 2 and await _count(db, Task) == 4
    assert [r.getMessage() for r in caplog.records] == [
        "Deleted 1 finished flow runs older than 30 days."
    ]


@pytest.mark.parametrize("state", ["Failed", "Cancelled", "TimedOut", "Cached"])
async def test_every_finished_state_counts(db: Database, settings: Settings, state: str) -> None:
    run_id = await _run(db, state)
    await _age_run(db, run_id, 8)
    assert await retention.run_once(db, _keep(settings, flow_run_days=7)) == 1
    assert await _flow_run_ids(db) == set()


async def test_unfinished_runs_are_kept_however_old(db: Database, settings: Settings) -> None:
    runs = set()
    for state in UNFINISHED:
        run_id = await _run(db, state)
        # An old end_time too: a finished run that was restarted keeps its end_time.
        await _age_run(db, run_id, 1000)
        runs.add(run_id)

    assert await retention.run_once(db, _keep(settings, flow_run_days=1)) == 0

    assert await _flow_run_ids(db) == runs


async def test_a_finished_run_without_end_time_counts_from_its_last_change(
    db: Database, settings: Settings
) -> None:
    old = await _run(db, "Skipped")
    recent = await _run(db, "Skipped")
    async with db.session() as session:
        assert await session.scalar(select(FlowRun.end_time).where(FlowRun.id == old)) is None
    await _age_run(db, old, 3, end=False)
    await _age_run(db, recent, 1, end=False)

    assert await retention.run_once(db, _keep(settings, flow_run_days=2)) == 1

    assert await _flow_run_ids(db) == {recent}


async def test_log_retention_deletes_old_logs_of_live_runs_too(
    db: Database, settings: Settings
) -> None:
    running = await _run(db, "Running")
    finished = await _run(db, "Success")
    for run_id in (running, finished):
        await _write_logs(db, run_id, 8, count=3)
        await _write_logs(db, run_id, 6, count=2)

    assert await retention.run_once(db, _keep(settings, log_days=7)) == 6

    assert await _flow_run_ids(db) == {running, finished}
    assert await _count(db, Log, Log.flow_run_id == running) == 2
    assert await _count(db, Log, Log.flow_run_id == finished) == 2
    cutoff = dt.datetime.now(UTC) - 7 * DAY
    assert await _count(db, Log, Log.timestamp < cutoff) == 0


async def test_both_periods_in_one_pass(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    old = await _run(db, "Success")
    live = await _run(db, "Running")
    await _age_run(db, old, 100)
    await _write_logs(db, old, 50, count=4)
    await _write_logs(db, live, 50, count=3)
    await _write_logs(db, live, 0, count=1)

    # The old run's logs go with it and are not counted; the live run's old logs are.
    with caplog.at_level(logging.INFO, logger="prefect_server.services.retention"):
        assert await retention.run_once(db, _keep(settings, flow_run_days=90, log_days=30)) == 4

    assert await _flow_run_ids(db) == {live}
    assert await _count(db, Log) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "Deleted 1 finished flow runs older than 90 days and 3 logs older than 30 days."
    ]


async def _finished_runs_aged(db: Database, count: int, days: float) -> uuid.UUID:
    """A flow with ``count`` successful runs that ended ``days`` ago; the flow's id."""
    flow_id = await make_flow(db)
    for _ in range(count):
        await _age_run(db, await make_run(db, flow_id, "Success"), days)
    return flow_id


async def test_more_rows_than_a_batch_are_deleted_in_several(
    db: Database, settings: Settings
) -> None:
    flow_id = await _finished_runs_aged(db, 5, days=10)
    live = await make_run(db, flow_id, "Running")
    await _write_logs(db, live, 10, count=25)
    config = _keep(settings, flow_run_days=1, log_days=1)

    assert await retention.run_once(db, config, flow_run_batch=2, log_batch=10) == 5 + 25

    assert await _flow_run_ids(db) == {live}
    assert await _count(db, Log) == 0


async def test_a_pass_stops_at_its_cap_and_the_next_one_goes_on(
    db: Database, settings: Settings
) -> None:
    await _finished_runs_aged(db, 5, days=10)
    config = _keep(settings, flow_run_days=1)

    assert await retention.run_once(db, config, flow_run_batch=2, max_batches=2) == 4
    assert await retention.run_once(db, config, flow_run_batch=2, max_batches=2) == 1
    assert await retention.run_once(db, config, flow_run_batch=2, max_batches=2) == 0
    assert await _flow_run_ids(db) == set()


async def test_bad_batch_sizes_are_refused(db: Database, settings: Settings) -> None:
    with pytest.raises(ValueError, match="positive size and count, got 0 and 100"):
        await retention.run_once(db, _keep(settings, log_days=1), log_batch=0)


def test_a_cutoff_needs_a_positive_period() -> None:
    now = dt.datetime(2024, 3, 10, tzinfo=UTC)
    assert domain.cutoff(7, now) == dt.datetime(2024, 3, 3, tzinfo=UTC)
    with pytest.raises(ValueError, match="positive number of days, got 0"):
        domain.cutoff(0, now)


def _jobs(db: Database, settings: Settings) -> dict[str, float | None]:
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_services(scheduler, db, settings)
    return {
        job.id: getattr(job.trigger, "interval", dt.timedelta(0)).total_seconds()
        for job in scheduler.get_jobs()
        if job.id.startswith("retention")
    }


def test_registered_when_enabled_with_a_period(db: Database, settings: Settings) -> None:
    assert _jobs(db, _keep(settings, log_days=14)) == {
        "retention": 3600.0,
        "retention-at-start": 0.0,
    }
    assert _jobs(db, _keep(settings, flow_run_days=90, loop_seconds=60)) == {
        "retention": 60.0,
        "retention-at-start": 0.0,
    }


def test_not_registered_when_disabled_or_keeping_everything(
    db: Database, settings: Settings
) -> None:
    assert _jobs(db, settings) == {}
    assert _jobs(db, _keep(settings, enabled=False, flow_run_days=90, log_days=14)) == {}
