"""Cloud hooks as Server 1's ``src/prefect_server/api/cloud_hooks.py`` had them: validation, firing
after commit, payloads, test_cloud_hook.

Every hook here is sent to a receiver on 127.0.0.1; the Slack, Twilio and PagerDuty
base URLs are pointed at it through the hooks settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import CloudHook, Flow, FlowRun, FlowRunState, Message, Tenant
from prefect_server.orchestration import cloud_hooks, hook_delivery
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.settings import Settings

import factories


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(500 if self.path.startswith("/fail") else 200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    async def delivered(self, timeout: float = 10.0) -> list[Received]:
        """Everything sent, once every delivery under way has finished: what is not here
        then was never sent."""
        assert await hook_delivery.drain(timeout) == 0
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


@pytest.fixture
def settings(settings: Settings, receiver: Receiver) -> Settings:
    hooks = dataclasses.replace(
        settings.hooks,
        slack_base_url=receiver.url,
        twilio_base_url=f"{receiver.url}/twilio",
        pagerduty_base_url=f"{receiver.url}/pagerduty",
    )
    return settings.replace(hooks=hooks, api_url="http://ui.example")


@pytest.fixture
async def chain(db: Database) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    yield await factories.flow_chain(db)


async def create(db: Database, **kwargs: Any) -> uuid.UUID:
    async with db.transaction() as session:
        return await cloud_hooks.create_cloud_hook(session, **kwargs)


CREATE = "mutation($input: create_cloud_hook_input!) { create_cloud_hook(input: $input) { id } }"


async def test_create_validation(gql: Any, db: Database, chain: Any) -> None:
    tenant_id, _ = chain
    base = {"tenant_id": str(tenant_id), "type": "WEBHOOK", "config": {"url": "http://127.0.0.1:1"}}
    cases = [
        ({"states": []}, "Invalid states"),
        ({"states": ["Running", "Bogus"]}, "Invalid states"),
        ({"states": ["Failed"], "config": {}}, "Invalid config; expected `url`"),
        ({"states": ["Failed"], "config": ["url"]}, "Invalid config; expected `url`"),
        (
            {"states": ["Failed"], "type": "PREFECT_MESSAGE", "config": ["abc"]},
            "Invalid config; expected an object",
        ),
        (
            {"states": ["Failed"], "config": {"url": "x", "extra": 1}},
            "Invalid config; expected `url`",
        ),
        (
            {
                "states": ["Failed"],
                "type": "TWILIO",
                "config": {
                    "account_sid": "a",
                    "auth_token": "b",
                    "messaging_service_sid": "c",
                    "to": [],
                },
            },
            "Invalid config; `to` must list at least one phone number",
        ),
        (
            {
                "states": ["Failed"],
                "type": "PAGERDUTY",
                "config": {"api_token": "a", "routing_key": "b", "severity": "loud"},
            },
            "Invalid config; `severity` must be one of info, warning, error, critical, got 'loud'",
        ),
    ]
    for change, message in cases:
        errors = await gql.errors(CREATE, {"input": {**base, **change}})
        assert errors[0]["message"] == message
    errors = await gql.errors(
        CREATE, {"input": {**base, "states": ["Failed"], "type": "CARRIER_PIGEON"}}
    )
    assert "cloud_hook_type" in errors[0]["message"]
    async with db.session() as session:
        assert list(await session.scalars(select(CloudHook))) == []
    with pytest.raises(ValidationFailed, match="Invalid tenant ID"):
        await create(db, tenant_id=None, type="WEBHOOK", states=["FAILED"], config={"url": "x"})
    # Found by the mutation property test: a foreign-key failure, logged as ERROR.
    missing = uuid.uuid4()
    errors = await gql.errors(
        CREATE, {"input": {**base, "states": ["Failed"], "tenant_id": str(missing)}}
    )
    assert errors[0]["message"] == f"Tenant {missing} not found"
    data = await gql(
        CREATE, {"input": {**base, "states": ["failed", "Failed", "running"], "name": "n"}}
    )
    async with db.session() as session:
        hook = await session.get(CloudHook, uuid.UUID(data["create_cloud_hook"]["id"]))
    assert hook is not None
    assert (sorted(hook.states), hook.active, hook.name) == (["FAILED", "RUNNING"], True, "n")


async def test_webhook_fires_after_commit_for_matching_states(
    db: Database, chain: Any, receiver: Receiver
) -> None:
    tenant_id, flow_id = chain
    url = f"{receiver.url}/hook"
    await create(db, tenant_id=tenant_id, type="WEBHOOK", states=["RUNNING"], config={"url": url})
    inactive = await create(
        db,
        tenant_id=tenant_id,
        type="WEBHOOK",
        states=["RUNNING"],
        config={"url": f"{receiver.url}/inactive"},
    )
    async with db.transaction() as session:
        await cloud_hooks.set_cloud_hook_active(session, inactive, False)
    await create(
        db,
        tenant_id=tenant_id,
        type="WEBHOOK",
        states=["RUNNING"],
        config={"url": f"{receiver.url}/other-group"},
        version_group_id="another",
    )
    run_id = await factories.create_flow_run(db, flow_id, flow_run_name="hooked")
    # Cancelling is a child of Running but hooks match exact names only.
    await factories.set_flow_run_state(db, run_id, {"type": "Cancelling"})
    await factories.set_flow_run_state(db, run_id, {"type": "Running", "message": "go"})
    requests = await receiver.delivered()
    assert [r.path for r in requests] == ["/hook"]
    event = requests[0].json()["event"]
    assert requests[0].headers["x-prefect-event-id"] == event["id"]
    assert event["type"] == "FlowRunStateChange"
    assert event["is_test_event"] is False
    assert event["flow_run"]["id"] == str(run_id)
    assert event["flow_run"]["name"] == "hooked"
    assert event["flow"]["id"] == str(flow_id)
    assert event["flow"]["name"] == "Test Flow"
    assert (event["tenant"]["id"], event["tenant"]["slug"]) == (str(tenant_id), "default")
    assert event["state"]["state"] == "Running"
    assert event["state"]["version"] == 3
    assert event["state"]["message"] == "go"
    assert event["state"]["serialized_state"]["type"] == "Running"


async def test_no_hook_is_sent_when_the_write_rolls_back(
    db: Database, chain: Any, receiver: Receiver
) -> None:
    tenant_id, flow_id = chain
    await create(
        db, tenant_id=tenant_id, type="WEBHOOK", states=["RUNNING"], config={"url": receiver.url}
    )
    run_id = await factories.create_flow_run(db, flow_id)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            from prefect_server.orchestration import flow_run_states

            await flow_run_states.set_flow_run_state(session, run_id, {"type": "Running"})
            raise RuntimeError("abort")
    await factories.set_flow_run_state(db, run_id, {"type": "Success"})
    assert await receiver.delivered() == []


async def test_failing_receiver_never_fails_the_state_write(
    db: Database, chain: Any, receiver: Receiver
) -> None:
    tenant_id, flow_id = chain
    for url in (f"{receiver.url}/fail", "http://127.0.0.1:9/refused"):
        await create(
            db, tenant_id=tenant_id, type="WEBHOOK", states=["FAILED"], config={"url": url}
        )
    run_id = await factories.create_flow_run(db, flow_id)
    await factories.set_flow_run_state(db, run_id, {"type": "Failed"})
    assert [r.path for r in await receiver.delivered()] == ["/fail"]


async def test_prefect_message_hook_writes_a_message(db: Database, chain: Any) -> None:
    tenant_id, flow_id = chain
    await create(db, tenant_id=tenant_id, type="PREFECT_MESSAGE", states=["SCHEDULED", "SUCCESS"])
    run_id = await factories.create_flow_run(db, flow_id)
    await factories.set_flow_run_state(db, run_id, {"type": "Success"})
    async with db.session() as session:
        messages = list(await session.scalars(select(Message).order_by(Message.created)))
    assert [m.content["event"]["state"]["state"] for m in messages] == ["Scheduled", "Success"]
    assert all(m.type == "CLOUD_HOOK" and m.tenant_id == tenant_id for m in messages)
    assert messages[0].content["type"] == "CLOUD_HOOK"


async def test_slack_twilio_and_pagerduty_payloads(
    db: Database, chain: Any, receiver: Receiver
) -> None:
    tenant_id, flow_id = chain
    await create(
        db,
        tenant_id=tenant_id,
        type="SLACK_WEBHOOK",
        states=["FAILED"],
        config={"url": "https://hooks.slack.com/services/T/B/X"},
    )
    await create(
        db,
        tenant_id=tenant_id,
        type="TWILIO",
        states=["FAILED"],
        config={
            "account_sid": "AC1",
            "auth_token": "tok",
            "messaging_service_sid": "MG1",
            "to": ["+15550001", "+15550002"],
        },
    )
    await create(
        db,
        tenant_id=tenant_id,
        type="PAGERDUTY",
        states=["FAILED"],
        config={"api_token": "pd-token", "routing_key": "rk", "severity": "error"},
    )
    run_id = await factories.create_flow_run(db, flow_id, flow_run_name="doomed")
    await factories.set_flow_run_state(db, run_id, {"type": "Failed", "message": "it broke"})
    requests = await receiver.delivered()
    by_path: dict[str, list[Received]] = {}
    for r in requests:
        by_path.setdefault(r.path, []).append(r)
    # Server 1's payloads, field for field (PrefectHQ/server api/cloud_hooks.py); the
    # link opens the run's page in the built-in UI.
    async with db.session() as session:
        run = (await session.execute(select(FlowRun).where(FlowRun.id == run_id))).scalar_one()
        flow = (await session.execute(select(Flow).where(Flow.id == flow_id))).scalar_one()
        slug = (
            await session.execute(select(Tenant.slug).where(Tenant.id == tenant_id))
        ).scalar_one()
    link = f"http://ui.example/ui/flow-runs/{run_id}"
    texts = [
        f"Run `doomed` of flow `{flow.name}` entered a new state:",
        "*State:* `Failed`",
        "*Message:* it broke",
        f"*Link:* {link}",
    ]
    assert run.name == "doomed"
    assert by_path["/services/T/B/X"][0].json() == {
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": t}} for t in texts]
    }
    twilio = by_path["/twilio/2010-04-01/Accounts/AC1/Messages.json"]
    body = f"Run doomed of flow {flow.name} entered a new state: Failed. \n Link: {link}"
    assert sorted((parse_qs(r.body.decode()) for r in twilio), key=str) == [
        {"To": ["+15550001"], "From": ["MG1"], "Body": [body]},
        {"To": ["+15550002"], "From": ["MG1"], "Body": [body]},
    ]
    assert all(r.headers["authorization"].startswith("Basic ") for r in twilio)
    pagerduty = by_path["/pagerduty/v2/enqueue"][0]
    assert pagerduty.headers["authorization"] == "Token token=pd-token"
    assert pagerduty.json() == {
        "routing_key": "rk",
        "event_action": "trigger",
        "payload": {
            "summary": "Run doomed entered a new state: Failed",
            "severity": "error",
            "source": f"cloud.prefect.io/{slug}",
            "component": flow.name,
            "group": "doomed",
            "class": "State->Failed",
            "custom_details": {
                "flow": flow.name,
                "flow_run": "doomed",
                "state": "Failed",
                "state_message": "it broke",
                "tenant_slug": slug,
            },
        },
        "links": [{"href": link, "text": "Flow Run doomed"}],
    }


TEST_HOOK = (
    "mutation($input: test_cloud_hook_input!) { test_cloud_hook(input: $input) { success error } }"
)


async def test_test_cloud_hook(gql: Any, db: Database, chain: Any, receiver: Receiver) -> None:
    tenant_id, flow_id = chain
    good = await create(
        db,
        tenant_id=tenant_id,
        type="WEBHOOK",
        states=["FAILED"],
        config={"url": f"{receiver.url}/test"},
    )
    data = await gql(TEST_HOOK, {"input": {"cloud_hook_id": str(good)}})
    assert data == {"test_cloud_hook": {"success": True, "error": None}}
    event = receiver.requests[0].json()["event"]
    # Server 1's test events (api/cloud_hooks.py test_cloud_hook): the state carries only
    # its version 1, name and serialisation; without a run, a made-up run and flow in
    # the hook's tenant.
    assert event["is_test_event"] is True
    assert (event["state"]["state"], event["state"]["version"], event["state"]["message"]) == (
        "Success",
        1,
        None,
    )
    assert event["state"]["serialized_state"]["message"] == "Test success state"
    assert (event["tenant"]["id"], event["tenant"]["slug"]) == (str(tenant_id), "test-slug")
    assert event["flow"]["name"] == "Cloud Hook Test Flow"
    run_id = await factories.create_flow_run(db, flow_id, flow_run_name="real")
    await gql(
        TEST_HOOK,
        {"input": {"cloud_hook_id": str(good), "flow_run_id": str(run_id), "state_type": "FAILED"}},
    )
    event = receiver.requests[1].json()["event"]
    assert (event["flow_run"]["name"], event["flow_run"]["version"]) == ("real", 2)
    assert (event["flow_run"]["state"], event["state"]["state"]) == ("Failed", "Failed")
    assert (event["state"]["version"], event["is_test_event"]) == (1, False)
    assert (event["flow"]["id"], event["tenant"]["id"]) == (str(flow_id), str(tenant_id))
    bad = await create(
        db, tenant_id=tenant_id, type="WEBHOOK", states=["FAILED"], config={"url": "not a url"}
    )
    data = await gql(TEST_HOOK, {"input": {"cloud_hook_id": str(bad)}})
    assert data["test_cloud_hook"]["success"] is False
    assert data["test_cloud_hook"]["error"]


async def test_delete_and_toggle(gql: Any, db: Database, chain: Any) -> None:
    tenant_id, _ = chain
    hook_id = await create(db, tenant_id=tenant_id, type="PREFECT_MESSAGE", states=["FAILED"])
    for name, active in (("set_cloud_hook_inactive", False), ("set_cloud_hook_active", True)):
        doc = f"mutation($input: {name}_input!) {{ {name}(input: $input) {{ success }} }}"
        assert await gql(doc, {"input": {"cloud_hook_id": str(hook_id)}}) == {
            name: {"success": True}
        }
        async with db.session() as session:
            hook = await session.get(CloudHook, hook_id)
            assert hook is not None and hook.active is active
    doc = "mutation($input: delete_cloud_hook_input!) { delete_cloud_hook(input: $input) { success } }"
    assert await gql(doc, {"input": {"cloud_hook_id": str(hook_id)}}) == {
        "delete_cloud_hook": {"success": True}
    }
    assert await gql(doc, {"input": {"cloud_hook_id": str(hook_id)}}) == {
        "delete_cloud_hook": {"success": False}
    }


# Server 1's models' fields (PrefectHQ/server database/models.py): a webhook receiver
# sees every one of them, null where Server 1 had not selected it.
TENANT_FIELDS = "id created updated name slug info settings projects"
FLOW_FIELDS = (
    "id created updated tenant_id project_id archived schedule is_schedule_active version "
    "version_group_id core_version name description serialized_flow environment run_config "
    "storage parameters flow_group_id project tenant tasks edges flow_runs versions flow_group"
)
FLOW_RUN_FIELDS = (
    "id created updated tenant_id flow_id parameters labels run_config context version "
    "heartbeat scheduled_start_time start_time end_time auto_scheduled name "
    "times_resurrected idempotency_key agent_id state state_timestamp state_message "
    "state_result state_start_time serialized_state tenant flow states task_runs logs"
)
STATE_FIELDS = (
    "id created updated tenant_id flow_run_id timestamp message result start_time state "
    "version serialized_state flow_run"
)


def all_fields(names: str, **values: Any) -> dict[str, Any]:
    assert set(values) <= set(names.split())
    return {name: values.get(name) for name in names.split()}


async def state_change_facts(
    db: Database, run_id: uuid.UUID, flow_id: uuid.UUID, tenant_id: uuid.UUID, version: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(flow, tenant, state) as Server 1 selected them for a run's state ``version``."""
    async with db.session() as session:
        flow = (await session.execute(select(Flow).where(Flow.id == flow_id))).scalar_one()
        slug = (
            await session.execute(select(Tenant.slug).where(Tenant.id == tenant_id))
        ).scalar_one()
        state = (
            await session.execute(
                select(FlowRunState).where(
                    FlowRunState.flow_run_id == run_id, FlowRunState.version == version
                )
            )
        ).scalar_one()

    def text(value: dt.datetime | None) -> str | None:
        return value and value.replace(tzinfo=value.tzinfo or dt.timezone.utc).isoformat()

    return (
        {
            "id": str(flow_id),
            "name": flow.name,
            "flow_group_id": str(flow.flow_group_id),
            "version_group_id": flow.version_group_id,
        },
        {"id": str(tenant_id), "slug": slug},
        {
            "id": str(state.id),
            "tenant_id": None,
            "flow_run_id": str(run_id),
            "timestamp": text(state.timestamp),
            "message": state.message,
            "result": None,
            "start_time": text(state.start_time),
            "state": state.state,
            "version": version,
            "serialized_state": state.serialized_state,
        },
    )


async def test_webhook_payload(db: Database, chain: Any, receiver: Receiver) -> None:
    tenant_id, flow_id = chain
    await create(
        db,
        tenant_id=tenant_id,
        type="WEBHOOK",
        states=["FAILED"],
        config={"url": f"{receiver.url}/hook"},
    )
    run_id = await factories.create_flow_run(db, flow_id, flow_run_name="doomed")
    await factories.set_flow_run_state(db, run_id, {"type": "Running"})
    before = dt.datetime.now(dt.timezone.utc)
    await factories.set_flow_run_state(db, run_id, {"type": "Failed", "message": "it broke"})
    (request,) = await receiver.delivered()
    flow, tenant, state = await state_change_facts(db, run_id, flow_id, tenant_id, 3)
    body = request.json()
    event = body["event"]
    assert (
        before <= dt.datetime.fromisoformat(event["timestamp"]) <= dt.datetime.now(dt.timezone.utc)
    )
    # Server 1 (api/cloud_hooks.py _call_webhook, utilities/events.py, api/states.py):
    # the event's run is the run as read before the write, its state the new state row.
    assert body == {
        "event": {
            "id": request.headers["x-prefect-event-id"],
            "timestamp": event["timestamp"],
            "type": "FlowRunStateChange",
            "flow_run": all_fields(
                FLOW_RUN_FIELDS,
                id=str(run_id),
                state="Running",
                name="doomed",
                version=2,
                flow=all_fields(FLOW_FIELDS, **flow),
                tenant=all_fields(TENANT_FIELDS, **tenant),
            ),
            "state": all_fields(STATE_FIELDS, **state),
            "flow": all_fields(FLOW_FIELDS, **flow),
            "tenant": all_fields(TENANT_FIELDS, **tenant),
            "is_test_event": False,
        }
    }
    assert state["message"] == "it broke" and state["serialized_state"]["type"] == "Failed"
    assert state["start_time"] is None
    assert uuid.UUID(event["id"])


async def test_prefect_message_payload(db: Database, chain: Any) -> None:
    tenant_id, flow_id = chain
    await create(db, tenant_id=tenant_id, type="PREFECT_MESSAGE", states=["SCHEDULED"])
    run_id = await factories.create_flow_run(db, flow_id, flow_run_name="noted")
    async with db.session() as session:
        (message,) = list(await session.scalars(select(Message)))
    flow, tenant, state = await state_change_facts(db, run_id, flow_id, tenant_id, 1)
    # Server 1 (api/cloud_hooks.py _call_prefect_message, api/messages.py): a CLOUD_HOOK
    # message without text whose content holds only the event's set fields: no event
    # id, timestamp, type or test flag. A new run had no state and version 0.
    assert (message.tenant_id, message.type, message.text, message.read) == (
        tenant_id,
        "CLOUD_HOOK",
        None,
        False,
    )
    assert message.content == {
        "event": {
            "flow_run": {
                "id": str(run_id),
                "state": None,
                "name": "noted",
                "version": 0,
                "flow": flow,
                "tenant": tenant,
            },
            "state": state,
            "flow": flow,
            "tenant": tenant,
        },
        "type": "CLOUD_HOOK",
    }
    assert state["state"] == "Scheduled" and state["message"] == "Flow run scheduled."
    assert state["start_time"] is not None
