"""Concurrency limits in Prefect Cloud 1's names: the 1.4.1 client's task-tag mutations
and the Cloud UI's task and flow concurrency fields. Limits belong to the tenant
clients pick (the first one), as every other client-facing default here does."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import UUID
from prefect_server.orchestration import concurrency_limits as limits
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.tenants import first_tenant_id


@strawberry.input(name="update_task_tag_limit_input")
class UpdateTaskTagLimitInput:
    tag: str
    limit: int


@strawberry.input(name="delete_task_tag_limit_input")
class DeleteTaskTagLimitInput:
    limit_id: UUID


@strawberry.input(name="update_task_concurrency_limit_input")
class UpdateTaskConcurrencyLimitInput:
    name: str
    limit: int


@strawberry.input(name="delete_task_concurrency_limit_input")
class DeleteTaskConcurrencyLimitInput:
    limit_id: UUID


@strawberry.input(name="update_flow_concurrency_limit_input")
class UpdateFlowConcurrencyLimitInput:
    label: str
    limit: int


@strawberry.input(name="delete_flow_concurrency_limit_input")
class DeleteFlowConcurrencyLimitInput:
    limit_id: UUID


@strawberry.type(name="concurrency_limit_id_payload")
class LimitIdPayload:
    id: UUID | None = None


@strawberry.type(name="concurrency_limit")
class ConcurrencyLimit:
    id: UUID
    name: str
    limit: int


@strawberry.type(name="task_concurrency_usage")
class TaskConcurrencyUsage:
    name: str
    usage: int


@strawberry.type(name="flow_concurrency_usage")
class FlowConcurrencyUsage:
    label: str
    usage: int


async def _tenant(session: AsyncSession) -> uuid.UUID:
    tenant_id = await first_tenant_id(session)
    if tenant_id is None:
        raise ValidationFailed("There is no tenant to hold concurrency limits; create one first.")
    return tenant_id


async def _set(ctx: Context, kind: str, name: str, limit: int) -> LimitIdPayload:
    async with ctx.db.transaction() as session:
        limit_id = await limits.set_limit(session, kind, await _tenant(session), name, limit)
    return LimitIdPayload(id=str(limit_id))


async def _delete(ctx: Context, kind: str, limit_id: object) -> SuccessPayload:
    async with ctx.db.transaction() as session:
        await limits.delete_limit(session, kind, limit_id)
    return SuccessPayload(success=True)


async def _list(ctx: Context, kind: str) -> list[ConcurrencyLimit]:
    async with ctx.db.session() as session:
        found = await limits.list_limits(session, kind, await _tenant(session))
    return [ConcurrencyLimit(id=str(lim.id), name=lim.name, limit=lim.limit) for lim in found]


async def _usage(ctx: Context, kind: str, names: list[str] | None) -> dict[str, int]:
    async with ctx.db.session() as session:
        tenant_id = await _tenant(session)
        if names is None:
            names = [lim.name for lim in await limits.list_limits(session, kind, tenant_id)]
        return await limits.count_usage(session, kind, tenant_id, names)


@strawberry.type
class Query:
    @strawberry.field
    async def task_concurrency_limit(self, info: Info[Context, None]) -> list[ConcurrencyLimit]:
        return await _list(info.context, "task")

    @strawberry.field
    async def flow_concurrency_limit(self, info: Info[Context, None]) -> list[ConcurrencyLimit]:
        return await _list(info.context, "flow")

    @strawberry.field
    async def task_concurrency(
        self, info: Info[Context, None], names: list[str] | None = None
    ) -> list[TaskConcurrencyUsage]:
        usage = await _usage(info.context, "task", names)
        return [TaskConcurrencyUsage(name=name, usage=count) for name, count in usage.items()]

    @strawberry.field
    async def flow_concurrency(
        self, info: Info[Context, None], labels: list[str] | None = None
    ) -> list[FlowConcurrencyUsage]:
        usage = await _usage(info.context, "flow", labels)
        return [FlowConcurrencyUsage(label=name, usage=count) for name, count in usage.items()]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def update_task_tag_limit(
        self, info: Info[Context, None], input: UpdateTaskTagLimitInput
    ) -> LimitIdPayload | None:
        return await _set(info.context, "task", input.tag, input.limit)

    @strawberry.mutation
    async def delete_task_tag_limit(
        self, info: Info[Context, None], input: DeleteTaskTagLimitInput
    ) -> SuccessPayload | None:
        return await _delete(info.context, "task", input.limit_id)

    @strawberry.mutation
    async def update_task_concurrency_limit(
        self, info: Info[Context, None], input: UpdateTaskConcurrencyLimitInput
    ) -> LimitIdPayload | None:
        return await _set(info.context, "task", input.name, input.limit)

    @strawberry.mutation
    async def delete_task_concurrency_limit(
        self, info: Info[Context, None], input: DeleteTaskConcurrencyLimitInput
    ) -> SuccessPayload | None:
        return await _delete(info.context, "task", input.limit_id)

    @strawberry.mutation
    async def update_flow_concurrency_limit(
        self, info: Info[Context, None], input: UpdateFlowConcurrencyLimitInput
    ) -> LimitIdPayload | None:
        return await _set(info.context, "flow", input.label, input.limit)

    @strawberry.mutation
    async def delete_flow_concurrency_limit(
        self, info: Info[Context, None], input: DeleteFlowConcurrencyLimitInput
    ) -> SuccessPayload | None:
        return await _delete(info.context, "flow", input.limit_id)
