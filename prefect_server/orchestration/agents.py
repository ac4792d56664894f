"""Agents and agent configs (Server 1's ``src/prefect_server/api/agents.py``).

An agent registers on every start; registering again with the same identity
(tenant, name, type, Core version, labels) returns the existing row, so restarts do
not pile up agents.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Agent, AgentConfig, Tenant
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import FOREIGN_KEY_VIOLATION, ValidationFailed
from prefect_server.orchestration.serialization import require_id
from prefect_server.orchestration.tenants import first_tenant_id
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id


async def _tenant(session: AsyncSession, tenant_id: Any) -> uuid.UUID:
    key = parse_id(tenant_id)
    if key is None or await session.scalar(select(Tenant.id).where(Tenant.id == key)) is None:
        raise ValidationFailed(FOREIGN_KEY_VIOLATION)
    return key


async def register_agent(
    session: AsyncSession,
    *,
    type: str,
    tenant_id: Any = None,
    labels: list[str] | None = None,
    agent_config_id: Any = None,
    name: str | None = None,
    core_version: str | None = None,
) -> uuid.UUID:
    """The id of the agent with this identity, registering it if it is new."""
    if tenant_id:
        tenant = await _tenant(session, tenant_id)
    else:
        found = await first_tenant_id(session)
        if found is None:
            raise ValidationFailed("No tenant found.")
        tenant = found
    config = None
    if agent_config_id:
        config = parse_id(agent_config_id)
        if config is None or await session.get(AgentConfig, config) is None:
            raise ValidationFailed(FOREIGN_KEY_VIOLATION)
    sorted_labels = sorted(labels or [])

    # Server 1 matched through Hasura, where a null criterion matches everything.
    query = select(Agent.id, Agent.labels).where(Agent.tenant_id == tenant)
    for column, value in (
        (Agent.name, name),
        (Agent.type, type),
        (Agent.core_version, core_version),
    ):
        if value is not None:
            query = query.where(column == value)
    for row in await session.execute(query.order_by(Agent.created)):
        if sorted(row.labels or []) == sorted_labels:
            return row.id

    agent_id = uuid.uuid4()
    now = utcnow()
    session.add(
        Agent(
            id=agent_id,
            tenant_id=tenant,
            agent_config_id=config,
            name=name,
            type=type,
            core_version=core_version,
            labels=sorted_labels,
            last_queried=now,
            created=now,
            updated=now,
        )
    )
    await session.flush()
    return agent_id


async def delete_agent(session: AsyncSession, agent_id: Any) -> bool:
    key = require_id(agent_id, "Must supply an agent ID to delete.")
    return await changes_rows(session, delete(Agent).where(Agent.id == key))


async def update_agent_last_queried(session: AsyncSession, agent_id: Any) -> bool:
    key = require_id(agent_id, "Must supply an agent ID to update.")
    return await changes_rows(
        session,
        update(Agent).where(Agent.id == key).values(last_queried=utcnow(), updated=utcnow()),
    )


async def create_agent_config(
    session: AsyncSession,
    tenant_id: Any,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
) -> uuid.UUID:
    tenant = await _tenant(session, tenant_id)
    if settings is not None and not isinstance(settings, dict):
        raise ValidationFailed("Invalid agent config settings: expected an object.")
    config_id = uuid.uuid4()
    now = utcnow()
    session.add(
        AgentConfig(
            id=config_id,
            tenant_id=tenant,
            name=name,
            settings=settings or {},
            created=now,
            updated=now,
        )
    )
    await session.flush()
    return config_id


async def delete_agent_config(session: AsyncSession, agent_config_id: Any) -> bool:
    """Delete a config; agents that used it keep running without one (ON DELETE SET NULL)."""
    key = require_id(agent_config_id, "Must supply an agent ID to delete.")
    return await changes_rows(session, delete(AgentConfig).where(AgentConfig.id == key))


async def update_agent_config(
    session: AsyncSession,
    agent_config_id: Any,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
) -> bool:
    """Change the fields given; ``None`` leaves a field as it is."""
    key = require_id(agent_config_id, "Invalid agent config ID.")
    if settings is not None and not isinstance(settings, dict):
        raise ValidationFailed("Invalid agent config settings: expected an object.")
    values: dict[str, Any] = {"updated": utcnow()}
    if name is not None:
        values["name"] = name
    if settings is not None:
        values["settings"] = settings
    return await changes_rows(
        session, update(AgentConfig).where(AgentConfig.id == key).values(**values)
    )
