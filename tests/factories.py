"""The fixture chain tenant → project → flow → flow run → task run, built through the
domain functions (never raw inserts that would skip their rules)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import Task, TaskRun
from prefect_server.orchestration import flow_run_states, runs, task_run_states, tenants

VERSION = "1.4.1"


def task(slug: str, **overrides: Any) -> dict[str, Any]:
    """A task as Prefect 1.4.1 serialises it."""
    return {
        "slug": slug,
        "name": slug.rsplit("-", 1)[0],
        "type": "prefect.tasks.core.function.FunctionTask",
        "tags": [],
        "max_retries": 0,
        "retry_delay": None,
        "timeout": None,
        "cache_for": None,
        "cache_key": None,
        "cache_validator": {"fn": "prefect.engine.cache_validators.never_use", "kwargs": {}},
        "trigger": {"fn": "prefect.triggers.all_successful", "kwargs": {}},
        "skip_on_upstream_skip": True,
        "auto_generated": False,
        "inputs": {},
        "outputs": "typing.Any",
        "__version__": VERSION,
        **overrides,
    }


def parameter(name: str, default: Any = None, required: bool = False) -> dict[str, Any]:
    return {
        "slug": name,
        "name": name,
        "default": default,
        "required": required,
        "type": "prefect.core.parameter.Parameter",
        "tags": [],
        "outputs": "typing.Any",
        "__version__": VERSION,
    }


def edge(
    upstream: str, downstream: str, key: str | None = None, mapped: bool = False
) -> dict[str, Any]:
    return {
        "upstream_task": {"slug": upstream, "__version__": VERSION},
        "downstream_task": {"slug": downstream, "__version__": VERSION},
        "key": key,
        "mapped": mapped,
        "flattened": False,
        "__version__": VERSION,
    }


def serialized_flow(
    name: str = "Test Flow",
    *,
    tasks: list[dict[str, Any]] | None = None,
    edges: list[dict[str, Any]] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    run_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Flow "Test Flow": Parameter x (default 1) → t1 → t2, as ``flow.serialize()`` gives it."""
    params = parameters if parameters is not None else [parameter("x", default=1)]
    task_list = tasks if tasks is not None else [task("t1-1", cache_key="t1-key"), task("t2-1")]
    param_tasks = [
        task(p.get("slug") or p["name"], type="prefect.core.parameter.Parameter") for p in params
    ]
    return {
        "name": name,
        "type": "prefect.core.flow.Flow",
        "schedule": None,
        "parameters": params,
        "tasks": sorted(task_list + param_tasks, key=lambda t: t["slug"]),
        "edges": edges if edges is not None else [edge("t1-1", "t2-1", key="y")],
        "reference_tasks": [],
        "run_config": run_config,
        "storage": None,
        "__version__": VERSION,
    }


async def default_tenant(db: Database) -> uuid.UUID:
    async with db.transaction() as session:
        return await tenants.ensure_default_tenant(session)


async def create_project(
    db: Database, tenant_id: uuid.UUID, name: str = "Test Project"
) -> uuid.UUID:
    from prefect_server.orchestration import projects

    async with db.transaction() as session:
        return await projects.create_project(session, tenant_id=tenant_id, name=name)


async def running_webhook(db: Database, tenant_id: uuid.UUID, url: str) -> uuid.UUID:
    """A WEBHOOK cloud hook that posts to ``url``/hook when a flow run enters Running."""
    from prefect_server.orchestration import cloud_hooks

    async with db.transaction() as session:
        return await cloud_hooks.create_cloud_hook(
            session,
            tenant_id=tenant_id,
            type="WEBHOOK",
            states=["RUNNING"],
            config={"url": f"{url}/hook"},
        )


async def create_flow(
    db: Database, project_id: uuid.UUID, flow: dict[str, Any] | None = None, **kwargs: Any
) -> uuid.UUID:
    from prefect_server.orchestration import flows

    kwargs.setdefault("set_schedule_active", False)
    async with db.transaction() as session:
        return await flows.create_flow(session, flow or serialized_flow(), project_id, **kwargs)


async def flow_chain(
    db: Database, flow: dict[str, Any] | None = None
) -> tuple[uuid.UUID, uuid.UUID]:
    """(tenant_id, flow_id) of a new flow in a new project of the default tenant."""
    tenant_id = await default_tenant(db)
    project_id = await create_project(db, tenant_id, f"Project {uuid.uuid4().hex[:8]}")
    return tenant_id, await create_flow(db, project_id, flow)


async def create_flow_run(db: Database, flow_id: uuid.UUID, **kwargs: Any) -> uuid.UUID:
    async with db.transaction() as session:
        return await runs.create_flow_run(session, flow_id=flow_id, **kwargs)


async def set_flow_run_state(db: Database, flow_run_id: uuid.UUID, state: dict[str, Any]) -> None:
    async with db.transaction() as session:
        await flow_run_states.set_flow_run_state(session, flow_run_id, state)


async def set_task_run_state(db: Database, task_run_id: uuid.UUID, state: dict[str, Any]) -> None:
    async with db.transaction() as session:
        await task_run_states.set_task_run_state(session, task_run_id, state)


async def task_ids(db: Database, flow_id: uuid.UUID) -> dict[str, uuid.UUID]:
    async with db.session() as session:
        rows = await session.execute(select(Task.slug, Task.id).where(Task.flow_id == flow_id))
        return {slug: task_id for slug, task_id in rows}


async def task_run_ids(db: Database, flow_run_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """Un-mapped task runs of a flow run by task slug."""
    async with db.session() as session:
        rows = await session.execute(
            select(Task.slug, TaskRun.id)
            .join(Task, Task.id == TaskRun.task_id)
            .where(TaskRun.flow_run_id == flow_run_id, TaskRun.map_index == -1)
        )
        return {slug: run_id for slug, run_id in rows}


async def task_run_chain(db: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """(tenant_id, flow_run_id, task_run_id): a new run of "Test Flow" and its t1 task run."""
    tenant_id, flow_id = await flow_chain(db)
    run_id = await create_flow_run(db, flow_id)
    return tenant_id, run_id, (await task_run_ids(db, run_id))["t1-1"]


async def running_flow_run(db: Database, flow_id: uuid.UUID, **kwargs: Any) -> uuid.UUID:
    run_id = await create_flow_run(db, flow_id, **kwargs)
    await set_flow_run_state(db, run_id, {"type": "Running", "message": "Running flow."})
    return run_id
