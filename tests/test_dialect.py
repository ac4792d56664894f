"""The Dialect: chosen once per Database, reached from its sessions, its statements its own."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from towel_util import make_flow, make_run

from prefect_server.database import migrations
from prefect_server.database.dialect import Dialect, dialect_of, for_url
from prefect_server.database.dialects.postgres import PostgresDialect
from prefect_server.database.dialects.sqlite import SqliteDialect
from prefect_server.database.engine import Database
from prefect_server.database.models import TaskRun
from prefect_server.orchestration.task_run_states import set_task_run_state
from prefect_server.settings import Settings, to_async_url


async def test_a_database_chooses_its_dialect_from_its_url(db: Database) -> None:
    expected = PostgresDialect if db.url.startswith("postgresql") else SqliteDialect
    assert type(db.dialect) is expected
    assert db.is_postgres is (expected is PostgresDialect)


async def test_sessions_and_connections_reach_their_databases_dialect(db: Database) -> None:
    async with db.session() as session:
        assert dialect_of(session) is db.dialect
    async with db.transaction() as session:
        assert dialect_of(session) is db.dialect
        assert dialect_of(await session.connection()) is db.dialect
    async with db.core_transaction() as conn:
        assert dialect_of(conn) is db.dialect
    assert dialect_of(db.engine) is db.dialect


async def test_statements_are_built_once_per_database(db: Database) -> None:
    built: list[Dialect] = []

    def build(sql: Dialect) -> object:
        built.append(sql)
        return object()

    first = db.dialect.statements(build)
    assert db.dialect.statements(build) is first
    other = Database(db.url)
    try:
        assert other.dialect is not db.dialect
        assert other.dialect.statements(build) is not first
    finally:
        await other.dispose()
    assert built == [db.dialect, other.dialect]


def test_an_unknown_database_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="'mysql' are not supported"):
        for_url("mysql://localhost/prefect")


async def _running_task_run(db: Database) -> uuid.UUID:
    flow_id = await make_flow(db, tasks=1)
    run_id = await make_run(db, flow_id, "Running")
    async with db.session() as session:
        task_run_id = await session.scalar(select(TaskRun.id).where(TaskRun.flow_run_id == run_id))
    assert task_run_id is not None
    return task_run_id


async def _write_and_read(db: Database, task_run_id: uuid.UUID, state: str) -> Any:
    async with db.core_transaction() as conn:
        await set_task_run_state(conn, task_run_id, {"type": state, "message": state})
    async with db.session() as session:
        row = (
            await session.execute(
                select(TaskRun.state, TaskRun.version).where(TaskRun.id == task_run_id)
            )
        ).one()
    return tuple(row)


async def test_two_databases_of_different_kinds_write_states_side_by_side(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """The hot path's prebuilt statements are compiled for one database: a SQLite file
    opened beside the test database (PostgreSQL in the PostgreSQL run) must get its own."""
    url = to_async_url(f"sqlite:///{tmp_path / 'beside.db'}")
    migrations.upgrade(url)
    beside = Database.from_settings(
        settings.replace(database=dataclasses.replace(settings.database, connection_url=url))
    )
    try:
        here, there = await _running_task_run(db), await _running_task_run(beside)
        assert await _write_and_read(db, here, "Running") == ("Running", 2)
        assert await _write_and_read(beside, there, "Running") == ("Running", 2)
        assert await _write_and_read(db, here, "Success") == ("Success", 3)
        assert await _write_and_read(beside, there, "Success") == ("Success", 3)
    finally:
        await beside.dispose()


@pytest.mark.postgres
async def test_a_statement_timeout_of_zero_waits_without_end(database_url: str) -> None:
    # asyncpg refuses command_timeout=0; the setting's 0 means "no timeout" instead.
    db = Database(database_url, statement_timeout=0)
    try:
        async with db.session() as session:
            assert await session.scalar(select(1)) == 1
            raw = await (await session.connection()).get_raw_connection()
            assert raw.driver_connection._config.command_timeout is None  # type: ignore[union-attr]
    finally:
        await db.dispose()
