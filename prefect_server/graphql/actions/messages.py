"""Message mutations (spec §3.11)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import UUID
from prefect_server.orchestration import messages


def _message_id_input(name: str) -> type:
    return strawberry.input(type(name, (), {"__annotations__": {"message_id": UUID}}), name=name)


MarkMessageAsReadInput = _message_id_input("mark_message_as_read_input")
MarkMessageAsUnreadInput = _message_id_input("mark_message_as_unread_input")
DeleteMessageInput = _message_id_input("delete_message_input")


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def mark_message_as_read(
        self,
        info: Info[Context, None],
        input: MarkMessageAsReadInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await messages.mark_message_as_read(session, input.message_id)  # type: ignore[attr-defined]
        return SuccessPayload(success=ok)

    @strawberry.mutation
    async def mark_message_as_unread(
        self,
        info: Info[Context, None],
        input: MarkMessageAsUnreadInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await messages.mark_message_as_unread(session, input.message_id)  # type: ignore[attr-defined]
        return SuccessPayload(success=ok)

    @strawberry.mutation
    async def delete_message(
        self,
        info: Info[Context, None],
        input: DeleteMessageInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await messages.delete_message(session, input.message_id)  # type: ignore[attr-defined]
        return SuccessPayload(success=ok)
