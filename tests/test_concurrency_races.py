"""Many writers racing for few slots: never more runs hold a slot than the limit allows,
counted from the state rows (a run holds from its Running/Submitted row until its next
row), on both databases in one process and with two server processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from test_replicas import Replica

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRunState, TaskRunState
from prefect_server.orchestration import concurrency_limits
from prefect_server.orchestration.errors import StateUpdateFailed
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.orchestration.task_run_states import set_task_run_state

import factories as f

WRITERS = 8
SLOTS = 2
ROUNDS = 3
RUNNING = {"type": "Running", "message": "Starting task run."}
SUCCESS = {"type": "Success", "message": "Task run succeeded."}


def peak(rows: list[Any], holding: set[str]) -> int:
    """The most runs holding a slot at once, from (run_id, version, state, timestamp) rows."""
    by_run: dict[Any, list[Any]] = {}
    for row in sorted(rows, key=lambda r: (r[0], r[1])):
        by_run.setdefault(row[0], []).append(row)
    events = []
    for states in by_run.values():
        for current, following in zip(states, [*states[1:], None], strict=True):
            if current[2] in holding:
                end = following[3] if following is not None else dt.datetime.max
                events += [(current[3], 1), (end, -1)]
    running = highest = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        running += step
        highest = max(highest, running)
    return highest


async def _tagged_task_runs(db: Database) -> tuple[uuid.UUID, list[uuid.UUID]]:
    flow = f.serialized_flow(tasks=[f.task("t1-1", tags=["db"])], edges=[], parameters=[])
    tenant_id, flow_id = await f.flow_chain(db, flow)
    ids = []
    for _ in range(WRITERS):
        run_id = await f.running_flow_run(db, flow_id)
        ids.append((await f.task_run_ids(db, run_id))["t1-1"])
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "task", tenant_id, "db", SLOTS)
    return tenant_id, ids


async def _task_rows(db: Database, ids: list[uuid.UUID]) -> list[Any]:
    async with db.session() as s:
        rows = await s.execute(
            select(
                TaskRunState.task_run_id,
                TaskRunState.version,
                TaskRunState.state,
                TaskRunState.timestamp,
            ).where(TaskRunState.task_run_id.in_(ids))
        )
        return list(rows)


async def _flow_rows(db: Database, ids: list[uuid.UUID]) -> list[Any]:
    async with db.session() as s:
        return list(
            await s.execute(
                select(
                    FlowRunState.flow_run_id,
                    FlowRunState.version,
                    FlowRunState.state,
                    FlowRunState.timestamp,
                ).where(FlowRunState.flow_run_id.in_(ids))
            )
        )


async def test_task_writers_race_for_two_slots(db: Database) -> None:
    _, ids = await _tagged_task_runs(db)

    async def worker(run_id: uuid.UUID) -> int:
        refused = 0
        for _ in range(ROUNDS):
            while True:
                async with db.core_transaction() as conn:
                    written = await set_task_run_state(conn, run_id, RUNNING)
                if written.status == "SUCCESS":
                    break
                refused += 1
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.01)  # hold the slot a moment
            async with db.core_transaction() as conn:
                await set_task_run_state(conn, run_id, SUCCESS)
        return refused

    refusals = await asyncio.gather(*(worker(run_id) for run_id in ids))
    rows = await _task_rows(db, ids)
    assert peak(rows, {"Running"}) == SLOTS
    assert sum(refusals) > 0  # the race really happened
    assert sum(1 for r in rows if r[2] == "Running") == WRITERS * ROUNDS


async def test_flow_submissions_race_for_one_slot(db: Database) -> None:
    tenant_id, flow_id = await f.flow_chain(db)
    runs = [await f.create_flow_run(db, flow_id, labels=["gpu"]) for _ in range(WRITERS)]
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "flow", tenant_id, "gpu", 1)

    async def agent(run_id: uuid.UUID) -> None:
        while True:
            try:
                async with db.transaction() as s:
                    await set_flow_run_state(
                        s, run_id, {"type": "Submitted", "message": "s", "state": None}
                    )
                break
            except StateUpdateFailed:
                await asyncio.sleep(0.005)
        for state in ("Running", "Success"):
            async with db.transaction() as s:
                await set_flow_run_state(s, run_id, {"type": state, "message": state})

    await asyncio.gather(*(agent(run_id) for run_id in runs))
    rows = await _flow_rows(db, runs)
    assert peak(rows, {"Submitted", "Running"}) == 1
    assert sum(1 for r in rows if r[2] == "Success") == WRITERS


SET_TASK = """mutation($input: set_task_run_states_input!) {
  set_task_run_states(input: $input) { states { status } } }"""


@pytest.mark.postgres
async def test_two_server_processes_race_for_two_slots(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    _, ids = await _tagged_task_runs(db)
    replicas = [Replica(database_url, tmp_path) for _ in range(2)]
    try:
        for replica in replicas:
            await asyncio.to_thread(replica.wait_until_serving)

        async def worker(index: int, run_id: uuid.UUID) -> None:
            url = f"http://127.0.0.1:{replicas[index % 2].port}/"
            async with httpx.AsyncClient(timeout=60) as client:

                async def write(state: dict[str, Any]) -> str:
                    variables = {
                        "input": {"states": [{"task_run_id": str(run_id), "state": state}]}
                    }
                    body = (
                        await client.post(url, json={"query": SET_TASK, "variables": variables})
                    ).json()
                    return str(body["data"]["set_task_run_states"]["states"][0]["status"])

                for _ in range(ROUNDS):
                    status = await write(RUNNING)
                    while status != "SUCCESS":
                        await asyncio.sleep(0.01)
                        status = await write(RUNNING)
                    await asyncio.sleep(0.02)
                    await write(SUCCESS)

        await asyncio.gather(*(worker(i, run_id) for i, run_id in enumerate(ids)))
    finally:
        for replica in replicas:
            replica.stop()
    rows = await _task_rows(db, ids)
    assert peak(rows, {"Running"}) == SLOTS
    assert sum(1 for r in rows if r[2] == "Running") == WRITERS * ROUNDS


SET_FLOW = """mutation($input: set_flow_run_states_input!) {
  set_flow_run_states(input: $input) { states { status } } }"""


@pytest.mark.postgres
async def test_two_server_processes_race_for_one_label_slot(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    tenant_id, flow_id = await f.flow_chain(db)
    runs = [await f.create_flow_run(db, flow_id, labels=["gpu"]) for _ in range(WRITERS)]
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "flow", tenant_id, "gpu", 1)
    replicas = [Replica(database_url, tmp_path) for _ in range(2)]
    refused = 0
    try:
        for replica in replicas:
            await asyncio.to_thread(replica.wait_until_serving)

        async def agent(index: int, run_id: uuid.UUID) -> None:
            nonlocal refused
            url = f"http://127.0.0.1:{replicas[index % 2].port}/"
            async with httpx.AsyncClient(timeout=60) as client:

                async def write(state: dict[str, Any]) -> dict[str, Any]:
                    variables = {
                        "input": {"states": [{"flow_run_id": str(run_id), "state": state}]}
                    }
                    answer = await client.post(
                        url, json={"query": SET_FLOW, "variables": variables}
                    )
                    return dict(answer.json())

                submitted = {"type": "Submitted", "message": "s", "state": None}
                while "errors" in (body := await write(submitted)):
                    assert body["errors"][0]["message"].startswith("State update failed"), body
                    refused += 1
                    await asyncio.sleep(0.01)
                for state in ("Running", "Success"):
                    body = await write({"type": state, "message": state})
                    assert body["data"]["set_flow_run_states"]["states"][0]["status"] == "SUCCESS"

        await asyncio.gather(*(agent(i, run_id) for i, run_id in enumerate(runs)))
    finally:
        for replica in replicas:
            replica.stop()
    rows = await _flow_rows(db, runs)
    assert peak(rows, {"Submitted", "Running"}) == 1
    assert refused > 0  # the race really happened
    assert sum(1 for r in rows if r[2] == "Success") == WRITERS
