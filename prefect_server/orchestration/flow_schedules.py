"""Turning a flow's schedule on and off (``set_schedule_active`` / ``_inactive`` of Server
1's ``src/prefect_server/api/flows.py``).

The scheduler (``orchestration.scheduling``) creates the runs; this module decides
whether a flow may be scheduled and clears the runs it made when scheduling stops.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowGroup
from prefect_server.orchestration.errors import APIError, ValidationFailed
from prefect_server.orchestration.scheduling import delete_auto_scheduled_runs, schedule_flow_runs
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id

logger = logging.getLogger(__name__)

REQUIRED_PARAMETERS = "Can not schedule a flow that has required parameters."


def _check_required_parameters(
    parameters: Any, schedule: Any, group_defaults: dict[str, Any] | None
) -> None:
    """Every required parameter without a group default needs a default on every clock."""
    if not schedule:
        return
    required = {
        p.get("name") for p in parameters or [] if isinstance(p, dict) and p.get("required")
    } - set(group_defaults or {})
    if not required:
        return
    clocks = (schedule.get("clocks") or []) if isinstance(schedule, dict) else []
    for clock in clocks:
        defaults = (clock.get("parameter_defaults") if isinstance(clock, dict) else None) or {}
        if not required <= set(defaults):
            raise ValidationFailed(REQUIRED_PARAMETERS)


async def set_schedule_active(session: AsyncSession, flow_id: Any) -> bool:
    """Activate the flow's schedule and create its next runs; False when there is none."""
    if not flow_id:
        raise ValidationFailed("Invalid flow id.")
    key = parse_id(flow_id)
    row = (
        await session.execute(
            select(Flow.parameters, Flow.schedule, FlowGroup.schedule, FlowGroup.default_parameters)
            .join(FlowGroup, FlowGroup.id == Flow.flow_group_id)
            .where(Flow.id == key)
        )
    ).one_or_none()
    if key is None or row is None:
        return False
    parameters, flow_schedule, group_schedule, group_defaults = row
    _check_required_parameters(parameters, flow_schedule, group_defaults)
    if not flow_schedule and not group_schedule:
        return False
    await session.execute(
        update(Flow).where(Flow.id == key).values(is_schedule_active=True, updated=utcnow())
    )
    await schedule_flow_runs(session, key)
    return True


async def activate_quietly(session: AsyncSession, flow_id: uuid.UUID) -> None:
    """Registration's ``set_schedule_active``: a refusal leaves the schedule off, not an error."""
    try:
        async with session.begin_nested():
            await set_schedule_active(session, flow_id)
    except APIError as exc:
        logger.info("Flow %s registered with its schedule inactive: %s", flow_id, exc)


async def set_schedule_inactive(session: AsyncSession, flow_id: Any) -> bool:
    """Deactivate the schedule and delete the not-yet-started runs the scheduler made."""
    if not flow_id:
        raise ValidationFailed("Invalid flow id.")
    key = parse_id(flow_id)
    if key is None:
        return False
    result = await session.execute(
        update(Flow).where(Flow.id == key).values(is_schedule_active=False, updated=utcnow())
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await delete_auto_scheduled_runs(session, [key])
    return True
