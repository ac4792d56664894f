"""Flow-run and task-run mutations and queries."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from strawberry.types import Info

from prefect_server.database.engine import Database
from prefect_server.graphql.actions._payloads import (
    FlowRunIdPayload,
    SuccessPayload,
    TaskRunIdPayload,
)
from prefect_server.graphql.actions._transaction import in_transaction, succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.hot import Caller, HotMutation
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


# The bases are in no field's type, so they are not part of the schema.
@strawberry.input
class TaskRunKey:
    flow_run_id: UUID
    task_id: UUID
    map_index: int | None = None


@strawberry.input(name="get_or_create_task_run_input")
class GetOrCreateTaskRunInput(TaskRunKey): ...


@strawberry.input(name="get_or_create_task_run_info_input")
class GetOrCreateTaskRunInfoInput(TaskRunKey): ...


@strawberry.input(name="update_flow_run_heartbeat_input")
class UpdateFlowRunHeartbeatInput:
    flow_run_id: UUID


@strawberry.input(name="update_task_run_heartbeat_input")
class UpdateTaskRunHeartbeatInput:
    task_run_id: UUID


@strawberry.type
class TaskRunInfo:
    id: UUID | None
    version: int | None
    state: str | None
    serialized_state: JSON | None

    @classmethod
    def of(cls, found: task_runs.TaskRunInfo) -> Self:
        return cls(
            id=str(found.id),
            version=found.version,
            state=found.state,
            serialized_state=found.serialized_state,
        )


@strawberry.type(name="get_or_create_task_run_info_payload")
class GetOrCreateTaskRunInfoPayload(TaskRunInfo): ...


@strawberry.type(name="task_run_info_payload")
class TaskRunInfoPayload(TaskRunInfo): ...


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
        return TaskRunInfoPayload.of(found)

    @strawberry.field
    async def mapped_children(
        self, info: Info[Context, None], task_run_id: UUID
    ) -> MappedChildrenPayload | None:
        async with info.context.db.session() as session:
            found = await task_runs.mapped_children(session, task_run_id)
        return MappedChildrenPayload(**found)


# The client's hottest documents skip the general executor (graphql/plans.py); the
# resolvers run the same hot mutations.
async def _task_run_info(
    conn: AsyncConnection, caller: Caller, input: Mapping[str, Any]
) -> GetOrCreateTaskRunInfoPayload:
    found = await task_runs.get_or_create_task_run_info(
        conn, input["flow_run_id"], input["task_id"], input.get("map_index")
    )
    return GetOrCreateTaskRunInfoPayload.of(found)


async def _flow_run_heartbeat(
    session: AsyncSession, caller: Caller, input: Mapping[str, Any]
) -> SuccessPayload:
    await runs.update_flow_run_heartbeat(session, input["flow_run_id"])
    return SuccessPayload(success=True)


async def _task_run_heartbeat(
    session: AsyncSession, caller: Caller, input: Mapping[str, Any]
) -> SuccessPayload:
    await task_runs.update_task_run_heartbeat(session, input["task_run_id"])
    return SuccessPayload(success=True)


GET_OR_CREATE_TASK_RUN_INFO = HotMutation(
    "get_or_create_task_run_info", Database.core_transaction, _task_run_info
)
# A heartbeat that fails raises here, so a plan hands it to the resolver, which answers
# success as Server 1 did.
UPDATE_FLOW_RUN_HEARTBEAT = HotMutation(
    "update_flow_run_heartbeat", Database.transaction, _flow_run_heartbeat
)
UPDATE_TASK_RUN_HEARTBEAT = HotMutation(
    "update_task_run_heartbeat", Database.transaction, _task_run_heartbeat
)


async def _heartbeat(ctx: Context, beat: HotMutation[AsyncSession], input: Any) -> SuccessPayload:
    # Server 1 always answered success and only logged failures; clients never check.
    try:
        await beat(ctx, vars(input))
    except Exception as exc:
        logger.info("%s %s not recorded: %s", beat.field, vars(input), exc)
    return SuccessPayload(success=True)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_flow_run(
        self, info: Info[Context, None], input: CreateFlowRunInput
    ) -> FlowRunIdPayload | None:
        start = input.scheduled_start_time
        run_id = await in_transaction(
            info,
            runs.create_flow_run,
            flow_id=input.flow_id,
            version_group_id=input.version_group_id,
            parameters=input.parameters,
            context=input.context,
            scheduled_start_time=start if isinstance(start, dt.datetime | None) else str(start),
            flow_run_name=input.flow_run_name,
            labels=input.labels,
            run_config=input.run_config,
            idempotency_key=input.idempotency_key,
        )
        return FlowRunIdPayload(id=run_id)

    @strawberry.mutation
    async def set_flow_run_name(
        self, info: Info[Context, None], input: SetFlowRunNameInput
    ) -> SuccessPayload | None:
        return await succeeded(info, runs.set_flow_run_name, input.flow_run_id, input.name)

    @strawberry.mutation
    async def set_task_run_name(
        self, info: Info[Context, None], input: SetTaskRunNameInput
    ) -> SuccessPayload | None:
        return await succeeded(info, task_runs.set_task_run_name, input.task_run_id, input.name)

    @strawberry.mutation
    async def set_flow_run_labels(
        self, info: Info[Context, None], input: SetFlowRunLabelsInput
    ) -> SuccessPayload | None:
        return await succeeded(info, runs.set_flow_run_labels, input.flow_run_id, input.labels)

    @strawberry.mutation
    async def delete_flow_run(
        self, info: Info[Context, None], input: DeleteFlowRunInput
    ) -> SuccessPayload | None:
        return await succeeded(info, runs.delete_flow_run, input.flow_run_id)

    @strawberry.mutation
    async def get_or_create_task_run(
        self, info: Info[Context, None], input: GetOrCreateTaskRunInput
    ) -> TaskRunIdPayload | None:
        run_id = await in_transaction(
            info,
            task_runs.get_or_create_task_run,
            input.flow_run_id,
            input.task_id,
            input.map_index,
        )
        return TaskRunIdPayload(id=run_id)

    @strawberry.mutation
    async def get_or_create_task_run_info(
        self, info: Info[Context, None], input: GetOrCreateTaskRunInfoInput
    ) -> GetOrCreateTaskRunInfoPayload | None:
        payload: GetOrCreateTaskRunInfoPayload = await GET_OR_CREATE_TASK_RUN_INFO(
            info.context, vars(input)
        )
        return payload

    @strawberry.mutation
    async def update_flow_run_heartbeat(
        self, info: Info[Context, None], input: UpdateFlowRunHeartbeatInput
    ) -> SuccessPayload | None:
        return await _heartbeat(info.context, UPDATE_FLOW_RUN_HEARTBEAT, input)

    @strawberry.mutation
    async def update_task_run_heartbeat(
        self, info: Info[Context, None], input: UpdateTaskRunHeartbeatInput
    ) -> SuccessPayload | None:
        return await _heartbeat(info.context, UPDATE_TASK_RUN_HEARTBEAT, input)
