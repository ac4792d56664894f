"""Restarting a finished flow run: the failed task runs and what is downstream go back to
Pending, the flow run to Scheduled; successful upstream work is kept."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRunState, Log, TaskRun, TaskRunState
from prefect_server.orchestration import restarts, task_runs

import factories
from factories import edge, task


def restart_flow() -> dict[str, Any]:
    """a → b → c, b → m (mapped); p (mapped) alone; keep alone."""
    return factories.serialized_flow(
        "Restart Flow",
        tasks=[task("a-1"), task("b-1"), task("c-1"), task("m-1"), task("p-1"), task("keep-1")],
        edges=[
            edge("a-1", "b-1", key="x"),
            edge("b-1", "c-1", key="x"),
            edge("b-1", "m-1", key="x", mapped=True),
        ],
        parameters=[],
    )


async def states_of(db: Database, flow_run_id: uuid.UUID) -> dict[tuple[str, int], str]:
    from prefect_server.database.models import Task

    async with db.session() as session:
        rows = await session.execute(
            select(Task.slug, TaskRun.map_index, TaskRun.state)
            .join(Task, Task.id == TaskRun.task_id)
            .where(TaskRun.flow_run_id == flow_run_id)
        )
        return {(slug, index): state for slug, index, state in rows}


async def children(
    db: Database, flow_run_id: uuid.UUID, task_id: uuid.UUID, n: int
) -> list[uuid.UUID]:
    async with db.transaction() as session:
        return [
            (await task_runs.get_or_create_task_run_info(session, flow_run_id, task_id, i)).id
            for i in range(n)
        ]


async def failed_run(db: Database) -> uuid.UUID:
    _, flow_id = await factories.flow_chain(db, restart_flow())
    run = await factories.running_flow_run(db, flow_id)
    ids = await factories.task_run_ids(db, run)
    tasks = await factories.task_ids(db, flow_id)
    m_children = await children(db, run, tasks["m-1"], 2)
    p_children = await children(db, run, tasks["p-1"], 2)
    for slug, state in [
        ("a-1", "Success"),
        ("b-1", "Failed"),
        ("c-1", "TriggerFailed"),
        ("m-1", "Mapped"),
        ("p-1", "Mapped"),
        ("keep-1", "Success"),
    ]:
        await factories.set_task_run_state(db, ids[slug], {"type": state, "message": slug})
    for child in m_children:
        await factories.set_task_run_state(db, child, {"type": "Success"})
    await factories.set_task_run_state(db, p_children[0], {"type": "Success"})
    await factories.set_task_run_state(db, p_children[1], {"type": "Failed", "message": "boom"})
    await factories.set_flow_run_state(db, run, {"type": "Failed", "message": "Some failed."})
    return run


async def test_restart_resets_failed_and_downstream_and_schedules_the_run(db: Database) -> None:
    run = await failed_run(db)
    async with db.transaction() as session:
        result = await restarts.restart_flow_run(session, run, "again please")
    assert result.task_runs_reset == 6
    assert await states_of(db, run) == {
        ("a-1", -1): "Success",  # upstream work kept
        ("b-1", -1): "Pending",  # failed
        ("c-1", -1): "Pending",  # downstream
        ("m-1", -1): "Pending",  # downstream, mapped: the parent ...
        ("m-1", 0): "Pending",  # ... and its children
        ("m-1", 1): "Pending",
        ("p-1", -1): "Mapped",  # only its failed child runs again
        ("p-1", 0): "Success",
        ("p-1", 1): "Pending",
        ("keep-1", -1): "Success",
    }
    async with db.session() as session:
        newest = (
            await session.execute(
                select(FlowRunState.state, FlowRunState.message)
                .where(FlowRunState.flow_run_id == run)
                .order_by(FlowRunState.version.desc())
                .limit(1)
            )
        ).one()
        messages = set(
            await session.scalars(
                select(TaskRunState.message).where(
                    TaskRunState.state == "Pending", TaskRunState.message.is_not(None)
                )
            )
        )
        log = await session.scalar(select(Log.message).where(Log.flow_run_id == run))
    assert tuple(newest) == ("Scheduled", "again please")
    assert messages == {"again please", "Task run created"}
    assert log is not None and "6 task run(s)" in log


async def count_states(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        flows = await session.scalar(select(func.count()).select_from(FlowRunState))
        tasks = await session.scalar(select(func.count()).select_from(TaskRunState))
    return int(flows or 0), int(tasks or 0)


@pytest.mark.parametrize(
    ("final_state", "refusal"),
    [(None, "has not finished"), ("Success", "Nothing in this run failed")],
    ids=["unfinished", "successful"],
)
async def test_a_run_with_nothing_to_restart_is_refused_and_nothing_written(
    db: Database, final_state: str | None, refusal: str
) -> None:
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    if final_state:
        await factories.set_flow_run_state(db, run, {"type": final_state})
    before = await count_states(db)
    with pytest.raises(restarts.RestartRefused, match=refusal):
        async with db.transaction() as session:
            await restarts.restart_flow_run(session, run)
    assert await count_states(db) == before


async def test_a_cancelled_run_restarts_its_cancelled_task_runs(db: Database) -> None:
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    ids = await factories.task_run_ids(db, run)
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Success"})
    await factories.set_flow_run_state(db, run, {"type": "Cancelled"})  # cascades to t2
    async with db.transaction() as session:
        result = await restarts.restart_flow_run(session, run)
    # The parameter task x had not run either: it was cancelled, it runs again.
    assert result.task_runs_reset == 2
    assert await states_of(db, run) == {
        ("t1-1", -1): "Success",
        ("t2-1", -1): "Pending",
        ("x", -1): "Pending",
    }


async def test_unknown_run(db: Database) -> None:
    with pytest.raises(restarts.NotFound):
        async with db.transaction() as session:
            await restarts.restart_flow_run(session, uuid.uuid4())


def test_downstream_closure() -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    assert restarts.downstream_of({a}, [(a, b), (b, c), (c, a), (d, c)]) == {b, c}
