"""Flow runs and task runs (Server 1's ``src/prefect_server/api/runs.py``): creation, task-run info, names,
labels, heartbeats."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowGroup, FlowRun, FlowRunState, TaskRun, TaskRunState
from prefect_server.orchestration import runs, task_runs
from prefect_server.orchestration.errors import NotFound, ValidationFailed

import factories
from factories import parameter, serialized_flow

CREATE = "mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }"


async def row(db: Database, model: Any, row_id: Any) -> Any:
    async with db.session() as session:
        key = uuid.UUID(str(row_id))
        return (await session.execute(select(model).where(model.id == key))).scalar_one()


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
async def flow_id(db: Database) -> uuid.UUID:
    return (await factories.flow_chain(db))[1]


async def test_create_flow_run_like_prefect_run(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    data = await gql(
        CREATE,
        {
            "input": {
                "flow_id": str(flow_id),
                "idempotency_key": uuid.uuid4().hex,
                "parameters": {},
                "context": {},
            }
        },
    )
    run = await row(db, FlowRun, data["create_flow_run"]["id"])
    assert (run.state, run.version, run.state_message) == ("Scheduled", 1, "Flow run scheduled.")
    assert run.state_start_time == run.scheduled_start_time
    assert run.parameters == {"x": 1}
    assert run.context == {}
    assert run.auto_scheduled is False
    assert len(run.name.split("-")) == 2
    assert run.serialized_state["start_time"]
    assert await count(db, FlowRunState, FlowRunState.flow_run_id == run.id) == 1
    # One Pending task run per task (t1, t2 and the parameter), version 1, cache key copied.
    async with db.session() as session:
        task_runs = list(
            await session.scalars(select(TaskRun).where(TaskRun.flow_run_id == run.id))
        )
    assert len(task_runs) == 3
    for task_run in task_runs:
        assert (task_run.map_index, task_run.version, task_run.state) == (-1, 1, "Pending")
        assert task_run.serialized_state == {"type": "Pending", "message": "Task run created"}
        assert task_run.tenant_id == run.tenant_id
    assert sorted(str(t.cache_key) for t in task_runs) == ["None", "None", "t1-key"]
    assert await count(db, TaskRunState, TaskRunState.state == "Pending") == 3


async def test_idempotency_key_returns_the_same_run(
    gql: Any, db: Database, flow_id: uuid.UUID
) -> None:
    variables = {"input": {"flow_id": str(flow_id), "idempotency_key": "abc"}}
    first = await gql(CREATE, variables)
    second = await gql(CREATE, variables)
    assert first == second
    assert await count(db, FlowRun) == 1
    assert await count(db, TaskRun) == 3
    other = (await factories.flow_chain(db))[1]
    third = await gql(CREATE, {"input": {"flow_id": str(other), "idempotency_key": "abc"}})
    assert third != first


async def test_concurrent_creations_with_one_key_make_one_run(
    db: Database, flow_id: uuid.UUID
) -> None:
    ids = await asyncio.gather(
        *(factories.create_flow_run(db, flow_id, idempotency_key="same") for _ in range(6))
    )
    assert len(set(ids)) == 1
    assert await count(db, FlowRun) == 1
    assert await count(db, TaskRun) == 3


async def test_explicit_values(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    data = await gql(
        CREATE,
        {
            "input": {
                "flow_id": str(flow_id),
                "parameters": {"x": 5},
                "context": {"a": 1},
                "labels": ["b", "a"],
                "flow_run_name": "my-run",
                "scheduled_start_time": "2030-01-02T03:04:05",
                "run_config": {"type": "LocalRun", "labels": ["z"]},
            }
        },
    )
    run = await row(db, FlowRun, data["create_flow_run"]["id"])
    assert run.name == "my-run"
    assert run.parameters == {"x": 5}
    assert run.context == {"a": 1}
    assert run.labels == ["a", "b"]
    assert run.run_config == {"type": "LocalRun", "labels": ["z"]}
    # A naive time is UTC.
    assert run.scheduled_start_time == dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert run.state_start_time == run.scheduled_start_time


async def test_label_and_run_config_precedence(db: Database) -> None:
    flow = serialized_flow(run_config={"type": "LocalRun", "labels": ["flow-b", "flow-a"]})
    _, flow_id = await factories.flow_chain(db, flow)

    async def labels(**kwargs: Any) -> list[str]:
        return (
            await row(db, FlowRun, await factories.create_flow_run(db, flow_id, **kwargs))
        ).labels

    assert await labels() == ["flow-a", "flow-b"]
    assert await labels(run_config={"type": "LocalRun", "labels": ["rc"]}) == ["rc"]
    assert await labels(run_config={"type": "LocalRun"}) == []
    assert await labels(labels=[]) == []
    async with db.transaction() as session:
        group_id = await session.scalar(select(FlowRun.flow_id).limit(1))
        from prefect_server.database.models import Flow

        group_id = await session.scalar(select(Flow.flow_group_id).where(Flow.id == flow_id))
        group = await session.get(FlowGroup, group_id)
        assert group is not None
        group.run_config = {"type": "LocalRun", "labels": ["group-rc"]}
    run_id = await factories.create_flow_run(db, flow_id)
    run = await row(db, FlowRun, run_id)
    assert run.labels == ["group-rc"]
    assert run.run_config == {"type": "LocalRun", "labels": ["group-rc"]}
    async with db.transaction() as session:
        group = await session.get(FlowGroup, group_id)
        assert group is not None
        group.labels = []
        group.default_parameters = {"x": 7}
    run = await row(db, FlowRun, await factories.create_flow_run(db, flow_id))
    # Flow-group labels win even when empty; its default parameters overlay the flow's.
    assert run.labels == []
    assert run.parameters == {"x": 7}


async def test_parameters_and_required_ones(db: Database) -> None:
    flow = serialized_flow(
        parameters=[
            parameter("a", default=0),
            parameter("b", default="v"),
            parameter("c", required=True),
        ]
    )
    _, flow_id = await factories.flow_chain(db, flow)
    with pytest.raises(ValidationFailed) as raised:
        await factories.create_flow_run(db, flow_id)
    assert str(raised.value) == "Required parameters were not supplied: {'c'}"
    assert await count(db, FlowRun) == 0
    run = await row(db, FlowRun, await factories.create_flow_run(db, flow_id, parameters={"c": 1}))
    # Only truthy defaults are filled in (Server 1's rule).
    assert run.parameters == {"b": "v", "c": 1}


async def test_flow_lookup_errors(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    errors = await gql.errors(CREATE, {"input": {}})
    assert errors[0]["message"] == "A flow id or version group ID must be provided."
    missing = uuid.uuid4()
    errors = await gql.errors(CREATE, {"input": {"flow_id": str(missing)}})
    assert errors[0]["message"] == f"Flow {missing} not found"
    errors = await gql.errors(CREATE, {"input": {"version_group_id": "nope"}})
    assert errors[0]["message"] == "Version group nope has no unarchived flows."
    from prefect_server.orchestration import flows

    async with db.transaction() as session:
        await flows.archive_flow(session, flow_id)
    errors = await gql.errors(CREATE, {"input": {"flow_id": str(flow_id)}})
    assert errors[0]["message"] == f"Flow {flow_id} is archived."
    assert await count(db, FlowRun) == 0


async def test_parameters_and_run_config_must_be_objects(
    gql: Any, db: Database, flow_id: uuid.UUID, caplog: Any
) -> None:
    # Found by the mutation property test: these were internal errors, logged as ERROR.
    for name, value, shown in (("parameters", [1], "[1]"), ("run_config", "x", "'x'")):
        errors = await gql.errors(CREATE, {"input": {"flow_id": str(flow_id), name: value}})
        assert errors[0]["message"] == f"Invalid {name}: expected an object, got {shown}."
    assert await count(db, FlowRun) == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_version_group_runs_the_newest_unarchived_flow(db: Database) -> None:
    tenant_id = await factories.default_tenant(db)
    project_id = await factories.create_project(db, tenant_id)
    first = await factories.create_flow(db, project_id, version_group_id="vg")
    second = await factories.create_flow(db, project_id, version_group_id="vg")
    async with db.transaction() as session:
        run_id = await runs.create_flow_run(session, version_group_id="vg")
    assert (await row(db, FlowRun, run_id)).flow_id == second != first


GET_OR_CREATE = (
    'mutation {{ get_or_create_task_run_info(input: {{ flow_run_id: "{run}", task_id: "{task}", '
    "map_index: {index} }}) {{ id version serialized_state }} }}"
)


async def test_get_or_create_task_run_info_inline_document(
    gql: Any, db: Database, flow_id: uuid.UUID
) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    task_id = (await factories.task_ids(db, flow_id))["t2-1"]
    existing = (await factories.task_run_ids(db, run_id))["t2-1"]
    data = await gql(GET_OR_CREATE.format(run=run_id, task=task_id, index=-1))
    assert data["get_or_create_task_run_info"] == {
        "id": str(existing),
        "version": 1,
        "serialized_state": {"type": "Pending", "message": "Task run created"},
    }
    child = await gql(GET_OR_CREATE.format(run=run_id, task=task_id, index=2))
    created = child["get_or_create_task_run_info"]
    # A new run is reported as version 0 (Server 1), though its row holds 1.
    assert created["version"] == 0
    assert created["serialized_state"]["type"] == "Pending"
    again = await gql(GET_OR_CREATE.format(run=run_id, task=task_id, index=2))
    assert again["get_or_create_task_run_info"]["id"] == created["id"]
    assert again["get_or_create_task_run_info"]["version"] == 1
    assert await count(db, TaskRun, TaskRun.flow_run_id == run_id) == 4
    assert await count(db, TaskRunState, TaskRunState.task_run_id == uuid.UUID(created["id"])) == 1
    child_row = await row(db, TaskRun, created["id"])
    assert (child_row.map_index, child_row.state, child_row.version) == (2, "Pending", 1)


async def test_concurrent_get_or_create_makes_one_child(db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    task_id = (await factories.task_ids(db, flow_id))["t1-1"]

    async def call() -> uuid.UUID:
        async with db.transaction() as session:
            return (await task_runs.get_or_create_task_run_info(session, run_id, task_id, 7)).id

    assert len(set(await asyncio.gather(*(call() for _ in range(6))))) == 1
    assert await count(db, TaskRun, TaskRun.map_index == 7) == 1


async def test_get_or_create_errors(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    task_id = (await factories.task_ids(db, flow_id))["t1-1"]
    errors = await gql.errors(GET_OR_CREATE.format(run=run_id, task=uuid.uuid4(), index=0))
    assert errors[0]["message"] == "Invalid task ID"
    doc = (
        'mutation {{ get_or_create_task_run(input: {{ flow_run_id: "{run}", task_id: "{task}" }}) '
        "{{ id }} }}"
    )
    errors = await gql.errors(doc.format(run=uuid.uuid4(), task=task_id))
    assert errors[0]["message"] == "Invalid ID"
    data = await gql(doc.format(run=run_id, task=task_id))
    assert data["get_or_create_task_run"]["id"] == str(
        (await factories.task_run_ids(db, run_id))["t1-1"]
    )


async def test_get_task_run_info(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    task_run_id = (await factories.task_run_ids(db, run_id))["t1-1"]
    doc = (
        'query {{ get_task_run_info(task_run_id: "{id}") {{ id version state serialized_state }} }}'
    )
    data = await gql(doc.format(id=task_run_id))
    assert data["get_task_run_info"]["state"] == "Pending"
    assert data["get_task_run_info"]["version"] == 1
    errors = await gql.errors(doc.format(id=uuid.uuid4()))
    assert errors[0]["message"] == "Invalid task run ID"


async def test_names_labels_and_delete(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    task_run_id = (await factories.task_run_ids(db, run_id))["t1-1"]
    ok = await gql(
        "mutation($input: set_flow_run_name_input!) { set_flow_run_name(input: $input) { success } }",
        {"input": {"flow_run_id": str(run_id), "name": "renamed"}},
    )
    assert ok == {"set_flow_run_name": {"success": True}}
    ok = await gql(
        "mutation($input: set_task_run_name_input!) { set_task_run_name(input: $input) { success } }",
        {"input": {"task_run_id": str(task_run_id), "name": "t-1"}},
    )
    assert ok == {"set_task_run_name": {"success": True}}
    ok = await gql(
        "mutation($input: set_flow_run_labels_input!) { set_flow_run_labels(input: $input) { success } }",
        {"input": {"flow_run_id": str(run_id), "labels": ["z", "a"]}},
    )
    assert ok == {"set_flow_run_labels": {"success": True}}
    run = await row(db, FlowRun, run_id)
    assert (run.name, run.labels) == ("renamed", ["a", "z"])
    assert (await row(db, TaskRun, task_run_id)).name == "t-1"
    errors = await gql.errors(
        "mutation($input: set_flow_run_name_input!) { set_flow_run_name(input: $input) { success } }",
        {"input": {"flow_run_id": str(run_id), "name": ""}},
    )
    assert errors[0]["message"] == "Invalid name"
    unknown = await gql(
        "mutation($input: set_flow_run_name_input!) { set_flow_run_name(input: $input) { success } }",
        {"input": {"flow_run_id": str(uuid.uuid4()), "name": "x"}},
    )
    assert unknown == {"set_flow_run_name": {"success": False}}
    delete = (
        "mutation($input: delete_flow_run_input!) { delete_flow_run(input: $input) { success } }"
    )
    assert await gql(delete, {"input": {"flow_run_id": str(run_id)}}) == {
        "delete_flow_run": {"success": True}
    }
    assert await gql(delete, {"input": {"flow_run_id": str(run_id)}}) == {
        "delete_flow_run": {"success": False}
    }
    assert await count(db, TaskRun) == 0
    assert await count(db, TaskRunState) == 0


async def test_heartbeats_always_succeed(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.create_flow_run(db, flow_id)
    task_run_id = (await factories.task_run_ids(db, run_id))["t1-1"]
    flow_doc = (
        'mutation {{ update_flow_run_heartbeat(input: {{ flow_run_id: "{id}" }}) {{ success }} }}'
    )
    task_doc = (
        'mutation {{ update_task_run_heartbeat(input: {{ task_run_id: "{id}" }}) {{ success }} }}'
    )
    assert (await row(db, FlowRun, run_id)).heartbeat is None
    for doc, run in (
        (flow_doc, run_id),
        (task_doc, task_run_id),
        (flow_doc, uuid.uuid4()),
        (task_doc, uuid.uuid4()),
    ):
        data = await gql(doc.format(id=run), headers={"X-PREFECT-HEARTBEAT-ID": str(run)})
        assert list(data.values()) == [{"success": True}]
    flow_beat = (await row(db, FlowRun, run_id)).heartbeat
    assert flow_beat is not None
    assert (await row(db, TaskRun, task_run_id)).heartbeat is not None
    await gql(flow_doc.format(id=run_id))
    assert (await row(db, FlowRun, run_id)).heartbeat > flow_beat


async def test_mapped_children(gql: Any, db: Database, flow_id: uuid.UUID) -> None:
    run_id = await factories.running_flow_run(db, flow_id)
    task_id = (await factories.task_ids(db, flow_id))["t1-1"]
    parent = (await factories.task_run_ids(db, run_id))["t1-1"]
    children = []
    for index in range(3):
        async with db.transaction() as session:
            children.append(
                (await task_runs.get_or_create_task_run_info(session, run_id, task_id, index)).id
            )
    for child in children:
        await factories.set_task_run_state(db, child, {"type": "Running"})
    await factories.set_task_run_state(db, children[0], {"type": "Success"})
    await factories.set_task_run_state(db, children[1], {"type": "Failed"})
    doc = (
        'query {{ mapped_children(task_run_id: "{id}") '
        "{{ min_start_time max_end_time state_counts }} }}"
    )
    data = (await gql(doc.format(id=parent)))["mapped_children"]
    assert data["state_counts"] == {"Success": 1, "Failed": 1, "Running": 1}
    starts = [(await row(db, TaskRun, c)).start_time for c in children]
    ends = [(await row(db, TaskRun, c)).end_time for c in children[:2]]
    assert dt.datetime.fromisoformat(data["min_start_time"]) == min(starts)
    assert dt.datetime.fromisoformat(data["max_end_time"]) == max(e for e in ends if e)
    for not_a_parent in (children[0], uuid.uuid4()):
        data = (await gql(doc.format(id=not_a_parent)))["mapped_children"]
        assert data == {"min_start_time": None, "max_end_time": None, "state_counts": {}}


async def test_domain_errors_for_missing_ids(db: Database) -> None:
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed, match="Invalid flow run ID."):
            await runs.delete_flow_run(session, None)
        with pytest.raises(ValidationFailed, match="Invalid labels"):
            await runs.set_flow_run_labels(session, uuid.uuid4(), None)
        with pytest.raises(NotFound, match="Invalid flow run ID"):
            await runs.update_flow_run_heartbeat(session, uuid.uuid4())
