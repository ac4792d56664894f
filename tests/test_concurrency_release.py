"""A task-tag slot frees on every way a task run leaves Running: each path below takes
a run out of Running, and the run that was queued behind it must then be admitted.

A leaked slot would leave the waiting run Queued for ever, so each case would fail
on its last write."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, TaskRun
from prefect_server.orchestration import concurrency_limits
from prefect_server.orchestration.flow_run_states import cancel_flow_run, set_flow_run_state
from prefect_server.orchestration.task_run_states import set_task_run_state
from prefect_server.services import zombie_killer
from prefect_server.settings import Settings

import factories as f

RUNNING = {"type": "Running", "message": "Starting task run."}
Exit = Callable[[Database, Settings, uuid.UUID], Awaitable[str]]


async def _task_state(db: Database, run: uuid.UUID, state: dict[str, Any]) -> None:
    async with db.transaction() as s:
        await set_task_run_state(s, run, state)


async def _flow_run_of(db: Database, task_run: uuid.UUID) -> uuid.UUID:
    async with db.session() as s:
        flow_run = await s.scalar(select(TaskRun.flow_run_id).where(TaskRun.id == task_run))
    assert flow_run is not None
    return flow_run


async def _age_heartbeat(db: Database, flow_run: uuid.UUID) -> None:
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    async with db.transaction() as s:
        await s.execute(update(FlowRun).where(FlowRun.id == flow_run).values(heartbeat=old))


def _written(kind: str, message: str = "left Running") -> Exit:
    async def leave(db: Database, settings: Settings, run: uuid.UUID) -> str:
        state: dict[str, Any] = {"type": kind, "message": message}
        if kind == "Retrying":
            state["start_time"] = None
        await _task_state(db, run, state)
        return kind

    return leave


async def _zombie_killed(db: Database, settings: Settings, run: uuid.UUID) -> str:
    await _age_heartbeat(db, await _flow_run_of(db, run))
    assert await zombie_killer.run_once(db, settings) == 1
    return "Failed"


async def _flow_run_cancelled(db: Database, settings: Settings, run: uuid.UUID) -> str:
    # What the 1.4.1 flow runner writes once it has stopped: its task runs go with it.
    async with db.transaction() as s:
        await set_flow_run_state(s, await _flow_run_of(db, run), {"type": "Cancelled"})
    return "Cancelled"


async def _cancelled_then_process_died(db: Database, settings: Settings, run: uuid.UUID) -> str:
    # Cancelling a Running run waits for its process; if that process is dead, the zombie
    # killer ends the task run and the flow run.
    flow_run = await _flow_run_of(db, run)
    async with db.transaction() as s:
        assert await cancel_flow_run(s, flow_run) == "Cancelling"
    await _age_heartbeat(db, flow_run)
    assert await zombie_killer.run_once(db, settings) == 2
    return "Failed"


@pytest.mark.parametrize(
    "leave",
    [
        _written("Success"),
        _written("Failed"),
        _written("Retrying"),
        _written("Cancelled"),
        _written("TimedOut"),
        _zombie_killed,
        _flow_run_cancelled,
        _cancelled_then_process_died,
    ],
    ids=[
        "success",
        "failed",
        "retrying",
        "cancelled",
        "timed-out",
        "zombie-killer",
        "flow-run-cancelled",
        "cancelling-process-died",
    ],
)
async def test_a_slot_frees_when_its_run_leaves_running(
    db: Database, settings: Settings, leave: Exit
) -> None:
    flow = f.serialized_flow(tasks=[f.task("t1-1", tags=["db"])], edges=[], parameters=[])
    tenant_id, flow_id = await f.flow_chain(db, flow)
    holder, waiter = [
        (await f.task_run_ids(db, await f.running_flow_run(db, flow_id)))["t1-1"] for _ in range(2)
    ]
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "task", tenant_id, "db", 1)
    async with db.transaction() as s:
        assert (await set_task_run_state(s, holder, RUNNING)).status == "SUCCESS"
    async with db.transaction() as s:
        assert (await set_task_run_state(s, waiter, RUNNING)).status == "QUEUED"

    left_in = await leave(db, settings, holder)

    async with db.session() as s:
        assert await s.scalar(select(TaskRun.state).where(TaskRun.id == holder)) == left_in
    async with db.transaction() as s:
        assert (await set_task_run_state(s, waiter, RUNNING)).status == "SUCCESS"


async def test_a_run_whose_process_died_while_its_task_waited_is_restarted(
    db: Database, settings: Settings
) -> None:
    """A Queued task run has no process of its own: if its flow-run process dies, lazarus
    (not the zombie killer, which ends Running task runs) must start the flow run again."""
    from prefect_server.services import lazarus

    flow = f.serialized_flow(tasks=[f.task("t1-1", tags=["db"])], edges=[], parameters=[])
    tenant_id, flow_id = await f.flow_chain(db, flow)
    flow_run = await f.running_flow_run(db, flow_id)
    task_run = (await f.task_run_ids(db, flow_run))["t1-1"]
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "task", tenant_id, "db", 0)
    async with db.transaction() as s:
        assert (await set_task_run_state(s, task_run, RUNNING)).status == "QUEUED"
    assert await lazarus.run_once(db, settings) == 0  # the process is alive
    await _age_heartbeat(db, flow_run)
    assert await zombie_killer.run_once(db, settings) == 0  # nothing Running to end
    assert await lazarus.run_once(db, settings) == 1
    async with db.session() as s:
        assert await s.scalar(select(FlowRun.state).where(FlowRun.id == flow_run)) == "Scheduled"
        # The waiting task is left to the next process, which unwraps its Queued state.
        assert await s.scalar(select(TaskRun.state).where(TaskRun.id == task_run)) == "Queued"
