"""Tenant mutations (spec §3.1)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload, TenantIdPayload
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import tenants
from prefect_server.orchestration.errors import ValidationFailed


@strawberry.input(name="create_tenant_input")
class CreateTenantInput:
    name: str
    slug: str


@strawberry.input(name="delete_tenant_input")
class DeleteTenantInput:
    tenant_id: UUID
    confirm: bool


@strawberry.input(name="update_tenant_name_input")
class UpdateTenantNameInput:
    tenant_id: UUID
    name: str


@strawberry.input(name="update_tenant_slug_input")
class UpdateTenantSlugInput:
    tenant_id: UUID
    slug: str


@strawberry.input(name="update_tenant_settings_input")
class UpdateTenantSettingsInput:
    tenant_id: UUID
    settings: JSON | None = None


def _updated(ok: bool, tenant_id: str) -> TenantIdPayload | None:  # type: ignore[valid-type]
    if not ok:
        raise ValidationFailed("Update failed.")
    return TenantIdPayload(id=tenant_id)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_tenant(
        self, info: Info[Context, None], input: CreateTenantInput
    ) -> TenantIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            tenant_id = await tenants.create_tenant(session, input.name, input.slug)
        return TenantIdPayload(id=tenant_id)

    @strawberry.mutation
    async def delete_tenant(
        self, info: Info[Context, None], input: DeleteTenantInput
    ) -> SuccessPayload | None:
        if not input.confirm:
            raise ValidationFailed("Must pass `confirm=True` to proceed.")
        async with info.context.db.transaction() as session:
            return SuccessPayload(success=await tenants.delete_tenant(session, input.tenant_id))

    @strawberry.mutation
    async def update_tenant_name(
        self, info: Info[Context, None], input: UpdateTenantNameInput
    ) -> TenantIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            ok = await tenants.update_tenant_name(session, input.tenant_id, input.name)
        return _updated(ok, input.tenant_id)

    @strawberry.mutation
    async def update_tenant_slug(
        self, info: Info[Context, None], input: UpdateTenantSlugInput
    ) -> TenantIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            ok = await tenants.update_tenant_slug(session, input.tenant_id, input.slug)
        return _updated(ok, input.tenant_id)

    @strawberry.mutation
    async def update_tenant_settings(
        self, info: Info[Context, None], input: UpdateTenantSettingsInput
    ) -> TenantIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            ok = await tenants.update_tenant_settings(session, input.tenant_id, input.settings)
        return _updated(ok, input.tenant_id)
