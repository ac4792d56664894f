"""A caller's mistake in a filter or an update is a GraphQL error in our words: it names
the argument, carries no SQL, logs nothing at ERROR, and is the same on both databases."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hasura_data import W, seed

from prefect_server.graphql.hasura import bounds


@pytest.fixture
async def world(db: Any) -> Any:
    return await seed(db)


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value


RUNS = "query($where: flow_run_bool_exp) { flow_run(where: $where) { id } }"

MISTAKES = [
    pytest.param(
        {"_or": [{"name": {"_eq": f"run {i}"}} for i in range(1_000)]},
        f"The filter `where` has more than {bounds.MAX_TERMS} conditions",
        id="or-of-1000",
    ),
    pytest.param(
        {"_and": [{"name": {"_neq": f"run {i}"}} for i in range(300)]},
        f"The filter `where` has more than {bounds.MAX_TERMS} conditions",
        id="and-of-300",
    ),
    pytest.param(
        {"name": {"_like": "%a" * 5_000}},
        "The pattern at `where.name._like` is 10,000 characters long; patterns are limited "
        "to 1,000.",
        id="like-pattern",
    ),
    pytest.param(
        {"id": {"_in": [str(W.r1)] * 6_000}},
        "The list at `where.id._in` has 6,000 values; lists are limited to 5,000.",
        id="in-list",
    ),
    pytest.param(
        {"parameters": {"_contains": {f"k{i}": i for i in range(2_000)}}},
        "The value at `where.parameters._contains` has more than 500 items",
        id="large-jsonb",
    ),
    pytest.param(
        {"parameters": {"_contains": _nested(60)}},
        "The value at `where.parameters._contains` nests deeper than 16 levels.",
        id="nested-jsonb",
    ),
    # Found by the mutation property test: an internal error on PostgreSQL.
    pytest.param(
        {"name": {"_lte": "a\x00b"}},
        "The value at `where.name._lte` contains a NUL character, which no text can hold.",
        id="nul-character",
    ),
    pytest.param(
        {"name": {"_in": ["a", "\x00"]}},
        "The value at `where.name._in[1]` contains a NUL character, which no text can hold.",
        id="nul-character-in-list",
    ),
]


@pytest.mark.parametrize("where, message", MISTAKES)
async def test_an_oversized_filter_is_refused_in_our_words(
    gql: Any, world: Any, caplog: pytest.LogCaptureFixture, where: Any, message: str
) -> None:
    caplog.set_level(logging.INFO)
    (error,) = await gql.errors(RUNS, {"where": where})
    assert error["message"].startswith(message), error["message"]
    assert "SELECT" not in error["message"] and "sqlite" not in error["message"].lower()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_long_in_lists_of_plain_values_are_no_mistake(gql: Any, world: Any) -> None:
    # The original UI sends every task-run id of a run in one _in (its artifacts tab).
    ids = [str(W.r1)] + [f"00000000-0000-0000-0000-{i:012d}" for i in range(4_999)]
    data = await gql(RUNS, {"where": {"id": {"_in": ids}}})
    assert [r["id"] for r in data["flow_run"]] == [str(W.r1)]


async def test_ordering_comparisons_on_a_boolean_column_answer(gql: Any, world: Any) -> None:
    runs = (await gql("{ flow_run { id auto_scheduled } }"))["flow_run"]
    for op, keep in [("_gt", lambda v: v), ("_lte", lambda v: not v), ("_gte", lambda v: True)]:
        data = await gql(f"{{ flow_run(where: {{auto_scheduled: {{{op}: false}}}}) {{ id }} }}")
        assert {r["id"] for r in data["flow_run"]} == {
            r["id"] for r in runs if keep(r["auto_scheduled"])
        }, op


@pytest.mark.parametrize("op", ["_delete_elem", "_delete_at_path"])
async def test_a_null_operand_of_a_jsonb_delete_is_refused(
    gql: Any, world: Any, caplog: pytest.LogCaptureFixture, op: str
) -> None:
    before = await gql("{ flow_run(order_by: {id: asc}) { labels } }")
    (error,) = await gql.errors(
        f"mutation {{ update_flow_run(where: {{}}, {op}: {{labels: null}}) {{ affected_rows }} }}"
    )
    assert (
        error["message"].startswith(f"{op} needs ")
        and "column labels, got null" in (error["message"])
    )
    assert await gql("{ flow_run(order_by: {id: asc}) { labels } }") == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# Found by the mutation property test on PostgreSQL: a NUL written into a text column
# failed the statement (an internal error logged as ERROR); SQLite would have stored it.
@pytest.mark.parametrize(
    "mutation, at",
    [
        ('update_flow_run(where: {}, _set: {name: "a\\u0000b"}) { affected_rows }', "_set.name"),
        (
            'update_flow_run(where: {}, _append: {context: {k: "\\u0000"}}) { affected_rows }',
            "_append.context.k",
        ),
        ('insert_project(objects: [{name: "p\\u0000"}]) { affected_rows }', "objects[0].name"),
    ],
)
async def test_a_nul_character_in_a_written_value_is_refused(
    gql: Any, world: Any, caplog: pytest.LogCaptureFixture, mutation: str, at: str
) -> None:
    before = await gql("{ flow_run(order_by: {id: asc}) { name context } project { name } }")
    (error,) = await gql.errors(f"mutation {{ {mutation} }}")
    assert (
        error["message"] == f"The value at `{at}` contains a NUL character, which no text can hold."
    )
    assert (
        await gql("{ flow_run(order_by: {id: asc}) { name context } project { name } }") == before
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_nul_character_in_an_action_value_is_answered_in_words(
    gql: Any, db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL refuses the statement (nothing is written) and SQLite stores the value;
    # on PostgreSQL the answer says why in words, without the SQL, and logs no ERROR.
    import factories

    _, run_id, task_run_id = await factories.task_run_chain(db)
    before = await gql("{ flow_run { name } task_run { name } }")
    for field, key in (("set_flow_run_name", run_id), ("set_task_run_name", task_run_id)):
        kind = field.split("_")[1]
        document = (
            f'mutation($n: String!) {{ {field}(input: {{{kind}_run_id: "{key}", name: $n}}) '
            "{ success } }"
        )
        response = await gql.raw(document, {"n": "x\x00"})
        errors = response.json().get("errors")
        if db.is_postgres:
            assert [e["message"] for e in errors] == [
                "A value contains a NUL character (\\u0000), which no text can hold."
            ]
        else:
            assert errors is None
    if db.is_postgres:
        assert await gql("{ flow_run { name } task_run { name } }") == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
