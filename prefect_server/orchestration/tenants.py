"""Tenants: Server 1 was single-tenant in practice; clients use the first tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database import dialect
from prefect_server.database.models import Tenant


async def ensure_default_tenant(session: AsyncSession) -> uuid.UUID:
    """Create tenant ``default`` when there is no tenant at all; return the first tenant.

    Server 1 left this to the client's ``prefect server start``; doing it here means
    every client that picks "the first tenant" finds one.
    """
    existing = await session.scalar(select(Tenant.id).order_by(Tenant.created, Tenant.id).limit(1))
    if existing is not None:
        return existing
    stmt = (
        dialect.insert(session, Tenant)
        .values(id=uuid.uuid4(), name="default", slug="default")
        .on_conflict_do_nothing(index_elements=["slug"])
    )
    await session.execute(stmt)
    tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == "default"))
    assert tenant_id is not None
    return tenant_id
