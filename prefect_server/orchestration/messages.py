"""Messages: notifications to the UI, written by PREFECT_MESSAGE cloud hooks (Server 1's
``src/prefect_server/api/messages.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Message
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.serialization import require_id
from prefect_server.utilities.clock import utcnow

MESSAGE_TYPES = frozenset({"CLOUD_HOOK", "REQUIRES_APPROVAL"})


async def create_message(
    session: AsyncSession,
    tenant_id: Any,
    type: str,
    text: str | None = None,
    content: dict[str, Any] | None = None,
) -> uuid.UUID:
    if type not in MESSAGE_TYPES:
        raise ValidationFailed("Invalid message type.")
    tenant = require_id(tenant_id, "Invalid tenant ID.")
    message_id = uuid.uuid4()
    now = utcnow()
    session.add(
        Message(
            id=message_id,
            tenant_id=tenant,
            type=type,
            text=text,
            content=content or {},
            created=now,
            updated=now,
        )
    )
    await session.flush()
    return message_id


async def _set_read(session: AsyncSession, message_id: Any, read: bool) -> bool:
    key = require_id(message_id, "Invalid message ID.")
    return await changes_rows(
        session, update(Message).where(Message.id == key).values(read=read, updated=utcnow())
    )


async def mark_message_as_read(session: AsyncSession, message_id: Any) -> bool:
    return await _set_read(session, message_id, True)


async def mark_message_as_unread(session: AsyncSession, message_id: Any) -> bool:
    return await _set_read(session, message_id, False)


async def delete_message(session: AsyncSession, message_id: Any) -> bool:
    key = require_id(message_id, "Invalid message ID.")
    return await changes_rows(session, delete(Message).where(Message.id == key))
