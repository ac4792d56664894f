"""Cloud-hook mutations."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import CloudHookIdPayload, SuccessPayload
from prefect_server.graphql.actions._transaction import in_transaction, succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import cloud_hooks


@strawberry.enum(name="cloud_hook_type")
class CloudHookType(enum.Enum):
    PAGERDUTY = "PAGERDUTY"
    SLACK_WEBHOOK = "SLACK_WEBHOOK"
    TWILIO = "TWILIO"
    WEBHOOK = "WEBHOOK"
    PREFECT_MESSAGE = "PREFECT_MESSAGE"


@strawberry.enum(name="test_cloud_hook_state_type")
class TestCloudHookStateType(enum.Enum):
    SCHEDULED = "SCHEDULED"
    SUBMITTED = "SUBMITTED"
    SUCCESS = "SUCCESS"
    RUNNING = "RUNNING"
    FAILED = "FAILED"


@strawberry.input(name="create_cloud_hook_input")
class CreateCloudHookInput:
    tenant_id: UUID
    type: CloudHookType
    states: list[str]
    name: str | None = None
    version_group_id: str | None = None
    config: JSON | None = None


@strawberry.input(name="test_cloud_hook_input")
class TestCloudHookInput:
    cloud_hook_id: UUID
    flow_run_id: UUID | None = None
    state_type: TestCloudHookStateType | None = None


@strawberry.input(name="delete_cloud_hook_input")
class DeleteCloudHookInput:
    cloud_hook_id: UUID


@strawberry.input(name="set_cloud_hook_active_input")
class SetCloudHookActiveInput:
    cloud_hook_id: UUID


@strawberry.input(name="set_cloud_hook_inactive_input")
class SetCloudHookInactiveInput:
    cloud_hook_id: UUID


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_cloud_hook(
        self, info: Info[Context, None], input: CreateCloudHookInput
    ) -> CloudHookIdPayload | None:
        hook_id = await in_transaction(
            info,
            cloud_hooks.create_cloud_hook,
            tenant_id=input.tenant_id,
            type=input.type.value,
            states=input.states,
            config=input.config,
            name=input.name,
            version_group_id=input.version_group_id,
        )
        return CloudHookIdPayload(id=hook_id)

    @strawberry.mutation
    async def delete_cloud_hook(
        self, info: Info[Context, None], input: DeleteCloudHookInput
    ) -> SuccessPayload | None:
        return await succeeded(info, cloud_hooks.delete_cloud_hook, input.cloud_hook_id)

    @strawberry.mutation
    async def set_cloud_hook_active(
        self, info: Info[Context, None], input: SetCloudHookActiveInput
    ) -> SuccessPayload | None:
        return await succeeded(info, cloud_hooks.set_cloud_hook_active, input.cloud_hook_id, True)

    @strawberry.mutation
    async def set_cloud_hook_inactive(
        self, info: Info[Context, None], input: SetCloudHookInactiveInput
    ) -> SuccessPayload | None:
        return await succeeded(info, cloud_hooks.set_cloud_hook_active, input.cloud_hook_id, False)

    @strawberry.mutation
    async def test_cloud_hook(
        self, info: Info[Context, None], input: TestCloudHookInput
    ) -> SuccessPayload | None:
        try:
            await in_transaction(
                info,
                cloud_hooks.test_cloud_hook,
                input.cloud_hook_id,
                flow_run_id=input.flow_run_id,
                state_type=input.state_type.value if input.state_type else None,
                settings=info.context.settings,
            )
        except Exception as exc:
            # Server 1 reported any failure of the test send in the payload, not as an error.
            return SuccessPayload(success=False, error=str(exc))
        return SuccessPayload(success=True)
