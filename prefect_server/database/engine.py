"""The one async engine and session factory, shared by the API and the services."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from prefect_server.database import dialect
from prefect_server.settings import Settings

# Execution option marking a SQLite write transaction (see Database.transaction).
_IMMEDIATE = "prefect_server_sqlite_immediate"


class Database:
    """Engine, session factory and the write discipline for one database.

    ``session()`` is for reads; ``transaction()`` is for writes: it commits on success,
    rolls back on error, and on SQLite serialises writers inside this process, because
    two SQLite transactions that both upgrade from reading to writing make one of them
    fail at once with "database is locked" instead of waiting.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        busy_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 10.0,
    ):
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        self.engine: AsyncEngine = _create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            busy_timeout=busy_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        db = cls(
            settings.database_url,
            echo=settings.database.echo,
            pool_size=settings.database.pool_size,
            busy_timeout=settings.database.sqlite_busy_timeout_seconds,
            connect_timeout=settings.database.connect_timeout_seconds,
            pool_timeout=settings.database.pool_timeout_seconds,
        )
        # Domain code that acts outside a request (cloud hooks fired after commit)
        # finds the settings on its session.
        db.sessionmaker.configure(info={"settings": settings})
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        if self._write_lock is None:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        async with self._write_lock, self.sessionmaker() as session, session.begin():
            # IMMEDIATE takes the write lock up front, waiting (busy timeout) for
            # writers in other processes; a deferred transaction that reads first
            # and writes later fails at once if another process wrote in between.
            await session.connection(execution_options={_IMMEDIATE: True})
            yield session

    @asynccontextmanager
    async def core_transaction(self) -> AsyncIterator[AsyncConnection]:
        """``transaction()`` on a Core connection, without an ORM session.

        For domain functions that only run Core statements on the hottest paths
        (task-run states, mapped children, logs): a session costs about 0.1 ms of CPU
        per transaction there. Same commit, rollback and SQLite writer discipline.
        """
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(**{_IMMEDIATE: True})
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _create_engine(
    url: str,
    *,
    echo: bool,
    pool_size: int,
    busy_timeout: float,
    connect_timeout: float = 5.0,
    pool_timeout: float = 10.0,
) -> AsyncEngine:
    parsed = make_url(url)
    # Reading stays with json: orjson turns integers beyond 64 bits into floats.
    kwargs: dict[str, Any] = {"echo": echo, "json_serializer": _json_text}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": busy_timeout}
    else:
        # No pool_pre_ping: with asyncpg it is a transaction start and rollback on every
        # checkout (14% of the server's samples under the lifecycle benchmark). A
        # connection PostgreSQL dropped fails one statement and SQLAlchemy then
        # invalidates the whole pool; pool_recycle retires idle ones.
        kwargs.update(
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_recycle=1800,
            pool_timeout=pool_timeout,
            connect_args={"timeout": connect_timeout},
        )
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, busy_timeout)
    else:
        _configure_postgres(engine)
    return engine


def _json_text(value: Any) -> str:
    # orjson: the state and log columns are written thousands of times a minute.
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses, json may still take (or explain)
        return json.dumps(value)


def _configure_sqlite(engine: AsyncEngine, busy_timeout: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN is
        # emitted by SQLAlchemy before the first statement, reads included.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dialect.register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgres(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()
