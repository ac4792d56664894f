"""Flow mutations: registration, tasks and edges, archive, schedules."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import FlowIdPayload, SuccessPayload
from prefect_server.graphql.actions._transaction import in_transaction, succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import flow_groups, flow_schedules, flows
from prefect_server.orchestration.serialization import decompress_flow


@strawberry.input(name="create_flow_input")
class CreateFlowInput:
    serialized_flow: JSON
    project_id: UUID
    version_group_id: str | None = None
    set_schedule_active: bool | None = None
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.input(name="create_flow_from_compressed_string_input")
class CreateFlowFromCompressedStringInput:
    serialized_flow: str
    project_id: UUID
    version_group_id: str | None = None
    set_schedule_active: bool | None = None
    description: str | None = None
    idempotency_key: str | None = None


@strawberry.input(name="register_tasks_input")
class RegisterTasksInput:
    flow_id: UUID
    serialized_tasks: JSON


@strawberry.input(name="register_edges_input")
class RegisterEdgesInput:
    flow_id: UUID
    serialized_edges: JSON


@strawberry.input(name="update_flow_project_input")
class UpdateFlowProjectInput:
    flow_id: UUID
    project_id: UUID


# Server 1 names one input per action on a flow; they differ in name only. The base is
# in no field's type, so it is not part of the schema.
@strawberry.input
class FlowIdInput:
    flow_id: UUID


@strawberry.input(name="delete_flow_input")
class DeleteFlowInput(FlowIdInput): ...


@strawberry.input(name="archive_flow_input")
class ArchiveFlowInput(FlowIdInput): ...


@strawberry.input(name="enable_flow_heartbeat_input")
class EnableFlowHeartbeatInput(FlowIdInput): ...


@strawberry.input(name="disable_flow_heartbeat_input")
class DisableFlowHeartbeatInput(FlowIdInput): ...


@strawberry.input(name="enable_flow_lazarus_process_input")
class EnableFlowLazarusProcessInput(FlowIdInput): ...


@strawberry.input(name="disable_flow_lazarus_process_input")
class DisableFlowLazarusProcessInput(FlowIdInput): ...


@strawberry.input(name="set_schedule_active_input")
class SetScheduleActiveInput(FlowIdInput): ...


@strawberry.input(name="set_schedule_inactive_input")
class SetScheduleInactiveInput(FlowIdInput): ...


async def _create(
    info: Info[Context, None],
    serialized_flow: Any,
    input: CreateFlowInput | CreateFlowFromCompressedStringInput,
) -> FlowIdPayload:
    flow_id = await in_transaction(
        info,
        flows.create_flow,
        serialized_flow,
        input.project_id,
        version_group_id=input.version_group_id,
        set_schedule_active=input.set_schedule_active is not False,
        description=input.description,
        idempotency_key=input.idempotency_key,
    )
    return FlowIdPayload(id=flow_id)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_flow(
        self, info: Info[Context, None], input: CreateFlowInput
    ) -> FlowIdPayload | None:
        return await _create(info, input.serialized_flow, input)

    @strawberry.mutation
    async def create_flow_from_compressed_string(
        self, info: Info[Context, None], input: CreateFlowFromCompressedStringInput
    ) -> FlowIdPayload | None:
        return await _create(info, decompress_flow(input.serialized_flow), input)

    @strawberry.mutation
    async def register_tasks(
        self, info: Info[Context, None], input: RegisterTasksInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flows.register_tasks, input.flow_id, input.serialized_tasks)

    @strawberry.mutation
    async def register_edges(
        self, info: Info[Context, None], input: RegisterEdgesInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flows.register_edges, input.flow_id, input.serialized_edges)

    @strawberry.mutation
    async def delete_flow(
        self, info: Info[Context, None], input: DeleteFlowInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flows.delete_flow, input.flow_id)

    @strawberry.mutation
    async def archive_flow(
        self, info: Info[Context, None], input: ArchiveFlowInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flows.archive_flow, input.flow_id)

    @strawberry.mutation
    async def update_flow_project(
        self, info: Info[Context, None], input: UpdateFlowProjectInput
    ) -> FlowIdPayload | None:
        flow_id = await in_transaction(
            info, flows.update_flow_project, input.flow_id, input.project_id
        )
        return FlowIdPayload(id=flow_id)

    @strawberry.mutation
    async def enable_flow_heartbeat(
        self, info: Info[Context, None], input: EnableFlowHeartbeatInput
    ) -> SuccessPayload | None:
        return await _settings(info, input, flow_groups.HEARTBEAT_ON)

    @strawberry.mutation
    async def disable_flow_heartbeat(
        self, info: Info[Context, None], input: DisableFlowHeartbeatInput
    ) -> SuccessPayload | None:
        return await _settings(info, input, flow_groups.HEARTBEAT_OFF)

    @strawberry.mutation
    async def enable_flow_lazarus_process(
        self, info: Info[Context, None], input: EnableFlowLazarusProcessInput
    ) -> SuccessPayload | None:
        return await _settings(info, input, flow_groups.LAZARUS_ON)

    @strawberry.mutation
    async def disable_flow_lazarus_process(
        self, info: Info[Context, None], input: DisableFlowLazarusProcessInput
    ) -> SuccessPayload | None:
        return await _settings(info, input, flow_groups.LAZARUS_OFF)

    @strawberry.mutation
    async def set_schedule_active(
        self, info: Info[Context, None], input: SetScheduleActiveInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flow_schedules.set_schedule_active, input.flow_id)

    @strawberry.mutation
    async def set_schedule_inactive(
        self, info: Info[Context, None], input: SetScheduleInactiveInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flow_schedules.set_schedule_inactive, input.flow_id)


async def _settings(
    info: Info[Context, None], input: FlowIdInput, settings: dict[str, bool]
) -> SuccessPayload:
    return await succeeded(info, flow_groups.update_flow_settings, input.flow_id, settings)
