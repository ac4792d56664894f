"""Agent and agent-config mutations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import (
    AgentConfigIdPayload,
    AgentIdPayload,
    SuccessPayload,
)
from prefect_server.graphql.actions._transaction import in_transaction, succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import agents


@strawberry.input(name="register_agent_input")
class RegisterAgentInput:
    type: str
    tenant_id: UUID | None = None
    labels: list[str] | None = None
    agent_config_id: UUID | None = None
    name: str | None = None


@strawberry.input(name="delete_agent_input")
class DeleteAgentInput:
    agent_id: UUID


@strawberry.input(name="create_agent_config_input")
class CreateAgentConfigInput:
    tenant_id: UUID
    name: str | None = None
    settings: JSON | None = None


@strawberry.input(name="delete_agent_config_input")
class DeleteAgentConfigInput:
    agent_config_id: UUID


@strawberry.input(name="update_agent_config_input")
class UpdateAgentConfigInput:
    agent_config_id: UUID
    name: str | None = None
    settings: JSON | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register_agent(
        self, info: Info[Context, None], input: RegisterAgentInput
    ) -> AgentIdPayload | None:
        agent_id = await in_transaction(
            info,
            agents.register_agent,
            type=input.type,
            tenant_id=input.tenant_id,
            labels=input.labels,
            agent_config_id=input.agent_config_id,
            name=input.name,
            core_version=info.context.core_version,
        )
        return AgentIdPayload(id=agent_id)

    @strawberry.mutation
    async def delete_agent(
        self, info: Info[Context, None], input: DeleteAgentInput
    ) -> SuccessPayload | None:
        return await succeeded(info, agents.delete_agent, input.agent_id)

    @strawberry.mutation
    async def create_agent_config(
        self, info: Info[Context, None], input: CreateAgentConfigInput
    ) -> AgentConfigIdPayload | None:
        config_id = await in_transaction(
            info, agents.create_agent_config, input.tenant_id, input.name, input.settings
        )
        return AgentConfigIdPayload(id=config_id)

    @strawberry.mutation
    async def delete_agent_config(
        self, info: Info[Context, None], input: DeleteAgentConfigInput
    ) -> SuccessPayload | None:
        return await succeeded(info, agents.delete_agent_config, input.agent_config_id)

    @strawberry.mutation
    async def update_agent_config(
        self, info: Info[Context, None], input: UpdateAgentConfigInput
    ) -> SuccessPayload | None:
        return await succeeded(
            info, agents.update_agent_config, input.agent_config_id, input.name, input.settings
        )
