"""What a write statement did."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession


async def changes_rows(session: AsyncSession, statement: Any) -> bool:
    """Run an UPDATE or DELETE; whether it matched a row (Server 1 answered such
    mutations with ``success``: whether anything was changed)."""
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return bool(result.rowcount)


NUL_MESSAGE = "A value contains a NUL character (\\u0000), which no text can hold."


def is_nul_character_error(error: BaseException | None) -> bool:
    """Whether the database refused a value for holding a NUL character.

    PostgreSQL's text and jsonb cannot store U+0000 and fail the statement (the
    transaction rolls back: nothing is written); SQLite stores it. The caller's value
    is the cause, so the answer says so in words, without the SQL.
    """
    if not isinstance(error, DBAPIError):
        return False
    text = str(error.orig)
    # jsonb's refusal (a NUL in a JSON string) reads "unsupported Unicode escape
    # sequence", its detail naming \u0000 out of reach of str().
    return (
        "0x00" in text
        or "\\u0000 cannot be converted" in text
        or "unsupported Unicode escape sequence" in text
    )
