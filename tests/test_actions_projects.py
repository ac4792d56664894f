"""Project mutations through the GraphQL API, checked against the database."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from prefect_server.database.models import Flow, Project
from prefect_server.orchestration import flows, tenants

CREATE = "mutation($input: create_project_input!) { create_project(input: $input) { id } }"


async def _tenant_id(db) -> str:
    async with db.transaction() as session:
        return str(await tenants.ensure_default_tenant(session))


async def test_create_project(gql, db):
    tenant_id = await _tenant_id(db)
    data = await gql(CREATE, {"input": {"tenant_id": tenant_id, "name": "p", "description": None}})
    async with db.session() as session:
        project = await session.get(Project, uuid.UUID(data["create_project"]["id"]))
    assert (str(project.tenant_id), project.name, project.description) == (tenant_id, "p", None)


async def test_duplicate_name_is_a_uniqueness_violation_per_tenant(gql, db):
    tenant_id = await _tenant_id(db)
    await gql(CREATE, {"input": {"tenant_id": tenant_id, "name": "p"}})
    errors = await gql.errors(CREATE, {"input": {"tenant_id": tenant_id, "name": "p"}})
    assert errors[0]["message"] == "Uniqueness violation."
    other = await gql(
        "mutation($input: create_tenant_input!) { create_tenant(input: $input) { id } }",
        {"input": {"name": "other", "slug": "other"}},
    )
    await gql(CREATE, {"input": {"tenant_id": other["create_tenant"]["id"], "name": "p"}})
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Project)) == 2


async def _create(gql, tenant_id, name):
    """A project created through the API; its id."""
    return (await gql(CREATE, {"input": {"tenant_id": tenant_id, "name": name}}))["create_project"][
        "id"
    ]


async def test_unknown_tenant_is_a_foreign_key_violation(gql, db):
    errors = await gql.errors(CREATE, {"input": {"tenant_id": str(uuid.uuid4()), "name": "p"}})
    assert errors[0]["message"] == "Foreign key violation."


async def test_rename_and_describe(gql, db):
    tenant_id = await _tenant_id(db)
    project_id = await _create(gql, tenant_id, "p")
    await gql(CREATE, {"input": {"tenant_id": tenant_id, "name": "taken"}})
    rename = "mutation($input: set_project_name_input!) { set_project_name(input: $input) { id } }"
    describe = "mutation($input: set_project_description_input!) { set_project_description(input: $input) { id } }"
    data = await gql(rename, {"input": {"project_id": project_id, "name": "q"}})
    assert data["set_project_name"]["id"] == project_id
    await gql(describe, {"input": {"project_id": project_id, "description": "about"}})
    async with db.session() as session:
        project = await session.get(Project, uuid.UUID(project_id))
    assert (project.name, project.description) == ("q", "about")

    clash = await gql.errors(rename, {"input": {"project_id": project_id, "name": "taken"}})
    assert clash[0]["message"] == "Uniqueness violation."
    missing = await gql.errors(rename, {"input": {"project_id": str(uuid.uuid4()), "name": "z"}})
    assert missing[0]["message"] == "Update failed"
    missing = await gql.errors(describe, {"input": {"project_id": str(uuid.uuid4())}})
    assert missing[0]["message"] == "Update failed"


async def test_delete_project_cascades_to_flows(gql, db):
    tenant_id = await _tenant_id(db)
    project_id = await _create(gql, tenant_id, "p")
    async with db.transaction() as session:
        await flows.create_flow(session, {"name": "f"}, project_id)
    delete = "mutation($input: delete_project_input!) { delete_project(input: $input) { success } }"
    data = await gql(delete, {"input": {"project_id": project_id}})
    assert data["delete_project"]["success"] is True
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Flow)) == 0
    data = await gql(delete, {"input": {"project_id": project_id}})
    assert data["delete_project"]["success"] is False
