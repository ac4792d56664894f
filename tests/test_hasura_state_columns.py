"""A run's state columns move only through the state functions, never through ``_set``/``_inc``."""

from __future__ import annotations

from typing import Any

import pytest
from hasura_data import W, seed

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
