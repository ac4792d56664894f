"""Task-run artifact mutations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload, TaskRunArtifactIdPayload
from prefect_server.graphql.actions._transaction import in_transaction, succeeded
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID
from prefect_server.orchestration import artifacts


@strawberry.input(name="create_task_run_artifact_input")
class CreateTaskRunArtifactInput:
    task_run_id: UUID
    kind: str
    data: JSON
    tenant_id: UUID | None = None


@strawberry.input(name="update_task_run_artifact_input")
class UpdateTaskRunArtifactInput:
    task_run_artifact_id: UUID
    data: JSON


@strawberry.input(name="delete_task_run_artifact_input")
class DeleteTaskRunArtifactInput:
    task_run_artifact_id: UUID


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_task_run_artifact(
        self, info: Info[Context, None], input: CreateTaskRunArtifactInput
    ) -> TaskRunArtifactIdPayload | None:
        artifact_id = await in_transaction(
            info,
            artifacts.create_task_run_artifact,
            task_run_id=input.task_run_id,
            kind=input.kind,
            data=input.data,
            tenant_id=input.tenant_id,
            max_payload_bytes=info.context.settings.artifacts_max_payload_bytes,
        )
        return TaskRunArtifactIdPayload(id=artifact_id)

    @strawberry.mutation
    async def update_task_run_artifact(
        self, info: Info[Context, None], input: UpdateTaskRunArtifactInput
    ) -> SuccessPayload | None:
        return await succeeded(
            info,
            artifacts.update_task_run_artifact,
            input.task_run_artifact_id,
            input.data,
            max_payload_bytes=info.context.settings.artifacts_max_payload_bytes,
        )

    @strawberry.mutation
    async def delete_task_run_artifact(
        self, info: Info[Context, None], input: DeleteTaskRunArtifactInput
    ) -> SuccessPayload | None:
        return await succeeded(info, artifacts.delete_task_run_artifact, input.task_run_artifact_id)
