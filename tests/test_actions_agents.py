"""Agent registration and agent configs through the GraphQL API."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from prefect_server.database.models import Agent, AgentConfig
from prefect_server.orchestration import agents, tenants
from prefect_server.orchestration.errors import ValidationFailed

REGISTER = "mutation($input: register_agent_input!) { register_agent(input: $input) { id } }"
CREATE_CONFIG = (
    "mutation($input: create_agent_config_input!) { create_agent_config(input: $input) { id } }"
)
CORE = {"X-PREFECT-CORE-VERSION": "1.4.1"}


async def _tenant_id(db) -> str:
    async with db.transaction() as session:
        return str(await tenants.ensure_default_tenant(session))


async def _agents(db) -> list[Agent]:
    async with db.session() as session:
        return list(await session.scalars(select(Agent).order_by(Agent.created)))


async def test_register_agent_as_the_local_agent_does(gql, db):
    tenant_id = await _tenant_id(db)
    variables = {
        "input": {
            "type": "LocalAgent",
            "name": "agent",
            "labels": ["host", "e2e"],
            "tenant_id": tenant_id,
            "agent_config_id": None,
        }
    }
    first = (await gql(REGISTER, variables, headers=CORE))["register_agent"]["id"]
    [agent] = await _agents(db)
    assert (str(agent.id), str(agent.tenant_id), agent.name, agent.type) == (
        first,
        tenant_id,
        "agent",
        "LocalAgent",
    )
    assert (agent.labels, agent.core_version, agent.last_queried is not None) == (
        ["e2e", "host"],
        "1.4.1",
        True,
    )
    # A restart with the same identity (labels in any order) is the same agent.
    variables["input"]["labels"] = ["e2e", "host"]
    again = (await gql(REGISTER, variables, headers=CORE))["register_agent"]["id"]
    assert again == first and len(await _agents(db)) == 1

    for change in ({"labels": ["e2e"]}, {"name": "other"}, {"type": "DockerAgent"}):
        await gql(REGISTER, {"input": {**variables["input"], **change}}, headers=CORE)
    await gql(REGISTER, variables, headers={"X-PREFECT-CORE-VERSION": "1.3.0"})
    assert len(await _agents(db)) == 5


async def test_register_agent_defaults_to_first_tenant(gql, db):
    tenant_id = await _tenant_id(db)
    data = await gql(REGISTER, {"input": {"type": "LocalAgent"}})
    [agent] = await _agents(db)
    assert str(agent.id) == data["register_agent"]["id"]
    assert (str(agent.tenant_id), agent.labels, agent.name) == (tenant_id, [], None)


async def test_register_agent_without_tenant(db):
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed, match="No tenant found."):
            await agents.register_agent(session, type="LocalAgent")


async def test_register_agent_with_unknown_config_writes_nothing(gql, db):
    await _tenant_id(db)
    errors = await gql.errors(
        REGISTER, {"input": {"type": "LocalAgent", "agent_config_id": str(uuid.uuid4())}}
    )
    assert errors[0]["message"] == "Foreign key violation."
    assert await _agents(db) == []


async def test_delete_agent(gql, db):
    await _tenant_id(db)
    agent_id = (await gql(REGISTER, {"input": {"type": "LocalAgent"}}))["register_agent"]["id"]
    delete = "mutation($input: delete_agent_input!) { delete_agent(input: $input) { success } }"
    assert (await gql(delete, {"input": {"agent_id": agent_id}}))["delete_agent"]["success"]
    assert not (await gql(delete, {"input": {"agent_id": agent_id}}))["delete_agent"]["success"]
    assert await _agents(db) == []


async def test_agent_configs(gql, db):
    tenant_id = await _tenant_id(db)
    config_id = (await gql(CREATE_CONFIG, {"input": {"tenant_id": tenant_id, "name": "c"}}))[
        "create_agent_config"
    ]["id"]
    async with db.session() as session:
        config = await session.get(AgentConfig, uuid.UUID(config_id))
    assert (config.name, config.settings) == ("c", {})

    agent_id = (
        await gql(REGISTER, {"input": {"type": "LocalAgent", "agent_config_id": config_id}})
    )["register_agent"]["id"]
    update = "mutation($input: update_agent_config_input!) { update_agent_config(input: $input) { success } }"
    await gql(update, {"input": {"agent_config_id": config_id, "settings": {"k": 1}}})
    async with db.session() as session:
        config = await session.get(AgentConfig, uuid.UUID(config_id))
        assert (config.name, config.settings) == ("c", {"k": 1})
    await gql(update, {"input": {"agent_config_id": config_id, "name": "d"}})
    async with db.session() as session:
        config = await session.get(AgentConfig, uuid.UUID(config_id))
        assert (config.name, config.settings) == ("d", {"k": 1})
    missing = await gql(update, {"input": {"agent_config_id": str(uuid.uuid4()), "name": "x"}})
    assert missing["update_agent_config"]["success"] is False

    delete = "mutation($input: delete_agent_config_input!) { delete_agent_config(input: $input) { success } }"
    assert (await gql(delete, {"input": {"agent_config_id": config_id}}))["delete_agent_config"][
        "success"
    ]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(AgentConfig)) == 0
        agent = await session.get(Agent, uuid.UUID(agent_id))
    assert agent is not None and agent.agent_config_id is None

    errors = await gql.errors(CREATE_CONFIG, {"input": {"tenant_id": str(uuid.uuid4())}})
    assert errors[0]["message"] == "Foreign key violation."


async def test_update_agent_last_queried(db):
    await _tenant_id(db)
    async with db.transaction() as session:
        agent_id = await agents.register_agent(session, type="LocalAgent")
        before = (await session.get(Agent, agent_id)).last_queried
    async with db.transaction() as session:
        assert await agents.update_agent_last_queried(session, agent_id) is True
    async with db.session() as session:
        assert (await session.get(Agent, agent_id)).last_queried >= before
