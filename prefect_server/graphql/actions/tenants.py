"""Tenant mutations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload, TenantIdPayload
from prefect_server.graphql.actions._transaction import in_transaction, succeeded, updated
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


# Server 1's text, to the letter.
_FAILED = "Update failed."


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_tenant(
        self, info: Info[Context, None], input: CreateTenantInput
    ) -> TenantIdPayload | None:
        tenant_id = await in_transaction(info, tenants.create_tenant, input.name, input.slug)
        return TenantIdPayload(id=tenant_id)

    @strawberry.mutation
    async def delete_tenant(
        self, info: Info[Context, None], input: DeleteTenantInput
    ) -> SuccessPayload | None:
        if not input.confirm:
            raise ValidationFailed("Must pass `confirm=True` to proceed.")
        return await succeeded(info, tenants.delete_tenant, input.tenant_id)

    @strawberry.mutation
    async def update_tenant_name(
        self, info: Info[Context, None], input: UpdateTenantNameInput
    ) -> TenantIdPayload | None:
        return await updated(
            info, TenantIdPayload, _FAILED, tenants.update_tenant_name, input.tenant_id, input.name
        )

    @strawberry.mutation
    async def update_tenant_slug(
        self, info: Info[Context, None], input: UpdateTenantSlugInput
    ) -> TenantIdPayload | None:
        return await updated(
            info, TenantIdPayload, _FAILED, tenants.update_tenant_slug, input.tenant_id, input.slug
        )

    @strawberry.mutation
    async def update_tenant_settings(
        self, info: Info[Context, None], input: UpdateTenantSettingsInput
    ) -> TenantIdPayload | None:
        return await updated(
            info,
            TenantIdPayload,
            _FAILED,
            tenants.update_tenant_settings,
            input.tenant_id,
            input.settings,
        )
