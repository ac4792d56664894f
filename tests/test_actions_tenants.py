"""Tenant mutations through the GraphQL API, checked against the database."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from prefect_server.database.models import Flow, Project, Tenant
from prefect_server.orchestration import flows, projects, tenants

CREATE = "mutation($input: create_tenant_input!) { create_tenant(input: $input) { id } }"


async def _tenant(db, tenant_id):
    async with db.session() as session:
        return await session.get(Tenant, uuid.UUID(tenant_id))


async def test_create_tenant(gql, db):
    data = await gql(CREATE, {"input": {"name": "Acme Corp", "slug": "acme-corp"}})
    tenant = await _tenant(db, data["create_tenant"]["id"])
    assert (tenant.name, tenant.slug, tenant.settings) == ("Acme Corp", "acme-corp", {})


async def test_slug_must_be_slugified(gql, db):
    errors = await gql.errors(CREATE, {"input": {"name": "x", "slug": "Not A Slug"}})
    assert errors[0]["message"] == 'Slug must be "slugified" (lowercase; no spaces)'
    async with db.session() as session:
        assert await session.scalar(select(func.count()).where(Tenant.name == "x")) == 0


async def test_duplicate_slug_is_a_uniqueness_violation(gql):
    await gql(CREATE, {"input": {"name": "a", "slug": "dup"}})
    errors = await gql.errors(CREATE, {"input": {"name": "b", "slug": "dup"}})
    assert errors[0]["message"] == "Uniqueness violation."


def test_slugify():
    assert tenants.slugify("Hello World!  Again") == "hello-world-again"
    assert tenants.slugify("Café's") == "cafes"


async def test_update_name_slug_and_merge_settings(gql, db):
    tenant_id = (await gql(CREATE, {"input": {"name": "t", "slug": "t"}}))["create_tenant"]["id"]
    await gql(
        "mutation($input: update_tenant_name_input!) { update_tenant_name(input: $input) { id } }",
        {"input": {"tenant_id": tenant_id, "name": "renamed"}},
    )
    await gql(
        "mutation($input: update_tenant_slug_input!) { update_tenant_slug(input: $input) { id } }",
        {"input": {"tenant_id": tenant_id, "slug": "renamed"}},
    )
    settings = "mutation($input: update_tenant_settings_input!) { update_tenant_settings(input: $input) { id } }"
    await gql(settings, {"input": {"tenant_id": tenant_id, "settings": {"a": 1, "b": 2}}})
    await gql(settings, {"input": {"tenant_id": tenant_id, "settings": {"b": 3}}})
    tenant = await _tenant(db, tenant_id)
    assert (tenant.name, tenant.slug, tenant.settings) == ("renamed", "renamed", {"a": 1, "b": 3})

    bad = await gql.errors(
        "mutation($input: update_tenant_slug_input!) { update_tenant_slug(input: $input) { id } }",
        {"input": {"tenant_id": tenant_id, "slug": "Bad Slug"}},
    )
    assert bad[0]["message"] == 'Slug must be "slugified" (lowercase; no spaces)'
    missing = await gql.errors(
        settings, {"input": {"tenant_id": str(uuid.uuid4()), "settings": {}}}
    )
    assert missing[0]["message"] == "Invalid tenant id."
    unknown = await gql.errors(
        "mutation($input: update_tenant_name_input!) { update_tenant_name(input: $input) { id } }",
        {"input": {"tenant_id": str(uuid.uuid4()), "name": "x"}},
    )
    assert unknown[0]["message"] == "Update failed."


async def test_delete_tenant_requires_confirm_and_cascades(gql, db):
    tenant_id = (await gql(CREATE, {"input": {"name": "t", "slug": "t"}}))["create_tenant"]["id"]
    async with db.transaction() as session:
        project_id = await projects.create_project(session, tenant_id, "p")
        await flows.create_flow(session, {"name": "f", "tasks": [{"slug": "a"}]}, project_id)
    delete = "mutation($input: delete_tenant_input!) { delete_tenant(input: $input) { success } }"
    errors = await gql.errors(delete, {"input": {"tenant_id": tenant_id, "confirm": False}})
    assert errors[0]["message"] == "Must pass `confirm=True` to proceed."
    assert await _tenant(db, tenant_id) is not None

    data = await gql(delete, {"input": {"tenant_id": tenant_id, "confirm": True}})
    assert data["delete_tenant"]["success"] is True
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Project)) == 0
        assert await session.scalar(select(func.count()).select_from(Flow)) == 0
    again = await gql(delete, {"input": {"tenant_id": tenant_id, "confirm": True}})
    assert again["delete_tenant"]["success"] is False


async def test_default_tenant_comes_first(db):
    async with db.transaction() as session:
        first = await tenants.ensure_default_tenant(session)
        await tenants.create_tenant(session, "later", "later")
        assert await tenants.ensure_default_tenant(session) == first
        assert await tenants.first_tenant_id(session) == first
