"""Projects: unique by name within a tenant; deleting one deletes its flows (Server 1's
``src/prefect_server/api/projects.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Project, Tenant
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import (
    FOREIGN_KEY_VIOLATION,
    UNIQUENESS_VIOLATION,
    ValidationFailed,
)
from prefect_server.orchestration.serialization import require_id
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id


async def create_project(
    session: AsyncSession, tenant_id: Any, name: str, description: str | None = None
) -> uuid.UUID:
    if not name:
        raise ValidationFailed("Invalid project name.")
    tenant = parse_id(tenant_id)
    if tenant is None or await session.scalar(select(Tenant.id).where(Tenant.id == tenant)) is None:
        raise ValidationFailed(FOREIGN_KEY_VIOLATION)
    # The 1.4.1 client matches this text and then looks the project up by name.
    stmt = (
        dialect_of(session)
        .insert(Project)
        .values(id=uuid.uuid4(), tenant_id=tenant, name=name, description=description)
        .on_conflict_do_nothing(index_elements=["tenant_id", "name"])
        .returning(Project.id)
    )
    project_id = await session.scalar(stmt)
    if project_id is None:
        raise ValidationFailed(UNIQUENESS_VIOLATION)
    return project_id


async def delete_project(session: AsyncSession, project_id: Any) -> bool:
    """Delete a project; its flows, their runs and states go with it (ON DELETE CASCADE)."""
    key = require_id(project_id, "Invalid project ID.")
    return await changes_rows(session, delete(Project).where(Project.id == key))


async def set_project_name(session: AsyncSession, project_id: Any, name: str) -> bool:
    key = require_id(project_id, "Invalid project ID.")
    if not name:
        raise ValidationFailed("Invalid project name.")
    row = (await session.execute(select(Project.tenant_id).where(Project.id == key))).one_or_none()
    if row is None:
        return False
    tenant = row.tenant_id
    clash = await session.scalar(
        select(Project.id).where(
            Project.tenant_id == tenant, Project.name == name, Project.id != key
        )
    )
    if clash is not None:
        raise ValidationFailed(UNIQUENESS_VIOLATION)
    return await _update(session, key, {"name": name})


async def set_project_description(
    session: AsyncSession, project_id: Any, description: str | None
) -> bool:
    key = require_id(project_id, "Invalid project ID.")
    return await _update(session, key, {"description": description})


async def _update(session: AsyncSession, key: uuid.UUID, values: dict[str, Any]) -> bool:
    return await changes_rows(
        session, update(Project).where(Project.id == key).values(**values, updated=utcnow())
    )
