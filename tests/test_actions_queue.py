"""The run queue agents poll: get_runs_in_queue (Server 1's ``src/prefect_server/api/runs.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import Agent
from prefect_server.orchestration import queue

import factories

QUEUE = "mutation($input: get_runs_in_queue_input!) { get_runs_in_queue(input: $input) { flow_run_ids } }"


@pytest.fixture
async def chain(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    return await factories.flow_chain(db)


async def poll(
    db: Database, tenant_id: uuid.UUID, before: dt.datetime | None = None, labels: Any = None
) -> list[str]:
    async with db.transaction() as session:
        return await queue.get_runs_in_queue(session, tenant_id, before=before, labels=labels)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def test_scheduled_runs_by_start_time(gql: Any, db: Database, chain: Any) -> None:
    tenant_id, flow_id = chain
    now = utcnow()
    # Hours apart, so "now" at any moment of a slow test run still falls between the same runs.
    starts = [now - dt.timedelta(minutes=90) + dt.timedelta(hours=i) for i in range(10)]
    ids = [
        str(await factories.create_flow_run(db, flow_id, scheduled_start_time=s))
        for s in reversed(starts)
    ]
    ids.reverse()
    before = (now + dt.timedelta(hours=3)).isoformat()
    data = await gql(
        QUEUE, {"input": {"tenant_id": str(tenant_id), "before": before, "labels": []}}
    )
    # Ordered by start time; only those starting by `before`; repeated polls see the same runs.
    assert data["get_runs_in_queue"]["flow_run_ids"] == ids[:5]
    assert await poll(db, tenant_id, now + dt.timedelta(hours=3)) == ids[:5]
    assert await poll(db, tenant_id) == ids[:2]
    await factories.set_flow_run_state(db, uuid.UUID(ids[0]), {"type": "Success"})
    assert await poll(db, tenant_id) == ids[1:2]
    assert await poll(db, uuid.uuid4()) == []


async def test_at_most_25(db: Database, chain: Any) -> None:
    tenant_id, flow_id = chain
    for _ in range(30):
        await factories.create_flow_run(
            db, flow_id, scheduled_start_time=utcnow() - dt.timedelta(minutes=1)
        )
    assert len(await poll(db, tenant_id)) == 25


@pytest.mark.parametrize(
    ("agent_labels", "visible"),
    [
        ([], {"none"}),
        (["foo"], {"foo"}),
        (["foo", "bar"], {"foo", "foo-bar"}),
        (["foo", "staging"], {"foo"}),
        (["other"], set()),
    ],
)
async def test_label_matching(
    db: Database, chain: Any, agent_labels: list[str], visible: set[str]
) -> None:
    tenant_id, flow_id = chain
    past = utcnow() - dt.timedelta(minutes=1)
    runs = {
        "none": await factories.create_flow_run(db, flow_id, labels=[], scheduled_start_time=past),
        "foo": await factories.create_flow_run(
            db, flow_id, labels=["foo"], scheduled_start_time=past
        ),
        "foo-bar": await factories.create_flow_run(
            db, flow_id, labels=["bar", "foo"], scheduled_start_time=past
        ),
    }
    found = set(await poll(db, tenant_id, labels=agent_labels))
    assert found == {str(runs[name]) for name in visible}


async def test_running_run_with_a_waiting_task_run(db: Database, chain: Any) -> None:
    tenant_id, flow_id = chain
    run_id = await factories.running_flow_run(db, flow_id)
    task_runs = await factories.task_run_ids(db, run_id)
    assert await poll(db, tenant_id) == []
    later = utcnow() + dt.timedelta(hours=5)
    await factories.set_task_run_state(
        db, task_runs["t1-1"], {"type": "Retrying", "start_time": later.isoformat()}
    )
    assert await poll(db, tenant_id) == []
    assert await poll(db, tenant_id, before=later + dt.timedelta(minutes=1)) == [str(run_id)]
    # Paused without a start time never becomes due.
    await factories.set_task_run_state(db, task_runs["t1-1"], {"type": "Paused"})
    assert await poll(db, tenant_id, before=utcnow() + dt.timedelta(days=999)) == []


async def test_paused_flow_run_without_start_is_not_queued(db: Database, chain: Any) -> None:
    tenant_id, flow_id = chain
    run_id = await factories.create_flow_run(
        db, flow_id, scheduled_start_time=utcnow() - dt.timedelta(minutes=1)
    )
    await factories.set_flow_run_state(db, run_id, {"type": "Paused"})
    assert await poll(db, tenant_id, before=utcnow() + dt.timedelta(days=999)) == []


async def test_agent_header_records_last_queried(gql: Any, db: Database, chain: Any) -> None:
    tenant_id, _ = chain
    from prefect_server.orchestration import agents

    async with db.transaction() as session:
        agent_id = await agents.register_agent(session, type="LocalAgent", tenant_id=tenant_id)
    async with db.session() as session:
        old = await session.scalar(select(Agent.last_queried).where(Agent.id == agent_id))
    await gql(
        QUEUE,
        {"input": {"tenant_id": str(tenant_id), "labels": []}},
        headers={"X-PREFECT-AGENT-ID": str(agent_id)},
    )
    async with db.session() as session:
        last = await session.scalar(select(Agent.last_queried).where(Agent.id == agent_id))
    assert old is not None and last is not None and last > old
