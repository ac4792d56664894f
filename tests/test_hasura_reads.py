"""Reading through the generated Hasura API: selections, relationships, values."""

from __future__ import annotations

from typing import Any

import pytest
from hasura_data import W, seed


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


async def test_rows_with_nested_relationships_and_typename(gql: Any, world: Any) -> None:
    data = await gql(
        """query($run: uuid, $task: uuid!) { flow_run(where: {id: {_eq: $run}}) {
            __typename id name state version labels parameters
            scheduled_start_time start_time end_time heartbeat
            flow { __typename name project { name } }
            task_runs(order_by: [{map_index: asc}], where: {task_id: {_eq: $task}}) {
                map_index state
            }
            task_runs_aggregate { __typename aggregate { __typename count } }
        } }""",
        {"run": W.r1, "task": W.t2},
    )
    (run,) = data["flow_run"]
    assert run == {
        "__typename": "flow_run",
        "id": W.r1,
        "name": "alpha-run",
        "state": "Success",
        "version": 3,
        "labels": ["x", "y"],
        "parameters": {"a": 1, "b": {"c": [1, 2]}},
        "scheduled_start_time": "2030-01-01T03:00:00+00:00",
        "start_time": "2030-01-01T03:00:05+00:00",
        "end_time": "2030-01-01T04:00:00+00:00",
        "heartbeat": None,
        "flow": {"__typename": "flow", "name": "ETL Pipeline", "project": {"name": "Alpha"}},
        "task_runs": [
            {"map_index": -1, "state": "Mapped"},
            {"map_index": 0, "state": "Success"},
            {"map_index": 1, "state": "Failed"},
        ],
        "task_runs_aggregate": {
            "__typename": "task_run_aggregate",
            "aggregate": {"__typename": "task_run_aggregate_fields", "count": 5},
        },
    }


async def test_value_formats(gql: Any, world: Any) -> None:
    data = await gql(
        """query($id: uuid!, $run: uuid!) {
            task(where: {flow_id: {_eq: $id}}, order_by: {slug: asc}) { slug retry_delay tags }
            flow_run_by_pk(id: $run) { start_time }
        }""",
        {"id": W.etl, "run": W.r4},
    )
    assert [t["retry_delay"] for t in data["task"]] == [
        "00:01:30",
        "1 day 00:00:30",
        None,
        None,
        None,
    ]
    assert data["task"][0]["tags"] == ["a", "b"]
    assert data["flow_run_by_pk"]["start_time"] == "2030-01-04T00:00:00.5+00:00"


async def test_by_pk_missing_is_null_and_log_has_no_by_pk(gql: Any, world: Any) -> None:
    data = await gql("query($id: uuid!) { flow_by_pk(id: $id) { id } }", {"id": W.r1})
    assert data == {"flow_by_pk": None}
    errors = await gql.errors("query($id: uuid!) { log_by_pk(id: $id) { id } }", {"id": W.r1})
    assert "log_by_pk" in errors[0]["message"]
