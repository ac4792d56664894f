"""Every difference between PostgreSQL and SQLite lives here.

Everything else in the project is written once for both databases and asks this
module for the few constructs that differ: upserts, row locks and JSON operators.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


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
