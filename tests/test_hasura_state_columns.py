"""A run's state columns move only through the state functions, never through ``_set``/``_inc``."""

from __future__ import annotations

from typing import Any

import pytest
from hasura_data import W, seed, uid

from prefect_server.graphql.hasura.writes import STATE_COLUMNS


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


RUN = (
    "query($id: uuid!) { flow_run_by_pk(id: $id) { state version serialized_state "
    "states_aggregate { aggregate { count } } } }"
)


@pytest.mark.parametrize("column", sorted(STATE_COLUMNS))
@pytest.mark.parametrize(
    "table, action", [("flow_run", "set_flow_run_states"), ("task_run", "set_task_run_states")]
)
async def test_set_on_a_state_column_is_refused_naming_the_state_action(
    gql: Any, world: Any, caplog: Any, table: str, action: str, column: str
) -> None:
    value = {
        "version": "7",
        "state_timestamp": '"2020-01-01T00:00:00+00:00"',
        "state_start_time": '"2020-01-01T00:00:00+00:00"',
        "state_result": '"r"',
        "serialized_state": '"s"',
    }.get(column, '"Success"')
    errors = await gql.errors(
        f"mutation {{ update_{table}(where: {{}}, _set: {{{column}: {value}}}) "
        "{ affected_rows } }"
    )
    (error,) = errors
    assert error["message"] == (
        f"update_{table} cannot change {column} through _set: a run's state changes only "
        f"through {action}, which records it in the run's state history and steps its version."
    )
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_inc_on_version_is_refused_and_the_run_is_unchanged(gql: Any, world: Any) -> None:
    before = await gql(RUN, {"id": W.r1})
    errors = await gql.errors(
        """mutation($id: uuid!) { update_flow_run_by_pk(pk_columns: {id: $id},
            _set: {name: "renamed"}, _inc: {version: 1}) { id } }""",
        {"id": W.r1},
    )
    assert "cannot change version through _inc" in errors[0]["message"]
    assert "set_flow_run_states" in errors[0]["message"]
    assert await gql(RUN, {"id": W.r1}) == before
    name = await gql("query($id: uuid!) { flow_run_by_pk(id: $id) { name } }", {"id": W.r1})
    assert name["flow_run_by_pk"]["name"] != "renamed"


async def test_other_columns_still_update(gql: Any, world: Any) -> None:
    data = await gql(
        """mutation($id: uuid!) { update_flow_run_by_pk(pk_columns: {id: $id},
            _set: {name: "renamed"}) { name state } }""",
        {"id": W.r1},
    )
    assert data["update_flow_run_by_pk"] == {"name": "renamed", "state": "Success"}


UPSERT = {
    "flow_run": (
        "mutation($o: flow_run_insert_input!, $c: [flow_run_update_column!]!) { "
        "insert_flow_run_one(object: $o, on_conflict: {constraint: flow_run_pkey, "
        "update_columns: $c}) { id } }"
    ),
    "task_run": (
        "mutation($o: task_run_insert_input!, $c: [task_run_update_column!]!) { "
        "insert_task_run(objects: [$o], on_conflict: {constraint: task_run_pkey, "
        "update_columns: $c}) { affected_rows } }"
    ),
}
TASK_RUN = (
    "query($id: uuid!) { task_run_by_pk(id: $id) { state version serialized_state name "
    "states_aggregate { aggregate { count } } } }"
)


@pytest.mark.parametrize("column", sorted(STATE_COLUMNS))
async def test_on_conflict_cannot_update_a_flow_runs_state_columns(
    gql: Any, world: Any, caplog: Any, column: str
) -> None:
    """An upsert onto an existing run is refused as ``_set`` is, and writes nothing."""
    before = await gql(RUN, {"id": W.r1})
    row = {
        "id": W.r1,
        "flow_id": W.etl,
        "tenant_id": W.tenant,
        "state": "Running",
        "version": 99,
        "serialized_state": {"type": "Running"},
        "state_message": "sneaked in",
        "name": "renamed",
    }
    errors = await gql.errors(UPSERT["flow_run"], {"o": row, "c": [column, "name"]})
    (error,) = errors
    assert error["message"] == (
        f"insert_flow_run cannot change {column} through on_conflict.update_columns: a run's "
        "state changes only through set_flow_run_states, which records it in the run's "
        "state history and steps its version."
    )
    assert await gql(RUN, {"id": W.r1}) == before
    name = await gql("query($id: uuid!) { flow_run_by_pk(id: $id) { name } }", {"id": W.r1})
    assert name["flow_run_by_pk"]["name"] != "renamed"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_on_conflict_cannot_update_a_task_runs_state_columns(gql: Any, world: Any) -> None:
    task_run = str(uid(61))
    before = await gql(TASK_RUN, {"id": task_run})
    row = {
        "id": task_run,
        "flow_run_id": W.r1,
        "task_id": W.t1,
        "tenant_id": W.tenant,
        "state": "Failed",
        "version": 42,
        "name": "renamed",
    }
    errors = await gql.errors(UPSERT["task_run"], {"o": row, "c": ["name", "version", "state"]})
    assert errors[0]["message"].startswith(
        "insert_task_run cannot change state, version through on_conflict.update_columns: "
        "a run's state changes only through set_task_run_states"
    )
    assert await gql(TASK_RUN, {"id": task_run}) == before


async def test_on_conflict_still_updates_other_columns(gql: Any, world: Any) -> None:
    row = {"id": W.r1, "flow_id": W.etl, "tenant_id": W.tenant, "name": "upserted"}
    before = await gql(RUN, {"id": W.r1})
    data = await gql(UPSERT["flow_run"], {"o": row, "c": ["name"]})
    assert data["insert_flow_run_one"]["id"] == W.r1
    name = await gql("query($id: uuid!) { flow_run_by_pk(id: $id) { name } }", {"id": W.r1})
    assert name["flow_run_by_pk"]["name"] == "upserted"
    assert await gql(RUN, {"id": W.r1}) == before
