"""SQLite: one file served by one process; writers take turns; JSON operators emulated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, event, func
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from prefect_server.database import sqlite_json
from prefect_server.database.dialect import Dialect, EngineOptions, _Select

# Execution option marking a write transaction: it begins IMMEDIATE (see Database.transaction).
_IMMEDIATE = "prefect_server_sqlite_immediate"


class SqliteDialect(Dialect):
    name = "sqlite"
    # Two SQLite transactions that both upgrade from reading to writing make one of them
    # fail at once with "database is locked" instead of waiting, so writers in one
    # process take turns; IMMEDIATE takes the file's write lock up front, waiting (busy
    # timeout) for writers in other processes.
    serialises_writers = True
    write_options = {_IMMEDIATE: True}

    def prepare(self, url: str) -> None:
        # SQLite will not create missing directories itself, and a first start on a
        # fresh machine migrates before anything else has created the home directory.
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def create_engine(
        self,
        url: str,
        options: EngineOptions,
    ) -> AsyncEngine:
        self.prepare(url)
        engine = create_async_engine(
            url,
            echo=options.echo,
            json_serializer=options.json_serializer,
            connect_args={"timeout": options.busy_timeout},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from the sqlite3 module so that BEGIN is
            # emitted by SQLAlchemy before the first statement, reads included.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(options.busy_timeout * 1000)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            sqlite_json.register_functions(dbapi_connection)

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            immediate = connection.get_execution_options().get(_IMMEDIATE)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        self.attach(engine.sync_engine.dialect)
        return engine

    @asynccontextmanager
    async def advisory_lock(self, engine: AsyncEngine, key: int) -> AsyncIterator[bool]:
        # Always granted: one SQLite file is served by one process.
        yield True

    async def transaction_lock(self, connection: AsyncConnection, key: int) -> None:
        # Nothing to do: one SQLite file is served by one process.
        return None

    def insert(self, table: Any) -> Any:
        return sqlite.insert(table)

    def for_update(self, stmt: _Select) -> _Select:
        # No row locks: the write transaction itself is the lock, since writers take turns.
        return stmt

    def insert_then_update(self, insert_stmt: Any, update_stmt: Any) -> list[Any]:
        return [insert_stmt, update_stmt]

    def text_like(
        self, column: Any, pattern: str, *, insensitive: bool = False
    ) -> ColumnElement[bool]:
        return sqlite_json.text_like(column, pattern, insensitive=insensitive)

    def text_similar(self, column: Any, pattern: str) -> ColumnElement[bool]:
        return sqlite_json.text_similar(column, pattern)

    def json_contains(self, column: Any, value: Any) -> ColumnElement[bool]:
        return sqlite_json.contains(column, "$", value)

    def json_contained_in(self, column: Any, value: Any) -> ColumnElement[bool]:
        return sqlite_json.contained_in(column, "$", value)

    def json_equals(self, column: Any, value: Any) -> ColumnElement[bool]:
        return sqlite_json.equals(column, value)

    def json_has_key(self, column: Any, key: str) -> ColumnElement[bool]:
        return sqlite_json.has_key(column, key)

    def _json_array_has(self, column: Any, value: Any) -> ColumnElement[bool]:
        return sqlite_json.array_has(column, value)

    def json_flag_is_false(self, column: Any, key: str) -> ColumnElement[bool]:
        return sqlite_json.flag_is_false(column, key)

    def variance(self, column: Any, *, sample: bool) -> ColumnElement[Any]:
        # Neither var_samp nor var_pop exists: computed from sums.
        n = func.count(column) * 1.0
        total = func.sum(column * 1.0)
        spread = func.sum(column * column * 1.0) - total * total / n
        divisor = func.nullif(n - 1, 0) if sample else func.nullif(n, 0)
        return spread / divisor  # type: ignore[no-any-return]

    def stddev(self, column: Any, *, sample: bool) -> ColumnElement[Any]:
        # Rounding can leave a tiny negative spread for equal values; sqrt must not see it.
        return func.sqrt(func.max(self.variance(column, sample=sample), 0.0))

    def row_value(self, columns: list[Any]) -> Any:
        return func.json_array(*columns)
