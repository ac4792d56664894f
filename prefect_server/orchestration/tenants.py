"""Tenants (Server 1's ``src/prefect_server/api/tenants.py``). Server 1 was single-tenant in practice;
clients use the first tenant."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Tenant
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import UNIQUENESS_VIOLATION, ValidationFailed
from prefect_server.orchestration.serialization import require_id
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by ``-`` (what python-slugify makes of ordinary names)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _check_slug(slug: str) -> None:
    if slug != slugify(slug):
        raise ValidationFailed('Slug must be "slugified" (lowercase; no spaces)')


async def ensure_default_tenant(session: AsyncSession) -> uuid.UUID:
    """Create tenant ``default`` when there is no tenant at all; return the first tenant.

    Server 1 left this to the client's ``prefect server start``; doing it here means
    every client that picks "the first tenant" finds one.
    """
    existing = await first_tenant_id(session)
    if existing is not None:
        return existing
    stmt = (
        dialect_of(session)
        .insert(Tenant)
        .values(id=uuid.uuid4(), name="default", slug="default")
        .on_conflict_do_nothing(index_elements=["slug"])
    )
    await session.execute(stmt)
    tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == "default"))
    assert tenant_id is not None
    return tenant_id


async def first_tenant_id(session: AsyncSession) -> uuid.UUID | None:
    """The tenant clients pick: the oldest (the API lists tenants in this order too)."""
    return await session.scalar(select(Tenant.id).order_by(Tenant.created, Tenant.id).limit(1))


async def create_tenant(session: AsyncSession, name: str, slug: str | None = None) -> uuid.UUID:
    if not name:
        raise ValidationFailed("Invalid tenant name.")
    slug = slugify(name) if slug is None else slug
    _check_slug(slug)
    stmt = (
        dialect_of(session)
        .insert(Tenant)
        .values(id=uuid.uuid4(), name=name, slug=slug)
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(Tenant.id)
    )
    tenant_id = await session.scalar(stmt)
    if tenant_id is None:
        raise ValidationFailed(UNIQUENESS_VIOLATION)
    return tenant_id


async def delete_tenant(session: AsyncSession, tenant_id: Any) -> bool:
    """Delete a tenant and, by ON DELETE CASCADE, everything it owns."""
    key = require_id(tenant_id, "Invalid tenant ID.")
    return await changes_rows(session, delete(Tenant).where(Tenant.id == key))


async def _update(session: AsyncSession, tenant_id: Any, values: dict[str, Any]) -> bool:
    key = require_id(tenant_id, "Invalid tenant ID.")
    return await changes_rows(
        session, update(Tenant).where(Tenant.id == key).values(**values, updated=utcnow())
    )


async def update_tenant_name(session: AsyncSession, tenant_id: Any, name: str) -> bool:
    if not name:
        raise ValidationFailed("Invalid tenant name.")
    return await _update(session, tenant_id, {"name": name})


async def update_tenant_slug(session: AsyncSession, tenant_id: Any, slug: str) -> bool:
    _check_slug(slug)
    key = parse_id(tenant_id)
    taken = await session.scalar(select(Tenant.id).where(Tenant.slug == slug, Tenant.id != key))
    if taken is not None:
        raise ValidationFailed(UNIQUENESS_VIOLATION)
    return await _update(session, tenant_id, {"slug": slug})


async def update_tenant_settings(
    session: AsyncSession, tenant_id: Any, settings: dict[str, Any] | None
) -> bool:
    """Merge ``settings`` into the tenant's settings (keys not given are kept)."""
    key = parse_id(tenant_id) if tenant_id else None
    stmt = select(Tenant.settings).where(Tenant.id == key)
    row = (await session.execute(dialect_of(session).for_update(stmt))).one_or_none()
    if key is None or row is None:
        raise ValidationFailed("Invalid tenant id.")
    if settings is not None and not isinstance(settings, dict):
        raise ValidationFailed("Invalid tenant settings: expected an object.")
    return await _update(session, key, {"settings": {**(row.settings or {}), **(settings or {})}})
