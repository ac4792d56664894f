"""Execution plans (graphql/plans.py) answer exactly as the general executor does.

Two apps share one database: one with plans, one without. Every case sends the same
operation to both (twice to the planned app, so that its shape is learnt first) and
compares status and body, with ids of rows created by the call itself normalised.
The planned app's counter tells whether a plan answered, so a plan that silently
stopped engaging fails these tests too.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.database.models import Log, TaskRun, TaskRunState
from prefect_server.settings import Settings

import factories

GET_OR_CREATE = """
mutation {{
  get_or_create_task_run_info(input: {{ {args} }}) {{
    {fields}
  }}
}}
"""
SET_TASK_RUN_STATES = (
    "mutation($input: set_task_run_states_input!) "
    "{ set_task_run_states(input: $input) { states { id status message } } }"
)
SET_FLOW_RUN_STATES = (
    "mutation($input: set_flow_run_states_input!) "
    "{ set_flow_run_states(input: $input) { states { id status message } } }"
)
WRITE_RUN_LOGS = (
    "mutation($input: write_run_logs_input!) { write_run_logs(input: $input) { success } }"
)
HEARTBEAT = (
    'mutation {{ update_flow_run_heartbeat(input: {{ flow_run_id: "{id}" }}) {{ success }} }}'
)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def state(kind: str, message: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "message": message,
        "context": {"task_run_count": 1},
        "cached_inputs": {},
        "_result": {"type": "NoResultType", "__version__": "1.4.1"},
        "__version__": "1.4.1",
        **extra,
    }


class Apps:
    def __init__(self, planned: httpx.AsyncClient, general: httpx.AsyncClient, plans: Any):
        self.planned = planned
        self.general = general
        self.plans = plans

    @staticmethod
    async def post(client: httpx.AsyncClient, query: str, variables: Any) -> tuple[int, Any]:
        body = {"query": query, "variables": json.dumps(variables)}
        response = await client.post("/", json=body)
        return response.status_code, response.json()

    async def same(
        self, query: str, variables: Any = None, *, planned: bool, known: set[str] = frozenset()
    ) -> tuple[int, Any]:
        """Send to both apps; assert equal answers and whether a plan gave the second one.

        Ids in ``known`` (given by the test) are compared as they are; any other id in
        an answer is a row the call created and is compared by position only.
        """
        first = await self.post(self.planned, query, variables)  # learns the shape
        before = self.plans.answered
        planned_answer = await self.post(self.planned, query, variables)
        assert self.plans.answered == before + (1 if planned else 0), planned_answer
        general_answer = await self.post(self.general, query, variables)
        assert normalise(planned_answer, known) == normalise(general_answer, known)
        assert first[0] == general_answer[0]
        return planned_answer


def normalise(answer: Any, known: set[str]) -> str:
    text = json.dumps(answer, sort_keys=True)
    return UUID_TEXT.sub(lambda m: m.group(0) if m.group(0) in known else "<new id>", text)


@pytest.fixture
async def apps(settings: Settings, db: Database) -> AsyncIterator[Apps]:
    planned_app = create_app(settings)
    general_app = create_app(dataclasses.replace(settings, graphql_plans=False))
    assert general_app.state.plans is None
    async with (
        planned_app.router.lifespan_context(planned_app),
        general_app.router.lifespan_context(general_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=planned_app), base_url="http://t"
        ) as planned,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=general_app), base_url="http://t"
        ) as general,
    ):
        yield Apps(planned, general, planned_app.state.plans)


@pytest.fixture
async def run(db: Database) -> dict[str, str]:
    """A Running flow run of the factories' flow (a parameter, two tasks): ids as strings."""
    _, flow_id = await factories.flow_chain(db)
    flow_run_id = await factories.running_flow_run(db, flow_id)
    task_ids = await factories.task_ids(db, flow_id)
    task_run_ids = await factories.task_run_ids(db, flow_run_id)
    slug = sorted(task_ids)[0]
    return {
        "flow_run_id": str(flow_run_id),
        "task_id": str(task_ids[slug]),
        "task_run_id": str(task_run_ids[slug]),
    }


def known(run: dict[str, str]) -> set[str]:
    return set(run.values())


async def test_get_or_create_existing_task_run(apps: Apps, run: dict[str, str]) -> None:
    args = f'flow_run_id: "{run["flow_run_id"]}", task_id: "{run["task_id"]}", map_index: -1'
    status, body = await apps.same(
        GET_OR_CREATE.format(args=args, fields="id version serialized_state"),
        planned=True,
        known=known(run),
    )
    assert status == 200
    assert body["data"]["get_or_create_task_run_info"]["id"] == run["task_run_id"]
    # Field order and choice follow the selection; map_index may be left out or null.
    for index in ("", ", map_index: null"):
        args = f'task_id: "{run["task_id"]}", flow_run_id: "{run["flow_run_id"]}"{index}'
        _, body = await apps.same(
            GET_OR_CREATE.format(args=args, fields="state version id"),
            planned=True,
            known=known(run),
        )
        assert list(body["data"]["get_or_create_task_run_info"]) == ["state", "version", "id"]
        assert body["data"]["get_or_create_task_run_info"]["id"] == run["task_run_id"]


async def test_get_or_create_mapped_children(apps: Apps, run: dict[str, str], db: Database) -> None:
    def document(index: int) -> str:
        args = (
            f'flow_run_id: "{run["flow_run_id"]}", task_id: "{run["task_id"]}", map_index: {index}'
        )
        return GET_OR_CREATE.format(args=args, fields="id version state serialized_state")

    await apps.post(apps.planned, document(100), None)  # learns the shape
    for index in range(3):
        before = apps.plans.answered
        created = await apps.post(apps.planned, document(index), None)
        assert apps.plans.answered == before + 1
        assert created[1]["data"]["get_or_create_task_run_info"]["version"] == 0
        general = await apps.post(apps.general, document(10 + index), None)
        assert normalise(created, known(run)) == normalise(general, known(run))
        # Asked again, each app finds the other's child: the same row, version 1.
        again = await apps.post(apps.planned, document(10 + index), None)
        general_again = await apps.post(apps.general, document(index), None)
        assert again[1]["data"]["get_or_create_task_run_info"]["version"] == 1
        assert normalise(again, known(run)) == normalise(general_again, known(run))
    async with db.session() as session:
        children = await session.scalar(
            select(func.count()).where(TaskRun.map_index >= 0).select_from(TaskRun)
        )
        states = await session.scalar(select(func.count()).select_from(TaskRunState))
    assert children == 7  # each (run, task, index) once, whichever app created it
    assert states == 7 + 3  # theirs and the three un-mapped runs' Pending


@pytest.mark.parametrize(
    "args",
    [
        'flow_run_id: "not-a-uuid", task_id: "{task_id}", map_index: 1',
        'flow_run_id: "{missing}", task_id: "{task_id}", map_index: 1',
        'flow_run_id: "{flow_run_id}", task_id: "{missing}", map_index: 1',
        'flow_run_id: "{flow_run_id}", task_id: "{task_id}", map_index: "1"',
        'flow_run_id: "{flow_run_id}", task_id: "{task_id}", map_index: 1.0',
        'flow_run_id: "{flow_run_id}", task_id: "{task_id}", map_index: 99999999999',
        'flow_run_id: "{flow_run_id}", task_id: "{task_id}", map_index: 1, extra: 2',
        'flow_run_id: "{flow_run_id}"',
    ],
)
async def test_get_or_create_bad_input_answers_as_before(
    apps: Apps, run: dict[str, str], args: str, db: Database
) -> None:
    missing = str(uuid.uuid4())
    text = args.format(missing=missing, **run)
    status, body = await apps.same(
        GET_OR_CREATE.format(args=text, fields="id version"),
        planned=False,
        known=known(run) | {missing},
    )
    assert body.get("errors"), body
    async with db.session() as session:
        assert await session.scalar(select(func.count()).where(TaskRun.map_index >= 0)) == 0


@pytest.mark.parametrize(
    "fields",
    ["id __typename", "... on get_or_create_task_run_info_payload { id }", "renamed: id"],
)
async def test_selections_a_plan_does_not_take_still_answer(
    apps: Apps, run: dict[str, str], fields: str
) -> None:
    args = f'flow_run_id: "{run["flow_run_id"]}", task_id: "{run["task_id"]}"'
    status, body = await apps.same(
        GET_OR_CREATE.format(args=args, fields=fields),
        planned=fields == "renamed: id",
        known=known(run),
    )
    assert status == 200 and "errors" not in body


async def test_task_run_states(apps: Apps, run: dict[str, str], db: Database) -> None:
    item = {"task_run_id": run["task_run_id"], "version": 1, "state": state("Running")}
    status, body = await apps.same(
        SET_TASK_RUN_STATES, {"input": {"states": [item]}}, planned=True, known=known(run)
    )
    assert body == {
        "data": {
            "set_task_run_states": {
                "states": [{"id": run["task_run_id"], "status": "SUCCESS", "message": None}]
            }
        }
    }
    # A single object where a list is expected is coerced, as GraphQL says.
    await apps.same(
        SET_TASK_RUN_STATES, {"input": {"states": item}}, planned=True, known=known(run)
    )
    async with db.session() as session:
        versions = list(
            await session.scalars(
                select(TaskRunState.version)
                .where(TaskRunState.task_run_id == uuid.UUID(run["task_run_id"]))
                .order_by(TaskRunState.version)
            )
        )
    assert versions == list(range(1, 8))  # created + 6 writes, none lost or repeated


@pytest.mark.parametrize(
    "variables",
    [
        {"input": {"states": [{"task_run_id": "nope", "state": {"type": "Running"}}]}},
        {"input": {"states": [{"task_run_id": "{missing}", "state": {"type": "Running"}}]}},
        {"input": {"states": [{"task_run_id": "{task_run_id}", "state": {"type": "Bogus"}}]}},
        {"input": {"states": [{"task_run_id": "{task_run_id}"}]}},
        {"input": {"states": [{"task_run_id": "{task_run_id}", "state": {}, "x": 1}]}},
        {"input": {"states": [{"task_run_id": "{task_run_id}", "state": {}, "version": "1"}]}},
        {"input": {"states": []}},
        {"input": None},
        {},
        {"input": {"states": [{"task_run_id": "{task_run_id}", "state": None}]}},
    ],
)
async def test_task_run_states_bad_input_answers_as_before(
    apps: Apps, run: dict[str, str], variables: dict[str, Any], db: Database
) -> None:
    missing = str(uuid.uuid4())
    text = json.dumps(variables).replace("{missing}", missing)
    text = text.replace("{task_run_id}", run["task_run_id"])
    status, body = await apps.same(
        SET_TASK_RUN_STATES,
        json.loads(text),
        planned=False,
        known=known(run) | {missing},
    )
    if variables != {"input": {"states": []}}:
        assert body.get("errors"), body
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(TaskRunState)) == 3


async def test_refused_state_writes_nothing_and_answers_as_before(
    apps: Apps, run: dict[str, str], db: Database
) -> None:
    await factories.set_flow_run_state(db, uuid.UUID(run["flow_run_id"]), state("Success"))
    item = {"task_run_id": run["task_run_id"], "state": state("Running")}
    status, body = await apps.same(
        SET_TASK_RUN_STATES, {"input": {"states": [item]}}, planned=False, known=known(run)
    )
    assert "is not in a running state" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["set_task_run_states"]


async def test_several_states_in_one_document_take_the_general_path(
    apps: Apps, run: dict[str, str], db: Database
) -> None:
    task_run_ids = await factories.task_run_ids(db, uuid.UUID(run["flow_run_id"]))
    items = [{"task_run_id": str(i), "state": state("Pending")} for i in task_run_ids.values()]
    assert len(items) == 3  # the parameter and two tasks
    await apps.same(
        SET_TASK_RUN_STATES,
        {"input": {"states": items}},
        planned=False,
        known=known(run) | {str(i) for i in task_run_ids.values()},
    )


async def test_flow_run_states_and_heartbeats(apps: Apps, run: dict[str, str]) -> None:
    item = {"flow_run_id": run["flow_run_id"], "version": 2, "state": state("Running")}
    await apps.same(
        SET_FLOW_RUN_STATES, {"input": {"states": [item]}}, planned=True, known=known(run)
    )
    _, body = await apps.same(
        HEARTBEAT.format(id=run["flow_run_id"]), planned=True, known=known(run)
    )
    assert body == {"data": {"update_flow_run_heartbeat": {"success": True}}}


async def test_run_logs(apps: Apps, run: dict[str, str], db: Database) -> None:
    log = {
        "flow_run_id": run["flow_run_id"],
        "task_run_id": run["task_run_id"],
        "timestamp": "2026-01-02T03:04:05.123456+00:00",
        "name": "prefect.CloudTaskRunner",
        "level": "INFO",
        "message": "Task 'a': Finished task run",
    }
    await apps.same(WRITE_RUN_LOGS, {"input": {"logs": [log]}}, planned=True)
    # The 1.4.1 client's bug: one object instead of a list.
    await apps.same(WRITE_RUN_LOGS, {"input": {"logs": log}}, planned=True)
    # A log of an unknown run is dropped; the others in its batch are kept.
    stray = {**log, "flow_run_id": str(uuid.uuid4()), "task_run_id": None}
    await apps.same(WRITE_RUN_LOGS, {"input": {"logs": [log, stray]}}, planned=True)
    _, body = await apps.same(
        WRITE_RUN_LOGS, {"input": {"logs": [{**log, "level": "LOUD"}]}}, planned=False
    )
    assert body.get("errors")
    async with db.session() as session:
        rows = list(await session.execute(select(Log.timestamp, Log.level, Log.message)))
    assert len(rows) == 9  # three accepted documents, three apps' sends each
    assert {r.level for r in rows} == {"INFO"}
    assert all(r.timestamp.microsecond == 123456 for r in rows)


async def test_operation_name_must_match(apps: Apps, run: dict[str, str]) -> None:
    query = "mutation Beat " + HEARTBEAT.format(id=run["flow_run_id"]).removeprefix("mutation ")
    for name, planned in (("Beat", True), ("Other", False)):
        body = {"query": query, "variables": None, "operationName": name}
        await apps.post(apps.planned, query, None)
        before = apps.plans.answered
        planned_answer = await apps.planned.post("/", json=body)
        general_answer = await apps.general.post("/", json=body)
        assert apps.plans.answered == before + (1 if planned else 0)
        assert planned_answer.status_code == general_answer.status_code
        assert planned_answer.json() == general_answer.json()
