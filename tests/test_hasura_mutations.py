"""Hasura's generated mutations: inserts (with on_conflict and nested rows), updates with
every operator, deletes, and state rows written through the state functions."""

from __future__ import annotations

from typing import Any

import pytest
from hasura_data import W, seed, uid


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


async def test_insert_returning_and_on_conflict(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation($objects: [project_insert_input!]!) {
            insert_project(objects: $objects) {
                affected_rows returning { id name description created updated tenant { slug } }
            } }""",
        {
            "objects": [
                {"name": "gamma", "tenant_id": W.tenant},
                {"name": "delta", "tenant_id": W.tenant, "description": "d"},
            ]
        },
    )
    result = data["insert_project"]
    assert result["affected_rows"] == 2
    assert [(r["name"], r["description"], r["tenant"]["slug"]) for r in result["returning"]] == [
        ("gamma", None, "test"),
        ("delta", "d", "test"),
    ]
    assert all(r["created"] and r["updated"] for r in result["returning"])

    conflict = """mutation($object: project_insert_input!, $columns: [project_update_column!]!) {
        insert_project_one(object: $object, on_conflict: {
            constraint: project_tenant_id_name_key, update_columns: $columns}) { id description } }"""
    skipped = await gql(
        conflict,
        {"object": {"name": "gamma", "tenant_id": W.tenant, "description": "x"}, "columns": []},
    )
    assert skipped == {"insert_project_one": None}
    updated = await gql(
        conflict,
        {
            "object": {"name": "gamma", "tenant_id": W.tenant, "description": "x"},
            "columns": ["description"],
        },
    )
    assert updated["insert_project_one"]["description"] == "x"
    count = await gql(
        'query { project_aggregate(where: {name: {_eq: "gamma"}}) { aggregate { count } } }'
    )
    assert count["project_aggregate"]["aggregate"]["count"] == 1


async def test_uniqueness_violation_writes_nothing(gql: Any, world: Any) -> None:
    errors = await gql.errors(
        """mutation($objects: [project_insert_input!]!) { insert_project(objects: $objects) { affected_rows } }""",
        {
            "objects": [
                {"name": "fresh", "tenant_id": W.tenant},
                {"name": "Alpha", "tenant_id": W.tenant},
            ]
        },
    )
    assert errors[0]["message"].startswith("Uniqueness violation.")
    data = await gql('query { project(where: {name: {_eq: "fresh"}}) { id } }')
    assert data["project"] == []


async def test_update_operators_and_updated_moves(gql: Any, world: Any) -> None:
    before = await gql("query($id: uuid!) { flow_run_by_pk(id: $id) { updated } }", {"id": W.r1})
    data = await gql(
        """mutation($id: uuid!, $append: flow_run_append_input) { update_flow_run(
            where: {id: {_eq: $id}}, _set: {name: "renamed"}, _inc: {times_resurrected: 2},
            _append: $append, _delete_key: {context: "gone"}) {
            affected_rows returning { name times_resurrected labels parameters updated } } }""",
        {"id": W.r1, "append": {"labels": ["new"], "parameters": {"z": 9}}},
    )
    result = data["update_flow_run"]
    assert result["affected_rows"] == 1
    (row,) = result["returning"]
    assert row["name"] == "renamed"
    assert row["times_resurrected"] == 2
    assert row["labels"] == ["x", "y", "new"]
    assert row["parameters"] == {"a": 1, "b": {"c": [1, 2]}, "z": 9}
    assert row["updated"] > before["flow_run_by_pk"]["updated"]


async def test_update_by_pk_json_deletes_and_prepend(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation($id: uuid!) { update_flow_run_by_pk(pk_columns: {id: $id},
            _prepend: {labels: ["first"]}, _delete_key: {parameters: "a"},
            _delete_at_path: {parameters: ["b", "c"]}) { labels parameters } }""",
        {"id": W.r1},
    )
    assert data["update_flow_run_by_pk"] == {"labels": ["first", "x", "y"], "parameters": {"b": {}}}
    data = await gql(
        """mutation($id: uuid!) { update_flow_run_by_pk(pk_columns: {id: $id},
            _delete_elem: {labels: -1}) { labels } }""",
        {"id": W.r1},
    )
    assert data["update_flow_run_by_pk"] == {"labels": ["first", "x"]}
    missing = await gql(
        """mutation($id: uuid!) { update_flow_run_by_pk(pk_columns: {id: $id}, _set: {name: "x"}) { id } }""",
        {"id": str(uid(999))},
    )
    assert missing == {"update_flow_run_by_pk": None}


async def test_bulk_update_with_relationship_filter(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation { update_flow_run(where: {flow: {name: {_eq: "ETL Pipeline"}}},
            _set: {labels: ["relabelled"]}) { affected_rows } }"""
    )
    assert data["update_flow_run"]["affected_rows"] == 2
    runs = await gql('query { flow_run(where: {labels: {_contains: ["relabelled"]}}) { id } }')
    assert sorted(r["id"] for r in runs["flow_run"]) == [W.r1, W.r2]


async def test_delete_returning_and_by_pk(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation { delete_log(where: {level: {_eq: "INFO"}}) {
            affected_rows returning { message level } } }"""
    )
    assert data["delete_log"]["affected_rows"] == 2
    assert sorted(r["message"] for r in data["delete_log"]["returning"]) == ["one", "three"]
    left = await gql("query { log { message } }")
    assert left["log"] == [{"message": "two"}]
    data = await gql(
        """mutation($id: uuid!) { delete_task_run(where: {id: {_eq: $id}}) {
            returning { map_index task { slug } } } }""",
        {"id": str(uid(61))},
    )
    assert data["delete_task_run"]["returning"] == [{"map_index": -1, "task": {"slug": "t1"}}]
    gone = await gql(
        "mutation($id: uuid!) { delete_edge_by_pk(id: $id) { id key } }", {"id": str(uid(51))}
    )
    assert gone == {"delete_edge_by_pk": {"id": str(uid(51)), "key": None}}
    again = await gql(
        "mutation($id: uuid!) { delete_edge_by_pk(id: $id) { id } }", {"id": str(uid(51))}
    )
    assert again == {"delete_edge_by_pk": None}


async def test_inserted_state_row_goes_through_the_state_function(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation($objects: [flow_run_state_insert_input!]!) {
            insert_flow_run_state(objects: $objects) { affected_rows returning { state version flow_run { state version } } } }""",
        {
            "objects": [
                {
                    "flow_run_id": W.r3,
                    "state": "Running",
                    "serialized_state": {"type": "Running", "message": "go"},
                }
            ]
        },
    )
    result = data["insert_flow_run_state"]
    assert result["affected_rows"] == 1
    (row,) = result["returning"]
    # The run moved exactly as set_flow_run_state moves it: version + 1, state copied.
    assert row == {"state": "Running", "version": 2, "flow_run": {"state": "Running", "version": 2}}


async def test_nested_insert_of_states_with_a_task_run(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation($object: task_run_insert_input!) { insert_task_run_one(object: $object) {
            map_index state version states { state } } }""",
        {
            "object": {
                "flow_run_id": W.r2,
                "task_id": W.t2,
                "map_index": 7,
                "tenant_id": W.tenant,
                "states": {"data": [{"state": "Pending", "serialized_state": {"type": "Pending"}}]},
            }
        },
    )
    assert data["insert_task_run_one"] == {
        "map_index": 7,
        "state": "Pending",
        "version": 1,
        "states": [{"state": "Pending"}],
    }


async def test_bad_filter_in_a_mutation_writes_nothing(gql: Any, world: Any) -> None:
    errors = await gql.errors("mutation { delete_task(where: {nope: {_eq: 1}}) { affected_rows } }")
    assert "nope" in errors[0]["message"]
    errors = await gql.errors(
        'mutation { update_task(where: {}, _set: {name: "x"}, _inc: {nope: 1}) { affected_rows } }'
    )
    assert "nope" in errors[0]["message"]
    data = await gql('query { task_aggregate(where: {name: {_eq: "x"}}) { aggregate { count } } }')
    assert data["task_aggregate"]["aggregate"]["count"] == 0


async def test_inserted_flow_run_starts_with_its_task_runs(gql: Any, world: Any) -> None:
    # Server 1's trigger gave every inserted flow run one Pending task run per task.
    insert = """mutation($object: flow_run_insert_input!) {
        insert_flow_run_one(object: $object, on_conflict: {
            constraint: ix_flow_run_idempotency_key_unique, update_columns: [idempotency_key]}) {
          id task_runs { map_index state version task { flow_id } } } }"""
    obj = {"flow_id": W.etl, "tenant_id": W.tenant, "idempotency_key": "hasura-insert"}
    data = await gql(insert, {"object": obj})
    tasks = await gql(
        "query($f: uuid!) { task_aggregate(where: {flow_id: {_eq: $f}}) { aggregate { count } } }",
        {"f": W.etl},
    )
    expected = tasks["task_aggregate"]["aggregate"]["count"]
    assert expected > 0
    task_runs = data["insert_flow_run_one"]["task_runs"]
    assert len(task_runs) == expected
    assert all(
        t == {"map_index": -1, "state": "Pending", "version": 1, "task": {"flow_id": W.etl}}
        for t in task_runs
    )
    again = await gql(insert, {"object": obj})
    assert again["insert_flow_run_one"]["id"] == data["insert_flow_run_one"]["id"]
    assert len(again["insert_flow_run_one"]["task_runs"]) == expected
