"""State mutations: set_flow_run_states, set_task_run_states, cancel_flow_run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import flow_run_states, task_run_states
from prefect_server.orchestration.state_schema import check_size, parse_state


@strawberry.input(name="set_flow_run_state_input")
class SetFlowRunStateInput:
    flow_run_id: UUID
    state: JSON
    # Accepted and ignored, as by Server 1: every state is the run's version + 1.
    version: int | None = None


@strawberry.input(name="set_flow_run_states_input")
class SetFlowRunStatesInput:
    states: list[SetFlowRunStateInput]


@strawberry.input(name="set_task_run_state_input")
class SetTaskRunStateInput:
    task_run_id: UUID
    state: JSON
    version: int | None = None
    flow_run_version: int | None = None
    flowRunVersion: int | None = strawberry.field(default=None, name="flowRunVersion")  # noqa: N815


@strawberry.input(name="set_task_run_states_input")
class SetTaskRunStatesInput:
    states: list[SetTaskRunStateInput]


@strawberry.type(name="set_flow_run_state_payload")
class SetFlowRunStatePayload:
    id: UUID | None
    status: str | None
    message: str | None


@strawberry.type(name="set_flow_run_states_payload")
class SetFlowRunStatesPayload:
    states: list[SetFlowRunStatePayload] | None


@strawberry.type(name="set_task_run_state_payload")
class SetTaskRunStatePayload:
    id: UUID | None
    status: str | None
    message: str | None


@strawberry.type(name="set_task_run_states_payload")
class SetTaskRunStatesPayload:
    states: list[SetTaskRunStatePayload] | None


@strawberry.input(name="cancel_flow_run_input")
class CancelFlowRunInput:
    flow_run_id: UUID


@strawberry.type(name="cancel_flow_run_payload")
class CancelFlowRunPayload:
    state: str | None


async def _each(items: list[Any], write: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """One transaction per item; several items run concurrently, as in Server 1."""
    if len(items) == 1:
        return [await write(items[0])]
    return list(await asyncio.gather(*(write(item) for item in items)))


async def _set_flow_run_state(ctx: Context, flow_run_id: str, state: Any) -> SetFlowRunStatePayload:
    check_size(state, ctx.settings.state_max_payload_bytes)
    parsed = parse_state(state)
    async with ctx.db.transaction() as session:
        written = await flow_run_states.set_flow_run_state(
            session, flow_run_id, parsed, agent_id=ctx.agent_id
        )
    return SetFlowRunStatePayload(id=flow_run_id, status=written.status, message=written.message)


async def _set_task_run_state(ctx: Context, task_run_id: str, state: Any) -> SetTaskRunStatePayload:
    check_size(state, ctx.settings.state_max_payload_bytes)
    parsed = parse_state(state)
    async with ctx.db.core_transaction() as conn:
        written = await task_run_states.set_task_run_state(conn, task_run_id, parsed)
    return SetTaskRunStatePayload(id=task_run_id, status=written.status, message=written.message)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def set_flow_run_states(
        self, info: Info[Context, None], input: SetFlowRunStatesInput
    ) -> SetFlowRunStatesPayload | None:
        ctx = info.context

        async def write(item: SetFlowRunStateInput) -> SetFlowRunStatePayload:
            return await _set_flow_run_state(ctx, item.flow_run_id, item.state)

        return SetFlowRunStatesPayload(states=await _each(input.states, write))

    @strawberry.mutation
    async def set_task_run_states(
        self, info: Info[Context, None], input: SetTaskRunStatesInput
    ) -> SetTaskRunStatesPayload | None:
        ctx = info.context

        async def write(item: SetTaskRunStateInput) -> SetTaskRunStatePayload:
            return await _set_task_run_state(ctx, item.task_run_id, item.state)

        return SetTaskRunStatesPayload(states=await _each(input.states, write))

    @strawberry.mutation
    async def cancel_flow_run(
        self, info: Info[Context, None], input: CancelFlowRunInput
    ) -> CancelFlowRunPayload | None:
        async with info.context.db.transaction() as session:
            state = await flow_run_states.cancel_flow_run(session, input.flow_run_id)
        return CancelFlowRunPayload(state=state)


# The client's hottest documents skip the general executor (graphql/plans.py). One
# state per document only: several are written in separate transactions, so after a
# failure some may have committed, and the general executor must not write them again.
async def _hot_set_flow_run_states(
    ctx: Context, input: dict[str, Any]
) -> SetFlowRunStatesPayload | None:
    if len(input["states"]) != 1:
        return None
    item = input["states"][0]
    return SetFlowRunStatesPayload(
        states=[await _set_flow_run_state(ctx, item["flow_run_id"], item["state"])]
    )


async def _hot_set_task_run_states(
    ctx: Context, input: dict[str, Any]
) -> SetTaskRunStatesPayload | None:
    if len(input["states"]) != 1:
        return None
    item = input["states"][0]
    return SetTaskRunStatesPayload(
        states=[await _set_task_run_state(ctx, item["task_run_id"], item["state"])]
    )


HOT = {
    "set_flow_run_states": _hot_set_flow_run_states,
    "set_task_run_states": _hot_set_task_run_states,
}
