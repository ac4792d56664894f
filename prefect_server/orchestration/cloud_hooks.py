"""Cloud hooks: notifications on flow-run state changes (Server 1's
``src/prefect_server/api/cloud_hooks.py``).

A hook fires for every flow-run state whose exact class name (upper-cased) is in
its ``states``, for active hooks of the run's tenant whose version group is the
flow's or unset. ``PREFECT_MESSAGE`` hooks write a ``message`` row in the state's
own transaction; every other kind is an HTTP call made only after that transaction
commits, in the background with a short timeout, so a slow or failing receiver can
neither slow nor fail the state write (errors are only logged).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import CloudHook, Flow, Message, Tenant
from prefect_server.database.results import changes_rows
from prefect_server.orchestration import hook_delivery, hook_events
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.orchestration.state_schema import ParsedState, parse_state
from prefect_server.orchestration.state_types import STATE_TYPES
from prefect_server.settings import Settings, session_settings
from prefect_server.utilities.ids import id_or_raise

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
    return id_or_raise(value, ValidationFailed(error))


def validate_config(hook_type: str, config: dict[str, Any] | None) -> dict[str, Any]:
    required = _REQUIRED_CONFIG.get(hook_type)
    names = ", ".join(f"`{key}`" for key in required or ())
    if config is not None and not isinstance(config, dict):
        raise ValidationFailed(f"Invalid config; expected {names or 'an object'}")
    config = dict(config or {})
    if required is None:
        return config
    if set(config) != set(required):
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
    tenant = _uuid(tenant_id, "Invalid tenant ID")
    if await session.scalar(select(Tenant.id).where(Tenant.id == tenant)) is None:
        raise NotFound(f"Tenant {tenant} not found")
    hook_id = uuid.uuid4()
    await session.execute(
        insert(CloudHook).values(
            id=hook_id,
            tenant_id=tenant,
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
    return await changes_rows(session, delete(CloudHook).where(CloudHook.id == key))


async def set_cloud_hook_active(
    session: AsyncSession, hook_id: uuid.UUID | str | None, active: bool
) -> bool:
    if not hook_id:
        raise ValidationFailed("Invalid ID")
    key = _uuid(hook_id, "Invalid ID")
    return await changes_rows(
        session, update(CloudHook).where(CloudHook.id == key).values(active=active)
    )


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
    hook_event = await hook_events.state_change_event(session, flow_run_id, version)
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
        run_id = _uuid(flow_run_id, "Invalid flow run ID")
        hook_event = await hook_events.run_test_event(session, run_id, state)
        if hook_event is None:
            raise NotFound(f"Flow run {run_id} not found")
    else:
        hook_event = hook_events.dummy_test_event(state, hook.tenant_id)
    if hook.type == "PREFECT_MESSAGE":
        await _insert_message(session, hook.tenant_id, hook_event)
        return
    await hook_delivery.send(
        hook.type, hook.config or {}, hook_event, settings.hooks, settings.run_page_link
    )


async def _insert_message(
    session: AsyncSession, tenant_id: uuid.UUID | None, hook_event: dict[str, Any]
) -> None:
    await session.execute(
        insert(Message).values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            type="CLOUD_HOOK",
            # Server 1 stored no text: readers build theirs from the content.
            text=None,
            content=hook_events.message_content(hook_event),
        )
    )
