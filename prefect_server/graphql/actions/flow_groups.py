"""Flow-group mutations."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.actions._transaction import succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import flow_groups


@strawberry.input(name="delete_flow_group_input")
class DeleteFlowGroupInput:
    flow_group_id: UUID


@strawberry.input(name="set_flow_group_default_parameters_input")
class SetFlowGroupDefaultParametersInput:
    flow_group_id: UUID
    parameters: JSON


@strawberry.input(name="set_flow_group_labels_input")
class SetFlowGroupLabelsInput:
    flow_group_id: UUID
    labels: list[str] | None = None


@strawberry.input(name="set_flow_group_description_input")
class SetFlowGroupDescriptionInput:
    flow_group_id: UUID
    description: str | None = None


@strawberry.input(name="set_flow_group_run_config_input")
class SetFlowGroupRunConfigInput:
    flow_group_id: UUID
    run_config: JSON | None = None


@strawberry.input(name="cron_clock_input")
class CronClockInput:
    cron: str
    parameter_defaults: JSON | None = None


@strawberry.input(name="interval_clock_input")
class IntervalClockInput:
    interval: int
    parameter_defaults: JSON | None = None


@strawberry.input(name="set_flow_group_schedule_input")
class SetFlowGroupScheduleInput:
    flow_group_id: UUID
    cron_clocks: list[CronClockInput] | None = None
    interval_clocks: list[IntervalClockInput] | None = None
    timezone: str | None = None


@strawberry.input(name="delete_flow_group_schedule_input")
class DeleteFlowGroupScheduleInput:
    flow_group_id: UUID


def _clocks(clocks: list[Any] | None, field: str) -> list[dict[str, Any]] | None:
    if clocks is None:
        return None
    return [{field: getattr(c, field), "parameter_defaults": c.parameter_defaults} for c in clocks]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def delete_flow_group(
        self, info: Info[Context, None], input: DeleteFlowGroupInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flow_groups.delete_flow_group, input.flow_group_id)

    @strawberry.mutation
    async def set_flow_group_default_parameters(
        self, info: Info[Context, None], input: SetFlowGroupDefaultParametersInput
    ) -> SuccessPayload | None:
        return await succeeded(
            info, flow_groups.set_default_parameters, input.flow_group_id, input.parameters
        )

    @strawberry.mutation
    async def set_flow_group_labels(
        self, info: Info[Context, None], input: SetFlowGroupLabelsInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flow_groups.set_labels, input.flow_group_id, input.labels)

    @strawberry.mutation
    async def set_flow_group_description(
        self, info: Info[Context, None], input: SetFlowGroupDescriptionInput
    ) -> SuccessPayload | None:
        return await succeeded(
            info, flow_groups.set_description, input.flow_group_id, input.description
        )

    @strawberry.mutation
    async def set_flow_group_run_config(
        self, info: Info[Context, None], input: SetFlowGroupRunConfigInput
    ) -> SuccessPayload | None:
        return await succeeded(
            info, flow_groups.set_run_config, input.flow_group_id, input.run_config
        )

    @strawberry.mutation
    async def set_flow_group_schedule(
        self, info: Info[Context, None], input: SetFlowGroupScheduleInput
    ) -> SuccessPayload | None:
        return await succeeded(
            info,
            flow_groups.set_schedule,
            input.flow_group_id,
            cron_clocks=_clocks(input.cron_clocks, "cron"),
            interval_clocks=_clocks(input.interval_clocks, "interval"),
            timezone=input.timezone,
        )

    @strawberry.mutation
    async def delete_flow_group_schedule(
        self, info: Info[Context, None], input: DeleteFlowGroupScheduleInput
    ) -> SuccessPayload | None:
        return await succeeded(info, flow_groups.delete_schedule, input.flow_group_id)
