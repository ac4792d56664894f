"""Concurrency limits: the API in Cloud 1's names, the QUEUED answers of the state writes,
the run queue skipping runs with no free slot, and lazarus for the waiting states."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from conftest import GraphQL
from sqlalchemy import select, update

from prefect_server.database.engine import Database
from prefect_server.database.models import (
    FlowLabelLimit,
    FlowRun,
    TaskRun,
    TaskRunState,
    TaskTagLimit,
)
from prefect_server.orchestration import concurrency_limits, queue
from prefect_server.settings import Settings

import factories as f

RUNNING = {"type": "Running", "message": "Starting task run."}
SET_TASK = """mutation($input: set_task_run_states_input!) {
  set_task_run_states(input: $input) { states { id status message } } }"""
SET_FLOW = """mutation($input: set_flow_run_states_input!) {
  set_flow_run_states(input: $input) { states { id status message } } }"""
UPDATE_TAG = """mutation($input: update_task_tag_limit_input!) {
  update_task_tag_limit(input: $input) { id } }"""


async def tagged_runs(db: Database, tags: list[str], count: int) -> tuple[uuid.UUID, list[Any]]:
    """(tenant, task run ids): ``count`` Running flow runs of a flow whose task t1 has ``tags``."""
    flow = f.serialized_flow(tasks=[f.task("t1-1", tags=tags)], edges=[], parameters=[])
    tenant_id, flow_id = await f.flow_chain(db, flow)
    ids = []
    for _ in range(count):
        run_id = await f.running_flow_run(db, flow_id)
        ids.append((await f.task_run_ids(db, run_id))["t1-1"])
    return tenant_id, ids


async def set_task(gql: GraphQL, task_run_id: Any, state: dict[str, Any]) -> dict[str, Any]:
    variables = {"input": {"states": [{"task_run_id": str(task_run_id), "state": state}]}}
    return (await gql(SET_TASK, variables))["set_task_run_states"]["states"][0]


async def states_of(db: Database, task_run_id: Any) -> list[str]:
    async with db.session() as s:
        rows = await s.scalars(
            select(TaskRunState.state)
            .where(TaskRunState.task_run_id == task_run_id)
            .order_by(TaskRunState.version)
        )
        return list(rows)


# --- the API ---------------------------------------------------------------------------


async def test_client_mutations_and_hasura_read(gql: GraphQL, db: Database) -> None:
    await f.default_tenant(db)
    first = await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 2}})
    again = await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 5}})
    assert first["update_task_tag_limit"]["id"] == again["update_task_tag_limit"]["id"]
    read = await gql('query { task_tag_limit(where: {tag: {_eq: "db"}}) { id tag limit } }')
    assert read["task_tag_limit"] == [
        {"id": first["update_task_tag_limit"]["id"], "tag": "db", "limit": 5}
    ]
    deleted = await gql(
        "mutation($input: delete_task_tag_limit_input!) { delete_task_tag_limit(input: $input) "
        "{ success } }",
        {"input": {"limit_id": first["update_task_tag_limit"]["id"]}},
    )
    assert deleted == {"delete_task_tag_limit": {"success": True}}
    assert (await gql("query { task_tag_limit { id } }"))["task_tag_limit"] == []


async def test_cloud_ui_documents(gql: GraphQL, db: Database) -> None:
    tenant_id, [task_run] = await tagged_runs(db, ["db"], 1)
    task_limit = await gql(
        'mutation { update_task_concurrency_limit(input: {name: "db", limit: 3}) { id } }'
    )
    flow_limit = await gql(
        'mutation { update_flow_concurrency_limit(input: {label: "gpu", limit: 1}) { id } }'
    )
    await set_task(gql, task_run, RUNNING)
    data = await gql(
        "query($tags: [String!], $labels: [String!]) {"
        " task_concurrency_limit { id limit name } flow_concurrency_limit { id limit name }"
        " task_concurrency(names: $tags) { name usage }"
        " flow_concurrency(labels: $labels) { label usage } }",
        {"tags": ["db", "other"], "labels": ["gpu"]},
    )
    assert data["task_concurrency_limit"] == [
        {"id": task_limit["update_task_concurrency_limit"]["id"], "limit": 3, "name": "db"}
    ]
    assert data["flow_concurrency_limit"] == [
        {"id": flow_limit["update_flow_concurrency_limit"]["id"], "limit": 1, "name": "gpu"}
    ]
    assert data["task_concurrency"] == [{"name": "db", "usage": 1}, {"name": "other", "usage": 0}]
    assert data["flow_concurrency"] == [{"label": "gpu", "usage": 0}]
    for kind in ("task", "flow"):
        limit_id = data[f"{kind}_concurrency_limit"][0]["id"]
        done = await gql(
            f'mutation {{ delete_{kind}_concurrency_limit(input: {{limit_id: "{limit_id}"}}) '
            "{ success } }"
        )
        assert done[f"delete_{kind}_concurrency_limit"] == {"success": True}
    assert (await gql("query { flow_concurrency_limit { id } }"))["flow_concurrency_limit"] == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            'update_task_tag_limit(input: {tag: "db", limit: -1}) { id }',
            "Invalid limit -1 for tag 'db': concurrency limits must be >= 0.",
        ),
        (
            'update_task_concurrency_limit(input: {name: "", limit: 1}) { id }',
            "Invalid tag '': a concurrency limit needs a tag.",
        ),
        (
            'update_flow_concurrency_limit(input: {label: " ", limit: 1}) { id }',
            "Invalid label ' ': a concurrency limit needs a label.",
        ),
        (
            'delete_task_tag_limit(input: {limit_id: "00000000-0000-0000-0000-000000000001"}) '
            "{ success }",
            "No tag concurrency limit has the ID '00000000-0000-0000-0000-000000000001'.",
        ),
        (
            'delete_flow_concurrency_limit(input: {limit_id: "00000000-0000-0000-0000-00000000000f"})'
            " { success }",
            "No label concurrency limit has the ID '00000000-0000-0000-0000-00000000000f'.",
        ),
    ],
)
async def test_bad_input_is_a_sentence_and_writes_nothing(
    gql: GraphQL, db: Database, document: str, message: str
) -> None:
    tenant_id = await f.default_tenant(db)
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "task", tenant_id, "db", 7)
        await concurrency_limits.set_limit(s, "flow", tenant_id, "db", 7)
    before = await _all_limits(db)
    errors = await gql.errors(f"mutation {{ {document} }}")
    assert errors[0]["message"] == message
    assert await _all_limits(db) == before


async def _all_limits(db: Database) -> list[Any]:
    async with db.session() as s:
        tasks = await s.execute(select(TaskTagLimit.id, TaskTagLimit.tag, TaskTagLimit.limit))
        flows = await s.execute(
            select(FlowLabelLimit.id, FlowLabelLimit.label, FlowLabelLimit.limit)
        )
        return sorted(map(tuple, [*tasks, *flows]), key=str)


# The Cloud UI's documents send typed variables (UUID!, String!, Int!, [String!]).
UI_SET_TASK = """mutation SetTag($name: String!, $limit: Int!) {
  update_task_concurrency_limit(input: {name: $name, limit: $limit}) { id } }"""
UI_SET_FLOW = """mutation SetLabel($label: String!, $limit: Int!) {
  update_flow_concurrency_limit(input: {label: $label, limit: $limit}) { id } }"""
UI_DELETE = """mutation Drop($limitId: UUID!) {
  delete_KIND_concurrency_limit(input: {limit_id: $limitId}) { success } }"""
UI_READ = """query Read($tags: [String!], $labels: [String!]) {
  task_concurrency_limit { id limit name } flow_concurrency_limit { id limit name }
  task_concurrency(names: $tags) { name usage } flow_concurrency(labels: $labels) { label usage } }"""


async def test_cloud_ui_documents_with_variables_change_in_place(
    gql: GraphQL, db: Database
) -> None:
    await f.default_tenant(db)
    task_id = (await gql(UI_SET_TASK, {"name": "db", "limit": 1}))["update_task_concurrency_limit"]
    flow_id = (await gql(UI_SET_FLOW, {"label": "gpu", "limit": 1}))[
        "update_flow_concurrency_limit"
    ]
    assert (await gql(UI_SET_TASK, {"name": "db", "limit": 4}))[
        "update_task_concurrency_limit"
    ] == task_id
    assert (await gql(UI_SET_FLOW, {"label": "gpu", "limit": 0}))[
        "update_flow_concurrency_limit"
    ] == flow_id
    read = await gql(UI_READ, {"tags": ["db"], "labels": ["gpu"]})
    assert read["task_concurrency_limit"] == [{"id": task_id["id"], "limit": 4, "name": "db"}]
    assert read["flow_concurrency_limit"] == [{"id": flow_id["id"], "limit": 0, "name": "gpu"}]
    assert read["task_concurrency"] == [{"name": "db", "usage": 0}]
    assert read["flow_concurrency"] == [{"label": "gpu", "usage": 0}]
    # A task limit's id is not a flow limit's: the wrong delete writes nothing.
    wrong = await gql.errors(UI_DELETE.replace("KIND", "flow"), {"limitId": task_id["id"]})
    assert wrong[0]["message"] == f"No label concurrency limit has the ID {task_id['id']!r}."
    for kind, limit in (("task", task_id), ("flow", flow_id)):
        done = await gql(UI_DELETE.replace("KIND", kind), {"limitId": limit["id"]})
        assert done == {f"delete_{kind}_concurrency_limit": {"success": True}}
    assert await _all_limits(db) == []


# --- task-tag limits in the state writes -------------------------------------------------


async def test_running_beyond_a_tag_limit_is_queued(gql: GraphQL, db: Database) -> None:
    tenant_id, runs = await tagged_runs(db, ["db", "io"], 3)
    await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 2}})
    assert (await set_task(gql, runs[0], RUNNING))["status"] == "SUCCESS"
    assert (await set_task(gql, runs[1], RUNNING))["status"] == "SUCCESS"
    third = await set_task(gql, runs[2], RUNNING)
    assert third == {
        "id": str(runs[2]),
        "status": "QUEUED",
        "message": "Queued by the concurrency limit on tag 'db' (2 of 2 slots in use).",
    }
    assert await states_of(db, runs[2]) == ["Pending", "Queued"]
    async with db.session() as s:
        queued = await s.scalar(select(TaskRun.serialized_state).where(TaskRun.id == runs[2]))
    # The Queued state wraps the state the run was in, for a runner that unwraps it.
    assert queued["state"]["type"] == "Pending"

    # Asked again while still full: refused again; the wrapped state stays the original one.
    assert (await set_task(gql, runs[2], RUNNING))["status"] == "QUEUED"
    async with db.session() as s:
        queued = await s.scalar(select(TaskRun.serialized_state).where(TaskRun.id == runs[2]))
    assert queued["state"]["type"] == "Pending"

    # A Running run writing Running again holds its slot already.
    assert (await set_task(gql, runs[0], RUNNING))["status"] == "SUCCESS"
    # A slot frees when a run leaves Running, whatever it goes to.
    await set_task(gql, runs[0], {"type": "Retrying", "message": "again", "start_time": None})
    assert (await set_task(gql, runs[2], RUNNING))["status"] == "SUCCESS"
    assert await states_of(db, runs[2]) == ["Pending", "Queued", "Queued", "Running"]


async def test_limit_zero_holds_every_tagged_task(gql: GraphQL, db: Database) -> None:
    _, [run] = await tagged_runs(db, ["db"], 1)
    await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 0}})
    answer = await set_task(gql, run, RUNNING)
    assert answer["status"] == "QUEUED"
    assert "(0 of 0 slots in use)" in answer["message"]


async def test_untagged_and_unlimited_tasks_run(gql: GraphQL, db: Database) -> None:
    _, [untagged] = await tagged_runs(db, [], 1)
    _, [other] = await tagged_runs(db, ["io"], 1)
    await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 0}})
    assert (await set_task(gql, untagged, RUNNING))["status"] == "SUCCESS"
    assert (await set_task(gql, other, RUNNING))["status"] == "SUCCESS"


async def test_limits_belong_to_a_tenant(db: Database) -> None:
    _, [run] = await tagged_runs(db, ["db"], 1)
    async with db.transaction() as s:
        from prefect_server.orchestration import tenants

        other = await tenants.create_tenant(s, "other")
        await concurrency_limits.set_limit(s, "task", other, "db", 0)
    async with db.transaction() as s:
        from prefect_server.orchestration.task_run_states import set_task_run_state

        written = await set_task_run_state(s, run, RUNNING)
    assert written.status == "SUCCESS"


async def test_queued_answer_is_the_same_through_plans_and_executor(
    gql: GraphQL, db: Database, settings: Settings
) -> None:
    _, runs = await tagged_runs(db, ["db"], 3)
    await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 0}})
    # The same document three times: the first goes through the executor, then plans.
    answers = [await set_task(gql, run, RUNNING) for run in runs]
    assert {a["status"] for a in answers} == {"QUEUED"}
    assert len({a["message"] for a in answers}) == 1


# --- flow-label limits -------------------------------------------------------------------


async def labelled_runs(db: Database, labels: list[str], count: int) -> list[uuid.UUID]:
    tenant_id, flow_id = await f.flow_chain(db)
    start = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    return [
        await f.create_flow_run(
            db, flow_id, labels=labels, scheduled_start_time=start + dt.timedelta(minutes=i)
        )
        for i in range(count)
    ]


async def set_flow(gql: GraphQL, flow_run_id: Any, state: dict[str, Any]) -> Any:
    variables = {"input": {"states": [{"flow_run_id": str(flow_run_id), "state": state}]}}
    return await gql.raw(SET_FLOW, variables)


async def test_agent_submission_beyond_a_label_limit_is_refused(gql: GraphQL, db: Database) -> None:
    runs = await labelled_runs(db, ["gpu"], 2)
    await concurrency_set(db, "flow", "gpu", 1)
    submitted = {"type": "Submitted", "message": "Submitted for execution", "state": None}
    assert (await set_flow(gql, runs[0], submitted)).json()["data"] is not None
    body = (await set_flow(gql, runs[1], submitted)).json()
    # The 1.4.1 agent matches "State update failed" and leaves the run alone.
    assert body["errors"][0]["message"] == (
        f"State update failed for flow run ID {runs[1]}: it waits for a free slot of the "
        "concurrency limit on label 'gpu' (1 of 1 slots in use)."
    )
    async with db.session() as s:
        assert await s.scalar(select(FlowRun.state).where(FlowRun.id == runs[1])) == "Scheduled"


async def test_flow_runner_running_beyond_a_label_limit_is_queued(
    gql: GraphQL, db: Database
) -> None:
    runs = await labelled_runs(db, ["gpu", "x"], 2)
    await concurrency_set(db, "flow", "gpu", 1)
    await f.set_flow_run_state(db, runs[0], {"type": "Running", "message": "Running flow."})
    body = (await set_flow(gql, runs[1], {"type": "Running", "message": "Running flow."})).json()
    assert body["data"]["set_flow_run_states"]["states"][0] == {
        "id": str(runs[1]),
        "status": "QUEUED",
        "message": "Queued by the concurrency limit on label 'gpu' (1 of 1 slots in use).",
    }
    async with db.session() as s:
        row = (await s.execute(select(FlowRun).where(FlowRun.id == runs[1]))).scalar_one()
        assert (row.state, row.serialized_state["state"]["type"]) == ("Queued", "Scheduled")
        assert row.heartbeat is not None  # lazarus can tell a waiting process from a dead one
    # A Queued run is not offered to agents while its process waits.
    async with db.session() as s:
        tenant = await s.scalar(select(FlowRun.tenant_id).where(FlowRun.id == runs[1]))
    async with db.transaction() as s:
        assert await queue.get_runs_in_queue(s, tenant, labels=["gpu", "x"]) == []
    await f.set_flow_run_state(db, runs[0], {"type": "Success", "message": "done"})
    body = (await set_flow(gql, runs[1], {"type": "Running", "message": "Running flow."})).json()
    assert body["data"]["set_flow_run_states"]["states"][0]["status"] == "SUCCESS"


async def concurrency_set(db: Database, kind: str, name: str, limit: int) -> uuid.UUID:
    tenant_id = await f.default_tenant(db)
    async with db.transaction() as s:
        return await concurrency_limits.set_limit(s, kind, tenant_id, name, limit)


async def test_queue_skips_runs_without_a_slot_and_keeps_order(db: Database) -> None:
    gpu = await labelled_runs(db, ["gpu"], 3)
    plain = await labelled_runs(db, ["cpu"], 2)
    await concurrency_set(db, "flow", "gpu", 2)
    async with db.session() as s:
        tenant = await s.scalar(select(FlowRun.tenant_id).where(FlowRun.id == gpu[0]))

    async def offered() -> list[str]:
        async with db.transaction() as s:
            return await queue.get_runs_in_queue(s, tenant, labels=["gpu", "cpu"])

    # Two free slots: the two oldest gpu runs; cpu runs are not limited.
    ordered = sorted(gpu + plain, key=lambda r: (gpu + plain).index(r))
    assert set(await offered()) == {str(gpu[0]), str(gpu[1]), *map(str, plain)}
    await f.set_flow_run_state(db, gpu[0], {"type": "Submitted", "message": "s", "state": None})
    assert str(gpu[2]) not in await offered()
    await f.set_flow_run_state(db, gpu[1], {"type": "Running", "message": "r"})
    assert [r for r in await offered() if r in map(str, gpu)] == []
    await f.set_flow_run_state(db, gpu[0], {"type": "Failed", "message": "f"})
    assert [r for r in await offered() if r in map(str, gpu)] == [str(gpu[2])]
    assert ordered  # the cpu runs keep their places among the rest


# --- the read function for a Concurrency page, and lazarus ------------------------------


async def test_overview_lists_holding_and_waiting_runs(gql: GraphQL, db: Database) -> None:
    from prefect_server.orchestration import concurrency_usage

    tenant_id, runs = await tagged_runs(db, ["db"], 3)
    await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 1}})
    await set_task(gql, runs[0], RUNNING)
    await set_task(gql, runs[1], RUNNING)
    gpu = await labelled_runs(db, ["gpu"], 2)
    await concurrency_set(db, "flow", "gpu", 1)
    await f.set_flow_run_state(db, gpu[0], {"type": "Running", "message": "r"})
    async with db.session() as s:
        overview = await concurrency_usage.concurrency_overview(s, tenant_id)
        task_holds = await concurrency_usage.holds_on_run(s, "task", runs[1])
        flow_holds = await concurrency_usage.holds_on_run(s, "flow", gpu[1])
        none = await concurrency_usage.holds_on_run(s, "task", runs[0])
    [db_limit, gpu_limit] = overview
    assert (db_limit.kind, db_limit.name, db_limit.limit, db_limit.usage) == ("task", "db", 1, 1)
    assert [r.id for r in db_limit.holding] == [runs[0]]
    assert [r.id for r in db_limit.waiting] == [runs[1]]
    assert (gpu_limit.kind, gpu_limit.name, gpu_limit.usage) == ("flow", "gpu", 1)
    assert [r.id for r in gpu_limit.holding] == [gpu[0]]
    assert [r.id for r in gpu_limit.waiting] == [gpu[1]]
    assert [h.slots() for h in task_holds] == [
        "the concurrency limit on tag 'db' (1 of 1 slots in use)"
    ]
    assert [(h.name, h.in_use) for h in flow_holds] == [("gpu", 1)]
    assert none == []


async def test_lazarus_restarts_a_queued_run_whose_process_died(
    db: Database, settings: Settings
) -> None:
    from prefect_server.services import lazarus

    [run] = await labelled_runs(db, ["gpu"], 1)
    await concurrency_set(db, "flow", "gpu", 0)
    await f.set_flow_run_state(db, run, {"type": "Running", "message": "Running flow."})
    async with db.transaction() as s:
        assert await s.scalar(select(FlowRun.state).where(FlowRun.id == run)) == "Queued"
    assert await lazarus.run_once(db, settings) == 0  # its process is alive (fresh heartbeat)
    async with db.transaction() as s:
        old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        await s.execute(update(FlowRun).where(FlowRun.id == run).values(heartbeat=old))
    assert await lazarus.run_once(db, settings) == 1
    async with db.session() as s:
        assert await s.scalar(select(FlowRun.state).where(FlowRun.id == run)) == "Scheduled"


async def test_queued_tasks_of_a_running_run_are_not_offered_again(
    gql: GraphQL, db: Database
) -> None:
    tenant_id, [run] = await tagged_runs(db, ["db"], 1)
    await gql(UPDATE_TAG, {"input": {"tag": "db", "limit": 0}})
    assert (await set_task(gql, run, RUNNING))["status"] == "QUEUED"
    past = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    async with db.transaction() as s:
        # The flow-run process waits in place: handing the run to an agent would run it twice.
        assert await queue.get_runs_in_queue(s, tenant_id, before=past) == []


def test_cli_sets_lists_and_deletes_limits(database_url: str) -> None:
    from typer.testing import CliRunner

    from prefect_server.cli import app

    from dbutil import truncate_all

    truncate_all(database_url)

    def cli(*args: str) -> Any:
        options = ["--database-url", database_url]
        command = [*args[:1], *options, *args[1:]] if args else options
        return CliRunner().invoke(app, ["limits", *command])

    assert cli().output == "No concurrency limits.\n"
    assert cli("set-task", "db", "2").output == "At most 2 task runs tagged 'db' at once.\n"
    assert cli("set-task", "db", "3").exit_code == 0  # changed in place
    assert cli("set-flow", "gpu", "1").output == "At most 1 flow run labelled 'gpu' at once.\n"
    listed = cli()
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        "KIND        NAME  IN USE  LIMIT",
        "task tag    db         0      3",
        "flow label  gpu        0      1",
    ]
    # A negative number is the limit, not an option; it is refused and changes nothing.
    refused = cli("set-task", "db", "-1")
    assert refused.exit_code == 1
    assert "Invalid limit -1 for tag 'db': concurrency limits must be >= 0." in refused.output
    refused = cli("set-flow", "gpu", "-5")
    assert "Invalid limit -5 for label 'gpu': concurrency limits must be >= 0." in refused.output
    assert cli().output.splitlines() == listed.output.splitlines()
    missing_limit = cli("set-task", "db")
    assert missing_limit.exit_code == 2
    assert "Error: Missing argument 'limit'." in missing_limit.output
    assert cli("delete", "task", "db").output == "Deleted the limit on tag 'db'.\n"
    missing = cli("delete", "task", "db")
    assert missing.exit_code == 1
    assert "There is no concurrency limit on tag 'db'." in missing.output
    assert cli("delete", "flow", "gpu").exit_code == 0
    assert cli().output == "No concurrency limits.\n"


async def test_runs_behind_many_held_runs_are_still_offered(db: Database) -> None:
    # More runs held back at the head of the queue than one page of candidates: the
    # runs behind them, which have slots, must still reach the agents.
    held = await labelled_runs(db, ["gpu"], 45)
    # One free slot: the oldest gpu run takes it, the 44 behind it are skipped.
    await concurrency_set(db, "flow", "gpu", 1)
    tenant_id, flow_id = await f.flow_chain(db)
    late = dt.datetime(2020, 1, 2, tzinfo=dt.timezone.utc)
    free = [
        await f.create_flow_run(db, flow_id, labels=["cpu"], scheduled_start_time=late)
        for _ in range(2)
    ]
    async with db.session() as s:
        tenant = await s.scalar(select(FlowRun.tenant_id).where(FlowRun.id == held[0]))
    assert tenant is not None
    async with db.transaction() as s:
        offered = await queue.get_runs_in_queue(s, tenant, labels=["gpu", "cpu"], limit=10)
    assert offered[0] == str(held[0])
    assert sorted(offered[1:]) == sorted(map(str, free))


@pytest.mark.parametrize(
    "document",
    [
        'insert_task_tag_limit(objects: [{tag: " ", limit: 3}]) { affected_rows }',
        'insert_flow_label_limit_one(object: {label: "gpu", limit: 3}) { id }',
        "update_flow_label_limit(where: {}, _set: {limit: 0}) { affected_rows }",
        "delete_flow_label_limit(where: {}) { affected_rows }",
    ],
)
async def test_limits_are_written_only_through_the_actions(
    gql: GraphQL, db: Database, document: str
) -> None:
    # Hasura's generated writes would skip the checks (a blank tag, a row of no tenant).
    tenant_id = await f.default_tenant(db)
    async with db.transaction() as s:
        await concurrency_limits.set_limit(s, "flow", tenant_id, "gpu", 2)
    before = await _all_limits(db)
    errors = await gql.errors(f"mutation {{ {document} }}")
    assert "Cannot query field" in errors[0]["message"]
    assert await _all_limits(db) == before
