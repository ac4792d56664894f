"""Task-run artifacts (Server 1's ``src/prefect_server/api/artifacts.py``), and the optional API keys on
an action."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.database.models import TaskRunArtifact
from prefect_server.settings import Settings

import factories

CREATE = "mutation($input: create_task_run_artifact_input!) { create_task_run_artifact(input: $input) { id } }"
UPDATE = "mutation($input: update_task_run_artifact_input!) { update_task_run_artifact(input: $input) { success } }"
DELETE = "mutation($input: delete_task_run_artifact_input!) { delete_task_run_artifact(input: $input) { success } }"


@pytest.fixture
async def task_run(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    tenant_id, _, task_run_id = await factories.task_run_chain(db)
    return tenant_id, task_run_id


async def artifacts(db: Database) -> list[TaskRunArtifact]:
    async with db.session() as session:
        return list(await session.scalars(select(TaskRunArtifact)))


async def test_create_update_delete(gql: Any, db: Database, task_run: Any) -> None:
    tenant_id, task_run_id = task_run
    data = await gql(
        CREATE,
        {
            "input": {
                "task_run_id": str(task_run_id),
                "kind": "markdown",
                "data": {"markdown": "# hi"},
                "tenant_id": None,
            }
        },
    )
    artifact_id = data["create_task_run_artifact"]["id"]
    [stored] = await artifacts(db)
    assert (str(stored.id), stored.kind, stored.data) == (
        artifact_id,
        "markdown",
        {"markdown": "# hi"},
    )
    # The tenant defaults to the task run's.
    assert stored.tenant_id == tenant_id
    assert await gql(
        UPDATE, {"input": {"task_run_artifact_id": artifact_id, "data": {"markdown": "new"}}}
    ) == {"update_task_run_artifact": {"success": True}}
    assert (await artifacts(db))[0].data == {"markdown": "new"}
    assert await gql(DELETE, {"input": {"task_run_artifact_id": artifact_id}}) == {
        "delete_task_run_artifact": {"success": True}
    }
    assert await gql(DELETE, {"input": {"task_run_artifact_id": artifact_id}}) == {
        "delete_task_run_artifact": {"success": False}
    }
    assert await artifacts(db) == []


async def test_create_errors(gql: Any, db: Database, task_run: Any) -> None:
    tenant_id, task_run_id = task_run
    missing = uuid.uuid4()
    errors = await gql.errors(
        CREATE, {"input": {"task_run_id": str(missing), "kind": "link", "data": {}}}
    )
    # The client retries while the text contains "not found".
    assert errors[0]["message"] == f"Task run {missing} not found"
    errors = await gql.errors(
        CREATE,
        {
            "input": {
                "task_run_id": str(task_run_id),
                "kind": "link",
                "data": {},
                "tenant_id": str(uuid.uuid4()),
            }
        },
    )
    assert errors[0]["message"] == "Invalid tenant ID."
    big = {"markdown": "x" * 1_000_000}
    errors = await gql.errors(
        CREATE, {"input": {"task_run_id": str(task_run_id), "kind": "markdown", "data": big}}
    )
    assert errors[0]["message"] == "Artifact data payload exceeds 1000000 bytes limit."
    assert await artifacts(db) == []
    await gql(
        CREATE,
        {
            "input": {
                "task_run_id": str(task_run_id),
                "kind": "link",
                "data": {"link": "/x"},
                "tenant_id": str(tenant_id),
            }
        },
    )
    [stored] = await artifacts(db)
    errors = await gql.errors(
        UPDATE, {"input": {"task_run_artifact_id": str(stored.id), "data": big}}
    )
    assert errors[0]["message"] == "Artifact data payload exceeds 1000000 bytes limit."
    assert (await artifacts(db))[0].data == {"link": "/x"}


async def test_api_keys_guard_actions(settings: Settings, db: Database, task_run: Any) -> None:
    _, task_run_id = task_run
    app = create_app(settings.replace(api_keys=("secret-key",)))
    variables = {"input": {"task_run_id": str(task_run_id), "kind": "link", "data": {"link": "/x"}}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            refused = await client.post("/", json={"query": CREATE, "variables": variables})
            assert "UNAUTHENTICATED" in refused.json()["errors"][0]["message"]
            wrong = await client.post(
                "/",
                json={"query": CREATE, "variables": variables},
                headers={"Authorization": "Bearer nope"},
            )
            assert "UNAUTHENTICATED" in wrong.json()["errors"][0]["message"]
            assert await artifacts(db) == []
            accepted = await client.post(
                "/",
                json={"query": CREATE, "variables": variables},
                headers={"Authorization": "Bearer secret-key"},
            )
            assert accepted.json()["data"]["create_task_run_artifact"]["id"]
    assert len(await artifacts(db)) == 1
