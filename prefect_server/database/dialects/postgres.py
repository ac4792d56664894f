"""PostgreSQL: row locks, advisory locks across server processes, native jsonb."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import ColumnElement, String, cast, event, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from prefect_server.database.dialect import LIKE_ESCAPE, Dialect, EngineOptions, _Select


def _jsonb(value: Any) -> Any:
    # A bound jsonb parameter; the driver encodes it once (a cast of json text would encode twice).
    return literal(value, postgresql.JSONB)


class PostgresDialect(Dialect):
    name = "postgresql"

    def create_engine(
        self,
        url: str,
        options: EngineOptions,
    ) -> AsyncEngine:
        # No pool_pre_ping: with asyncpg it is a transaction start and rollback on every
        # checkout (14% of the server's samples under the lifecycle benchmark). A
        # connection PostgreSQL dropped fails one statement and SQLAlchemy then
        # invalidates the whole pool; pool_recycle retires idle ones.
        engine = create_async_engine(
            url,
            echo=options.echo,
            json_serializer=options.json_serializer,
            pool_size=options.pool_size,
            max_overflow=options.pool_size * 2,
            pool_recycle=1800,
            pool_timeout=options.pool_timeout,
            connect_args={
                "timeout": options.connect_timeout,
                "command_timeout": options.statement_timeout or None,  # 0: none
            },
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.close()

        self.attach(engine.sync_engine.dialect)
        return engine

    @asynccontextmanager
    async def advisory_lock(self, engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
        """A session advisory lock on a connection of its own, so several server processes
        on one database agree on who runs a job; it is released when the block ends or
        when the connection dies with its process."""
        async with engine.connect() as connection:
            acquired = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
            # A session lock outlives the implicit transaction; ending it keeps the
            # connection from sitting idle in a transaction (holding a snapshot) for the
            # whole pass.
            await connection.commit()
            try:
                yield acquired
            finally:
                if acquired:
                    await connection.scalar(select(func.pg_advisory_unlock(key)))
                    await connection.commit()

    async def transaction_lock(self, connection: AsyncConnection, key: int) -> None:
        # Released at commit or rollback (so replicas starting together run the
        # migrations one after the other).
        await connection.execute(select(func.pg_advisory_xact_lock(key)))

    def insert(self, table: Any) -> Any:
        return postgresql.insert(table)

    def for_update(self, stmt: _Select) -> _Select:
        return stmt.with_for_update()

    def insert_then_update(self, insert_stmt: Any, update_stmt: Any) -> list[Any]:
        # The insert as a data-modifying CTE of the update: one round trip (used by every
        # state write: the state row and its run's columns).
        return [update_stmt.add_cte(insert_stmt.cte("inserted"))]

    def text_like(
        self, column: Any, pattern: str, *, insensitive: bool = False
    ) -> ColumnElement[bool]:
        if insensitive:
            return column.ilike(pattern, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
        return column.like(pattern, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]

    def text_similar(self, column: Any, pattern: str) -> ColumnElement[bool]:
        return column.op("SIMILAR TO")(pattern)  # type: ignore[no-any-return]

    def json_contains(self, column: Any, value: Any) -> ColumnElement[bool]:
        return column.op("@>")(_jsonb(value))  # type: ignore[no-any-return]

    def json_contained_in(self, column: Any, value: Any) -> ColumnElement[bool]:
        return column.op("<@")(_jsonb(value))  # type: ignore[no-any-return]

    def json_equals(self, column: Any, value: Any) -> ColumnElement[bool]:
        return column.op("=")(_jsonb(value))  # type: ignore[no-any-return]

    def json_has_key(self, column: Any, key: str) -> ColumnElement[bool]:
        return column.op("?")(key)  # type: ignore[no-any-return]

    def json_has_keys(self, column: Any, keys: list[str], *, every: bool) -> ColumnElement[bool]:
        operator = "?&" if every else "?|"
        return column.op(operator)(cast(list(keys), postgresql.ARRAY(String)))  # type: ignore[no-any-return]

    def _json_array_has(self, column: Any, value: Any) -> ColumnElement[bool]:
        # jsonb ``?``, served by a GIN index.
        return column.op("?")(value)  # type: ignore[no-any-return]

    def json_flag_is_false(self, column: Any, key: str) -> ColumnElement[bool]:
        return column.op("@>")(_jsonb({key: False}))  # type: ignore[no-any-return]

    def variance(self, column: Any, *, sample: bool) -> ColumnElement[Any]:
        return (func.var_samp if sample else func.var_pop)(column)  # type: ignore[no-any-return]

    def stddev(self, column: Any, *, sample: bool) -> ColumnElement[Any]:
        return (func.stddev_samp if sample else func.stddev_pop)(column)  # type: ignore[no-any-return]

    def row_value(self, columns: list[Any]) -> Any:
        return tuple_(*columns)
