"""The event a cloud hook announces: Server 1's ``FlowRunStateChange``, field for field.

Server 1 (PrefectHQ/server ``utilities/events.py``, ``api/states.py``,
``api/cloud_hooks.py``) built the event from pydantic models holding only the columns it
had selected, and serialised it two ways; receivers were written against both:

- a WEBHOOK posts ``{"event": ...}`` with every field of each model, ``null`` where
  nothing was selected (``webhook_body``);
- a PREFECT_MESSAGE stores ``{"event": ..., "type": "CLOUD_HOOK"}`` with only the fields
  that were set, and no event id, timestamp or type (``message_content``).

An event here is the set fields only; ``webhook_body`` fills in the rest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Flow, FlowRun, FlowRunState, Tenant
from prefect_server.orchestration.run_names import random_name
from prefect_server.orchestration.state_schema import ParsedState
from prefect_server.utilities.clock import utcnow

EVENT_TYPE = "FlowRunStateChange"

# The fields of Server 1's models (its database/models.py), in its order: a webhook
# receiver sees each of them, null when Server 1 had not selected it.
TENANT_FIELDS = ("id", "created", "updated", "name", "slug", "info", "settings", "projects")
FLOW_FIELDS = (
    *("id", "created", "updated", "tenant_id", "project_id", "archived", "schedule"),
    *("is_schedule_active", "version", "version_group_id", "core_version", "name"),
    *("description", "serialized_flow", "environment", "run_config", "storage"),
    *("parameters", "flow_group_id", "project", "tenant", "tasks", "edges", "flow_runs"),
    *("versions", "flow_group"),
)
FLOW_RUN_FIELDS = (
    *("id", "created", "updated", "tenant_id", "flow_id", "parameters", "labels"),
    *("run_config", "context", "version", "heartbeat", "scheduled_start_time"),
    *("start_time", "end_time", "auto_scheduled", "name", "times_resurrected"),
    *("idempotency_key", "agent_id", "state", "state_timestamp", "state_message"),
    *("state_result", "state_start_time", "serialized_state", "tenant", "flow", "states"),
    *("task_runs", "logs"),
)
STATE_FIELDS = (
    *("id", "created", "updated", "tenant_id", "flow_run_id", "timestamp", "message"),
    *("result", "start_time", "state", "version", "serialized_state", "flow_run"),
)
_NESTED = {"tenant": TENANT_FIELDS, "flow": FLOW_FIELDS}


def _text(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).isoformat()
    return value


def _event(
    *,
    flow_run: dict[str, Any],
    state: dict[str, Any],
    flow: dict[str, Any],
    tenant: dict[str, Any],
    is_test_event: bool = False,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "timestamp": _text(utcnow()),
        "type": EVENT_TYPE,
        "flow_run": flow_run,
        "state": state,
        "flow": flow,
        "tenant": tenant,
    }
    if is_test_event:
        # Server 1 set the flag only on the test event without a run; the others left
        # it at its default, so a message's event leaves it out.
        event["is_test_event"] = True
    return event


async def state_change_event(
    session: AsyncSession, flow_run_id: uuid.UUID, version: int
) -> dict[str, Any]:
    """The event for the state ``version`` just written to the run (in this transaction).

    As in Server 1, ``flow_run`` is the run as it was read before the write (its
    previous state and version), ``state`` the new state row; Server 1 did not select
    the run's tenant, so the state's ``tenant_id`` is null and its result was unset.
    """
    run = (
        await session.execute(
            select(
                FlowRun.name,
                Flow.id.label("flow_id"),
                Flow.name.label("flow_name"),
                Flow.flow_group_id,
                Flow.version_group_id,
                Tenant.id.label("tenant_id"),
                Tenant.slug,
            )
            .join(Flow, Flow.id == FlowRun.flow_id)
            .outerjoin(Tenant, Tenant.id == FlowRun.tenant_id)
            .where(FlowRun.id == flow_run_id)
        )
    ).one()
    states = {
        row.version: row
        for row in await session.execute(
            select(
                FlowRunState.id,
                FlowRunState.version,
                FlowRunState.state,
                FlowRunState.timestamp,
                FlowRunState.message,
                FlowRunState.start_time,
                FlowRunState.serialized_state,
            ).where(
                FlowRunState.flow_run_id == flow_run_id,
                FlowRunState.version.in_((version - 1, version)),
            )
        )
    }
    new, previous = states[version], states.get(version - 1)
    flow = {
        "id": _text(run.flow_id),
        "name": run.flow_name,
        "flow_group_id": _text(run.flow_group_id),
        "version_group_id": run.version_group_id,
    }
    tenant = {"id": _text(run.tenant_id), "slug": run.slug}
    return _event(
        flow_run={
            "id": str(flow_run_id),
            "state": previous.state if previous is not None else None,
            "name": run.name,
            "version": version - 1,
            "flow": flow,
            "tenant": tenant,
        },
        state={
            "id": _text(new.id),
            "tenant_id": None,
            "flow_run_id": str(flow_run_id),
            "version": version,
            "state": new.state,
            "timestamp": _text(new.timestamp),
            "message": new.message,
            "result": None,
            "start_time": _text(new.start_time),
            "serialized_state": new.serialized_state,
        },
        flow=dict(flow),
        tenant=dict(tenant),
    )


async def run_test_event(
    session: AsyncSession, flow_run_id: uuid.UUID, state: ParsedState
) -> dict[str, Any] | None:
    """test_cloud_hook's event for a real run: the run as if it had entered ``state``
    (None when there is no such run). Server 1 set the state's version to 1 and, on the
    run, the next version and the state's name; it left ``is_test_event`` unset here."""
    row = (
        await session.execute(
            select(
                FlowRun.tenant_id,
                FlowRun.flow_id,
                FlowRun.name,
                FlowRun.version,
                Flow.name.label("flow_name"),
                Flow.environment,
                Flow.version_group_id,
                Tenant.slug,
            )
            .join(Flow, Flow.id == FlowRun.flow_id)
            .outerjoin(Tenant, Tenant.id == FlowRun.tenant_id)
            .where(FlowRun.id == flow_run_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return _event(
        flow_run={
            "id": str(flow_run_id),
            "tenant_id": _text(row.tenant_id),
            "flow_id": _text(row.flow_id),
            "name": row.name,
            "version": (row.version or 0) + 1,
            "state": state.type,
            "serialized_state": state.serialized,
        },
        state=_test_state(state),
        flow={
            "id": _text(row.flow_id),
            "tenant_id": _text(row.tenant_id),
            "name": row.flow_name,
            "environment": row.environment,
            "version_group_id": row.version_group_id,
        },
        tenant={"id": _text(row.tenant_id), "slug": row.slug},
    )


def dummy_test_event(state: ParsedState, tenant_id: uuid.UUID | None) -> dict[str, Any]:
    """test_cloud_hook's event without a run: a made-up run and flow in the hook's tenant."""
    return _event(
        flow_run={"id": str(uuid.uuid4()), "name": random_name()},
        state=_test_state(state),
        flow={"id": str(uuid.uuid4()), "name": "Cloud Hook Test Flow"},
        tenant={"id": _text(tenant_id), "slug": "test-slug"},
        is_test_event=True,
    )


def _test_state(state: ParsedState) -> dict[str, Any]:
    return {"version": 1, "state": state.type, "serialized_state": state.serialized}


def state_message(event: dict[str, Any]) -> Any:
    """The message the Slack and PagerDuty texts show: Server 1 read it from the
    serialised state, which test events carry without a ``message`` field."""
    return event["state"]["serialized_state"].get("message")


def webhook_body(event: dict[str, Any]) -> dict[str, Any]:
    """What a WEBHOOK posts: the event with every model field, null where unset."""
    full = {
        **event,
        "flow_run": _padded(event["flow_run"], FLOW_RUN_FIELDS),
        "state": _padded(event["state"], STATE_FIELDS),
        "flow": _padded(event["flow"], FLOW_FIELDS),
        "tenant": _padded(event["tenant"], TENANT_FIELDS),
        "is_test_event": event.get("is_test_event", False),
    }
    return {"event": full}


def _padded(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    padded = {name: values.get(name) for name in fields}
    for name, nested in _NESTED.items():
        value = padded.get(name)
        if isinstance(value, dict):
            padded[name] = _padded(value, nested)
    return padded


def message_content(event: dict[str, Any]) -> dict[str, Any]:
    """What a PREFECT_MESSAGE stores: the set fields of the event's models."""
    kept = {key: event[key] for key in ("flow_run", "state", "flow", "tenant")}
    if event.get("is_test_event"):
        kept["is_test_event"] = True
    return {"event": kept, "type": "CLOUD_HOOK"}
