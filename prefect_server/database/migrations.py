"""Alembic, driven from Python: upgrade, downgrade and reset the schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from prefect_server.database.dialect import for_url
from prefect_server.settings import to_async_url

# Advisory lock taken while migrating, so replicas that start together on one
# PostgreSQL database do not run the same DDL at once.
MIGRATION_LOCK_KEY = 0x5052_4546_4D49_47  # "PREFMIG"


def script_location() -> Path:
    packaged = Path(__file__).resolve().parents[1] / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["url"] = to_async_url(url)
    return config


async def _run(url: str, fn: object, *args: str) -> None:
    dialect = for_url(url)
    dialect.prepare(url)
    engine = create_async_engine(to_async_url(url))
    try:
        async with engine.begin() as connection:
            await dialect.transaction_lock(connection, MIGRATION_LOCK_KEY)

            def run(sync_connection: Connection) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_connection
                fn(config, *args)  # type: ignore[operator]

            await connection.run_sync(run)
    finally:
        await engine.dispose()


def _in_thread(url: str, fn: object, *args: str) -> None:
    # Callers may already be inside an event loop (the app's lifespan, tests).
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run(url, fn, *args))
        return
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(_run(url, fn, *args))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def upgrade(url: str, revision: str = "head") -> None:
    _in_thread(url, command.upgrade, revision)


def downgrade(url: str, revision: str = "base") -> None:
    _in_thread(url, command.downgrade, revision)


def reset(url: str) -> None:
    downgrade(url)
    upgrade(url)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(_in_thread, url, command.upgrade, revision)
