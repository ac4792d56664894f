"""``get_runs_in_queue`` (a mutation in Server 1, since it records the agent's poll)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._transaction import in_transaction
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import UUID, DateTime
from prefect_server.orchestration import queue


@strawberry.input(name="get_runs_in_queue_input")
class GetRunsInQueueInput:
    tenant_id: UUID
    before: DateTime | None = None
    labels: list[str] | None = None


@strawberry.type(name="runs_in_queue_payload")
class RunsInQueuePayload:
    flow_run_ids: list[str] | None


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def get_runs_in_queue(
        self, info: Info[Context, None], input: GetRunsInQueueInput
    ) -> RunsInQueuePayload | None:
        ctx = info.context
        ids = await in_transaction(
            info,
            queue.get_runs_in_queue,
            input.tenant_id,
            before=input.before,
            labels=sorted(input.labels or []),
            agent_id=ctx.agent_id,
            limit=ctx.settings.queued_runs_returned_limit,
        )
        return RunsInQueuePayload(flow_run_ids=ids)
