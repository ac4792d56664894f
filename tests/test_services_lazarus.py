"""Lazarus against a real database: stale Running/Submitted flow runs without active task
runs are rescheduled until the attempt limit, then failed."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from towel_util import age_heartbeat, make_flow, make_run, set_task_state, with_services

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, FlowRunState, Log, TaskRun
from prefect_server.services import lazarus
from prefect_server.settings import Settings

STALE = 3600


async def _stale_run(db: Database, state: str = "Running", **flow: object) -> uuid.UUID:
    flow_id = await make_flow(db, **flow)  # type: ignore[arg-type]
    run_id = await make_run(db, flow_id, state)
    await age_heartbeat(db, run_id, STALE)
    return run_id


async def _run(db: Database, run_id: uuid.UUID) -> FlowRun:
    async with db.session() as session:
        run = await session.get(FlowRun, run_id)
    assert run is not None
    return run


async def _logs(db: Database, run_id: uuid.UUID) -> list[tuple[str | None, str | None, str | None]]:
    async with db.session() as session:
        rows = await session.execute(
            select(Log.level, Log.name, Log.message).where(Log.flow_run_id == run_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_stale_running_run_is_rescheduled_now(db: Database, settings: Settings) -> None:
    run_id = await _stale_run(db)

    assert await lazarus.run_once(db, settings) == 1

    run = await _run(db, run_id)
    assert run.state == "Scheduled"
    assert run.state_message == "Rescheduled by a Lazarus process."
    assert run.times_resurrected == 1
    assert run.state_start_time is not None and run.state_start_time <= run.updated
    assert await _logs(db, run_id) == [
        (
            "INFO",
            "prefect-server.Lazarus.FlowRun",
            "Rescheduled by a Lazarus process. This is attempt 1.",
        )
    ]
    async with db.session() as session:
        states = (
            await session.scalars(
                select(FlowRunState.state)
                .where(FlowRunState.flow_run_id == run_id)
                .order_by(FlowRunState.version)
            )
        ).all()
    assert list(states) == ["Scheduled", "Running", "Scheduled"]


async def test_stale_submitted_run_is_rescheduled(db: Database, settings: Settings) -> None:
    run_id = await _stale_run(db, "Submitted")
    assert await lazarus.run_once(db, settings) == 1
    assert (await _run(db, run_id)).state == "Scheduled"


async def test_attempts_count_up_to_the_limit_then_the_run_fails(
    db: Database, settings: Settings
) -> None:
    run_id = await _stale_run(db)
    for attempt in (1, 2, 3):
        async with db.transaction() as session:
            from prefect_server.orchestration.flow_run_states import set_flow_run_state

            await set_flow_run_state(session, run_id, {"type": "Running"})
        await age_heartbeat(db, run_id, STALE)
        assert await lazarus.run_once(db, settings) == 1
        assert (await _run(db, run_id)).times_resurrected == attempt

    async with db.transaction() as session:
        await set_flow_run_state(session, run_id, {"type": "Running"})
    await age_heartbeat(db, run_id, STALE)
    # A failure is not counted as a resurrection.
    assert await lazarus.run_once(db, settings) == 0

    run = await _run(db, run_id)
    message = (
        "A Lazarus process attempted to reschedule this run 3 times without success. "
        "Marking as failed."
    )
    assert (run.state, run.state_message, run.times_resurrected) == ("Failed", message, 3)
    assert (await _logs(db, run_id))[-1] == ("ERROR", "prefect-server.Lazarus.FlowRun", message)
    assert [entry[2] for entry in await _logs(db, run_id)][:3] == [
        f"Rescheduled by a Lazarus process. This is attempt {n}." for n in (1, 2, 3)
    ]


async def test_runs_with_active_task_runs_are_left_to_the_zombie_killer(
    db: Database, settings: Settings
) -> None:
    runs = []
    for task_state in ("Running", "Retrying", "Scheduled"):
        run_id = await _stale_run(db)
        async with db.session() as session:
            task_run_id = await session.scalar(
                select(TaskRun.id).where(TaskRun.flow_run_id == run_id)
            )
        assert task_run_id is not None
        await set_task_state(db, task_run_id, task_state)
        await age_heartbeat(db, run_id, STALE)
        runs.append(run_id)
    finished = await _stale_run(db)
    async with db.session() as session:
        task_run_id = await session.scalar(
            select(TaskRun.id).where(TaskRun.flow_run_id == finished)
        )
    assert task_run_id is not None
    await set_task_state(db, task_run_id, "Success")

    assert await lazarus.run_once(db, settings) == 1

    assert [(await _run(db, run_id)).state for run_id in runs] == ["Running"] * 3
    assert (await _run(db, finished)).state == "Scheduled"


async def test_fresh_null_and_opted_out_runs_are_left_alone(
    db: Database, settings: Settings
) -> None:
    fresh = await _stale_run(db)
    await age_heartbeat(db, fresh, 60)
    no_heartbeat = await _stale_run(db)
    async with db.transaction() as session:
        await session.execute(
            update(FlowRun).where(FlowRun.id == no_heartbeat).values(heartbeat=None)
        )
    no_lazarus = await _stale_run(db, group_settings={"lazarus_enabled": False})
    no_heartbeats = await _stale_run(db, group_settings={"heartbeat_enabled": False})
    finished = await _stale_run(db, "Success")

    assert await lazarus.run_once(db, settings) == 0

    states = [(await _run(db, r)).state for r in (fresh, no_heartbeat, no_lazarus, no_heartbeats)]
    assert states == ["Running"] * 4
    assert (await _run(db, finished)).state == "Success"


async def test_limit_and_timeout_come_from_the_settings(db: Database, settings: Settings) -> None:
    run_id = await _stale_run(db)
    await age_heartbeat(db, run_id, 120)
    assert await lazarus.run_once(db, settings) == 0

    strict = with_services(
        settings, lazarus={"heartbeat_timeout_seconds": 60, "resurrection_attempt_limit": 0}
    )
    assert await lazarus.run_once(db, strict) == 0
    run = await _run(db, run_id)
    assert run.state == "Failed"
    assert run.state_message == (
        "A Lazarus process attempted to reschedule this run 0 times without success. "
        "Marking as failed."
    )
