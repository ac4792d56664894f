"""Task-run artifacts: markdown and links a task publishes while it runs (Server 1's
``src/prefect_server/api/artifacts.py``)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import TaskRun, TaskRunArtifact
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.utilities.ids import parse_id as _uuid

MAX_PAYLOAD_BYTES = 1_000_000


def _check_size(data: Any, limit: int) -> None:
    if len(orjson.dumps(data)) > limit:
        raise ValidationFailed(f"Artifact data payload exceeds {limit} bytes limit.")


async def create_task_run_artifact(
    session: AsyncSession,
    *,
    task_run_id: uuid.UUID | str | None,
    kind: str,
    data: Any,
    tenant_id: uuid.UUID | str | None = None,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> uuid.UUID:
    _check_size(data, max_payload_bytes)
    if not task_run_id:
        raise ValidationFailed("A `task_run_id` must be provided to create artifact")
    key = _uuid(task_run_id)
    run_tenant = (
        (await session.execute(select(TaskRun.tenant_id).where(TaskRun.id == key))).one_or_none()
        if key
        else None
    )
    # The client retries on "not found": the task run may not be visible yet.
    if run_tenant is None:
        raise NotFound(f"Task run {task_run_id} not found")
    if tenant_id and _uuid(tenant_id) != run_tenant.tenant_id:
        raise ValidationFailed("Invalid tenant ID.")
    artifact_id = uuid.uuid4()
    await session.execute(
        insert(TaskRunArtifact).values(
            id=artifact_id,
            tenant_id=run_tenant.tenant_id,
            task_run_id=key,
            kind=kind,
            data=data if data is not None else {},
        )
    )
    return artifact_id


async def update_task_run_artifact(
    session: AsyncSession,
    task_run_artifact_id: uuid.UUID | str | None,
    data: Any,
    *,
    max_payload_bytes: int = MAX_PAYLOAD_BYTES,
) -> bool:
    _check_size(data, max_payload_bytes)
    if not task_run_artifact_id:
        raise ValidationFailed("Must supply a valid task run artifact ID to update")
    key = _uuid(task_run_artifact_id)
    if key is None:
        return False
    return await changes_rows(
        session, update(TaskRunArtifact).where(TaskRunArtifact.id == key).values(data=data)
    )


async def delete_task_run_artifact(
    session: AsyncSession, task_run_artifact_id: uuid.UUID | str | None
) -> bool:
    if not task_run_artifact_id:
        raise ValidationFailed("Must supply a valid task run artifact ID to delete")
    key = _uuid(task_run_artifact_id)
    if key is None:
        return False
    return await changes_rows(session, delete(TaskRunArtifact).where(TaskRunArtifact.id == key))
