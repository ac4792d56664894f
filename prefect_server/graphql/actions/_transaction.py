"""The bodies most action resolvers share: one domain function in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import IdPayload, SuccessPayload
from prefect_server.graphql.context import Context
from prefect_server.orchestration.errors import ValidationFailed

P = ParamSpec("P")
T = TypeVar("T")
Id = TypeVar("Id", bound=IdPayload)


async def in_transaction(
    info: Info[Context, None],
    write: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``write(session, *args, **kwargs)`` in a transaction of its own: a mutation that
    raised wrote nothing."""
    async with info.context.db.transaction() as session:
        return await write(session, *args, **kwargs)


async def succeeded(
    info: Info[Context, None],
    write: Callable[Concatenate[AsyncSession, P], Awaitable[bool]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> SuccessPayload:
    """``success_payload`` of ``write``'s answer, the form of most of Server 1's actions."""
    return SuccessPayload(success=await in_transaction(info, write, *args, **kwargs))


async def updated(
    info: Info[Context, None],
    payload: type[Id],
    failure: str,
    write: Callable[Concatenate[AsyncSession, str, P], Awaitable[bool]],
    row_id: str,
    *args: P.args,
    **kwargs: P.kwargs,
) -> Id:
    """``payload`` of ``row_id`` when ``write`` updated it; Server 1 refused the others."""
    if not await in_transaction(info, write, row_id, *args, **kwargs):
        raise ValidationFailed(failure)
    return payload(id=row_id)
