"""Payload types shared by several action modules (spec §2.3), defined once.

Strawberry refuses two classes with one GraphQL name, so every action module
imports these instead of declaring its own ``success_payload``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, TypeAlias

import strawberry

from prefect_server.graphql.scalars import UUID


@strawberry.type(name="success_payload")
class SuccessPayload:
    success: bool | None = None
    error: str | None = None


def _id_payload(name: str) -> type:
    return strawberry.type(
        type(name, (), {"__annotations__": {"id": UUID | None}, "id": None}), name=name
    )


if TYPE_CHECKING:
    # What type checkers see of each ``*_id_payload``: the GraphQL types differ in name only.
    class IdPayload:
        id: uuid.UUID | str | None  # the UUID scalar writes either as text

        def __init__(self, id: uuid.UUID | str | None = None) -> None: ...

    FlowIdPayload: TypeAlias = IdPayload
    FlowRunIdPayload: TypeAlias = IdPayload
    TaskRunIdPayload: TypeAlias = IdPayload
    ProjectIdPayload: TypeAlias = IdPayload
    TenantIdPayload: TypeAlias = IdPayload
    AgentIdPayload: TypeAlias = IdPayload
    AgentConfigIdPayload: TypeAlias = IdPayload
    CloudHookIdPayload: TypeAlias = IdPayload
    TaskRunArtifactIdPayload: TypeAlias = IdPayload
else:
    FlowIdPayload = _id_payload("flow_id_payload")
    FlowRunIdPayload = _id_payload("flow_run_id_payload")
    TaskRunIdPayload = _id_payload("task_run_id_payload")
    ProjectIdPayload = _id_payload("project_id_payload")
    TenantIdPayload = _id_payload("tenant_id_payload")
    AgentIdPayload = _id_payload("agent_id_payload")
    AgentConfigIdPayload = _id_payload("agent_config_id_payload")
    CloudHookIdPayload = _id_payload("cloud_hook_id_payload")
    TaskRunArtifactIdPayload = _id_payload("task_run_artifact_id_payload")
