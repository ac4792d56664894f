"""Building flows and runs for the service tests (tenant → project → flow group → flow → tasks)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert, update

from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowGroup, FlowRun, Project, Task
from prefect_server.orchestration import tenants
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.orchestration.runs import create_flow_run
from prefect_server.orchestration.task_run_states import set_task_run_state
from prefect_server.settings import Settings

UTC = dt.timezone.utc
# Every interval clock of these tests is anchored here, so event times are easy to predict.
ANCHOR = dt.datetime(2020, 1, 1, tzinfo=UTC)


def with_services(settings: Settings, **changes: dict[str, Any]) -> Settings:
    """``settings`` with some services' settings changed: ``lazarus={"loop_seconds": 1}``."""
    services = settings.services
    parts = {
        name: dataclasses.replace(getattr(services, name), **values)
        for name, values in changes.items()
    }
    return settings.replace(services=dataclasses.replace(services, **parts))


def interval_clock(seconds: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "IntervalClock",
        "interval": seconds * 1_000_000,
        "start_date": {"dt": ANCHOR.replace(tzinfo=None).isoformat(), "tz": "UTC"},
        "end_date": None,
        **extra,
    }


def schedule(*clocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Schedule", "clocks": list(clocks)}


def next_interval_times(seconds: int, n: int, after: dt.datetime) -> list[dt.datetime]:
    """The next ``n`` multiples of ``seconds`` after ANCHOR strictly later than ``after``."""
    step = dt.timedelta(seconds=seconds)
    k = int((after - ANCHOR) / step) + 1
    return [ANCHOR + (k + i) * step for i in range(n)]


async def make_flow(
    db: Database,
    *,
    flow_schedule: dict[str, Any] | None = None,
    group_schedule: dict[str, Any] | None = None,
    active: bool = True,
    archived: bool = False,
    tasks: int = 1,
    max_retries: int = 0,
    retry_delay: dt.timedelta | None = None,
    parameters: list[dict[str, Any]] | None = None,
    group_settings: dict[str, Any] | None = None,
    group_labels: list[str] | None = None,
) -> uuid.UUID:
    async with db.transaction() as session:
        tenant_id = await tenants.ensure_default_tenant(session)
        project_id, group_id, flow_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await session.execute(
            insert(Project).values(id=project_id, tenant_id=tenant_id, name=f"p-{project_id}")
        )
        await session.execute(
            insert(FlowGroup).values(
                id=group_id,
                tenant_id=tenant_id,
                name=str(group_id),
                schedule=group_schedule,
                labels=group_labels,
                settings={
                    "heartbeat_enabled": True,
                    "lazarus_enabled": True,
                    **(group_settings or {}),
                },
            )
        )
        await session.execute(
            insert(Flow).values(
                id=flow_id,
                tenant_id=tenant_id,
                project_id=project_id,
                flow_group_id=group_id,
                version_group_id=str(group_id),
                version=1,
                name="flow",
                schedule=flow_schedule,
                is_schedule_active=active,
                archived=archived,
                parameters=parameters or [],
                serialized_flow={},
            )
        )
        if tasks:
            await session.execute(
                insert(Task),
                [
                    {
                        "id": uuid.uuid4(),
                        "tenant_id": tenant_id,
                        "flow_id": flow_id,
                        "name": f"task-{i}",
                        "slug": f"task-{i}",
                        "max_retries": max_retries,
                        "retry_delay": retry_delay,
                    }
                    for i in range(tasks)
                ],
            )
    return flow_id


async def make_run(db: Database, flow_id: uuid.UUID, state: str | None = None) -> uuid.UUID:
    """A flow run (through create_flow_run), optionally moved on to ``state``."""
    async with db.transaction() as session:
        run_id = await create_flow_run(session, flow_id=flow_id)
        if state is not None:
            await set_flow_run_state(session, run_id, {"type": state})
    return run_id


async def set_task_state(db: Database, task_run_id: uuid.UUID, state: str) -> None:
    async with db.transaction() as session:
        await set_task_run_state(session, task_run_id, {"type": state})


async def age_heartbeat(db: Database, flow_run_id: uuid.UUID, seconds: float) -> None:
    """Pretend the flow-run process last sent a heartbeat ``seconds`` ago."""
    async with db.transaction() as session:
        await session.execute(
            update(FlowRun)
            .where(FlowRun.id == flow_run_id)
            .values(heartbeat=dt.datetime.now(UTC) - dt.timedelta(seconds=seconds))
        )
