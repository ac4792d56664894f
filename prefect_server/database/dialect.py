"""Every difference between PostgreSQL and SQLite lives here.

Everything else in the project is written once for both databases and asks this
module for the few constructs that differ: upserts, row locks and JSON operators.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, Select, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing``/``on_conflict_do_update``."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def for_update(session: AsyncSession, stmt: Select[Any]) -> Select[Any]:
    """Lock the selected rows until commit.

    SQLite has no row locks: there the write transaction itself is the lock, since
    the Database serialises writers (see Database.transaction).
    """
    if dialect_name(session) == "postgresql":
        return stmt.with_for_update()
    return stmt


@asynccontextmanager
async def advisory_lock(connection: AsyncConnection, key: int) -> AsyncIterator[bool]:
    """Try to hold a database-wide lock named by ``key`` for the block; yield whether we got it.

    PostgreSQL: a session advisory lock on ``connection``, so several server processes
    on one database agree on who runs a job; it is released when the block ends or when
    the connection dies with its process. SQLite: always granted, since one SQLite file
    is served by one process.
    """
    if connection.dialect.name != "postgresql":
        yield True
        return
    acquired = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
    # A session lock outlives the implicit transaction; ending it keeps the connection
    # from sitting idle in a transaction (holding a snapshot) for the whole pass.
    await connection.commit()
    try:
        yield acquired
    finally:
        if acquired:
            await connection.scalar(select(func.pg_advisory_unlock(key)))
            await connection.commit()


def json_flag_is_false(session: AsyncSession, column: Any, key: str) -> ColumnElement[bool]:
    """``column`` (a JSON object) holds ``key: false`` — the boolean, not a string or null.

    Server 1 asked Hasura for ``settings _contains {key: false}``, i.e. jsonb ``@>``.
    """
    if dialect_name(session) == "postgresql":
        return column.op("@>")(cast(json.dumps({key: False}), postgresql.JSONB))  # type: ignore[no-any-return]
    return func.json_type(column, f'$."{key}"') == "false"
