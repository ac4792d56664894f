"""Project mutations (spec §3.2)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import ProjectIdPayload, SuccessPayload
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import UUID
from prefect_server.orchestration import projects
from prefect_server.orchestration.errors import ValidationFailed


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


def _updated(ok: bool, project_id: str) -> ProjectIdPayload | None:  # type: ignore[valid-type]
    if not ok:
        raise ValidationFailed("Update failed")
    return ProjectIdPayload(id=project_id)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_project(
        self, info: Info[Context, None], input: CreateProjectInput
    ) -> ProjectIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            project_id = await projects.create_project(
                session, input.tenant_id, input.name, input.description
            )
        return ProjectIdPayload(id=project_id)

    @strawberry.mutation
    async def delete_project(
        self, info: Info[Context, None], input: DeleteProjectInput
    ) -> SuccessPayload | None:
        async with info.context.db.transaction() as session:
            return SuccessPayload(success=await projects.delete_project(session, input.project_id))

    @strawberry.mutation
    async def set_project_name(
        self, info: Info[Context, None], input: SetProjectNameInput
    ) -> ProjectIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            ok = await projects.set_project_name(session, input.project_id, input.name)
        return _updated(ok, input.project_id)

    @strawberry.mutation
    async def set_project_description(
        self, info: Info[Context, None], input: SetProjectDescriptionInput
    ) -> ProjectIdPayload | None:  # type: ignore[valid-type]
        async with info.context.db.transaction() as session:
            ok = await projects.set_project_description(
                session, input.project_id, input.description
            )
        return _updated(ok, input.project_id)
