"""Flow-run and task-run mutations and queries (spec §2.3, §3.5)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import (
    FlowRunIdPayload,
    SuccessPayload,
    TaskRunIdPayload,
)
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID, DateTime
from prefect_server.orchestration import runs, task_runs

logger = logging.getLogger(__name__)


@strawberry.input(name="create_flow_run_input")
class CreateFlowRunInput:
    flow_id: UUID | None = None
    version_group_id: str | None = None
    parameters: JSON | None = None
    context: JSON | None = None
    run_config: JSON | None = None
    labels: list[str] | None = None
    scheduled_start_time: DateTime | None = None
    idempotency_key: str | None = None
    flow_run_name: str | None = None


@strawberry.input(name="set_flow_run_name_input")
class SetFlowRunNameInput:
    flow_run_id: UUID
    name: str


@strawberry.input(name="set_task_run_name_input")
class SetTaskRunNameInput:
    task_run_id: UUID
    name: str


@strawberry.input(name="set_flow_run_labels_input")
class SetFlowRunLabelsInput:
    flow_run_id: UUID
    labels: list[str]


@strawberry.input(name="delete_flow_run_input")
class DeleteFlowRunInput:
    flow_run_id: UUID


@strawberry.input(name="get_or_create_task_run_input")
class GetOrCreateTaskRunInput:
    flow_run_id: UUID
    task_id: UUID
    map_index: int | None = None


@strawberry.input(name="get_or_create_task_run_info_input")
class GetOrCreateTaskRunInfoInput:
    flow_run_id: UUID
    task_id: UUID
    map_index: int | None = None


@strawberry.input(name="update_flow_run_heartbeat_input")
class UpdateFlowRunHeartbeatInput:
    flow_run_id: UUID


@strawberry.input(name="update_task_run_heartbeat_input")
class UpdateTaskRunHeartbeatInput:
    task_run_id: UUID


@strawberry.type(name="get_or_create_task_run_info_payload")
class GetOrCreateTaskRunInfoPayload:
    id: UUID | None
    version: int | None
    state: str | None
    serialized_state: JSON | None


@strawberry.type(name="task_run_info_payload")
class TaskRunInfoPayload:
    id: UUID | None
    version: int | None
    state: str | None
    serialized_state: JSON | None


@strawberry.type(name="mapped_children_payload")
class MappedChildrenPayload:
    min_start_time: DateTime | None
    max_end_time: DateTime | None
    state_counts: JSON | None


@strawberry.type
class Query:
    @strawberry.field
    async def get_task_run_info(
        self, info: Info[Context, None], task_run_id: UUID
    ) -> TaskRunInfoPayload | None:
        async with info.context.db.session() as session:
            found = await task_runs.get_task_run_info(session, task_run_id)
        return TaskRunInfoPayload(
            id=str(found.id),
            version=found.version,
            state=found.state,
            serialized_state=found.serialized_state,
        )

    @strawberry.field
    async def mapped_children(
        self, info: Info[Context, None], task_run_id: UUID
    ) -> MappedChildrenPayload | None:
        async with info.context.db.session() as session:
            found = await task_runs.mapped_children(session, task_run_id)
        return MappedChildrenPayload(**found)


async def _get_or_create_task_run_info(
    ctx: Context, flow_run_id: str, task_id: str, map_index: int | None
) -> GetOrCreateTaskRunInfoPayload:
    async with ctx.db.core_transaction() as conn:
        found = await task_runs.get_or_create_task_run_info(conn, flow_run_id, task_id, map_index)
    return GetOrCreateTaskRunInfoPayload(
        id=str(found.id),
        version=found.version,
        state=found.state,
        serialized_state=found.serialized_state,
    )


async def _heartbeat(ctx: Context, kind: str, run_id: str) -> SuccessPayload:
    # Server 1 always answered success and only logged failures; clients never check.
    update = (
        runs.update_flow_run_heartbeat if kind == "flow" else task_runs.update_task_run_heartbeat
    )
    try:
        async with ctx.db.transaction() as session:
            await update(session, run_id)
    except Exception as exc:
        logger.info("Heartbeat for %s run %s not recorded: %s", kind, run_id, exc)
    return SuccessPayload(success=True)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_flow_run(
        self, info: Info[Context, None], input: CreateFlowRunInput
    ) -> FlowRunIdPayload | None:
        start = input.scheduled_start_time
        async with info.context.db.transaction() as session:
            run_id = await runs.create_flow_run(
                session,
                flow_id=input.flow_id,
                version_group_id=input.version_group_id,
                parameters=input.parameters,  # type: ignore[arg-type]
                context=input.context,  # type: ignore[arg-type]
                scheduled_start_time=start if isinstance(start, dt.datetime | None) else str(start),
                flow_run_name=input.flow_run_name,
                labels=input.labels,
                run_config=input.run_config,  # type: ignore[arg-type]
                idempotency_key=input.idempotency_key,
            )
        return FlowRunIdPayload(id=run_id)

    @strawberry.mutation
    async def set_flow_run_name(
        self, info: Info[Context, None], input: SetFlowRunNameInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            done = await runs.set_flow_run_name(session, input.flow_run_id, input.name)
        return SuccessPayload(success=done)

    @strawberry.mutation
    async def set_task_run_name(
        self, info: Info[Context, None], input: SetTaskRunNameInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            done = await task_runs.set_task_run_name(session, input.task_run_id, input.name)
        return SuccessPayload(success=done)

    @strawberry.mutation
    async def set_flow_run_labels(
        self, info: Info[Context, None], input: SetFlowRunLabelsInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            done = await runs.set_flow_run_labels(session, input.flow_run_id, input.labels)
        return SuccessPayload(success=done)

    @strawberry.mutation
    async def delete_flow_run(
        self, info: Info[Context, None], input: DeleteFlowRunInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            done = await runs.delete_flow_run(session, input.flow_run_id)
        return SuccessPayload(success=done)

    @strawberry.mutation
    async def get_or_create_task_run(
        self, info: Info[Context, None], input: GetOrCreateTaskRunInput
    ) -> TaskRunIdPayload | None:
        async with info.context.db.transaction() as session:
            run_id = await task_runs.get_or_create_task_run(
                session, input.flow_run_id, input.task_id, input.map_index
            )
        return TaskRunIdPayload(id=run_id)

    @strawberry.mutation
    async def get_or_create_task_run_info(
        self, info: Info[Context, None], input: GetOrCreateTaskRunInfoInput
    ) -> GetOrCreateTaskRunInfoPayload | None:
        return await _get_or_create_task_run_info(
            info.context, input.flow_run_id, input.task_id, input.map_index
        )

    @strawberry.mutation
    async def update_flow_run_heartbeat(
        self, info: Info[Context, None], input: UpdateFlowRunHeartbeatInput
    ) -> SuccessPayload | None:
        return await _heartbeat(info.context, "flow", input.flow_run_id)

    @strawberry.mutation
    async def update_task_run_heartbeat(
        self, info: Info[Context, None], input: UpdateTaskRunHeartbeatInput
    ) -> SuccessPayload | None:
        return await _heartbeat(info.context, "task", input.task_run_id)


# The client's hottest documents skip the general executor (graphql/plans.py); these
# take the coerced ``input`` and share the resolvers' bodies.
async def _hot_get_or_create_task_run_info(
    ctx: Context, input: dict[str, Any]
) -> GetOrCreateTaskRunInfoPayload:
    return await _get_or_create_task_run_info(
        ctx, input["flow_run_id"], input["task_id"], input.get("map_index")
    )


async def _hot_flow_run_heartbeat(ctx: Context, input: dict[str, Any]) -> SuccessPayload:
    return await _heartbeat(ctx, "flow", input["flow_run_id"])


async def _hot_task_run_heartbeat(ctx: Context, input: dict[str, Any]) -> SuccessPayload:
    return await _heartbeat(ctx, "task", input["task_run_id"])


HOT = {
    "get_or_create_task_run_info": _hot_get_or_create_task_run_info,
    "update_flow_run_heartbeat": _hot_flow_run_heartbeat,
    "update_task_run_heartbeat": _hot_task_run_heartbeat,
}
