"""set_task_run_states: many task-run state writes at once, by the rules of one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from towel_util import make_flow, make_run

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, TaskRun, TaskRunState
from prefect_server.orchestration.errors import StateUpdateFailed, ValidationFailed
from prefect_server.orchestration.task_run_states import set_task_run_state, set_task_run_states


async def _task_runs(db: Database, state: str = "Running", tasks: int = 3) -> list[uuid.UUID]:
    flow_id = await make_flow(db, tasks=tasks)
    run_id = await make_run(db, flow_id, state)
    async with db.session() as session:
        stmt = select(TaskRun.id).where(TaskRun.flow_run_id == run_id).order_by(TaskRun.id)
        return list((await session.scalars(stmt)).all())


async def _rows(
    db: Database, ids: list[uuid.UUID], model: type[FlowRun] | type[TaskRun] = TaskRun
) -> list[tuple[object, ...]]:
    """What a state write leaves on the run rows, in id order."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                model.state,
                model.version,
                model.state_message,
                model.start_time.is_not(None),
                model.end_time.is_not(None),
                model.heartbeat.is_not(None),
            )
            .where(model.id.in_(ids))
            .order_by(model.id)
        )
        return [tuple(row) for row in rows]


async def _write_both_ways(
    db: Database,
    batch: list[uuid.UUID],
    single: list[uuid.UUID],
    states: list[dict[str, Any]],
    write_many: Callable[..., Awaitable[list[Any]]],
    write_one: Callable[..., Awaitable[Any]],
) -> None:
    """``states`` written to ``batch`` in one call and to ``single`` one by one; each
    write of the batch is answered with its run's new version and state."""
    async with db.transaction() as session:
        writes = await write_many(session, list(zip(batch, states, strict=True)))
    async with db.transaction() as session:
        for run_id, state in zip(single, states, strict=True):
            await write_one(session, run_id, state)
    assert [(w.run_id, w.version, w.state) for w in writes] == [
        (run_id, 2, state["type"]) for run_id, state in zip(batch, states, strict=True)
    ]


async def test_a_batch_writes_what_single_writes_write(db: Database) -> None:
    batch, single = await _task_runs(db), await _task_runs(db)
    states = [
        {"type": "Running", "message": "go"},
        {"type": "Failed", "message": "no"},
        {"type": "Retrying", "message": "again", "run_count": 2},
    ]
    await _write_both_ways(db, batch, single, states, set_task_run_states, set_task_run_state)
    assert await _rows(db, batch) == await _rows(db, single)
    async with db.session() as session:
        counts = await session.execute(
            select(TaskRunState.task_run_id, func.count())
            .where(TaskRunState.task_run_id.in_(batch))
            .group_by(TaskRunState.task_run_id)
        )
        assert dict(counts.all()) == {run_id: 2 for run_id in batch}


async def test_a_refused_change_refuses_the_batch(db: Database) -> None:
    ids = await _task_runs(db, state="Scheduled")
    before = await _rows(db, ids)
    with pytest.raises(StateUpdateFailed, match="is not in a running state"):
        async with db.transaction() as session:
            await set_task_run_states(
                session, [(ids[0], {"type": "Failed"}), (ids[1], {"type": "Running"})]
            )
    with pytest.raises(StateUpdateFailed, match="State update failed for task run ID"):
        async with db.transaction() as session:
            await set_task_run_states(
                session, [(ids[0], {"type": "Failed"}), (uuid.uuid4(), {"type": "Failed"})]
            )
    with pytest.raises(ValidationFailed, match="only once"):
        async with db.transaction() as session:
            await set_task_run_states(session, [(ids[0], {"type": "Failed"})] * 2)
    assert await _rows(db, ids) == before


async def test_an_empty_batch_writes_nothing(db: Database) -> None:
    async with db.transaction() as session:
        assert await set_task_run_states(session, []) == []


async def _flow_runs(db: Database, n: int, state: str | None = None) -> list[uuid.UUID]:
    flow_id = await make_flow(db)
    return sorted([await make_run(db, flow_id, state) for _ in range(n)])


async def test_a_flow_run_batch_writes_what_single_writes_write(db: Database) -> None:
    from prefect_server.orchestration.flow_run_states import set_flow_run_state, set_flow_run_states

    batch, single = await _flow_runs(db, 3), await _flow_runs(db, 3)
    states = [
        {"type": "Running", "message": "go"},
        {"type": "Failed", "message": "no"},
        {"type": "Cancelled", "message": "stop"},
    ]
    await _write_both_ways(db, batch, single, states, set_flow_run_states, set_flow_run_state)
    assert await _rows(db, batch, FlowRun) == await _rows(db, single, FlowRun)
    # The cancellation reached the cancelled run's task runs, as a single write does.
    async with db.session() as session:
        cancelled = await session.scalars(
            select(TaskRun.state).where(TaskRun.flow_run_id.in_([batch[2], single[2]]))
        )
        assert set(cancelled) == {"Cancelled"}


async def test_a_refused_flow_run_change_refuses_the_batch(db: Database) -> None:
    from prefect_server.orchestration.flow_run_states import set_flow_run_states

    ids = await _flow_runs(db, 2, "Submitted")
    before = await _rows(db, ids, FlowRun)
    with pytest.raises(StateUpdateFailed, match="already been submitted"):
        async with db.transaction() as session:
            await set_flow_run_states(
                session, [(ids[0], {"type": "Failed"}), (ids[1], {"type": "Submitted"})]
            )
    with pytest.raises(ValidationFailed, match="only once"):
        async with db.transaction() as session:
            await set_flow_run_states(session, [(ids[0], {"type": "Failed"})] * 2)
    assert await _rows(db, ids, FlowRun) == before
