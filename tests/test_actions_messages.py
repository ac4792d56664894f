"""Message mutations through the GraphQL API."""

from __future__ import annotations

import uuid

import pytest

from prefect_server.database.models import Message
from prefect_server.orchestration import messages, tenants
from prefect_server.orchestration.errors import ValidationFailed


def mutation(name: str) -> str:
    return f"mutation($input: {name}_input!) {{ {name}(input: $input) {{ success }} }}"


async def _message(db) -> uuid.UUID:
    async with db.transaction() as session:
        tenant = await tenants.ensure_default_tenant(session)
        return await messages.create_message(session, tenant, "CLOUD_HOOK", "hi", {"a": 1})


async def _read(db, message_id) -> bool | None:
    async with db.session() as session:
        message = await session.get(Message, message_id)
        return None if message is None else message.read


async def test_mark_read_unread_and_delete(gql, db):
    message_id = await _message(db)
    assert await _read(db, message_id) is False
    data = await gql(mutation("mark_message_as_read"), {"input": {"message_id": str(message_id)}})
    assert data["mark_message_as_read"]["success"] is True
    assert await _read(db, message_id) is True
    await gql(mutation("mark_message_as_unread"), {"input": {"message_id": str(message_id)}})
    assert await _read(db, message_id) is False
    data = await gql(mutation("delete_message"), {"input": {"message_id": str(message_id)}})
    assert data["delete_message"]["success"] is True
    assert await _read(db, message_id) is None


async def test_unknown_message_is_not_a_success(gql, db):
    for name in ("mark_message_as_read", "mark_message_as_unread", "delete_message"):
        data = await gql(mutation(name), {"input": {"message_id": str(uuid.uuid4())}})
        assert data[name]["success"] is False


async def test_bad_ids_and_types(db):
    async with db.transaction() as session:
        tenant = await tenants.ensure_default_tenant(session)
        with pytest.raises(ValidationFailed, match="Invalid message ID."):
            await messages.mark_message_as_read(session, None)
        with pytest.raises(ValidationFailed, match="Invalid message type."):
            await messages.create_message(session, tenant, "SPAM")
