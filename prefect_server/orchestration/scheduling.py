"""Materialising schedules as auto-scheduled flow runs (``schedule_flow_runs`` of Server 1's
``src/prefect_server/api/flows.py``).

The schedule of a flow is its flow group's schedule when that is set, else the flow's
own. Each of its next ``max_runs`` events becomes a Scheduled flow run keyed
``auto-scheduled:<start in UTC, ISO>``; events that carry parameter defaults or labels
get an md5 suffix instead and are attempted even when not after the newest existing
auto-scheduled run, so two clocks may schedule the same instant. The unique
(idempotency_key, flow_id) constraint, not a read, decides whether a run exists: two
replicas scheduling the same flow at once create each run once.

Runs are built and inserted by ``run_rows`` as ``runs.create_flow_run`` builds and
inserts a single run, here in multi-row statements for a whole page of flows (the
scheduler service keeps 10,000 schedules materialised).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowGroup, FlowRun
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.run_rows import (
    FLOW_COLUMNS,
    NewRun,
    chunks,
    insert_runs,
    new_run,
)
from prefect_server.schedules import Event, next_events
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id

logger = logging.getLogger(__name__)


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


async def delete_auto_scheduled_runs(session: AsyncSession, flow_ids: Sequence[uuid.UUID]) -> None:
    """Remove runs the scheduler made that have not started, so a new schedule can replace them."""
    if not flow_ids:
        return
    await session.execute(
        delete(FlowRun).where(
            FlowRun.flow_id.in_(flow_ids),
            FlowRun.state == "Scheduled",
            FlowRun.auto_scheduled.is_(True),
        )
    )


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
    created = await insert_runs(session, list(_new_runs(flows, planned, now)), now)
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
            *FLOW_COLUMNS,
            Flow.schedule,
            FlowGroup.schedule.label("group_schedule"),
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


def _new_runs(
    flows: dict[uuid.UUID, Any], planned: list[PlannedRun], now: dt.datetime
) -> Iterator[NewRun]:
    for run in planned:
        flow = flows[run.flow_id]
        try:
            yield new_run(
                flow,
                start=run.start,
                now=now,
                parameters=run.parameter_defaults,
                labels=run.labels,
                idempotency_key=run.idempotency_key,
                auto_scheduled=True,
            )
        except ValidationFailed as exc:
            logger.warning("Flow %s cannot be scheduled: %s", flow.id, exc)


async def _run_ids(session: AsyncSession, planned: list[PlannedRun]) -> list[uuid.UUID]:
    """The ids of the planned runs that exist now, in the order of ``planned``."""
    found: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    for chunk in chunks(planned):
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
