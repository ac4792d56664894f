"""Aggregates of the generated API, at the root and under array relationships."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hasura_data import W, seed


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


async def test_root_aggregate_functions(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow_run_aggregate { aggregate {
            count
            named: count(columns: [name])
            flows: count(columns: flow_id, distinct: true)
            pairs: count(columns: [flow_id, state], distinct: true)
            sum { version } avg { version }
            max { version scheduled_start_time name } min { version start_time }
            stddev { version } stddev_samp { version } stddev_pop { version }
            variance { version } var_samp { version } var_pop { version }
        } } }"""
    )
    agg = data["flow_run_aggregate"]["aggregate"]
    assert agg["count"] == 4
    assert agg["named"] == 3
    assert agg["flows"] == 3
    assert agg["pairs"] == 4
    assert agg["sum"] == {"version": 11}
    assert agg["avg"] == {"version": 2.75}
    assert agg["max"] == {
        "version": 5,
        "scheduled_start_time": "2030-01-04T00:00:00+00:00",
        "name": "gamma_run",
    }
    assert agg["min"] == {"version": 1, "start_time": "2030-01-01T03:00:05+00:00"}
    var_pop = (9 + 4 + 1 + 25) / 4 - 2.75**2
    var_samp = var_pop * 4 / 3
    assert math.isclose(agg["var_pop"]["version"], var_pop)
    assert math.isclose(agg["var_samp"]["version"], var_samp)
    assert math.isclose(agg["variance"]["version"], var_samp)
    assert math.isclose(agg["stddev_pop"]["version"], math.sqrt(var_pop))
    assert math.isclose(agg["stddev_samp"]["version"], math.sqrt(var_samp))
    assert math.isclose(agg["stddev"]["version"], math.sqrt(var_samp))


async def test_aggregate_of_nothing(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow_run_aggregate(where: {state: {_eq: "Nope"}}) {
            aggregate { count sum { version } max { version } stddev { version } } nodes { id }
        } }"""
    )
    assert data["flow_run_aggregate"] == {
        "aggregate": {
            "count": 0,
            "sum": {"version": None},
            "max": {"version": None},
            "stddev": {"version": None},
        },
        "nodes": [],
    }


async def test_single_row_sample_statistics_are_null(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow_run_aggregate(where: {state: {_eq: "Success"}}) {
            aggregate { stddev_samp { version } var_pop { version } }
        } }"""
    )
    agg = data["flow_run_aggregate"]["aggregate"]
    assert agg["stddev_samp"]["version"] is None
    assert agg["var_pop"]["version"] == 0


async def test_aggregate_covers_the_limited_window_and_nodes(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow_run_aggregate(order_by: {version: asc}, limit: 2) {
            aggregate { count sum { version } } nodes { id version }
        } }"""
    )
    result = data["flow_run_aggregate"]
    assert result["aggregate"] == {"count": 2, "sum": {"version": 3}}
    assert result["nodes"] == [{"id": W.r3, "version": 1}, {"id": W.r2, "version": 2}]


async def test_dashboard_style_aliases(gql: Any, world: Any) -> None:
    states = ["Success", "Failed", "Scheduled", "Running", "Pending"]
    aliases = "\n".join(
        f'{s.lower()}: flow_run_aggregate(where: {{state: {{_eq: "{s}"}}}}) {{ aggregate {{ count }} }}'
        for s in states
    )
    data = await gql(f"query {{ {aliases} }}")
    assert [data[s.lower()]["aggregate"]["count"] for s in states] == [1, 1, 1, 1, 0]


async def test_nested_aggregates_per_parent(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow(order_by: {created: asc}) {
            name
            flow_runs_aggregate { aggregate { count max { version } } }
            failed: flow_runs_aggregate(where: {state: {_eq: "Failed"}}) { aggregate { count } }
            tasks_aggregate { aggregate { count } nodes { slug } }
        } }"""
    )
    rows = [
        (
            f["name"],
            f["flow_runs_aggregate"]["aggregate"]["count"],
            f["flow_runs_aggregate"]["aggregate"]["max"]["version"],
            f["failed"]["aggregate"]["count"],
            f["tasks_aggregate"]["aggregate"]["count"],
            len(f["tasks_aggregate"]["nodes"]),
        )
        for f in data["flow"]
    ]
    assert rows == [
        ("ETL Pipeline", 2, 3, 1, 5, 5),
        ("ml-train", 1, 1, 0, 0, 0),
        ("Étude", 1, 5, 0, 0, 0),
    ]


async def test_nested_aggregate_with_limit_per_parent(gql: Any, world: Any) -> None:
    data = await gql(
        """query($id: uuid!) { flow_run_by_pk(id: $id) {
            task_runs_aggregate(order_by: {map_index: desc}, limit: 2) {
                aggregate { count sum { map_index } } } } }""",
        {"id": W.r1},
    )
    agg = data["flow_run_by_pk"]["task_runs_aggregate"]["aggregate"]
    assert agg == {"count": 2, "sum": {"map_index": 1}}


async def test_distinct_without_columns_is_an_error(gql: Any, world: Any) -> None:
    errors = await gql.errors(
        "query { flow_run_aggregate { aggregate { count(distinct: true) } } }"
    )
    assert "columns" in errors[0]["message"]
