"""Flows and runs for the service tests (tenant → project → flow group → flow → tasks),
built with factories, plus the clocks and settings those tests use."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update

from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowGroup, FlowRun
from prefect_server.orchestration import flow_groups, flows
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.orchestration.runs import create_flow_run
from prefect_server.orchestration.task_run_states import set_task_run_state
from prefect_server.settings import Settings

import factories

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
    """A flow named "flow" with ``tasks`` independent tasks, registered in a project of
    its own through the domain functions (factories)."""
    tenant_id = await factories.default_tenant(db)
    project_id = await factories.create_project(db, tenant_id, f"p-{uuid.uuid4()}")
    serialized = factories.serialized_flow(
        "flow",
        tasks=[
            factories.task(
                f"task-{i}",
                name=f"task-{i}",
                max_retries=max_retries,
                retry_delay=retry_delay.total_seconds() if retry_delay else None,
            )
            for i in range(tasks)
        ],
        edges=[],
        parameters=parameters or [],
    )
    serialized["schedule"] = flow_schedule
    flow_id = await factories.create_flow(db, project_id, serialized)
    async with db.transaction() as session:
        group_id = await session.scalar(select(Flow.flow_group_id).where(Flow.id == flow_id))
        if group_settings:
            await flow_groups.update_settings(session, group_id, group_settings)
        if group_labels is not None:
            await flow_groups.set_labels(session, group_id, group_labels)
        if group_schedule is not None:
            # Raw on purpose: set_flow_group_schedule starts every clock now; these
            # tests need clocks anchored at ANCHOR to predict the scheduler's times.
            await session.execute(
                update(FlowGroup).where(FlowGroup.id == group_id).values(schedule=group_schedule)
            )
        if archived:
            await flows.archive_flow(session, flow_id)
        if active:
            # Raw on purpose: set_schedule_active would create the first runs at once;
            # these tests watch the scheduler's pass create them.
            await session.execute(
                update(Flow).where(Flow.id == flow_id).values(is_schedule_active=True)
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
