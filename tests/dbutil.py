"""The test database from outside the app: emptying it between tests (conftest and
module fixtures) and looking at its schema (migration and CLI tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from prefect_server.database.engine import Database
from prefect_server.database.models import Base

T = TypeVar("T")


async def truncate(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with db.transaction() as session:
        if db.is_postgres:
            await session.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for name in tables:
                await session.execute(text(f"DELETE FROM {name}"))


def truncate_all(url: str) -> None:
    """Synchronous variant for module-scoped fixtures."""

    async def run() -> None:
        db = Database(url)
        try:
            await truncate(db)
        finally:
            await db.dispose()

    asyncio.run(run())


async def inspect_with(url: str, fn: Callable[[Connection], T]) -> T:
    """``fn`` run on a connection of its own to ``url`` (outside any app's engine)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def current_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at; None before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()


def admin(url: str, *statements: str) -> None:
    """Statements outside a transaction (CREATE/DROP DATABASE), on a connection of
    their own to ``url``."""

    async def run() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


@contextmanager
def scratch_database(database_url: str, sqlite_file: Path, suffix: str) -> Iterator[str]:
    """A database of the run's kind with no schema: SQLite at ``sqlite_file``; on
    PostgreSQL one beside the suite's, named with ``suffix`` and dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    name = f"{url.database}_{suffix}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    admin(database_url, drop, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        admin(database_url, drop)
