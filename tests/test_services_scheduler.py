"""Scheduling against a real database: schedule_flow_runs (Server 1's ``src/prefect_server/api/flows.py``)
and the scheduler pass."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from towel_util import interval_clock, make_flow, next_interval_times, schedule, with_services

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, FlowRunState, TaskRun, TaskRunState
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.scheduling import schedule_flow_runs
from prefect_server.services import loop, scheduler
from prefect_server.settings import Settings

HOURLY = schedule(interval_clock(3600))
UTC = dt.timezone.utc


def _now() -> dt.datetime:
    return dt.datetime.now(UTC)


async def _schedule(db: Database, flow_id: Any, max_runs: int = 10) -> list[uuid.UUID]:
    async with db.transaction() as session:
        return await schedule_flow_runs(session, flow_id, max_runs)


async def _runs(db: Database, flow_id: uuid.UUID) -> list[FlowRun]:
    async with db.session() as session:
        stmt = select(FlowRun).where(FlowRun.flow_id == flow_id)
        return list((await session.scalars(stmt.order_by(FlowRun.scheduled_start_time))).all())


def _expected(
    seconds: int, n: int, before: dt.datetime, after: dt.datetime
) -> list[list[dt.datetime]]:
    # The call's "now" lies between before and after; near an interval boundary either is right.
    return [next_interval_times(seconds, n, before), next_interval_times(seconds, n, after)]


async def test_schedules_the_next_ten_events_as_scheduled_auto_runs(db: Database) -> None:
    flow_id = await make_flow(db, flow_schedule=HOURLY, tasks=2)
    before = _now()
    ids = await _schedule(db, flow_id)
    after = _now()

    runs = await _runs(db, flow_id)
    assert len(ids) == 10 and set(ids) == {run.id for run in runs}
    times = [run.scheduled_start_time for run in runs]
    assert times in _expected(3600, 10, before, after)
    for run in runs:
        assert run.auto_scheduled is True
        assert run.idempotency_key == f"auto-scheduled:{run.scheduled_start_time.isoformat()}"
        assert run.idempotency_key.endswith("+00:00")
        assert (run.state, run.version, run.state_message) == (
            "Scheduled",
            1,
            "Flow run scheduled.",
        )
        assert run.state_start_time == run.scheduled_start_time
        assert run.name and run.parameters == {} and run.labels == []
    async with db.session() as session:
        states = (
            await session.execute(
                select(FlowRunState.flow_run_id, FlowRunState.state, FlowRunState.version).where(
                    FlowRunState.flow_run_id.in_(ids)
                )
            )
        ).all()
        task_runs = (
            await session.execute(
                select(TaskRun.flow_run_id, TaskRun.state, TaskRun.map_index).where(
                    TaskRun.flow_run_id.in_(ids)
                )
            )
        ).all()
        task_states = await session.scalar(
            select(func.count())
            .select_from(TaskRunState)
            .join(TaskRun, TaskRun.id == TaskRunState.task_run_id)
            .where(TaskRun.flow_run_id.in_(ids))
        )
    assert sorted(states) == sorted((run_id, "Scheduled", 1) for run_id in ids)
    assert len(task_runs) == 20 and {(s, m) for _, s, m in task_runs} == {("Pending", -1)}
    assert task_states == 20


async def test_rescheduling_creates_nothing_new(db: Database) -> None:
    flow_id = await make_flow(db, flow_schedule=HOURLY)
    first = await _schedule(db, flow_id)
    # Every event is at or before the newest auto-scheduled run: nothing to attempt.
    assert await _schedule(db, flow_id) == []
    assert {run.id for run in await _runs(db, flow_id)} == set(first)


async def test_deleted_runs_come_back_with_the_same_keys(db: Database) -> None:
    flow_id = await make_flow(db, flow_schedule=HOURLY)
    await _schedule(db, flow_id)
    keys = {run.idempotency_key for run in await _runs(db, flow_id)}
    async with db.transaction() as session:
        await session.execute(delete(FlowRun).where(FlowRun.flow_id == flow_id))
    await _schedule(db, flow_id)
    assert {run.idempotency_key for run in await _runs(db, flow_id)} == keys


async def test_only_events_after_the_newest_auto_run_are_added(db: Database) -> None:
    flow_id = await make_flow(db, flow_schedule=HOURLY)
    await _schedule(db, flow_id, max_runs=3)
    assert len(await _runs(db, flow_id)) == 3
    added = await _schedule(db, flow_id, max_runs=10)
    runs = await _runs(db, flow_id)
    assert len(added) == 7 and len(runs) == 10
    assert len({run.scheduled_start_time for run in runs}) == 10


async def test_the_flow_group_schedule_wins(db: Database) -> None:
    flow_id = await make_flow(
        db, flow_schedule=HOURLY, group_schedule=schedule(interval_clock(2 * 3600))
    )
    before = _now()
    await _schedule(db, flow_id, max_runs=5)
    after = _now()
    times = [run.scheduled_start_time for run in await _runs(db, flow_id)]
    assert times in _expected(2 * 3600, 5, before, after)


async def test_group_schedule_alone_is_enough(db: Database) -> None:
    flow_id = await make_flow(db, group_schedule=HOURLY)
    assert len(await _schedule(db, flow_id, max_runs=4)) == 4


@pytest.mark.parametrize(
    "flow",
    [
        {"flow_schedule": HOURLY, "active": False},
        {"flow_schedule": HOURLY, "archived": True},
        {"flow_schedule": None, "active": True},
    ],
    ids=["inactive", "archived", "no-schedule"],
)
async def test_unschedulable_flows_get_no_runs(db: Database, flow: dict[str, Any]) -> None:
    flow_id = await make_flow(db, **flow)
    assert await _schedule(db, flow_id) == []
    assert await _runs(db, flow_id) == []


async def test_missing_and_unknown_flow_ids(db: Database) -> None:
    with pytest.raises(ValidationFailed, match="^Invalid flow id.$"):
        await _schedule(db, None)
    assert await _schedule(db, uuid.uuid4()) == []
    assert await _schedule(db, "not-a-uuid") == []


async def test_an_unreadable_schedule_schedules_nothing(db: Database) -> None:
    flow_id = await make_flow(db, flow_schedule={"type": "Schedule", "clocks": [{"type": "Nope"}]})
    assert await _schedule(db, flow_id) == []
    assert await _runs(db, flow_id) == []


def _md5_key(start: dt.datetime, parameters: dict[str, Any], labels: list[str] | None) -> str:
    # Server 1's recipe (schedule_flow_runs in src/prefect_server/api/flows.py): md5 of the sorted
    # characters of both JSON texts.
    text = str(sorted(json.dumps(parameters))) + str(sorted(json.dumps(labels)))
    return f"auto-scheduled:{start.isoformat()}:{hashlib.md5(text.encode()).hexdigest()}"


async def test_clocks_with_parameters_or_labels_get_their_own_runs_at_the_same_time(
    db: Database,
) -> None:
    flow_id = await make_flow(
        db,
        flow_schedule=schedule(
            interval_clock(3600),
            interval_clock(3600, parameter_defaults={"x": 1}),
            interval_clock(3600, labels=["blue"]),
        ),
        parameters=[{"name": "x", "default": "a", "required": False}],
        group_labels=["grey"],
    )
    ids = await _schedule(db, flow_id, max_runs=6)
    assert len(ids) == 6
    runs = await _runs(db, flow_id)
    by_kind: dict[str, list[FlowRun]] = {"plain": [], "x": [], "blue": []}
    for run in runs:
        kind = "x" if run.parameters == {"x": 1} else "blue" if run.labels == ["blue"] else "plain"
        by_kind[kind].append(run)
    assert [len(v) for v in by_kind.values()] == [2, 2, 2]
    for run in by_kind["plain"]:
        assert run.idempotency_key == f"auto-scheduled:{run.scheduled_start_time.isoformat()}"
        assert run.parameters == {"x": "a"} and run.labels == ["grey"]
    for run in by_kind["x"]:
        assert run.idempotency_key == _md5_key(run.scheduled_start_time, {"x": 1}, None)
    for run in by_kind["blue"]:
        assert run.idempotency_key == _md5_key(run.scheduled_start_time, {}, ["blue"])
        assert run.parameters == {"x": "a"}

    # Those events are attempted again on every pass, and the unique key refuses them.
    again = await _schedule(db, flow_id, max_runs=6)
    assert set(again) <= set(ids) and len(await _runs(db, flow_id)) == 6


async def test_runs_that_cannot_be_created_are_skipped(db: Database) -> None:
    flow_id = await make_flow(
        db, flow_schedule=HOURLY, parameters=[{"name": "x", "required": True, "default": None}]
    )
    assert await _schedule(db, flow_id) == []
    assert await _runs(db, flow_id) == []


async def test_concurrent_schedulers_create_each_run_once(db: Database) -> None:
    flow_ids = [await make_flow(db, flow_schedule=HOURLY) for _ in range(3)]

    async def one() -> None:
        async with db.transaction() as session:
            from prefect_server.orchestration.scheduling import schedule_flows

            await schedule_flows(session, flow_ids, 10)

    await asyncio.gather(*(one() for _ in range(4)))
    for flow_id in flow_ids:
        runs = await _runs(db, flow_id)
        assert len(runs) == 10 and len({run.idempotency_key for run in runs}) == 10


async def test_scheduler_pass_pages_through_active_flows(
    db: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(scheduler, "PAGE_SIZE", 2)
    active = [await make_flow(db, flow_schedule=HOURLY) for _ in range(5)]
    inactive = await make_flow(db, flow_schedule=HOURLY, active=False)
    archived = await make_flow(db, flow_schedule=HOURLY, archived=True)

    with caplog.at_level(logging.INFO, logger="prefect_server.services.scheduler"):
        assert await scheduler.run_once(db, settings) == 50
    assert "Scheduled 50 flow runs." in caplog.messages
    for flow_id in active:
        assert len(await _runs(db, flow_id)) == 10
    assert await _runs(db, inactive) == [] and await _runs(db, archived) == []

    # Warm: nothing to do.
    assert await scheduler.run_once(db, settings) == 0

    # The newest run is deleted: the next pass puts it back, the older ones stay as they are.
    runs = await _runs(db, active[0])
    async with db.transaction() as session:
        await session.execute(delete(FlowRun).where(FlowRun.id == runs[-1].id))
    assert await scheduler.run_once(db, settings) == 1
    again = await _runs(db, active[0])
    assert [run.idempotency_key for run in again] == [run.idempotency_key for run in runs]
    assert {run.id for run in again[:-1]} == {run.id for run in runs[:-1]}


async def test_a_failing_flow_does_not_stop_the_pass(db: Database, settings: Settings) -> None:
    good = await make_flow(db, flow_schedule=HOURLY)
    broken = await make_flow(db, flow_schedule={"type": "Schedule", "clocks": [{"type": "Nope"}]})
    assert await scheduler.run_once(db, settings) == 10
    assert len(await _runs(db, good)) == 10 and await _runs(db, broken) == []


async def test_max_runs_comes_from_the_settings(db: Database, settings: Settings) -> None:
    flow_id = await make_flow(db, flow_schedule=HOURLY)
    three = with_services(settings, scheduler={"max_scheduled_runs_per_flow": 3})
    assert await scheduler.run_once(db, three) == 3
    assert len(await _runs(db, flow_id)) == 3


@pytest.mark.postgres
async def test_a_pass_is_skipped_while_another_process_holds_the_lock(
    db: Database, settings: Settings
) -> None:
    from sqlalchemy import text

    flow_id = await make_flow(db, flow_schedule=HOURLY)
    other = Database.from_settings(settings)
    try:
        async with other.engine.connect() as connection:
            key = loop.lock_key("scheduler")
            assert await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            assert await loop.run_exclusively(db, settings, "scheduler", scheduler.run_once) is None
            assert await _runs(db, flow_id) == []
            await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        await other.dispose()
    assert await loop.run_exclusively(db, settings, "scheduler", scheduler.run_once) == 10
