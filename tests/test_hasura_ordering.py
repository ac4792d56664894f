"""Ordering, distinct_on, per-parent pagination and aliases in the generated API."""

from __future__ import annotations

from typing import Any

import pytest
from hasura_data import W, seed

NAMES = {getattr(W, k): k for k in W.__dataclass_fields__}


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [NAMES.get(row["id"], row["id"]) for row in rows]


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("asc", ["r1", "r4", "r2", "r3"]),
        ("asc_nulls_last", ["r1", "r4", "r2", "r3"]),
        ("asc_nulls_first", ["r2", "r3", "r1", "r4"]),
        ("desc", ["r2", "r3", "r4", "r1"]),
        ("desc_nulls_first", ["r2", "r3", "r4", "r1"]),
        ("desc_nulls_last", ["r4", "r1", "r2", "r3"]),
    ],
)
async def test_directions_place_nulls_as_postgresql(
    gql: Any, world: Any, direction: str, expected: list[str]
) -> None:
    query = """query($order: [flow_run_order_by!]) { flow_run(order_by: $order) { id } }"""
    data = await gql(query, {"order": [{"start_time": direction}, {"id": "asc"}]})
    assert names(data["flow_run"]) == expected
    # The same direction written as an enum literal.
    data = await gql(
        "query { flow_run(order_by: [{start_time: %s}, {id: asc}]) { id } }" % direction  # noqa: UP031
    )
    assert names(data["flow_run"]) == expected


async def test_keys_of_one_object_sort_in_written_order(gql: Any, world: Any) -> None:
    data = await gql(
        """query {
            by_task: task_run(order_by: {task_id: desc, map_index: asc, id: asc}) { id }
            by_index: task_run(order_by: {map_index: asc, task_id: desc, id: asc}) { id }
        }"""
    )
    assert [int(r["id"][-2:], 16) for r in data["by_task"]] == [65, 62, 63, 64, 61, 66]
    assert [int(r["id"][-2:], 16) for r in data["by_index"]] == [65, 62, 61, 66, 63, 64]


async def test_multi_key_list_with_nested_object_relationship(gql: Any, world: Any) -> None:
    data = await gql(
        """query { task_run(where: {flow_run_id: {_eq: "%s"}},
                            order_by: [{task: {slug: desc}}, {map_index: desc}]) {
            map_index task { slug } } }"""  # noqa: UP031
        % W.r1
    )
    assert [(r["task"]["slug"], r["map_index"]) for r in data["task_run"]] == [
        ("t3", -1),
        ("t2", 1),
        ("t2", 0),
        ("t2", -1),
        ("t1", -1),
    ]


async def test_order_by_two_levels_of_object_relationships(gql: Any, world: Any) -> None:
    data = await gql(
        "query { flow_run(order_by: [{flow: {project: {name: desc}}}, {version: asc}]) { id } }"
    )
    assert names(data["flow_run"]) == ["r3", "r2", "r1", "r4"]


async def test_order_by_array_relationship_aggregates(gql: Any, world: Any) -> None:
    data = await gql(
        """query {
            by_max: flow(order_by: {flow_runs_aggregate: {max: {version: desc}}}) { id }
            by_count: flow(order_by: [{flow_runs_aggregate: {count: desc}}, {name: asc}]) { id }
        }"""
    )
    assert names(data["by_max"]) == ["etude", "etl", "ml"]
    assert names(data["by_count"]) == ["etl", "ml", "etude"]


async def test_distinct_on_keeps_first_row_per_key(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow_run(distinct_on: flow_id,
                            order_by: [{flow_id: asc}, {scheduled_start_time: desc}]) { id } }"""
    )
    assert names(data["flow_run"]) == ["r2", "r3", "r4"]
    data = await gql(
        """query { flow_run(distinct_on: [flow_id], limit: 1,
                            order_by: [{flow_id: asc}, {scheduled_start_time: asc}]) { id } }"""
    )
    assert names(data["flow_run"]) == ["r1"]


async def test_distinct_on_inside_an_array_relationship(gql: Any, world: Any) -> None:
    data = await gql(
        """query($id: uuid!) { flow_run_by_pk(id: $id) {
            task_runs(distinct_on: task_id, order_by: [{task_id: asc}, {map_index: desc}]) {
                map_index task { slug } } } }""",
        {"id": W.r1},
    )
    rows = data["flow_run_by_pk"]["task_runs"]
    assert [(r["task"]["slug"], r["map_index"]) for r in rows] == [
        ("t1", -1),
        ("t2", 1),
        ("t3", -1),
    ]


async def test_limit_and_offset_apply_per_parent(gql: Any, world: Any) -> None:
    data = await gql(
        """query { flow(order_by: {created: asc}) {
            latest: flow_runs(order_by: {scheduled_start_time: desc}, limit: 1) { id }
            older: flow_runs(order_by: {scheduled_start_time: desc}, offset: 1) { id }
            all: flow_runs(order_by: {scheduled_start_time: asc}, limit: null, offset: null) { id }
        } }"""
    )
    flows = data["flow"]
    assert [names(f["latest"]) for f in flows] == [["r2"], ["r3"], ["r4"]]
    assert [names(f["older"]) for f in flows] == [["r1"], [], []]
    assert [names(f["all"]) for f in flows] == [["r1", "r2"], ["r3"], ["r4"]]


async def test_root_limit_and_offset(gql: Any, world: Any) -> None:
    data = await gql("query { flow_run(order_by: {version: asc}, limit: 2, offset: 1) { id } }")
    assert names(data["flow_run"]) == ["r2", "r1"]


async def test_aliases_and_fragments_keep_their_own_arguments(gql: Any, world: Any) -> None:
    data = await gql(
        """query($id: uuid!) {
            run: flow_run_by_pk(id: $id) {
                first: task_runs(order_by: {map_index: asc}, limit: 1) { ...TR }
                last: task_runs(order_by: {map_index: desc}, limit: 1) { ...TR }
                ... on flow_run { n: task_runs_aggregate(where: {state: {_eq: "Success"}}) {
                    aggregate { count } } }
            }
        }
        fragment TR on task_run { map_index }""",
        {"id": W.r1},
    )
    assert list(data["run"]) == ["first", "last", "n"]
    assert data["run"]["first"] == [{"map_index": -1}]
    assert data["run"]["last"] == [{"map_index": 1}]
    assert data["run"]["n"] == {"aggregate": {"count": 2}}


async def test_unknown_order_key_is_rejected(gql: Any, world: Any) -> None:
    errors = await gql.errors('query { flow_run(order_by: {"flow.name": asc}) { id } }')
    assert errors
    errors = await gql.errors("query { flow_run(order_by: {nope: asc}) { id } }")
    assert "nope" in errors[0]["message"]
