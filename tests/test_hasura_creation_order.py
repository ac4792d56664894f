"""Without order_by, tenants, projects and agents answer in the order they were created."""

from __future__ import annotations

from typing import Any

from prefect_server.database.engine import Database
from prefect_server.orchestration.tenants import create_tenant


async def _tenants(db: Database, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        async with db.transaction() as session:
            ids.append(str(await create_tenant(session, name)))
    return ids


async def test_tenants_projects_and_agents_answer_in_creation_order(db: Database, gql: Any) -> None:
    existing = (await gql("query { tenant { id name } }"))["tenant"]
    assert [t["name"] for t in existing] == ["default"]  # made at startup
    names = ["default", "mine", "zeta", "alpha", "beta", "gamma", "delta", "omega"]
    tenants = [existing[0]["id"], *await _tenants(db, names[1:])]
    # Eight random UUIDs sort in creation order once in 40,320 runs.
    assert tenants != sorted(tenants)
    # The 1.4.1 client's tenant query: it takes the first row.
    assert [t["id"] for t in (await gql("query { tenant { id } }"))["tenant"]] == tenants
    listed = (await gql("query { tenant { id name } }"))["tenant"]
    assert [t["name"] for t in listed] == names

    projects = []
    for name in names:
        data = await gql(
            "mutation($input: create_project_input!) { create_project(input: $input) { id } }",
            {"input": {"name": name, "tenant_id": tenants[0]}},
        )
        projects.append(data["create_project"]["id"])
    assert [p["id"] for p in (await gql("query { project { id } }"))["project"]] == projects
    nested = await gql("query { tenant(limit: 1) { projects { id } } }")
    assert [p["id"] for p in nested["tenant"][0]["projects"]] == projects

    agents = []
    for name in names:
        data = await gql(
            "mutation($input: register_agent_input!) { register_agent(input: $input) { id } }",
            {"input": {"tenant_id": tenants[0], "name": name, "type": "LocalAgent", "labels": []}},
        )
        agents.append(data["register_agent"]["id"])
    assert [a["id"] for a in (await gql("query { agent { id } }"))["agent"]] == agents
