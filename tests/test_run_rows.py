"""A flow run is the same rows whichever way it was created (orchestration/run_rows.py).

The scheduler creates the runs of a flow's next events; the run is read back, deleted and
created again through ``runs.create_flow_run`` (the create_flow_run mutation's domain
function) with the values the scheduler gave it. Every column of every row written
(flow_run, flow_run_state, task_run, task_run_state) must then be equal, except the
ids and the write times, which must differ.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from towel_util import interval_clock, schedule

from prefect_server.database.engine import Database
from prefect_server.database.models import Base, FlowRun, FlowRunState, Task, TaskRun, TaskRunState
from prefect_server.orchestration import flow_schedules, runs

import factories

# Columns that name a row or the moment it was written: new on every creation.
WRITE_COLUMNS = {"id", "created", "updated", "state_timestamp", "timestamp"}
# Links to the run's own rows, compared through the rows they point to.
OWN_LINKS = {"flow_run_id", "task_run_id"}

CLOCKS = {
    "plain clock": interval_clock(3600),
    "clock with parameters and labels": interval_clock(
        3600, parameter_defaults={"x": 7}, labels=["blue", "azure"]
    ),
}


def _scheduled_states_counted() -> float:
    labels = {"run_kind": "flow", "state": "Scheduled"}
    return REGISTRY.get_sample_value("prefect_server_state_transitions_total", labels) or 0.0


def _compared(row: Any, model: type[Base]) -> dict[str, Any]:
    names = [c.name for c in model.__table__.columns]
    return {name: getattr(row, name) for name in names if name not in WRITE_COLUMNS | OWN_LINKS}


async def _rows(db: Database, flow_run_id: uuid.UUID) -> dict[str, Any]:
    """Every row the run's creation wrote; task runs and their states keyed by task slug."""
    async with db.session() as session:
        run = await session.get(FlowRun, flow_run_id)
        states = (
            await session.scalars(
                select(FlowRunState).where(FlowRunState.flow_run_id == flow_run_id)
            )
        ).all()
        task_runs = (
            await session.execute(
                select(TaskRun, Task.slug)
                .join(Task, Task.id == TaskRun.task_id)
                .where(TaskRun.flow_run_id == flow_run_id)
            )
        ).all()
        task_states = (
            await session.execute(
                select(TaskRunState, Task.slug)
                .join(TaskRun, TaskRun.id == TaskRunState.task_run_id)
                .join(Task, Task.id == TaskRun.task_id)
                .where(TaskRun.flow_run_id == flow_run_id)
            )
        ).all()
    assert run is not None
    return {
        "flow_run": _compared(run, FlowRun),
        "flow_run_state": [_compared(state, FlowRunState) for state in states],
        "task_run": sorted((slug, _compared(tr, TaskRun)) for tr, slug in task_runs),
        "task_run_state": sorted((slug, _compared(s, TaskRunState)) for s, slug in task_states),
    }


@pytest.mark.parametrize("clock", CLOCKS.values(), ids=CLOCKS.keys())
async def test_scheduler_and_create_flow_run_write_the_same_rows(
    db: Database, clock: dict[str, Any]
) -> None:
    flow = factories.serialized_flow(
        run_config={"type": "UniversalRun", "labels": ["dev"], "__version__": "1.4.1"}
    )
    flow["schedule"] = schedule(clock)
    tenant_id = await factories.default_tenant(db)
    project_id = await factories.create_project(db, tenant_id)
    flow_id = await factories.create_flow(db, project_id, flow)
    counted = _scheduled_states_counted()
    async with db.transaction() as session:
        await flow_schedules.set_schedule_active(session, flow_id)  # runs the scheduler
        scheduler_made = await session.scalar(
            select(func.count()).where(FlowRun.flow_id == flow_id)
        )
        scheduled = await session.scalar(
            select(FlowRun.id)
            .where(FlowRun.flow_id == flow_id)
            .order_by(FlowRun.scheduled_start_time)
            .limit(1)
        )
    assert scheduled is not None
    by_scheduler = await _rows(db, scheduled)
    run = by_scheduler["flow_run"]
    async with db.transaction() as session:
        assert await runs.delete_flow_run(session, scheduled)
        by_api = await runs.create_flow_run(
            session,
            flow_id=flow_id,
            parameters=clock.get("parameter_defaults"),
            labels=clock.get("labels"),
            scheduled_start_time=run["scheduled_start_time"],
            flow_run_name=run["name"],
            idempotency_key=run["idempotency_key"],
            auto_scheduled=True,
        )
    assert by_api != scheduled
    # Both ways count the Scheduled state they wrote in the state-transition metric.
    assert _scheduled_states_counted() - counted == scheduler_made + 1

    assert await _rows(db, by_api) == by_scheduler
    # What the comparison covered, so that an empty or partial read cannot pass it.
    assert run["state"] == "Scheduled" and run["version"] == 1
    assert len(by_scheduler["flow_run_state"]) == 1
    assert [slug for slug, _ in by_scheduler["task_run"]] == ["t1-1", "t2-1", "x"]
    assert [slug for slug, _ in by_scheduler["task_run_state"]] == ["t1-1", "t2-1", "x"]
