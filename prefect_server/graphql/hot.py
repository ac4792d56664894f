"""Hot mutations: the root fields whose documents an execution plan may answer.

A plan runs a hot mutation instead of its resolver (see ``plans``). When the write
raises, the plan hands the operation to the general executor, which runs it again; that
is safe only if the failed write left nothing behind. So the hot mutation, not its
write, owns the transaction: the write is given the open transaction and a ``Caller``
that has no database to open a second one with, and whatever it did is rolled back
when it raises. A write that may fail for a reason a second, different write avoids
(a log of a deleted run) names that write as its ``retry``: a second transaction, also
the hot mutation's own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from prefect_server.database.engine import Database
from prefect_server.graphql.context import Context
from prefect_server.settings import Settings

Tx = TypeVar("Tx")
# The open transaction, who asks, and the coerced ``input``; returns the payload object.
Write = Callable[[Tx, "Caller", Mapping[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Caller:
    """What a write may know of the request besides its input."""

    settings: Settings
    agent_id: str | None


@dataclass(frozen=True, slots=True)
class HotMutation(Generic[Tx]):
    """Root mutation ``field``: ``write`` answers its coerced ``input`` in one transaction.

    ``transaction`` is ``Database.transaction`` (an ORM session) or
    ``Database.core_transaction`` (a Core connection). ``accepts`` says which inputs
    the write takes; the general executor answers the others. ``retry``: an error
    of the write and the write to try instead, in a new transaction.
    """

    field: str
    transaction: Callable[[Database], AbstractAsyncContextManager[Tx]]
    write: Write[Tx]
    accepts: Callable[[Mapping[str, Any]], bool] | None = None
    retry: tuple[type[Exception], Write[Tx]] | None = None

    async def __call__(self, context: Context, value: Mapping[str, Any]) -> Any:
        """The payload, or None when ``accepts`` declines ``value``."""
        if self.accepts is not None and not self.accepts(value):
            return None
        caller = Caller(context.settings, context.agent_id)
        try:
            async with self.transaction(context.db) as tx:
                return await self.write(tx, caller, value)
        except Exception as error:
            if self.retry is None or not isinstance(error, self.retry[0]):
                raise
        async with self.transaction(context.db) as tx:
            return await self.retry[1](tx, caller, value)
