"""Materialising schedules as auto-scheduled flow runs (spec §3.3 schedule_flow_runs).

The schedule of a flow is its flow group's schedule when that is set, else the flow's
own. Each of its next ``max_runs`` events becomes a Scheduled flow run keyed
``auto-scheduled:<start in UTC, ISO>``; events that carry parameter defaults or labels
get an md5 suffix instead and are attempted even when not after the newest existing
auto-scheduled run, so two clocks may schedule the same instant. The unique
(idempotency_key, flow_id) constraint, not a read, decides whether a run exists: two
replicas scheduling the same flow at once create each run once.

Runs are created in multi-row statements for a whole page of flows (the scheduler
service keeps 10,000 schedules materialised), with the same values and initial state
that ``runs.create_flow_run`` and ``flow_run_states.set_flow_run_state`` give a single run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import (
    CloudHook,
    Flow,
    FlowGroup,
    FlowRun,
    FlowRunState,
    Task,
    TaskRun,
    TaskRunState,
)
from prefect_server.orchestration import cloud_hooks
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.run_names import random_name
from prefect_server.orchestration.runs import default_labels, run_parameters
from prefect_server.orchestration.state_schema import ParsedState, parse_state
from prefect_server.orchestration.states import new_state_row, run_values, utcnow
from prefect_server.orchestration.task_runs import (
    TASK_RUN_CREATED,
    created_state_row,
    new_task_run_row,
)
from prefect_server.schedules import Event, next_events
from prefect_server.utilities.ids import parse_id

logger = logging.getLogger(__name__)

# Rows per INSERT: ~25 columns each stays far below PostgreSQL's 32,767 bind parameters.
INSERT_CHUNK = 500


@dataclass(frozen=True, slots=True)
class PlannedRun:
    flow_id: uuid.UUID
    start: dt.datetime
    parameter_defaults: dict[str, Any]
    labels: list[str] | None
    idempotency_key: str


def idempotency_key(event: Event) -> str:
    """Server 1's key for an auto-scheduled run of ``event``."""
    start = event.start_time.astimezone(dt.timezone.utc).isoformat()
    if not _distinguishable(event):
        return f"auto-scheduled:{start}"
    # Sorting the characters of the JSON texts makes the digest independent of key order.
    parameters = str(sorted(json.dumps(event.parameter_defaults)))
    labels = str(sorted(json.dumps(event.labels)))
    digest = hashlib.md5((parameters + labels).encode("utf-8")).hexdigest()
    return f"auto-scheduled:{start}:{digest}"


def _distinguishable(event: Event) -> bool:
    return bool(event.parameter_defaults) or event.labels is not None


def plan_runs(
    flow_id: uuid.UUID, events: Sequence[Event], last: dt.datetime | None
) -> list[PlannedRun]:
    """The runs to attempt for ``events``: plain events up to ``last`` exist already."""
    planned = []
    for event in events:
        if not _distinguishable(event) and last is not None and event.start_time <= last:
            continue
        planned.append(
            PlannedRun(
                flow_id,
                event.start_time.astimezone(dt.timezone.utc),
                dict(event.parameter_defaults or {}),
                event.labels,
                idempotency_key(event),
            )
        )
    return planned


async def schedule_flow_runs(
    session: AsyncSession, flow_id: uuid.UUID | str | None, max_runs: int = 10
) -> list[uuid.UUID]:
    """Materialise the next ``max_runs`` events of the flow; the ids of their runs.

    The ids include runs that existed already. An archived or inactive flow, a flow
    without schedule or an unreadable schedule gives ``[]``.
    """
    if not flow_id:
        raise ValidationFailed("Invalid flow id.")
    key = parse_id(flow_id)
    if key is None:
        return []
    result = await schedule_flows(session, [key], max_runs)
    return result.run_ids


@dataclass(slots=True)
class ScheduleResult:
    created: int
    run_ids: list[uuid.UUID]


async def schedule_flows(
    session: AsyncSession, flow_ids: Sequence[uuid.UUID], max_runs: int, *, with_ids: bool = True
) -> ScheduleResult:
    """Materialise the schedules of several flows in a few multi-row statements.

    Flows that are archived, inactive or without schedule are ignored; a flow whose
    schedule cannot be evaluated or whose runs cannot be created (required parameters
    without value) is logged and skipped, the others are scheduled. Without
    ``with_ids`` only the number of runs created is reported (one query less per page).
    """
    flows = await _schedulable_flows(session, flow_ids)
    if not flows:
        return ScheduleResult(0, [])
    now = utcnow()
    planned: list[PlannedRun] = []
    for flow in flows.values():
        schedule = flow.group_schedule if flow.group_schedule is not None else flow.schedule
        try:
            events = next_events(schedule, max_runs, after=now)
        except Exception:
            logger.exception("Could not evaluate the schedule of flow %s.", flow.id)
            continue
        planned.extend(plan_runs(flow.id, events, flow.last_auto_scheduled or now))
    rows = list(_run_rows(flows, planned, now))
    created = await _insert_runs(session, flows, rows, now)
    if not with_ids:
        return ScheduleResult(len(created), [])
    run_ids = await _run_ids(session, planned)
    # Server 1 marked every returned run auto-scheduled, pre-existing ones included.
    if run_ids:
        await session.execute(
            update(FlowRun)
            .where(FlowRun.id.in_(run_ids), FlowRun.auto_scheduled.is_(False))
            .values(auto_scheduled=True)
        )
    return ScheduleResult(len(created), run_ids)


async def _schedulable_flows(
    session: AsyncSession, flow_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    # Per flow, so that PostgreSQL reads one entry of ix_flow_run_flow_id_scheduled_start_time
    # backwards instead of every run the flow ever had.
    last = (
        select(func.max(FlowRun.scheduled_start_time))
        .where(FlowRun.flow_id == Flow.id, FlowRun.auto_scheduled.is_(True))
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Flow.id,
            Flow.tenant_id,
            Flow.schedule,
            Flow.parameters,
            Flow.run_config,
            Flow.environment,
            FlowGroup.schedule.label("group_schedule"),
            FlowGroup.labels.label("group_labels"),
            FlowGroup.run_config.label("group_run_config"),
            FlowGroup.default_parameters,
            last.label("last_auto_scheduled"),
        )
        .outerjoin(FlowGroup, FlowGroup.id == Flow.flow_group_id)
        .where(
            Flow.id.in_(flow_ids),
            Flow.archived.is_(False),
            Flow.is_schedule_active.is_(True),
        )
    )
    return {
        row.id: row for row in rows if row.schedule is not None or row.group_schedule is not None
    }


def _scheduled_state(start: dt.datetime, now: dt.datetime) -> ParsedState:
    return parse_state(
        {"type": "Scheduled", "message": "Flow run scheduled.", "start_time": start.isoformat()},
        now=now,
    )


def _run_rows(
    flows: dict[uuid.UUID, Any], planned: list[PlannedRun], now: dt.datetime
) -> Iterator[tuple[dict[str, Any], ParsedState]]:
    """Each planned run as a flow_run row already in its Scheduled state (version 1)."""
    for run in planned:
        flow = flows[run.flow_id]
        try:
            parameters = run_parameters(flow, run.parameter_defaults)
        except ValidationFailed as exc:
            logger.warning("Flow %s cannot be scheduled: %s", flow.id, exc)
            continue
        state = _scheduled_state(run.start, now)
        row = {
            "id": uuid.uuid4(),
            "tenant_id": flow.tenant_id,
            "flow_id": flow.id,
            "labels": default_labels(run.labels, None, flow),
            "parameters": parameters,
            "run_config": flow.group_run_config
            if flow.group_run_config is not None
            else flow.run_config,
            "context": {},
            "scheduled_start_time": run.start,
            "auto_scheduled": True,
            "name": random_name(),
            "idempotency_key": run.idempotency_key,
            "times_resurrected": 0,
            "created": now,
            **run_values(state, 1, now),
        }
        yield row, state


def _table(model: Any) -> Table:
    # Core statements on the table skip the ORM's per-row bookkeeping in bulk inserts.
    return cast(Table, model.__table__)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), INSERT_CHUNK):
        yield items[start : start + INSERT_CHUNK]


async def _insert_runs(
    session: AsyncSession,
    flows: dict[uuid.UUID, Any],
    rows: list[tuple[dict[str, Any], ParsedState]],
    now: dt.datetime,
) -> list[tuple[dict[str, Any], ParsedState]]:
    """Insert the runs that do not exist yet with their state and task runs; those created."""
    # Core executemany: SQLAlchemy sends "insertmanyvalues" batches from one cached compiled
    # statement, where a multi-row .values() would be compiled anew for every page.
    stmt = (
        dialect_of(session).insert(_table(FlowRun))
        .on_conflict_do_nothing(index_elements=["idempotency_key", "flow_id"])
        .returning(_table(FlowRun).c.id)
    )
    new_ids: set[uuid.UUID] = set()
    if rows:
        result = await session.execute(stmt, [row for row, _ in rows])
        new_ids.update(result.scalars())
    created = [item for item in rows if item[0]["id"] in new_ids]
    if not created:
        return created
    states = []
    for row, state in created:
        state_row = new_state_row(state, 1, now, row["tenant_id"])
        state_row["flow_run_id"] = row["id"]
        states.append(state_row)
    await session.execute(insert(_table(FlowRunState)), states)
    await _insert_task_runs(session, [row for row, _ in created], now)
    await _notify_hooks(session, created)
    return created


async def _insert_task_runs(
    session: AsyncSession, runs: list[dict[str, Any]], now: dt.datetime
) -> None:
    """One Pending task run per task of the flow for each new run, as create_flow_run does."""
    flow_ids = {run["flow_id"] for run in runs}
    tasks: dict[uuid.UUID, list[Any]] = {}
    for task in await session.execute(
        select(Task.id, Task.flow_id, Task.cache_key).where(Task.flow_id.in_(flow_ids))
    ):
        tasks.setdefault(task.flow_id, []).append(task)
    task_runs: list[dict[str, Any]] = []
    task_states: list[dict[str, Any]] = []
    for run in runs:
        for task in tasks.get(run["flow_id"], ()):
            task_run_id = uuid.uuid4()
            task_runs.append(
                new_task_run_row(
                    task_run_id,
                    run["id"],
                    task.id,
                    -1,
                    task.cache_key,
                    run["tenant_id"],
                    now,
                    TASK_RUN_CREATED,
                )
            )
            task_states.append(
                created_state_row(task_run_id, run["tenant_id"], now, TASK_RUN_CREATED)
            )
    if task_runs:
        await session.execute(insert(_table(TaskRun)), task_runs)
        await session.execute(insert(_table(TaskRunState)), task_states)


async def _notify_hooks(
    session: AsyncSession, created: list[tuple[dict[str, Any], ParsedState]]
) -> None:
    """Cloud hooks see the Scheduled state of every new run, as after set_flow_run_state."""
    if (
        await session.scalar(select(CloudHook.id).where(CloudHook.active.is_(True)).limit(1))
        is None
    ):
        return
    for row, state in created:
        await cloud_hooks.flow_run_state_changed(
            session,
            flow_run_id=row["id"],
            flow_id=row["flow_id"],
            tenant_id=row["tenant_id"],
            state=state,
            version=1,
        )


async def _run_ids(session: AsyncSession, planned: list[PlannedRun]) -> list[uuid.UUID]:
    """The ids of the planned runs that exist now, in the order of ``planned``."""
    found: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    for chunk in _chunks(planned):
        keys = [(run.flow_id, run.idempotency_key) for run in chunk]
        rows = await session.execute(
            select(FlowRun.id, FlowRun.flow_id, FlowRun.idempotency_key).where(
                and_(
                    FlowRun.flow_id.in_({flow_id for flow_id, _ in keys}),
                    tuple_(FlowRun.flow_id, FlowRun.idempotency_key).in_(keys),
                )
            )
        )
        found.update({(row.flow_id, row.idempotency_key): row.id for row in rows})
    return [
        found[key]
        for key in ((run.flow_id, run.idempotency_key) for run in planned)
        if key in found
    ]
