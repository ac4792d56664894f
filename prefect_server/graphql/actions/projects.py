"""Project mutations."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import ProjectIdPayload, SuccessPayload
from prefect_server.graphql.actions._transaction import in_transaction, succeeded, updated
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import UUID
from prefect_server.orchestration import projects


@strawberry.input(name="create_project_input")
class CreateProjectInput:
    tenant_id: UUID
    name: str
    description: str | None = None


@strawberry.input(name="delete_project_input")
class DeleteProjectInput:
    project_id: UUID


@strawberry.input(name="set_project_name_input")
class SetProjectNameInput:
    project_id: UUID
    name: str


@strawberry.input(name="set_project_description_input")
class SetProjectDescriptionInput:
    project_id: UUID
    description: str | None = None


# Server 1's text, to the letter.
_FAILED = "Update failed"


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_project(
        self, info: Info[Context, None], input: CreateProjectInput
    ) -> ProjectIdPayload | None:
        project_id = await in_transaction(
            info, projects.create_project, input.tenant_id, input.name, input.description
        )
        return ProjectIdPayload(id=project_id)

    @strawberry.mutation
    async def delete_project(
        self, info: Info[Context, None], input: DeleteProjectInput
    ) -> SuccessPayload | None:
        return await succeeded(info, projects.delete_project, input.project_id)

    @strawberry.mutation
    async def set_project_name(
        self, info: Info[Context, None], input: SetProjectNameInput
    ) -> ProjectIdPayload | None:
        return await updated(
            info, ProjectIdPayload, _FAILED, projects.set_project_name, input.project_id, input.name
        )

    @strawberry.mutation
    async def set_project_description(
        self, info: Info[Context, None], input: SetProjectDescriptionInput
    ) -> ProjectIdPayload | None:
        return await updated(
            info,
            ProjectIdPayload,
            _FAILED,
            projects.set_project_description,
            input.project_id,
            input.description,
        )
