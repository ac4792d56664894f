"""Flow mutations (spec §2.3, §3.3): registration, tasks and edges, archive, schedules."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import FlowIdPayload, SuccessPayload
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


def _flow_id_input(name: str) -> type:
    return strawberry.input(type(name, (), {"__annotations__": {"flow_id": UUID}}), name=name)


DeleteFlowInput = _flow_id_input("delete_flow_input")
ArchiveFlowInput = _flow_id_input("archive_flow_input")
EnableFlowHeartbeatInput = _flow_id_input("enable_flow_heartbeat_input")
DisableFlowHeartbeatInput = _flow_id_input("disable_flow_heartbeat_input")
EnableFlowLazarusProcessInput = _flow_id_input("enable_flow_lazarus_process_input")
DisableFlowLazarusProcessInput = _flow_id_input("disable_flow_lazarus_process_input")
SetScheduleActiveInput = _flow_id_input("set_schedule_active_input")
SetScheduleInactiveInput = _flow_id_input("set_schedule_inactive_input")


async def _create(
    info: Info[Context, None], serialized_flow: object, input: CreateFlowInput
) -> FlowIdPayload:  # type: ignore[valid-type]
    async with info.context.db.transaction() as session:
        flow_id = await flows.create_flow(
            session,
            serialized_flow,  # type: ignore[arg-type]
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
    ) -> FlowIdPayload | None:  # type: ignore[valid-type]
        return await _create(info, input.serialized_flow, input)

    @strawberry.mutation
    async def create_flow_from_compressed_string(
        self, info: Info[Context, None], input: CreateFlowFromCompressedStringInput
    ) -> FlowIdPayload | None:  # type: ignore[valid-type]
        return await _create(info, decompress_flow(input.serialized_flow), input)  # type: ignore[arg-type]

    @strawberry.mutation
    async def register_tasks(
        self, info: Info[Context, None], input: RegisterTasksInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await flows.register_tasks(session, input.flow_id, input.serialized_tasks)  # type: ignore[arg-type]
        return SuccessPayload(success=ok)

    @strawberry.mutation
    async def register_edges(
        self, info: Info[Context, None], input: RegisterEdgesInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await flows.register_edges(session, input.flow_id, input.serialized_edges)  # type: ignore[arg-type]
        return SuccessPayload(success=ok)

    @strawberry.mutation
    async def delete_flow(
        self,
        info: Info[Context, None],
        input: DeleteFlowInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            return SuccessPayload(success=await flows.delete_flow(session, input.flow_id))  # type: ignore[attr-defined]

    @strawberry.mutation
    async def archive_flow(
        self,
        info: Info[Context, None],
        input: ArchiveFlowInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            return SuccessPayload(success=await flows.archive_flow(session, input.flow_id))  # type: ignore[attr-defined]

    @strawberry.mutation
    async def update_flow_project(
        self, info: Info[Context, None], input: UpdateFlowProjectInput
    ) -> FlowIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            flow_id = await flows.update_flow_project(session, input.flow_id, input.project_id)
        return FlowIdPayload(id=flow_id)

    @strawberry.mutation
    async def enable_flow_heartbeat(
        self,
        info: Info[Context, None],
        input: EnableFlowHeartbeatInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        return await _toggle(info, input.flow_id, flow_groups.HEARTBEAT_ON)  # type: ignore[attr-defined]

    @strawberry.mutation
    async def disable_flow_heartbeat(
        self,
        info: Info[Context, None],
        input: DisableFlowHeartbeatInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        return await _toggle(info, input.flow_id, flow_groups.HEARTBEAT_OFF)  # type: ignore[attr-defined]

    @strawberry.mutation
    async def enable_flow_lazarus_process(
        self,
        info: Info[Context, None],
        input: EnableFlowLazarusProcessInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        return await _toggle(info, input.flow_id, flow_groups.LAZARUS_ON)  # type: ignore[attr-defined]

    @strawberry.mutation
    async def disable_flow_lazarus_process(
        self,
        info: Info[Context, None],
        input: DisableFlowLazarusProcessInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        return await _toggle(info, input.flow_id, flow_groups.LAZARUS_OFF)  # type: ignore[attr-defined]

    @strawberry.mutation
    async def set_schedule_active(
        self,
        info: Info[Context, None],
        input: SetScheduleActiveInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await flow_schedules.set_schedule_active(session, input.flow_id)  # type: ignore[attr-defined]
        return SuccessPayload(success=ok)

    @strawberry.mutation
    async def set_schedule_inactive(
        self,
        info: Info[Context, None],
        input: SetScheduleInactiveInput,  # type: ignore[valid-type]
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            ok = await flow_schedules.set_schedule_inactive(session, input.flow_id)  # type: ignore[attr-defined]
        return SuccessPayload(success=ok)


async def _toggle(
    info: Info[Context, None], flow_id: str, settings: dict[str, bool]
) -> SuccessPayload:
    async with info.context.db.transaction() as session:
        ok = await flow_groups.update_flow_settings(session, flow_id, settings)
    return SuccessPayload(success=ok)
