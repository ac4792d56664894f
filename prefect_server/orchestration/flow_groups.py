"""Flow groups: what all versions of a flow share — settings, labels, default parameters,
run config, description and a schedule that overrides the flows' (Server 1's
``src/prefect_server/api/flow_groups.py``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pendulum
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Flow, FlowGroup
from prefect_server.database.results import changes_rows
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.scheduling import delete_auto_scheduled_runs
from prefect_server.orchestration.serialization import require_id
from prefect_server.schedules import validate_clock
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id

# ``disable_heartbeat`` is what Prefect Cloud's UI reads; Server 1 kept both keys in step.
HEARTBEAT_ON = {"disable_heartbeat": False, "heartbeat_enabled": True}
HEARTBEAT_OFF = {"disable_heartbeat": True, "heartbeat_enabled": False}
LAZARUS_ON = {"lazarus_enabled": True}
LAZARUS_OFF = {"lazarus_enabled": False}


def _group_id(flow_group_id: Any) -> uuid.UUID:
    return require_id(flow_group_id, "Invalid flow group ID")


async def _set(session: AsyncSession, flow_group_id: Any, values: dict[str, Any]) -> bool:
    key = _group_id(flow_group_id)
    return await changes_rows(
        session, update(FlowGroup).where(FlowGroup.id == key).values(**values, updated=utcnow())
    )


async def update_settings(
    session: AsyncSession, flow_group_id: Any, settings: dict[str, Any]
) -> bool:
    """Merge ``settings`` into the group's settings (read-modify-write under a row lock)."""
    key = parse_id(flow_group_id) if flow_group_id else None
    stmt = select(FlowGroup.settings).where(FlowGroup.id == key)
    row = (await session.execute(dialect_of(session).for_update(stmt))).one_or_none()
    if key is None or row is None:
        raise ValidationFailed("Invalid flow group ID")
    merged = {**(row.settings or {}), **settings}
    if not await _set(session, key, {"settings": merged}):
        raise ValidationFailed("Settings update failed")
    # Mirrored onto the group's flows, where the 1.4.1 flow-run process reads them.
    await session.execute(
        update(Flow).where(Flow.flow_group_id == key).values(settings=merged, updated=utcnow())
    )
    return True


async def update_flow_settings(
    session: AsyncSession, flow_id: Any, settings: dict[str, Any]
) -> bool:
    """The heartbeat and lazarus toggles: they address a flow but change its group."""
    key = parse_id(flow_id) if flow_id else None
    group = await session.scalar(select(Flow.flow_group_id).where(Flow.id == key))
    if key is None or group is None:
        raise ValidationFailed("Invalid flow ID.")
    return await update_settings(session, group, settings)


async def delete_flow_group(session: AsyncSession, flow_group_id: Any) -> bool:
    """Delete the group and (ON DELETE CASCADE) all its flows and their runs."""
    key = require_id(flow_group_id, "Must provide flow group ID.")
    return await changes_rows(session, delete(FlowGroup).where(FlowGroup.id == key))


async def set_default_parameters(
    session: AsyncSession, flow_group_id: Any, parameters: dict[str, Any] | None
) -> bool:
    if parameters is not None and not isinstance(parameters, dict):
        raise ValidationFailed("Invalid parameters: expected an object.")
    return await _set(session, flow_group_id, {"default_parameters": parameters or {}})


async def set_labels(session: AsyncSession, flow_group_id: Any, labels: list[str] | None) -> bool:
    """``None`` clears the labels (runs fall back to run configs); ``[]`` means "no labels"."""
    values = None if labels is None else sorted(set(labels))
    return await _set(session, flow_group_id, {"labels": values})


async def set_description(
    session: AsyncSession, flow_group_id: Any, description: str | None
) -> bool:
    return await _set(session, flow_group_id, {"description": description})


async def set_run_config(session: AsyncSession, flow_group_id: Any, run_config: Any) -> bool:
    if run_config is not None and not isinstance(run_config, dict):
        raise ValidationFailed("Invalid run_config: expected an object.")
    return await _set(session, flow_group_id, {"run_config": run_config})


def _check_clock(clock: dict[str, Any]) -> None:
    """Refuse what Prefect 1's ClockSchema could not load (and so the scheduler could not run)."""
    try:
        validate_clock(clock)
    except ValueError:
        raise ValidationFailed(f"Invalid clock provided for schedule: {clock}") from None


def build_schedule(
    cron_clocks: list[dict[str, Any]] | None,
    interval_clocks: list[dict[str, Any]] | None,
    timezone: str | None,
) -> dict[str, Any]:
    """A serialized Prefect 1 ``Schedule`` from the mutation's clocks (cron clocks first).

    With a timezone every clock starts now in that zone, so cron expressions are read
    in local time; without one they carry ``start_date: null`` (UTC).
    """
    start_date = None
    if timezone:
        try:
            now = pendulum.now(timezone)
        except Exception:
            raise ValidationFailed(f"Invalid timezone provided for schedule: {timezone}") from None
        start_date = {"dt": now.naive().isoformat(), "tz": timezone}
    clocks: list[dict[str, Any]] = []
    for cron in cron_clocks or []:
        clock: dict[str, Any] = {"type": "CronClock", "cron": cron.get("cron")}
        if cron.get("parameter_defaults") is not None:
            clock["parameter_defaults"] = cron["parameter_defaults"]
        clocks.append(clock)
    for interval in interval_clocks or []:
        seconds = interval.get("interval")
        clock = {
            "type": "IntervalClock",
            "interval": seconds * 1_000_000 if isinstance(seconds, int) else seconds,
        }
        if interval.get("parameter_defaults"):
            clock["parameter_defaults"] = interval["parameter_defaults"]
        clocks.append(clock)
    for clock in clocks:
        clock["start_date"] = start_date
        _check_clock(clock)
    return {"type": "Schedule", "clocks": clocks}


async def _group_flow_ids(session: AsyncSession, key: uuid.UUID) -> list[uuid.UUID]:
    return list(await session.scalars(select(Flow.id).where(Flow.flow_group_id == key)))


async def set_schedule(
    session: AsyncSession,
    flow_group_id: Any,
    cron_clocks: list[dict[str, Any]] | None = None,
    interval_clocks: list[dict[str, Any]] | None = None,
    timezone: str | None = None,
) -> bool:
    """Set the group's schedule; runs already made from the old one are removed.

    The scheduler service makes the new runs on its next pass, as in Server 1.
    """
    schedule = build_schedule(cron_clocks, interval_clocks, timezone)
    key = _group_id(flow_group_id)
    if not await _set(session, key, {"schedule": schedule}):
        return False
    await delete_auto_scheduled_runs(session, await _group_flow_ids(session, key))
    return True


async def delete_schedule(session: AsyncSession, flow_group_id: Any) -> bool:
    key = _group_id(flow_group_id)
    if not await _set(session, key, {"schedule": None}):
        return False
    await delete_auto_scheduled_runs(session, await _group_flow_ids(session, key))
    return True
