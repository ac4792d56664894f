"""The zombie killer against a real database: stale flow-run heartbeats end Running task
runs (retry or fail) and Cancelling flow runs."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from towel_util import age_heartbeat, make_flow, make_run, set_task_state, with_services

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, Log, TaskRun, TaskRunState
from prefect_server.services import heartbeats, zombie_killer
from prefect_server.settings import Settings

STALE = 3600  # seconds; the default timeout is 600


async def _running_task_run(db: Database, **flow: object) -> tuple[uuid.UUID, uuid.UUID]:
    flow_id = await make_flow(db, **flow)  # type: ignore[arg-type]
    run_id = await make_run(db, flow_id, "Running")
    async with db.session() as session:
        task_run_id = await session.scalar(select(TaskRun.id).where(TaskRun.flow_run_id == run_id))
    assert task_run_id is not None
    await set_task_state(db, task_run_id, "Running")
    return run_id, task_run_id


async def _task_run(db: Database, task_run_id: uuid.UUID) -> TaskRun:
    async with db.session() as session:
        run = await session.get(TaskRun, task_run_id)
    assert run is not None
    return run


async def _logs(db: Database, flow_run_id: uuid.UUID) -> list[Log]:
    async with db.session() as session:
        return list(
            (await session.scalars(select(Log).where(Log.flow_run_id == flow_run_id))).all()
        )


async def test_stale_task_run_without_retries_is_failed_with_log(
    db: Database, settings: Settings
) -> None:
    run_id, task_run_id = await _running_task_run(db)
    await age_heartbeat(db, run_id, STALE)

    assert await zombie_killer.run_once(db, settings) == 1

    task_run = await _task_run(db, task_run_id)
    assert task_run.state == "Failed"
    expected = (
        "No heartbeat detected from the remote task; marking the "
        f"task run {task_run_id} (None) as failed."
    )
    assert task_run.state_message == expected
    [log] = await _logs(db, run_id)
    assert (log.task_run_id, log.level, log.name, log.message) == (
        task_run_id,
        "ERROR",
        "prefect-server.ZombieKiller.TaskRun",
        expected,
    )
    # The flow run itself is left to lazarus.
    async with db.session() as session:
        assert await session.scalar(select(FlowRun.state).where(FlowRun.id == run_id)) == "Running"


async def test_stale_task_run_with_retries_left_is_retried_after_its_delay(
    db: Database, settings: Settings
) -> None:
    run_id, task_run_id = await _running_task_run(
        db, max_retries=2, retry_delay=dt.timedelta(minutes=5)
    )
    await age_heartbeat(db, run_id, STALE)
    before = dt.datetime.now(dt.timezone.utc)

    assert await zombie_killer.run_once(db, settings) == 1

    task_run = await _task_run(db, task_run_id)
    assert task_run.state == "Retrying"
    # Server 1's text, with the missing space after "run.".
    assert task_run.state_message == (
        "No heartbeat detected from the remote task; retrying the run.This will be retry 1 of 2."
    )
    assert task_run.serialized_state["run_count"] == 1
    assert task_run.state_start_time is not None
    assert task_run.state_start_time >= before + dt.timedelta(minutes=5)
    [log] = await _logs(db, run_id)
    assert log.name == "prefect-server.ZombieKiller.TaskRun" and log.level == "ERROR"


async def test_retries_are_counted_from_the_retrying_states(
    db: Database, settings: Settings
) -> None:
    run_id, task_run_id = await _running_task_run(db, max_retries=1)
    await age_heartbeat(db, run_id, STALE)
    assert await zombie_killer.run_once(db, settings) == 1
    assert (await _task_run(db, task_run_id)).state == "Retrying"

    # The retry starts, and its process dies too: no retry is left.
    await set_task_state(db, task_run_id, "Running")
    await age_heartbeat(db, run_id, STALE)
    assert await zombie_killer.run_once(db, settings) == 1

    task_run = await _task_run(db, task_run_id)
    assert task_run.state == "Failed"
    async with db.session() as session:
        retrying = await session.scalar(
            select(func.count())
            .select_from(TaskRunState)
            .where(TaskRunState.task_run_id == task_run_id, TaskRunState.state == "Retrying")
        )
    assert retrying == 1


async def test_task_run_of_a_flow_run_that_is_not_running_is_failed_despite_retries(
    db: Database, settings: Settings
) -> None:
    run_id, task_run_id = await _running_task_run(db, max_retries=3)
    async with db.transaction() as session:
        from prefect_server.orchestration.flow_run_states import set_flow_run_state

        await set_flow_run_state(session, run_id, {"type": "Cancelling"})
    await age_heartbeat(db, run_id, STALE)

    # The task run is failed; then the Cancelling flow run is failed too.
    assert await zombie_killer.run_once(db, settings) == 2

    assert (await _task_run(db, task_run_id)).state == "Failed"
    async with db.session() as session:
        flow_run = await session.get(FlowRun, run_id)
    assert flow_run is not None
    assert flow_run.state == "Failed"
    assert flow_run.state_message == zombie_killer.FLOW_RUN_MESSAGE
    names = sorted(log.name or "" for log in await _logs(db, run_id))
    assert names == ["prefect-server.ZombieKiller.FlowRun", "prefect-server.ZombieKiller.TaskRun"]


async def test_fresh_heartbeats_and_disabled_heartbeats_are_left_alone(
    db: Database, settings: Settings
) -> None:
    fresh_run, fresh_task_run = await _running_task_run(db)
    await age_heartbeat(db, fresh_run, 60)
    quiet_run, quiet_task_run = await _running_task_run(
        db, group_settings={"heartbeat_enabled": False}
    )
    await age_heartbeat(db, quiet_run, STALE)

    assert await zombie_killer.run_once(db, settings) == 0

    assert (await _task_run(db, fresh_task_run)).state == "Running"
    assert (await _task_run(db, quiet_task_run)).state == "Running"
    assert await _logs(db, fresh_run) == [] and await _logs(db, quiet_run) == []


async def test_timeout_comes_from_the_settings(db: Database, settings: Settings) -> None:
    run_id, task_run_id = await _running_task_run(db)
    await age_heartbeat(db, run_id, 120)
    assert await zombie_killer.run_once(db, settings) == 0

    short = with_services(settings, zombie_killer={"heartbeat_timeout_seconds": 60})
    assert await zombie_killer.run_once(db, short) == 1
    assert (await _task_run(db, task_run_id)).state == "Failed"


async def test_every_stale_task_run_is_handled_across_pages(
    db: Database, settings: Settings, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(zombie_killer, "BATCH_SIZE", 3)
    monkeypatch.setattr(heartbeats, "CHUNK_SIZE", 2)
    flow_id = await make_flow(db, tasks=5)
    run_id = await make_run(db, flow_id, "Running")
    async with db.session() as session:
        task_run_ids = list(
            (await session.scalars(select(TaskRun.id).where(TaskRun.flow_run_id == run_id))).all()
        )
    for task_run_id in task_run_ids:
        await set_task_state(db, task_run_id, "Running")
    await age_heartbeat(db, run_id, STALE)

    assert await zombie_killer.run_once(db, settings) == 5
    assert {(await _task_run(db, i)).state for i in task_run_ids} == {"Failed"}
