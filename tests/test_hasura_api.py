"""The generated API as a whole: functions, batching of SQL, safety limits, transport shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from graphql import get_introspection_query
from hasura_data import W, seed, uid
from sqlalchemy import event

from prefect_server.database import models as m

import factories

NAMES = {getattr(W, k): k for k in W.__dataclass_fields__}


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


async def test_downstream_and_upstream_traversal(gql: Any, world: Any) -> None:
    query = """query($ids: _uuid, $limit: Int) {
        down: utility_downstream_tasks(args: {start_task_ids: $ids, depth_limit: $limit}) {
            __typename task_id depth task { slug }
        }
    }"""
    data = await gql(query, {"ids": "{%s}" % W.t1})  # noqa: UP031
    found = [(NAMES[r["task_id"]], r["depth"], r["task"]["slug"]) for r in data["down"]]
    # t3 is reachable at depth 2 through both t2 and t4; t5 only after t3.
    assert found == [
        ("t1", 0, "t1"),
        ("t2", 1, "t2"),
        ("t4", 1, "t4"),
        ("t3", 2, "t3"),
        ("t5", 3, "t5"),
    ]
    assert data["down"][0]["__typename"] == "utility_traversal"
    data = await gql(query, {"ids": "{%s}" % W.t1, "limit": 1})  # noqa: UP031
    assert [NAMES[r["task_id"]] for r in data["down"]] == ["t1", "t2", "t4"]

    data = await gql(
        """query($ids: _uuid) {
            utility_upstream_tasks(args: {start_task_ids: $ids}, order_by: {depth: desc}) {
                task_id depth }
            utility_upstream_tasks_aggregate(args: {start_task_ids: $ids}) { aggregate { count } }
        }""",
        {"ids": "{%s, %s}" % (W.t5, W.t4)},  # noqa: UP031
    )
    up = {NAMES[r["task_id"]]: r["depth"] for r in data["utility_upstream_tasks"]}
    assert up == {"t5": 0, "t4": 2, "t3": 1, "t2": 2, "t1": 3}
    assert data["utility_upstream_tasks"][0]["depth"] == 3
    assert data["utility_upstream_tasks_aggregate"]["aggregate"]["count"] == 5


async def test_depth_limit_of_the_traversal_is_capped(gql: Any, db: Any) -> None:
    chain = factories.serialized_flow(
        "chain",
        tasks=[factories.task(f"t{i}-1") for i in range(60)],
        edges=[factories.edge(f"t{i}-1", f"t{i + 1}-1") for i in range(59)],
        parameters=[],
    )
    _, flow_id = await factories.flow_chain(db, chain)
    first = (await factories.task_ids(db, flow_id))["t0-1"]
    data = await gql(
        """query($ids: _uuid) { utility_downstream_tasks_aggregate(
            args: {start_task_ids: $ids, depth_limit: 100}) { aggregate { count max { depth } } } }""",
        {"ids": "{%s}" % first},  # noqa: UP031
    )
    assert data["utility_downstream_tasks_aggregate"]["aggregate"] == {
        "count": 51,
        "max": {"depth": 50},
    }


async def _add_runs(db: Any, count: int) -> None:
    """Runs of the seeded world's flow as raw rows, like the world itself (hasura_data)."""
    async with db.transaction() as s:
        for i in range(count):
            run = uid(5000 + i)
            s.add(
                m.FlowRun(
                    id=run,
                    tenant_id=uid(1),
                    flow_id=uid(20),
                    state="Success",
                    scheduled_start_time=dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc),
                )
            )
            await s.flush()
            s.add_all(m.TaskRun(flow_run_id=run, task_id=uid(31 + t)) for t in range(3))
            s.add(m.FlowRunState(flow_run_id=run, state="Success", serialized_state={}))


async def test_statements_do_not_grow_with_rows(app: Any, gql: Any, world: Any) -> None:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    query = """query { flow_run(order_by: {scheduled_start_time: desc}, limit: 50) {
        id flow { name project { name } }
        task_runs(order_by: {map_index: asc}, limit: 2) { id task { slug } }
        task_runs_aggregate { aggregate { count } }
        states(order_by: {timestamp: desc}) { state }
    } }"""
    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        small = await gql(query)
        few = len(statements)
        await _add_runs(app.state.db, 30)
        statements.clear()
        large = await gql(query)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(small["flow_run"]) == 4 and len(large["flow_run"]) == 34
    # One statement per selection level, whatever the number of rows.
    assert few == many == 7


async def test_batched_request_body(client: Any, world: Any) -> None:
    response = await client.post(
        "/",
        json=[
            {
                "query": "query($id: uuid!) { flow_by_pk(id: $id) { name } }",
                "variables": {"id": W.etl},
            },
            {"operationName": "Q", "query": "query Q { project(order_by: {name: asc}) { name } }"},
        ],
    )
    assert response.status_code == 200
    assert response.json() == [
        {"data": {"flow_by_pk": {"name": "ETL Pipeline"}}},
        {"data": {"project": [{"name": "Alpha"}, {"name": "beta"}]}},
    ]


async def test_typename_on_every_object(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow_run_aggregate(limit: 1) { __typename
            aggregate { __typename max { __typename version } sum { __typename version } }
            nodes { __typename flow { __typename } } } }"""
    )
    agg = data["flow_run_aggregate"]
    assert agg["__typename"] == "flow_run_aggregate"
    assert agg["aggregate"]["__typename"] == "flow_run_aggregate_fields"
    assert agg["aggregate"]["max"]["__typename"] == "flow_run_max_fields"
    assert agg["aggregate"]["sum"]["__typename"] == "flow_run_sum_fields"
    assert agg["nodes"][0]["__typename"] == "flow_run"
    assert agg["nodes"][0]["flow"]["__typename"] == "flow"


@pytest.mark.parametrize(
    "declaration",
    [
        "$a: uuid",
        "$a: uuid!",
        "$a: timestamptz",
        "$a: _uuid",
        "$a: order_by",
        "$a: flow_run_bool_exp",
        "$a: [flow_run_order_by!]",
        "$a: timestamptz_comparison_exp",
        "$a: [cloud_hook_bool_exp!]",
        "$a: message_bool_exp",
        "$a: [task_run_order_by!]",
        "$a: task_run_bool_exp!",
        "$a: [flow_run_select_column!]",
        "$a: String_comparison_exp",
        "$a: jsonb_comparison_exp",
        "$a: Int_comparison_exp",
        "$a: Boolean_comparison_exp",
        "$a: interval_comparison_exp",
        "$a: uuid_comparison_exp",
        "$a: jsonb",
        "$a: interval",
    ],
)
async def test_hasura_type_names_for_variables(app: Any, declaration: str) -> None:
    from graphql import parse, validate

    schema = app.state.schema._schema
    document = parse(f"query({declaration}) {{ hello }}")
    errors = validate(schema, document)
    assert [e for e in errors if "is never used" not in e.message] == []


def _nested(depth: int) -> str:
    chain = [
        "flow_run",
        "flow",
        "project",
        "flows",
        "flow_runs",
        "task_runs",
        "task",
        "flow",
        "project",
    ]
    body = "id"
    for name in reversed(chain[:depth]):
        body = f"{name} {{ {body} }}"
    return f"query {{ {body} }}"


async def test_depth_limit_seven(client: Any, gql: Any, world: Any) -> None:
    # graphql-depth-limit counts the root field as depth 0: a leaf at depth 7 is allowed.
    await gql(_nested(7))
    errors = await gql.errors(_nested(8))
    assert "depth" in errors[0]["message"].lower()


async def test_introspection_is_not_limited(client: Any) -> None:
    response = await client.post("/", json={"query": get_introspection_query()})
    body = response.json()
    assert "errors" not in body
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"flow_run_bool_exp", "order_by", "query_root", "flow_run_aggregate_fields"} <= names


def test_every_model_column_and_relationship_is_in_the_api() -> None:
    from prefect_server.database.models import TABLES
    from prefect_server.graphql.schema import build_schema

    types = build_schema()._schema.type_map
    for name, model in TABLES.items():
        columns = {c.name for c in model.__table__.columns}
        assert columns <= set(types[name].fields), name
        assert columns <= set(types[f"{name}_bool_exp"].fields), name
        assert columns <= set(types[f"{name}_order_by"].fields), name
        assert columns == set(types[f"{name}_select_column"].values), name
        for rel in model.__mapper__.relationships:
            assert rel.key in types[name].fields, (name, rel.key)
            assert rel.key in types[f"{name}_bool_exp"].fields, (name, rel.key)
            if rel.uselist:
                assert f"{rel.key}_aggregate" in types[name].fields, (name, rel.key)
    query = build_schema()._schema.query_type.fields
    assert {f"{n}_by_pk" for n in TABLES if n != "log"} <= set(query)
    assert "log_by_pk" not in query


async def test_client_strings_are_data_not_sql(gql: Any, world: Any) -> None:
    hostile = "x'); DELETE FROM flow_run; --"
    data = await gql(
        """query($s: String!) {
            a: flow_run(where: {name: {_like: $s}}) { id }
            b: flow_run(where: {parameters: {_has_key: $s}}) { id }
            c: flow_run_aggregate { aggregate { count } }
        }""",
        {"s": hostile},
    )
    assert data["a"] == data["b"] == []
    assert data["c"]["aggregate"]["count"] == 4
    # An unbalanced SIMILAR TO pattern is the client's error, worded the same on both databases.
    errors = await gql.errors(
        "query($s: String!) { flow_run(where: {name: {_similar: $s}}) { id } }", {"s": hostile}
    )
    assert "Invalid SIMILAR TO pattern" in errors[0]["message"]
    data = await gql("query { flow_run_aggregate { aggregate { count } } }")
    assert data["flow_run_aggregate"]["aggregate"]["count"] == 4
