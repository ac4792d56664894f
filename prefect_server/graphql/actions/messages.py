"""Message mutations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.actions._transaction import succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import UUID
from prefect_server.orchestration import messages


# Server 1 names one input per action on a message; they differ in name only. The base
# is in no field's type, so it is not part of the schema.
@strawberry.input
class MessageIdInput:
    message_id: UUID


@strawberry.input(name="mark_message_as_read_input")
class MarkMessageAsReadInput(MessageIdInput): ...


@strawberry.input(name="mark_message_as_unread_input")
class MarkMessageAsUnreadInput(MessageIdInput): ...


@strawberry.input(name="delete_message_input")
class DeleteMessageInput(MessageIdInput): ...


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def mark_message_as_read(
        self, info: Info[Context, None], input: MarkMessageAsReadInput
    ) -> SuccessPayload | None:
        return await succeeded(info, messages.mark_message_as_read, input.message_id)

    @strawberry.mutation
    async def mark_message_as_unread(
        self, info: Info[Context, None], input: MarkMessageAsUnreadInput
    ) -> SuccessPayload | None:
        return await succeeded(info, messages.mark_message_as_unread, input.message_id)

    @strawberry.mutation
    async def delete_message(
        self, info: Info[Context, None], input: DeleteMessageInput
    ) -> SuccessPayload | None:
        return await succeeded(info, messages.delete_message, input.message_id)
