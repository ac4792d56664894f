"""Flow registration and flow mutations, checked against the database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from prefect_server.database.models import Edge, Flow, FlowGroup, FlowRun, Task, TaskRun
from prefect_server.orchestration import flow_run_states, flows, projects, runs, tenants
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.serialization import compress_flow

CREATE = "mutation($input: create_flow_input!) { create_flow(input: $input) { id } }"
CREATE_COMPRESSED = (
    "mutation($input: create_flow_from_compressed_string_input!) "
    "{ create_flow_from_compressed_string(input: $input) { id } }"
)
REGISTER_TASKS = (
    "mutation($input: register_tasks_input!) { register_tasks(input: $input) { success } }"
)
REGISTER_EDGES = (
    "mutation($input: register_edges_input!) { register_edges(input: $input) { success } }"
)


def task(slug: str, **extra: object) -> dict[str, object]:
    return {
        "slug": slug,
        "name": slug.split("-")[0],
        "type": "prefect.tasks.core.function.FunctionTask",
        "tags": ["t"],
        "max_retries": 2,
        "retry_delay": 5,
        "trigger": {"fn": "prefect.triggers.all_successful", "kwargs": {}},
        "auto_generated": False,
        "cache_key": None,
        "__version__": "1.4.1",
        **extra,
    }


def edge(up: str, down: str, key: str | None = "x", mapped: bool = False) -> dict[str, object]:
    return {
        "upstream_task": {"slug": up, "__version__": "1.4.1"},
        "downstream_task": {"slug": down, "__version__": "1.4.1"},
        "key": key,
        "mapped": mapped,
        "flattened": False,
        "__version__": "1.4.1",
    }


def serialized(name: str = "flow", **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "type": "prefect.core.flow.Flow",
        "schedule": None,
        "parameters": [],
        "tasks": [task("a-1"), task("b-1")],
        "edges": [edge("a-1", "b-1", mapped=True)],
        "reference_tasks": [],
        "run_config": {"type": "UniversalRun", "labels": [], "__version__": "1.4.1"},
        "storage": {"type": "Local", "flows": {name: "/x"}, "__version__": "1.4.1"},
        "__version__": "1.4.1",
        **extra,
    }


@pytest.fixture
async def project_id(db) -> str:
    async with db.transaction() as session:
        tenant = await tenants.ensure_default_tenant(session)
        return str(await projects.create_project(session, tenant, "proj"))


async def _flow(db, flow_id) -> Flow:
    async with db.session() as session:
        return await session.get(Flow, uuid.UUID(str(flow_id)))


async def _count(db, model, *where) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_create_flow_stores_flow_group_tasks_and_edges(gql, db, project_id):
    data = await gql(CREATE, {"input": {"serialized_flow": serialized(), "project_id": project_id}})
    flow = await _flow(db, data["create_flow"]["id"])
    assert (flow.name, flow.version, flow.archived, flow.core_version) == (
        "flow",
        1,
        False,
        "1.4.1",
    )
    assert flow.storage["type"] == "Local" and flow.run_config["type"] == "UniversalRun"
    assert flow.is_schedule_active is False and flow.schedule is None
    async with db.session() as session:
        group = await session.get(FlowGroup, flow.flow_group_id)
        tasks = {
            t.slug: t for t in await session.scalars(select(Task).where(Task.flow_id == flow.id))
        }
        edges = list(await session.scalars(select(Edge).where(Edge.flow_id == flow.id)))
    assert group.name == flow.version_group_id
    assert group.settings == {
        "heartbeat_enabled": True,
        "lazarus_enabled": True,
        "version_locking_enabled": False,
        "idempotency_key": None,
    }
    assert flow.settings == group.settings
    a = tasks["a-1"]
    assert (a.name, a.max_retries, a.tags, a.trigger, a.retry_delay.total_seconds()) == (
        "a",
        2,
        ["t"],
        "prefect.triggers.all_successful",
        5,
    )
    assert (a.mapped, tasks["b-1"].mapped) == (False, True)
    assert [(e.upstream_task_id, e.downstream_task_id, e.key, e.mapped) for e in edges] == [
        (a.id, tasks["b-1"].id, "x", True)
    ]


async def test_compressed_flow_and_undecodable_payload(gql, db, project_id):
    data = await gql(
        CREATE_COMPRESSED,
        {"input": {"serialized_flow": compress_flow(serialized()), "project_id": project_id}},
    )
    assert (await _flow(db, data["create_flow_from_compressed_string"]["id"])).name == "flow"
    errors = await gql.errors(
        CREATE_COMPRESSED, {"input": {"serialized_flow": "not-base64!", "project_id": project_id}}
    )
    assert errors[0]["message"] == "Unable to decompress serialized flow"
    assert await _count(db, Flow) == 1


async def test_new_version_archives_previous_one(gql, db, project_id):
    first = await gql(
        CREATE, {"input": {"serialized_flow": serialized(), "project_id": project_id}}
    )
    second = await gql(
        CREATE, {"input": {"serialized_flow": serialized(), "project_id": project_id}}
    )
    one, two = (
        await _flow(db, first["create_flow"]["id"]),
        await _flow(db, second["create_flow"]["id"]),
    )
    assert (one.version, one.archived, two.version, two.archived) == (1, True, 2, False)
    assert one.version_group_id == two.version_group_id and one.flow_group_id == two.flow_group_id
    assert await _count(db, FlowGroup) == 1
    other = await gql(
        CREATE, {"input": {"serialized_flow": serialized("other"), "project_id": project_id}}
    )
    three = await _flow(db, other["create_flow"]["id"])
    assert (three.version, three.archived) == (1, False)
    assert three.version_group_id != two.version_group_id


async def test_explicit_version_group(gql, db, project_id):
    variables = {
        "serialized_flow": serialized("a"),
        "project_id": project_id,
        "version_group_id": "vg",
    }
    first = await gql(CREATE, {"input": variables})
    second = await gql(CREATE, {"input": {**variables, "serialized_flow": serialized("b")}})
    one, two = (
        await _flow(db, first["create_flow"]["id"]),
        await _flow(db, second["create_flow"]["id"]),
    )
    assert (one.version_group_id, two.version_group_id, two.version, one.archived) == (
        "vg",
        "vg",
        2,
        True,
    )


async def test_idempotency_key_returns_latest_version(gql, db, project_id):
    variables = {"serialized_flow": serialized(), "project_id": project_id, "idempotency_key": "k1"}
    first = (await gql(CREATE, {"input": variables}))["create_flow"]["id"]
    again = (await gql(CREATE, {"input": variables}))["create_flow"]["id"]
    assert again == first and await _count(db, Flow) == 1
    changed = (await gql(CREATE, {"input": {**variables, "idempotency_key": "k2"}}))["create_flow"][
        "id"
    ]
    assert changed != first and (await _flow(db, changed)).version == 2
    no_key = (await gql(CREATE, {"input": {**variables, "idempotency_key": None}}))["create_flow"][
        "id"
    ]
    assert (await _flow(db, no_key)).version == 3


async def test_bad_input_writes_nothing(gql, db, project_id):
    cases = [
        (
            serialized(__version__="0.5.0"),
            "Prefect backends require new flows to be built with Prefect 0.6.1+, but this flow was built with Prefect 0.5.0.",
        ),
        (serialized(edges=[edge("a-1", "zzz")]), flows.UNKNOWN_EDGE_TASK),
        (serialized(tasks=[task("a-1", retry_delay="hello there")]), None),
        (serialized(tasks=[{"name": "no slug"}]), None),
    ]
    for payload, message in cases:
        errors = await gql.errors(
            CREATE, {"input": {"serialized_flow": payload, "project_id": project_id}}
        )
        if message:
            assert errors[0]["message"] == message
    errors = await gql.errors(
        CREATE, {"input": {"serialized_flow": serialized(), "project_id": str(uuid.uuid4())}}
    )
    assert errors[0]["message"] == "Invalid project."
    for model in (Flow, FlowGroup, Task, Edge):
        assert await _count(db, model) == 0


async def test_split_registration_is_idempotent(gql, db, project_id):
    payload = {k: v for k, v in serialized().items() if k not in ("tasks", "edges")}
    flow_id = (
        await gql(
            CREATE,
            {
                "input": {
                    "serialized_flow": payload,
                    "project_id": project_id,
                    "set_schedule_active": False,
                }
            },
        )
    )["create_flow"]["id"]
    for _ in range(2):
        await gql(
            REGISTER_TASKS,
            {"input": {"flow_id": flow_id, "serialized_tasks": [task("a-1"), task("b-1")]}},
        )
        await gql(
            REGISTER_EDGES,
            {"input": {"flow_id": flow_id, "serialized_edges": [edge("a-1", "b-1", mapped=True)]}},
        )
    empty = await gql(REGISTER_TASKS, {"input": {"flow_id": flow_id, "serialized_tasks": []}})
    assert empty["register_tasks"]["success"] is True
    await gql(REGISTER_EDGES, {"input": {"flow_id": flow_id, "serialized_edges": []}})
    assert await _count(db, Task) == 2 and await _count(db, Edge) == 1
    assert await _count(db, Task, Task.mapped.is_(True)) == 1
    flow = await _flow(db, flow_id)
    assert [t["slug"] for t in flow.serialized_flow["tasks"]] == ["a-1", "b-1"]
    errors = await gql.errors(
        REGISTER_EDGES, {"input": {"flow_id": flow_id, "serialized_edges": [edge("a-1", "nope")]}}
    )
    assert errors[0]["message"] == flows.UNKNOWN_EDGE_TASK


async def test_register_tasks_in_batches(db, project_id):
    many = [task(f"t-{i}") for i in range(450)]
    async with db.transaction() as session:
        flow_id = await flows.create_flow(session, {"name": "big"}, project_id)
        await flows.register_tasks(session, flow_id, many)
        await flows.register_tasks(session, flow_id, many[400:])
    assert await _count(db, Task, Task.flow_id == flow_id) == 450


async def test_delete_flow(gql, db, project_id):
    flow_id = (
        await gql(CREATE, {"input": {"serialized_flow": serialized(), "project_id": project_id}})
    )["create_flow"]["id"]
    delete = "mutation($input: delete_flow_input!) { delete_flow(input: $input) { success } }"
    assert (await gql(delete, {"input": {"flow_id": flow_id}}))["delete_flow"]["success"] is True
    assert await _count(db, Flow) == 0 and await _count(db, Task) == 0
    assert await _count(db, FlowGroup) == 1
    assert (await gql(delete, {"input": {"flow_id": flow_id}}))["delete_flow"]["success"] is False
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed, match="Must provide flow ID."):
            await flows.delete_flow(session, None)


async def test_update_flow_project(gql, db, project_id):
    flow_id = (
        await gql(CREATE, {"input": {"serialized_flow": serialized(), "project_id": project_id}})
    )["create_flow"]["id"]
    async with db.transaction() as session:
        tenant = await tenants.ensure_default_tenant(session)
        other = str(await projects.create_project(session, tenant, "other"))
        foreign_tenant = await tenants.create_tenant(session, "x", "x")
        foreign = str(await projects.create_project(session, foreign_tenant, "foreign"))
    move = (
        "mutation($input: update_flow_project_input!) { update_flow_project(input: $input) { id } }"
    )
    data = await gql(move, {"input": {"flow_id": flow_id, "project_id": other}})
    assert data["update_flow_project"]["id"] == flow_id
    assert str((await _flow(db, flow_id)).project_id) == other
    errors = await gql.errors(move, {"input": {"flow_id": flow_id, "project_id": foreign}})
    assert errors[0]["message"] == "Invalid flow or project ID."
    assert str((await _flow(db, flow_id)).project_id) == other


async def test_concurrent_registrations_get_distinct_versions(db, project_id):
    import asyncio

    async def register(i: int) -> uuid.UUID:
        async with db.transaction() as session:
            return await flows.create_flow(session, serialized(), project_id)

    ids = await asyncio.gather(*(register(i) for i in range(6)))
    async with db.session() as session:
        rows = (await session.execute(select(Flow.version, Flow.archived, Flow.id))).all()
    assert sorted(r.version for r in rows) == [1, 2, 3, 4, 5, 6]
    assert [r.id for r in rows if not r.archived] == [max(rows, key=lambda r: r.version).id]
    assert set(ids) == {r.id for r in rows}
    assert await _count(db, FlowGroup) == 1


async def test_concurrent_registrations_with_one_idempotency_key(db, project_id):
    import asyncio

    async def register() -> uuid.UUID:
        async with db.transaction() as session:
            return await flows.create_flow(
                session, serialized(), project_id, idempotency_key="same"
            )

    ids = await asyncio.gather(*(register() for _ in range(4)))
    assert len(set(ids)) == 1 and await _count(db, Flow) == 1


async def test_idempotency_key_after_the_flow_was_deleted(db, project_id):
    async with db.transaction() as session:
        first = await flows.create_flow(session, serialized(), project_id, idempotency_key="k")
        await flows.delete_flow(session, first)
        second = await flows.create_flow(session, serialized(), project_id, idempotency_key="k")
    assert second != first and (await _flow(db, second)).version == 1
    assert await _count(db, Task, Task.flow_id == second) == 2


async def test_extra_fields_are_preserved(db, project_id):
    payload = serialized(custom={"anything": [1, 2]})
    payload["tasks"][0]["extra_key"] = "kept"
    async with db.transaction() as session:
        flow_id = await flows.create_flow(session, payload, project_id)
    stored = (await _flow(db, flow_id)).serialized_flow
    assert stored["custom"] == {"anything": [1, 2]} and stored["tasks"][0]["extra_key"] == "kept"
    assert (await _flow(db, flow_id)).parameters == []


# Input types this part of the API serves, as SDL: Server 1's src/prefect_server/graphql/schema/*.graphql,
# as prefect 1.4.1's prefect/client/client.py sends them.
EXPECTED_INPUTS = {
    "create_tenant_input": "name: String! slug: String!",
    "create_project_input": "tenant_id: UUID! name: String! description: String",
    "delete_project_input": "project_id: UUID!",
    "create_flow_input": "serialized_flow: JSON! project_id: UUID! version_group_id: String "
    "set_schedule_active: Boolean description: String idempotency_key: String",
    "create_flow_from_compressed_string_input": "serialized_flow: String! project_id: UUID! "
    "version_group_id: String set_schedule_active: Boolean description: String "
    "idempotency_key: String",
    "register_tasks_input": "flow_id: UUID! serialized_tasks: JSON!",
    "register_edges_input": "flow_id: UUID! serialized_edges: JSON!",
    "set_schedule_active_input": "flow_id: UUID!",
    "register_agent_input": "type: String! tenant_id: UUID labels: [String!] "
    "agent_config_id: UUID name: String",
    "set_flow_group_schedule_input": "flow_group_id: UUID! cron_clocks: [cron_clock_input!] "
    "interval_clocks: [interval_clock_input!] timezone: String",
    "cron_clock_input": "cron: String! parameter_defaults: JSON",
    "interval_clock_input": "interval: Int! parameter_defaults: JSON",
    "delete_tenant_input": "tenant_id: UUID! confirm: Boolean!",
}


def test_input_types_match_the_wire_contract():
    from prefect_server.graphql.schema import build_schema

    sdl = str(build_schema())
    for name, fields in EXPECTED_INPUTS.items():
        start = sdl.index(f"input {name} {{")
        body = sdl[start : sdl.index("}", start)].split("{", 1)[1]
        assert " ".join(body.replace(" = null", "").split()) == fields, name


async def test_a_new_version_archives_every_other_version_and_cancels_their_runs(db, project_id):
    """All unarchived versions of the group are archived at once (here an older version
    unarchived by hand as well as the newest); their manual Scheduled runs are cancelled
    with their task runs, their auto-scheduled runs deleted, and other runs left alone."""
    async with db.transaction() as session:
        one = await flows.create_flow(session, serialized(), project_id)
        two = await flows.create_flow(session, serialized(), project_id)
        assert await flows.unarchive_flow(session, one)
        manual = {
            flow: [await runs.create_flow_run(session, flow_id=flow) for _ in range(2)]
            for flow in (one, two)
        }
        auto = await runs.create_flow_run(
            session, flow_id=two, idempotency_key="auto", auto_scheduled=True
        )
        running = await runs.create_flow_run(session, flow_id=one)
        await flow_run_states.set_flow_run_state(session, running, {"type": "Running"})
    async with db.transaction() as session:
        three = await flows.create_flow(session, serialized(), project_id)
        new_run = await runs.create_flow_run(session, flow_id=three)

    assert [(await _flow(db, f)).archived for f in (one, two, three)] == [True, True, False]
    async with db.session() as session:
        found = {
            r.id: r
            for r in await session.execute(
                select(FlowRun.id, FlowRun.flow_id, FlowRun.state, FlowRun.state_message)
            )
        }
        with_cancelled_tasks = set(
            await session.scalars(
                select(TaskRun.flow_run_id).where(TaskRun.state == "Cancelled").distinct()
            )
        )
        pending = await session.scalar(
            select(func.count()).where(TaskRun.state == "Pending", TaskRun.flow_run_id == new_run)
        )
    assert auto not in found
    for flow, run_ids in manual.items():
        for run_id in run_ids:
            assert (found[run_id].state, found[run_id].state_message) == (
                "Cancelled",
                f"Flow {flow} was archived.",
            )
    # Every task run of every cancelled run is Cancelled too (two tasks each).
    assert await _count(db, TaskRun, TaskRun.state == "Cancelled") == 2 * 4
    assert with_cancelled_tasks == {run_id for ids in manual.values() for run_id in ids}
    assert found[running].state == "Running" and found[new_run].state == "Scheduled"
    assert pending == 2
