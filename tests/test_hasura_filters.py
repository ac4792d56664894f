"""``where`` of the generated API: every operator per column type, relationships, null collapse."""

from __future__ import annotations

from typing import Any

import pytest
from hasura_data import W, seed, uid

NAMES = {getattr(W, k): k for k in W.__dataclass_fields__}


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


async def matching(gql: Any, table: str, where: Any, **extra: Any) -> list[str]:
    query = f"""query($where: {table}_bool_exp, $limit: Int, $offset: Int) {{
        {table}(where: $where, limit: $limit, offset: $offset) {{ id }}
    }}"""
    data = await gql(query, {"where": where, **extra})
    return sorted(NAMES.get(row["id"], row["id"]) for row in data[table])


RUNS = ["r1", "r2", "r3", "r4"]

CASES: list[tuple[str, Any, list[str]]] = [
    # String
    ("flow_run", {"name": {"_eq": "alpha-run"}}, ["r1"]),
    ("flow_run", {"name": {"_neq": "alpha-run"}}, ["r2", "r4"]),
    ("flow_run", {"state": {"_gt": "Running"}}, ["r1", "r3"]),
    ("flow_run", {"state": {"_gte": "Scheduled"}}, ["r1", "r3"]),
    ("flow_run", {"state": {"_lt": "Running"}}, ["r2"]),
    ("flow_run", {"state": {"_lte": "Running"}}, ["r2", "r4"]),
    ("flow_run", {"state": {"_in": ["Success", "Failed"]}}, ["r1", "r2"]),
    ("flow_run", {"state": {"_nin": ["Success", "Failed"]}}, ["r3", "r4"]),
    ("flow_run", {"name": {"_is_null": True}}, ["r3"]),
    ("flow_run", {"name": {"_is_null": False}}, ["r1", "r2", "r4"]),
    ("flow_run", {"name": {"_like": "%run"}}, ["r1", "r4"]),
    ("flow_run", {"name": {"_like": "%Run"}}, ["r2"]),
    ("flow_run", {"name": {"_like": "alpha_run"}}, ["r1"]),
    ("flow_run", {"name": {"_like": "gamma\\_run"}}, ["r4"]),
    ("flow_run", {"name": {"_like": "alpha\\_run"}}, []),
    ("flow_run", {"name": {"_like": "*run"}}, []),
    ("flow_run", {"name": {"_nlike": "%run"}}, ["r2"]),
    ("flow_run", {"name": {"_ilike": "%RUN"}}, ["r1", "r2", "r4"]),
    ("flow_run", {"name": {"_nilike": "ALPHA%"}}, ["r2", "r4"]),
    ("flow_run", {"name": {"_similar": "(alpha|gamma)%"}}, ["r1", "r4"]),
    ("flow_run", {"name": {"_nsimilar": "(alpha|gamma)%"}}, ["r2"]),
    ("flow_run", {"name": {"_similar": "alpha.run"}}, []),
    ("flow", {"name": {"_ilike": "%ÉTUDE%"}}, ["etude"]),
    ("flow", {"name": {"_ilike": "étude"}}, ["etude"]),
    # Int
    ("flow_run", {"version": {"_eq": 3}}, ["r1"]),
    ("flow_run", {"version": {"_neq": 3}}, ["r2", "r3", "r4"]),
    ("flow_run", {"version": {"_gt": 2}}, ["r1", "r4"]),
    ("flow_run", {"version": {"_gte": 5}}, ["r4"]),
    ("flow_run", {"version": {"_lt": 2}}, ["r3"]),
    ("flow_run", {"version": {"_lte": 2}}, ["r2", "r3"]),
    ("flow_run", {"version": {"_in": [1, 5]}}, ["r3", "r4"]),
    ("flow_run", {"version": {"_nin": [1, 5]}}, ["r1", "r2"]),
    ("task", {"max_retries": {"_is_null": False}}, ["t1", "t2"]),
    # uuid
    ("flow_run", {"id": {"_eq": W.r1}}, ["r1"]),
    ("flow_run", {"id": {"_neq": W.r1}}, ["r2", "r3", "r4"]),
    ("flow_run", {"id": {"_gt": W.r2}}, ["r3", "r4"]),
    ("flow_run", {"id": {"_gte": W.r2}}, ["r2", "r3", "r4"]),
    ("flow_run", {"id": {"_lt": W.r2}}, ["r1"]),
    ("flow_run", {"id": {"_lte": W.r2}}, ["r1", "r2"]),
    ("flow_run", {"id": {"_in": [W.r1, W.r3]}}, ["r1", "r3"]),
    ("flow_run", {"id": {"_nin": [W.r1, W.r3]}}, ["r2", "r4"]),
    ("flow_run", {"agent_id": {"_is_null": True}}, RUNS),
    # timestamptz, offsets honoured
    ("flow_run", {"scheduled_start_time": {"_eq": "2030-01-01T04:00:00+01:00"}}, ["r1"]),
    ("flow_run", {"scheduled_start_time": {"_neq": "2030-01-01T03:00:00Z"}}, ["r2", "r3", "r4"]),
    (
        "flow_run",
        {"scheduled_start_time": {"_gte": "2030-01-02T00:00:00+00:00"}},
        ["r2", "r3", "r4"],
    ),
    ("flow_run", {"scheduled_start_time": {"_gt": "2030-01-02T00:00:00+00:00"}}, ["r3", "r4"]),
    ("flow_run", {"scheduled_start_time": {"_lt": "2030-01-02T00:00:00Z"}}, ["r1"]),
    ("flow_run", {"scheduled_start_time": {"_lte": "2030-01-02T00:00:00Z"}}, ["r1", "r2"]),
    ("flow_run", {"start_time": {"_in": ["2030-01-04T00:00:00.5+00:00"]}}, ["r4"]),
    ("flow_run", {"start_time": {"_nin": ["2030-01-04T00:00:00.5+00:00"]}}, ["r1"]),
    ("flow_run", {"start_time": {"_is_null": True}}, ["r2", "r3"]),
    # Boolean
    ("flow", {"archived": {"_eq": True}}, ["ml"]),
    ("flow", {"archived": {"_neq": True}}, ["etl", "etude"]),
    ("flow", {"archived": {"_in": [False]}}, ["etl", "etude"]),
    # interval
    ("task", {"retry_delay": {"_eq": "00:01:30"}}, ["t1"]),
    ("task", {"retry_delay": {"_gt": "00:01:30"}}, ["t2"]),
    ("task", {"retry_delay": {"_gte": 60}}, ["t1", "t2"]),
    ("task", {"retry_delay": {"_lt": "1 day"}}, ["t1"]),
    ("task", {"retry_delay": {"_is_null": True}}, ["t3", "t4", "t5"]),
    # jsonb
    ("flow_run", {"labels": {"_contains": ["y"]}}, ["r1", "r2"]),
    ("flow_run", {"labels": {"_contains": []}}, RUNS),
    ("flow_run", {"parameters": {"_contains": {"a": 1}}}, ["r1", "r4"]),
    ("flow_run", {"parameters": {"_contains": {"a": 2}}}, ["r2"]),
    ("flow_run", {"parameters": {"_contains": {"b": {"c": [2]}}}}, ["r1"]),
    ("flow_run", {"parameters": {"_contains": {"list": [{"k": "v"}]}}}, ["r4"]),
    ("flow_run", {"parameters": {"_contains": {"a": "1"}}}, []),
    ("flow_run", {"labels": {"_contained_in": ["x", "y", "z"]}}, RUNS),
    ("flow_run", {"labels": {"_contained_in": ["y"]}}, ["r2", "r3"]),
    ("flow_run", {"parameters": {"_contained_in": {"a": 1, "b": {"c": [1, 2, 3]}}}}, ["r1", "r3"]),
    ("flow_run", {"parameters": {"_has_key": "b"}}, ["r1"]),
    ("flow_run", {"labels": {"_has_key": "y"}}, ["r1", "r2"]),
    ("flow_run", {"parameters": {"_has_keys_any": ["b", "list"]}}, ["r1", "r4"]),
    ("flow_run", {"parameters": {"_has_keys_any": "list"}}, ["r4"]),
    ("flow_run", {"parameters": {"_has_keys_all": ["a", "b"]}}, ["r1"]),
    ("flow_run", {"parameters": {"_eq": {"b": {"c": [1, 2]}, "a": 1}}}, ["r1"]),
    ("flow_run", {"parameters": {"_eq": {}}}, ["r3"]),
    ("flow_run", {"labels": {"_neq": ["y"]}}, ["r1", "r3", "r4"]),
    ("flow_run", {"labels": {"_in": [["y"], ["z"]]}}, ["r2", "r4"]),
    ("flow_run", {"context": {"_is_null": True}}, RUNS),
    # boolean structure
    ("flow_run", {"_not": {"state": {"_eq": "Success"}}}, ["r2", "r3", "r4"]),
    ("flow_run", {"_or": [{"state": {"_eq": "Success"}}, {"version": {"_eq": 5}}]}, ["r1", "r4"]),
    ("flow_run", {"_and": {"state": {"_eq": "Success"}}}, ["r1"]),
    ("flow_run", {"_and": [{"version": {"_gt": 1}}, {"version": {"_lt": 5}}]}, ["r1", "r2"]),
    ("flow_run", {"_or": []}, []),
    ("flow_run", {"_and": []}, RUNS),
    # relationships, both ways
    ("flow_run", {"flow": {"name": {"_eq": "ETL Pipeline"}}}, ["r1", "r2"]),
    ("flow_run", {"flow": {"project": {"name": {"_ilike": "ALPHA"}}}}, ["r1", "r2", "r4"]),
    ("flow", {"flow_runs": {"state": {"_eq": "Running"}}}, ["etude"]),
    ("flow", {"project": {"flows": {"archived": {"_eq": True}}}}, ["ml"]),
    ("task", {"task_runs": {}}, ["t1", "t2", "t3"]),
    ("task", {"_not": {"task_runs": {}}}, ["t4", "t5"]),
    ("task", {"upstream_edges": {"upstream_task": {"name": {"_eq": "extract"}}}}, ["t2", "t4"]),
    ("task", {"downstream_edges": {"downstream_task": {"slug": {"_eq": "t3"}}}}, ["t2", "t4"]),
    (
        "task_run",
        {"flow_run": {"state": {"_eq": "Failed"}}, "task": {"slug": {"_eq": "t1"}}},
        [str(uid(66))],
    ),
    # null collapse: a null operator, an empty object, a null relationship filter are TRUE
    ("flow_run", {"name": {"_eq": None}}, RUNS),
    ("flow_run", {"name": {"_is_null": None}}, RUNS),
    ("flow_run", {"state": {"_in": None}, "version": {"_gt": None, "_lt": 3}}, ["r2", "r3"]),
    ("flow_run", {"_or": [{"name": {"_ilike": None}}, {"state": {"_eq": "Success"}}]}, RUNS),
    ("flow_run", {"_and": [{}, {"state": {"_eq": "Failed"}}]}, ["r2"]),
    ("flow_run", {"flow": {"name": {"_eq": None}}}, RUNS),
    ("flow_run", {"flow": None}, RUNS),
    ("flow_run", {"_not": None}, RUNS),
    ("flow_run", {"_not": {}}, []),
    ("flow_run", {}, RUNS),
    ("flow_run", None, RUNS),
    ("task", {"task_runs": {"state": {"_eq": None}}}, ["t1", "t2", "t3"]),
    ("flow_run", {"parameters": {"_contains": None}, "labels": {"_has_key": None}}, RUNS),
]


@pytest.mark.parametrize(("table", "where", "expected"), CASES)
async def test_where(gql: Any, world: Any, table: str, where: Any, expected: list[str]) -> None:
    assert await matching(gql, table, where) == expected


async def test_limit_and_offset_null_mean_none(gql: Any, world: Any) -> None:
    assert await matching(gql, "flow_run", None, limit=None, offset=None) == RUNS


async def test_unset_variable_in_operator_collapses(gql: Any, world: Any) -> None:
    query = """query($flow: uuid, $group: uuid, $search: String) {
        flow_run(where: {flow_id: {_eq: $flow}, flow: {flow_group_id: {_eq: $group}},
                         name: {_ilike: $search}}) { id }
    }"""
    data = await gql(query, {"search": "%alpha%"})
    assert [row["id"] for row in data["flow_run"]] == [W.r1]
    data = await gql(query, {})
    assert len(data["flow_run"]) == 4


async def test_comparison_expression_as_a_variable(gql: Any, world: Any) -> None:
    query = """query($when: timestamptz_comparison_exp) {
        flow_run(where: {scheduled_start_time: $when}, order_by: {scheduled_start_time: asc}) { id }
    }"""
    data = await gql(
        query, {"when": {"_gte": "2030-01-02T00:00:00Z", "_lte": "2030-01-03T00:00:00Z"}}
    )
    assert [row["id"] for row in data["flow_run"]] == [W.r2, W.r3]


@pytest.mark.parametrize(
    ("where", "needle"),
    [
        ('{nope: {_eq: "x"}}', "nope"),
        ('{name: {_contains: "x"}}', "_contains"),
        ("{version: {_like: 1}}", "_like"),
        ("{flow: {nope: {_eq: 1}}}", "nope"),
    ],
)
async def test_unknown_columns_and_operators_are_rejected(
    gql: Any, world: Any, where: str, needle: str
) -> None:
    errors = await gql.errors(f"query {{ flow_run(where: {where}) {{ id }} }}")
    assert needle in errors[0]["message"]


async def test_bad_uuid_is_a_clear_error(gql: Any, world: Any) -> None:
    errors = await gql.errors('query { flow_run(where: {id: {_eq: "not-a-uuid"}}) { id } }')
    assert "not-a-uuid" in errors[0]["message"]


async def test_jsonb_values_written_inline(gql: Any, world: Any) -> None:
    data = await gql(
        'query { flow_run(where: {parameters: {_contains: {b: {c: [2]}}}, labels: {_contains: ["x"]}}) { id } }'
    )
    assert [row["id"] for row in data["flow_run"]] == [W.r1]
