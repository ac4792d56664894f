"""Cloud hooks: notifications on flow-run state changes (spec §3.10).

A hook fires for every flow-run state whose exact class name (upper-cased) is in
its ``states``, for active hooks of the run's tenant whose version group is the
flow's or unset. ``PREFECT_MESSAGE`` hooks write a ``message`` row in the state's
own transaction; every other kind is an HTTP call made only after that transaction
commits, in the background with a short timeout, so a slow or failing receiver can
neither slow nor fail the state write (errors are only logged).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import CloudHook, Flow, FlowRun, Message, Tenant
from prefect_server.orchestration import hook_delivery
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.orchestration.state_schema import ParsedState, parse_state
from prefect_server.orchestration.state_types import STATE_TYPES
from prefect_server.settings import Settings, session_settings

HOOK_TYPES = ("WEBHOOK", "SLACK_WEBHOOK", "TWILIO", "PAGERDUTY", "PREFECT_MESSAGE")
ALL_STATES = frozenset(name.upper() for name in STATE_TYPES)
PAGERDUTY_SEVERITIES = ("info", "warning", "error", "critical")
_REQUIRED_CONFIG: dict[str, tuple[str, ...]] = {
    "WEBHOOK": ("url",),
    "SLACK_WEBHOOK": ("url",),
    "TWILIO": ("account_sid", "auth_token", "messaging_service_sid", "to"),
    "PAGERDUTY": ("api_token", "routing_key", "severity"),
}
TEST_STATES = {
    "SCHEDULED": {"type": "Scheduled", "message": "Test scheduled state"},
    "SUBMITTED": {"type": "Submitted", "message": "Test submitted state"},
    "RUNNING": {"type": "Running", "message": "Test running state"},
    "SUCCESS": {"type": "Success", "message": "Test success state"},
    "FAILED": {"type": "Failed", "message": "Test failed state"},
}


def _uuid(value: Any, error: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed(error) from None


def validate_config(hook_type: str, config: dict[str, Any] | None) -> dict[str, Any]:
    config = dict(config or {})
    required = _REQUIRED_CONFIG.get(hook_type)
    if required is None:
        return config
    if set(config) != set(required):
        names = ", ".join(f"`{key}`" for key in required)
        raise ValidationFailed(f"Invalid config; expected {names}")
    if hook_type == "TWILIO" and not config["to"]:
        raise ValidationFailed("Invalid config; `to` must list at least one phone number")
    if hook_type == "PAGERDUTY" and config["severity"] not in PAGERDUTY_SEVERITIES:
        raise ValidationFailed(
            f"Invalid config; `severity` must be one of {', '.join(PAGERDUTY_SEVERITIES)}, "
            f"got {config['severity']!r}"
        )
    return config


async def create_cloud_hook(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID | str | None,
    type: str,
    states: list[str] | None,
    config: dict[str, Any] | None = None,
    name: str | None = None,
    version_group_id: str | None = None,
) -> uuid.UUID:
    if not tenant_id:
        raise ValidationFailed("Invalid tenant ID")
    upper = {str(s).upper() for s in states or ()}
    if not upper or not upper <= ALL_STATES:
        raise ValidationFailed("Invalid states")
    if type not in HOOK_TYPES:
        raise ValidationFailed("Invalid cloud hook type")
    hook_id = uuid.uuid4()
    await session.execute(
        insert(CloudHook).values(
            id=hook_id,
            tenant_id=_uuid(tenant_id, "Invalid tenant ID"),
            name=name,
            type=type,
            states=sorted(upper),
            config=validate_config(type, config),
            version_group_id=version_group_id,
            active=True,
        )
    )
    return hook_id


async def delete_cloud_hook(session: AsyncSession, hook_id: uuid.UUID | str | None) -> bool:
    if not hook_id:
        raise ValidationFailed("Invalid ID")
    key = _uuid(hook_id, "Invalid ID")
    result = await session.execute(delete(CloudHook).where(CloudHook.id == key))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_cloud_hook_active(
    session: AsyncSession, hook_id: uuid.UUID | str | None, active: bool
) -> bool:
    if not hook_id:
        raise ValidationFailed("Invalid ID")
    key = _uuid(hook_id, "Invalid ID")
    result = await session.execute(
        update(CloudHook).where(CloudHook.id == key).values(active=active)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def flow_run_state_changed(
    session: AsyncSession,
    *,
    flow_run_id: uuid.UUID,
    flow_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    state: ParsedState,
    version: int,
) -> None:
    """Called by set_flow_run_state inside its transaction: queue the matching hooks."""
    version_group = select(Flow.version_group_id).where(Flow.id == flow_id).scalar_subquery()
    hooks = (
        await session.execute(
            select(CloudHook.id, CloudHook.type, CloudHook.config, CloudHook.states).where(
                CloudHook.tenant_id == tenant_id,
                CloudHook.active.is_(True),
                or_(
                    CloudHook.version_group_id.is_(None),
                    CloudHook.version_group_id == version_group,
                ),
            )
        )
    ).all()
    name = state.type.upper()
    matching = [h for h in hooks if name in (h.states or ())]
    if not matching:
        return
    settings = session_settings(session)
    hook_event = await build_event(session, flow_run_id, state, version, is_test=False)
    for hook in matching:
        if hook.type == "PREFECT_MESSAGE":
            await _insert_message(session, tenant_id, hook_event)
        else:
            hook_delivery.send_after_commit(
                session,
                hook.type,
                hook.config or {},
                hook_event,
                settings.hooks,
                settings.run_page_link,
            )


async def test_cloud_hook(
    session: AsyncSession,
    hook_id: uuid.UUID | str | None,
    *,
    flow_run_id: uuid.UUID | str | None = None,
    state_type: str | None = None,
    settings: Settings,
) -> None:
    """Send a test event to one hook now; raises whatever the sending raised."""
    if not hook_id:
        raise ValidationFailed("Invalid ID")
    hook = (
        await session.execute(
            select(CloudHook.type, CloudHook.config, CloudHook.tenant_id).where(
                CloudHook.id == _uuid(hook_id, "Invalid ID")
            )
        )
    ).one_or_none()
    if hook is None:
        raise NotFound(f"Cloud hook {hook_id} not found")
    state = parse_state(TEST_STATES[state_type or "SUCCESS"])
    if flow_run_id:
        flow_run_id = _uuid(flow_run_id, "Invalid flow run ID")
        version = await session.scalar(select(FlowRun.version).where(FlowRun.id == flow_run_id))
        if version is None:
            raise NotFound(f"Flow run {flow_run_id} not found")
        hook_event = await build_event(session, flow_run_id, state, version + 1, is_test=True)
    else:
        hook_event = _dummy_event(state)
    if hook.type == "PREFECT_MESSAGE":
        await _insert_message(session, hook.tenant_id, hook_event)
        return
    await hook_delivery.send(
        hook.type, hook.config or {}, hook_event, settings.hooks, settings.run_page_link
    )


async def build_event(
    session: AsyncSession,
    flow_run_id: uuid.UUID | str,
    state: ParsedState,
    version: int,
    *,
    is_test: bool,
) -> dict[str, Any]:
    row = (
        await session.execute(
            select(
                FlowRun.id,
                FlowRun.name,
                FlowRun.flow_id,
                FlowRun.labels,
                FlowRun.scheduled_start_time,
                Flow.name.label("flow_name"),
                Flow.version_group_id,
                Tenant.id.label("tenant_id"),
                Tenant.slug,
            )
            .join(Flow, Flow.id == FlowRun.flow_id)
            .outerjoin(Tenant, Tenant.id == FlowRun.tenant_id)
            .where(FlowRun.id == flow_run_id)
        )
    ).one()
    return _event(
        state,
        version,
        is_test,
        flow_run={
            "id": str(row.id),
            "name": row.name,
            "flow_id": str(row.flow_id),
            "labels": row.labels,
        },
        flow={
            "id": str(row.flow_id),
            "name": row.flow_name,
            "version_group_id": row.version_group_id,
        },
        tenant={"id": str(row.tenant_id) if row.tenant_id else None, "slug": row.slug},
    )


def _dummy_event(state: ParsedState) -> dict[str, Any]:
    flow_id = str(uuid.uuid4())
    return _event(
        state,
        1,
        True,
        flow_run={
            "id": str(uuid.uuid4()),
            "name": "Cloud Hook Test Flow Run",
            "flow_id": flow_id,
            "labels": [],
        },
        flow={"id": flow_id, "name": "Cloud Hook Test Flow", "version_group_id": None},
        tenant={"id": str(uuid.uuid4()), "slug": "test-slug"},
    )


def _event(
    state: ParsedState,
    version: int,
    is_test: bool,
    *,
    flow_run: dict[str, Any],
    flow: dict[str, Any],
    tenant: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
        "type": "FlowRunStateChange",
        "flow_run": {**flow_run, "version": version, "state": state.type},
        "state": {
            "version": version,
            "state": state.type,
            "message": state.message,
            "serialized_state": state.serialized,
        },
        "flow": flow,
        "tenant": tenant,
        "is_test_event": is_test,
    }


async def _insert_message(
    session: AsyncSession, tenant_id: uuid.UUID | None, hook_event: dict[str, Any]
) -> None:
    await session.execute(
        insert(Message).values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            type="CLOUD_HOOK",
            text=hook_delivery.summary(hook_event),
            content={"event": hook_event, "type": "CLOUD_HOOK"},
        )
    )
