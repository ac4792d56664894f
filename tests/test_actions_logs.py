"""write_run_logs (Server 1's ``src/prefect_server/api/logs.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import Log

import factories

WRITE = "mutation($input: write_run_logs_input!) { write_run_logs(input: $input) { success } }"


@pytest.fixture
async def run_ids(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    _, run_id, task_run_id = await factories.task_run_chain(db)
    return run_id, task_run_id


async def stored(db: Database) -> list[Log]:
    async with db.session() as session:
        return list(await session.scalars(select(Log).order_by(Log.timestamp, Log.message)))


async def test_batch_with_defaults(gql: Any, db: Database, run_ids: Any) -> None:
    run_id, task_run_id = run_ids
    logs = [
        {
            "flow_run_id": str(run_id),
            "task_run_id": str(task_run_id),
            "timestamp": "2021-01-01T00:00:00+00:00",
            "name": "prefect.CloudTaskRunner",
            "level": "WARNING",
            "message": "one",
            "info": {"k": [1]},
        },
        # What the agent sends: no timestamp, no task run.
        {
            "flow_run_id": str(run_id),
            "name": "agent",
            "message": "Submitted for execution: PID: 1",
            "level": "INFO",
        },
        {"flow_run_id": str(run_id), "message": "no level"},
    ]
    before = dt.datetime.now(dt.timezone.utc)
    assert await gql(WRITE, {"input": {"logs": logs}}) == {"write_run_logs": {"success": True}}
    rows = await stored(db)
    assert [(r.message, r.level) for r in rows] == [
        ("one", "WARNING"),
        ("Submitted for execution: PID: 1", "INFO"),
        ("no level", "INFO"),
    ]
    first = rows[0]
    assert first.timestamp == dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    assert (first.name, first.info, first.task_run_id, first.flow_run_id) == (
        "prefect.CloudTaskRunner",
        {"k": [1]},
        task_run_id,
        run_id,
    )
    assert all(r.timestamp >= before for r in rows[1:])
    # Server 1 left tenant_id unset on run logs.
    assert all(r.tenant_id is None for r in rows)


async def test_one_object_instead_of_a_list(gql: Any, db: Database, run_ids: Any) -> None:
    """The `execute flow-run` error path of the 1.4.1 client sends `logs` as one object."""
    run_id, _ = run_ids
    log = {
        "flow_run_id": str(run_id),
        "name": "prefect.execute",
        "message": "failed",
        "level": "ERROR",
        "timestamp": "2021-01-01T00:00:00+00:00",
    }
    assert await gql(WRITE, {"input": {"logs": log}}) == {"write_run_logs": {"success": True}}
    assert [(r.message, r.level) for r in await stored(db)] == [("failed", "ERROR")]


@pytest.mark.parametrize(
    "bad",
    [
        {"level": "LOUD"},
        {"level": "info"},
        {"flow_run_id": None},
        {"flow_run_id": "not-a-uuid"},
    ],
)
async def test_invalid_items_fail_the_batch_and_write_nothing(
    gql: Any, db: Database, run_ids: Any, bad: dict[str, Any]
) -> None:
    run_id, _ = run_ids
    good = {"flow_run_id": str(run_id), "message": "fine"}
    errors = await gql.errors(WRITE, {"input": {"logs": [good, {**good, **bad}]}})
    assert errors
    assert await stored(db) == []


async def test_logs_of_unknown_runs_do_not_block_the_others(
    gql: Any, db: Database, run_ids: Any
) -> None:
    run_id, _ = run_ids
    logs = [
        {"flow_run_id": str(run_id), "message": "kept"},
        {"flow_run_id": str(uuid.uuid4()), "message": "dropped"},
        {"flow_run_id": str(run_id), "task_run_id": str(uuid.uuid4()), "message": "dropped too"},
    ]
    assert await gql(WRITE, {"input": {"logs": logs}}) == {"write_run_logs": {"success": True}}
    assert [r.message for r in await stored(db)] == ["kept"]


async def test_empty_batch(gql: Any, db: Database) -> None:
    assert await gql(WRITE, {"input": {"logs": []}}) == {"write_run_logs": {"success": True}}


async def test_a_nul_character_in_a_log_line_is_kept_as_a_replacement(
    gql: Any, db: Database, run_ids: Any
) -> None:
    # PostgreSQL's text cannot hold NUL: the batch failed there (its SQL in the answer)
    # and was stored as sent on SQLite. Both keep the line, NUL as U+FFFD.
    run_id, _ = run_ids
    logs = [{"flow_run_id": str(run_id), "name": "out\x00", "message": "bytes: \x00\x01 end"}]
    assert await gql(WRITE, {"input": {"logs": logs}}) == {"write_run_logs": {"success": True}}
    assert [(r.name, r.message) for r in await stored(db)] == [
        ("out\ufffd", "bytes: \ufffd\x01 end")
    ]
