"""The body most action resolvers share: one domain function in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.context import Context

P = ParamSpec("P")
T = TypeVar("T")


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
