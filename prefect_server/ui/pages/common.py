"""What every page handler shares: the database, ids from URLs, error pages, paging."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.database.engine import Database
from prefect_server.database.results import NUL_MESSAGE, is_nul_character_error
from prefect_server.utilities.ids import parse_id

# Past this a page number is nonsense: clamped, so an offset always fits a 64-bit integer
# (SQLite and asyncpg refuse bigger ones) and nobody asks the database to skip billions.
MAX_PAGE = 100_000


class PageNotFound(LookupError):
    """A URL naming something that does not exist (or is no id at all): a 404 page."""


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def id_from_url(value: str, what: str) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise PageNotFound(f"There is no {what} with the id {value!r}.")
    return parsed


def require(row: Any, what: str, value: Any) -> Any:
    if row is None:
        raise PageNotFound(f"There is no {what} with the id {value}.")
    return row


@dataclass(frozen=True)
class Paging:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @classmethod
    def of(
        cls, request: Request, size: int = 25, max_size: int = 200, param: str = "page"
    ) -> Paging:
        """Page number and size from ``?page=&size=``; nonsense falls back to the defaults.

        A second list on a page pages by its own ``param`` (its size fixed at ``size``).
        """
        try:
            page = min(MAX_PAGE, max(1, int(request.query_params.get(param, "1"))))
        except ValueError:
            page = 1
        if param != "page":
            return cls(page, size)
        try:
            size = min(max_size, max(1, int(request.query_params.get("size", str(size)))))
        except ValueError:
            pass
        return cls(page, size)

    async def total(self, session: AsyncSession, shown: int, count: Select[Any]) -> int:
        """How many there are in all: a page that is short (and not past the end) is the
        last one and says it by itself; otherwise ``count`` is asked."""
        if shown < self.size and (shown or self.page == 1):
            return self.offset + shown
        return int(await session.scalar(count) or 0)


def nul_refusal(error: DBAPIError) -> str:
    """The words for a value the database refused for holding a NUL character (PostgreSQL
    cannot store one; the statement failed, so nothing was written); other errors go on."""
    if not is_nul_character_error(error):
        raise error
    return NUL_MESSAGE


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    from prefect_server.ui.templating import render

    return render(
        request, "error.html", {"title": title, "message": message}, status=status, whole=True
    )
