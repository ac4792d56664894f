"""Emptying the test database between tests (used by conftest and module fixtures)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from prefect_server.database.engine import Database
from prefect_server.database.models import Base


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
