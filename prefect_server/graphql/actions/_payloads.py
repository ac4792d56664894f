"""Payload types shared by several action modules, defined once.

Strawberry refuses two classes with one GraphQL name, so every action module
imports these instead of declaring its own ``success_payload``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypeAlias

import strawberry

from prefect_server.graphql.scalars import UUID

if TYPE_CHECKING:
    # The UUID scalar writes a uuid.UUID and its text alike.
    RowId: TypeAlias = uuid.UUID | str
else:
    RowId = UUID


@strawberry.type(name="success_payload")
class SuccessPayload:
    success: bool | None = None
    error: str | None = None


# Server 1 names one ``*_id_payload`` per kind of row; they differ in name only. The
# base is in no field's type, so it is not part of the schema.
@strawberry.type
class IdPayload:
    id: RowId | None = None


@strawberry.type(name="flow_id_payload")
class FlowIdPayload(IdPayload): ...


@strawberry.type(name="flow_run_id_payload")
class FlowRunIdPayload(IdPayload): ...


@strawberry.type(name="task_run_id_payload")
class TaskRunIdPayload(IdPayload): ...


@strawberry.type(name="project_id_payload")
class ProjectIdPayload(IdPayload): ...


@strawberry.type(name="tenant_id_payload")
class TenantIdPayload(IdPayload): ...


@strawberry.type(name="agent_id_payload")
class AgentIdPayload(IdPayload): ...


@strawberry.type(name="agent_config_id_payload")
class AgentConfigIdPayload(IdPayload): ...


@strawberry.type(name="cloud_hook_id_payload")
class CloudHookIdPayload(IdPayload): ...


@strawberry.type(name="task_run_artifact_id_payload")
class TaskRunArtifactIdPayload(IdPayload): ...
