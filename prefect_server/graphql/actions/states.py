"""State mutations: set_flow_run_states, set_task_run_states, cancel_flow_run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from strawberry.types import Info

from prefect_server.database.engine import Database
from prefect_server.graphql.actions._transaction import in_transaction
from prefect_server.graphql.context import Context
from prefect_server.graphql.hot import Caller, HotMutation, Write
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


# The base is in no field's type, so it is not part of the schema.
@strawberry.type
class StateWritten:
    id: UUID | None
    status: str | None
    message: str | None


@strawberry.type(name="set_flow_run_state_payload")
class SetFlowRunStatePayload(StateWritten): ...


@strawberry.type(name="set_flow_run_states_payload")
class SetFlowRunStatesPayload:
    states: list[SetFlowRunStatePayload] | None


@strawberry.type(name="set_task_run_state_payload")
class SetTaskRunStatePayload(StateWritten): ...


@strawberry.type(name="set_task_run_states_payload")
class SetTaskRunStatesPayload:
    states: list[SetTaskRunStatePayload] | None


@strawberry.input(name="cancel_flow_run_input")
class CancelFlowRunInput:
    flow_run_id: UUID


@strawberry.type(name="cancel_flow_run_payload")
class CancelFlowRunPayload:
    state: str | None


async def _each(
    ctx: Context,
    items: list[Any],
    transaction: Callable[[Database], AbstractAsyncContextManager[Any]],
    write: Write[Any],
) -> list[Any]:
    """One transaction per item; several items run concurrently, as in Server 1."""
    caller = Caller(ctx.settings, ctx.agent_id)

    async def one(item: Any) -> Any:
        async with transaction(ctx.db) as tx:
            return await write(tx, caller, vars(item))

    if len(items) == 1:
        return [await one(items[0])]
    return list(await asyncio.gather(*(one(item) for item in items)))


async def _flow_run_state(
    session: AsyncSession, caller: Caller, item: Mapping[str, Any]
) -> SetFlowRunStatePayload:
    state = item["state"]
    check_size(state, caller.settings.state_max_payload_bytes)
    flow_run_id = item["flow_run_id"]
    written = await flow_run_states.set_flow_run_state(
        session, flow_run_id, parse_state(state), agent_id=caller.agent_id
    )
    return SetFlowRunStatePayload(id=flow_run_id, status=written.status, message=written.message)


async def _task_run_state(
    conn: AsyncConnection, caller: Caller, item: Mapping[str, Any]
) -> SetTaskRunStatePayload:
    state = item["state"]
    check_size(state, caller.settings.state_max_payload_bytes)
    task_run_id = item["task_run_id"]
    written = await task_run_states.set_task_run_state(conn, task_run_id, parse_state(state))
    return SetTaskRunStatePayload(id=task_run_id, status=written.status, message=written.message)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def set_flow_run_states(
        self, info: Info[Context, None], input: SetFlowRunStatesInput
    ) -> SetFlowRunStatesPayload | None:
        states = await _each(info.context, input.states, Database.transaction, _flow_run_state)
        return SetFlowRunStatesPayload(states=states)

    @strawberry.mutation
    async def set_task_run_states(
        self, info: Info[Context, None], input: SetTaskRunStatesInput
    ) -> SetTaskRunStatesPayload | None:
        states = await _each(info.context, input.states, Database.core_transaction, _task_run_state)
        return SetTaskRunStatesPayload(states=states)

    @strawberry.mutation
    async def cancel_flow_run(
        self, info: Info[Context, None], input: CancelFlowRunInput
    ) -> CancelFlowRunPayload | None:
        state = await in_transaction(info, flow_run_states.cancel_flow_run, input.flow_run_id)
        return CancelFlowRunPayload(state=state)


# The client's hottest documents skip the general executor (graphql/plans.py). One
# state per document only: several are written in separate transactions, so after a
# failure some may have committed, and the general executor must not write them again.
def _one_state(input: Mapping[str, Any]) -> bool:
    return len(input["states"]) == 1


def _only(write: Write[Any], payload: Callable[..., Any]) -> Write[Any]:
    async def write_one(tx: Any, caller: Caller, input: Mapping[str, Any]) -> Any:
        return payload(states=[await write(tx, caller, input["states"][0])])

    return write_one


SET_FLOW_RUN_STATES = HotMutation(
    "set_flow_run_states",
    Database.transaction,
    _only(_flow_run_state, SetFlowRunStatesPayload),
    accepts=_one_state,
)
SET_TASK_RUN_STATES = HotMutation(
    "set_task_run_states",
    Database.core_transaction,
    _only(_task_run_state, SetTaskRunStatesPayload),
    accepts=_one_state,
)
