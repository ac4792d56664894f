"""Flows: registration with version groups, tasks and edges; archive and delete (Server 1's
``src/prefect_server/api/flows.py``).

Registration is one transaction: a failure anywhere (a bad task, an edge naming an
unknown task) leaves no flow, flow group, task or edge behind, where Server 1
deleted the half-written flow afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Edge, Flow, FlowGroup, FlowRun, Project, Task
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.flow_run_states import set_flow_run_states
from prefect_server.orchestration.flow_schedules import activate_quietly, set_schedule_active
from prefect_server.orchestration.scheduling import delete_auto_scheduled_runs
from prefect_server.orchestration.serialization import (
    edge_slugs,
    list_of,
    parameters_of,
    require_id,
    task_row,
    version_tuple,
)
from prefect_server.settings import session_settings
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id

UNKNOWN_EDGE_TASK = (
    "Edges could not be registered - some edges reference tasks that do not exist within this flow."
)


def _new_group_settings(idempotency_key: str | None) -> dict[str, Any]:
    return {
        "heartbeat_enabled": True,
        "lazarus_enabled": True,
        "version_locking_enabled": False,
        "idempotency_key": idempotency_key,
    }


def _check_core_version(serialized_flow: dict[str, Any], cutoff: str) -> None:
    version = serialized_flow.get("__version__")
    if not version:
        return
    built = version_tuple(str(version))
    if built and built < version_tuple(cutoff):
        raise ValidationFailed(
            f"Prefect backends require new flows to be built with Prefect {cutoff}+, "
            f"but this flow was built with Prefect {version}."
        )


async def create_flow(
    session: AsyncSession,
    serialized_flow: dict[str, Any],
    project_id: Any,
    version_group_id: str | None = None,
    set_schedule_active: bool = True,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> uuid.UUID:
    """Register a flow as a new version of its version group; returns the flow id.

    The version group is the given one, else that of the newest flow with the same
    name in the project, else a new one. Every other version is archived. A repeated
    ``idempotency_key`` returns the newest unarchived version instead of a new one
    (``prefect register`` prints "Skipped" when the id comes back unchanged).
    """
    if not isinstance(serialized_flow, dict):
        raise ValidationFailed("Invalid flow: serialized_flow must be an object.")
    _check_core_version(serialized_flow, session_settings(session).core_version_cutoff)
    name = serialized_flow.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationFailed("Invalid flow: a name is required.")
    parameters = parameters_of(serialized_flow)
    tasks = [task_row(t) for t in list_of(serialized_flow, "tasks")]
    edges = [edge_slugs(e) for e in list_of(serialized_flow, "edges")]

    project = parse_id(project_id)
    # Locking the project serialises registrations into it, so two concurrent
    # registrations of one flow cannot both become the same version.
    stmt = select(Project.tenant_id).where(Project.id == project)
    tenant_id = (await session.execute(dialect_of(session).for_update(stmt))).scalar_one_or_none()
    if project is None or tenant_id is None:
        raise ValidationFailed("Invalid project.")

    known_group = version_group_id or await session.scalar(
        select(Flow.version_group_id)
        .where(Flow.project_id == project, Flow.name == name)
        .order_by(Flow.created.desc(), Flow.version.desc())
        .limit(1)
    )
    group_name = known_group or str(uuid.uuid4())

    group = (
        await session.execute(
            select(FlowGroup.id, FlowGroup.settings, FlowGroup.schedule)
            .where(FlowGroup.tenant_id == tenant_id, FlowGroup.name == group_name)
            .order_by(FlowGroup.created)
            .limit(1)
        )
    ).one_or_none()
    if group is None:
        flow_group_id = uuid.uuid4()
        group_schedule = None
        settings = _new_group_settings(idempotency_key)
        await session.execute(
            dialect_of(session)
            .insert(FlowGroup)
            .values(id=flow_group_id, tenant_id=tenant_id, name=group_name, settings=settings)
        )
    else:
        flow_group_id, group_schedule = group.id, group.schedule
        settings = dict(group.settings or {})
        if idempotency_key is not None and settings.get("idempotency_key") == idempotency_key:
            existing = await session.scalar(
                select(Flow.id)
                .where(Flow.flow_group_id == flow_group_id, Flow.archived.is_(False))
                .order_by(Flow.version.desc())
                .limit(1)
            )
            if existing is not None:
                return existing
        settings["idempotency_key"] = idempotency_key
        await session.execute(
            update(FlowGroup)
            .where(FlowGroup.id == flow_group_id)
            .values(settings=settings, updated=utcnow())
        )

    latest = await session.scalar(
        select(func.max(Flow.version)).where(
            Flow.tenant_id == tenant_id, Flow.version_group_id == group_name
        )
    )
    schedule = serialized_flow.get("schedule")
    flow_id = uuid.uuid4()
    await session.execute(
        dialect_of(session)
        .insert(Flow)
        .values(
            id=flow_id,
            tenant_id=tenant_id,
            project_id=project,
            flow_group_id=flow_group_id,
            name=name,
            serialized_flow=serialized_flow,
            environment=serialized_flow.get("environment"),
            run_config=serialized_flow.get("run_config"),
            storage=serialized_flow.get("storage"),
            core_version=serialized_flow.get("__version__"),
            parameters=parameters,
            version_group_id=group_name,
            version=(latest or 0) + 1,
            archived=False,
            description=description,
            schedule=schedule,
            is_schedule_active=False,
            # The flow-run process reads heartbeat_enabled from flow.settings (prefect 1.4.1,
            # prefect/engine/cloud/flow_runner.py); a copy of the group's settings makes the group's toggle reach it.
            settings=settings,
        )
    )
    await _insert_tasks(session, flow_id, tenant_id, tasks)
    await _insert_edges(session, flow_id, tenant_id, edges)

    if known_group:
        others = await session.scalars(
            select(Flow.id).where(
                Flow.tenant_id == tenant_id,
                Flow.version_group_id == group_name,
                Flow.archived.is_(False),
                Flow.id != flow_id,
            )
        )
        await _archive(session, list(others))

    if set_schedule_active and (schedule or group_schedule):
        await activate_quietly(session, flow_id)
    return flow_id


async def _flow_tenant(session: AsyncSession, flow_id: Any) -> tuple[uuid.UUID, uuid.UUID | None]:
    key = require_id(flow_id, "Invalid flow ID.")
    stmt = select(Flow.tenant_id).where(Flow.id == key)
    row = (await session.execute(dialect_of(session).for_update(stmt))).one_or_none()
    if row is None:
        raise ValidationFailed(f"Invalid flow ID: {flow_id} does not exist.")
    return key, row.tenant_id


async def _insert_tasks(
    session: AsyncSession,
    flow_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    rows: list[dict[str, Any]],
) -> None:
    rows = [
        {**{k: v for k, v in row.items() if k != "description"}, "id": uuid.uuid4()} for row in rows
    ]
    for batch in _batches(session, rows):
        now = utcnow()
        stmt = (
            dialect_of(session)
            .insert(Task)
            .values(
                [
                    {
                        **r,
                        "flow_id": flow_id,
                        "tenant_id": tenant_id,
                        "created": now,
                        "updated": now,
                    }
                    for r in batch
                ]
            )
            .on_conflict_do_nothing(index_elements=["flow_id", "slug"])
        )
        await session.execute(stmt)


async def _insert_edges(
    session: AsyncSession,
    flow_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    edges: list[tuple[str, str, str | None, bool]],
) -> None:
    if not edges:
        return
    ids = dict(
        (await session.execute(select(Task.slug, Task.id).where(Task.flow_id == flow_id)))
        .tuples()
        .all()
    )
    rows = []
    for upstream, downstream, key, mapped in edges:
        if upstream not in ids or downstream not in ids:
            raise ValidationFailed(UNKNOWN_EDGE_TASK)
        rows.append(
            {
                "id": uuid.uuid4(),
                "flow_id": flow_id,
                "tenant_id": tenant_id,
                "upstream_task_id": ids[upstream],
                "downstream_task_id": ids[downstream],
                "key": key,
                "mapped": mapped,
            }
        )
    for chunk in _batches(session, rows):
        now = utcnow()
        batch = [{**r, "created": now, "updated": now} for r in chunk]
        stmt = (
            dialect_of(session)
            .insert(Edge)
            .values(batch)
            .on_conflict_do_nothing(
                index_elements=["flow_id", "downstream_task_id", "upstream_task_id"]
            )
        )
        await session.execute(stmt)
    # A task is mapped when one of its incoming edges is (the CLI shows it); Server 1
    # never set the column.
    mapped_ids = {ids[downstream] for _, downstream, _, mapped in edges if mapped}
    if mapped_ids:
        await session.execute(
            update(Task).where(Task.id.in_(mapped_ids)).values(mapped=True, updated=utcnow())
        )


def _batches(session: AsyncSession, items: list[Any]) -> list[list[Any]]:
    # insert_many_batch_size (Server 1's name) bounds each statement's bind parameters.
    size = session_settings(session).insert_many_batch_size
    return [items[start : start + size] for start in range(0, len(items), size)]


async def register_tasks(session: AsyncSession, flow_id: Any, serialized_tasks: list[Any]) -> bool:
    """Add tasks to a flow (idempotent by slug) and to its ``serialized_flow.tasks``."""
    if not isinstance(serialized_tasks, list):
        raise ValidationFailed("Invalid serialized_tasks: expected a list of tasks.")
    rows = [task_row(task) for task in serialized_tasks]
    key, tenant_id = await _flow_tenant(session, flow_id)
    await _insert_tasks(session, key, tenant_id, rows)
    serialized = await session.scalar(select(Flow.serialized_flow).where(Flow.id == key)) or {}
    listed = list(serialized.get("tasks") or [])
    slugs = {t.get("slug") for t in listed if isinstance(t, dict)}
    added = []
    for serialized_task in serialized_tasks:
        if serialized_task["slug"] not in slugs:
            slugs.add(serialized_task["slug"])
            added.append(serialized_task)
    if added:
        await session.execute(
            update(Flow)
            .where(Flow.id == key)
            .values(serialized_flow={**serialized, "tasks": listed + added}, updated=utcnow())
        )
    return True


async def register_edges(session: AsyncSession, flow_id: Any, serialized_edges: list[Any]) -> bool:
    """Add edges between a flow's tasks, by slug (idempotent)."""
    if not isinstance(serialized_edges, list):
        raise ValidationFailed("Invalid serialized_edges: expected a list of edges.")
    edges = [edge_slugs(edge) for edge in serialized_edges]
    key, tenant_id = await _flow_tenant(session, flow_id)
    await _insert_edges(session, key, tenant_id, edges)
    return True


async def delete_flow(session: AsyncSession, flow_id: Any) -> bool:
    """Delete a flow and (ON DELETE CASCADE) its tasks, edges and runs; the group stays."""
    key = require_id(flow_id, "Must provide flow ID.")
    return await changes_rows(session, delete(Flow).where(Flow.id == key))


async def archive_flow(session: AsyncSession, flow_id: Any) -> bool:
    """Archive a flow: its auto-scheduled runs go, its other scheduled runs are cancelled."""
    key = require_id(flow_id, "Must provide flow ID.")
    return bool(await _archive(session, [key]))


async def _archive(session: AsyncSession, flow_ids: list[uuid.UUID]) -> int:
    """``archive_flow`` for several flows in a few statements; the number archived."""
    if not flow_ids:
        return 0
    result = await session.execute(
        update(Flow).where(Flow.id.in_(flow_ids)).values(archived=True, updated=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return 0
    await delete_auto_scheduled_runs(session, flow_ids)
    # Locked as read (in id order, as set_flow_run_states locks), so no agent can submit
    # one of them between this read and its cancellation.
    manual = select(FlowRun.id, FlowRun.flow_id).where(
        FlowRun.flow_id.in_(flow_ids),
        FlowRun.state == "Scheduled",
        FlowRun.auto_scheduled.is_(False),
    )
    runs = (
        await session.execute(dialect_of(session).for_update(manual.order_by(FlowRun.id)))
    ).all()
    for batch in _batches(session, list(runs)):
        await set_flow_run_states(
            session,
            [
                (run.id, {"type": "Cancelled", "message": f"Flow {run.flow_id} was archived."})
                for run in batch
            ],
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def unarchive_flow(session: AsyncSession, flow_id: Any) -> bool:
    key = require_id(flow_id, "Must provide flow ID.")
    active = await session.scalar(select(Flow.is_schedule_active).where(Flow.id == key))
    result = await session.execute(
        update(Flow).where(Flow.id == key).values(archived=False, updated=utcnow())
    )
    if active:
        await set_schedule_active(session, key)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def update_flow_project(session: AsyncSession, flow_id: Any, project_id: Any) -> uuid.UUID:
    """Move a flow to another project of the same tenant."""
    flow = require_id(flow_id, "Invalid flow ID.")
    project = require_id(project_id, "Invalid project ID.")
    tenant = select(Project.tenant_id).where(Project.id == project).scalar_subquery()
    result = await session.execute(
        update(Flow)
        .where(Flow.id == flow, Flow.tenant_id == tenant)
        .values(project_id=project, updated=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise ValidationFailed("Invalid flow or project ID.")
    return flow
