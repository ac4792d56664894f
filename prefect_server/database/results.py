"""What a write statement did."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


async def changes_rows(session: AsyncSession, statement: Any) -> bool:
    """Run an UPDATE or DELETE; whether it matched a row (Server 1 answered such
    mutations with ``success``: whether anything was changed)."""
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)
