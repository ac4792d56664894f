"""The one async engine and session factory, shared by the API and the services."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from prefect_server.database.dialect import Dialect, EngineOptions, for_url
from prefect_server.settings import SESSION_KEY, Settings


class Database:
    """Engine, session factory and the write discipline for one database.

    ``session()`` is for reads; ``transaction()`` is for writes: it commits on success,
    rolls back on error, and serialises writers inside this process where the dialect
    asks for it (SQLite). The dialect is chosen here, once, from the URL.
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
        statement_timeout: float = 60.0,
    ):
        self.url = url
        self.dialect: Dialect = for_url(url)
        options = EngineOptions(
            # Reading stays with json: orjson turns integers beyond 64 bits into floats.
            json_serializer=_json_text,
            echo=echo,
            pool_size=pool_size,
            busy_timeout=busy_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            statement_timeout=statement_timeout,
        )
        self.engine: AsyncEngine = self.dialect.create_engine(url, options)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write_lock = self.dialect.write_lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        db = cls(
            settings.database_url,
            echo=settings.database.echo,
            pool_size=settings.database.pool_size,
            busy_timeout=settings.database.sqlite_busy_timeout_seconds,
            connect_timeout=settings.database.connect_timeout_seconds,
            pool_timeout=settings.database.pool_timeout_seconds,
            statement_timeout=settings.database.statement_timeout_seconds,
        )
        # Domain code that acts outside a request (cloud hooks fired after commit)
        # finds the settings on its session.
        db.sessionmaker.configure(info={SESSION_KEY: settings})
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect.name == "postgresql"

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
            await session.connection(execution_options=self.dialect.write_options)
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
            await conn.execution_options(**self.dialect.write_options)
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _json_text(value: Any) -> str:
    # orjson: the state and log columns are written thousands of times a minute.
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses, json may still take (or explain)
        return json.dumps(value)
