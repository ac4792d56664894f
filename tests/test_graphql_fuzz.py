"""Property tests over the introspected schema: root query and mutation fields with
well- and ill-typed arguments, alone and in batches. Whatever the document, the server
answers without a 5xx, within seconds, keeps answering /health, and logs no ERROR for
it; a mutation answered only with errors changes no row."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from hasura_data import seed, uid
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from prefect_server.database.engine import Database
from prefect_server.database.models import Base

# Mutation root fields called (twice each) per example, and batches after them.
MUTATION_CHUNK = 8
MUTATION_BATCHES = 10
NAMES = ["id", "name", "state", "version", "labels", "parameters", "flow", "created"]
OPERATORS = ["_eq", "_gt", "_lt", "_in", "_like", "_contains", "_has_key", "_and", "_or", "_not"]


def literals() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        st.integers(-(2**40), 2**40).map(str),
        st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"'),
        st.sampled_from(["true", "false", "null", "asc", "desc", "1.5", '"%a%"']),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
            st.dictionaries(st.sampled_from(NAMES + OPERATORS), inner, max_size=3).map(
                lambda d: "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"
            ),
        ),
        max_leaves=12,
    )


def documents(fields: dict[str, list[str]]) -> st.SearchStrategy[str]:
    @st.composite
    def one(draw: st.DrawFn) -> str:
        name = draw(st.sampled_from(sorted(fields)))
        arguments = draw(
            st.dictionaries(st.sampled_from(fields[name] + ["bogus"]), literals(), max_size=3)
        )
        args = ", ".join(f"{k}: {v}" for k, v in arguments.items())
        selection = draw(st.sampled_from(["{ __typename }", "{ id }", ""]))
        return f"{{ {name}{'(' + args + ')' if args else ''} {selection} }}"

    return one()


async def test_no_document_takes_the_server_down(
    client: httpx.AsyncClient, app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    schema = app.state.schema._schema
    fields = {name: list(f.args) for name, f in schema.query_type.fields.items()}
    loop = asyncio.get_running_loop()

    def post(body: Any) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = asyncio.run_coroutine_threadsafe(client.post("/", json=body), loop).result()
        return response, time.perf_counter() - started

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.lists(documents(fields), min_size=1, max_size=3), st.booleans())
    def check(queries: list[str], batched: bool) -> None:
        body: Any = [{"query": q} for q in queries] if batched else {"query": queries[0]}
        response, took = post(body)
        assert response.status_code < 500, (queries, response.text)
        assert took < 5, queries
        health = asyncio.run_coroutine_threadsafe(client.get("/health"), loop).result()
        assert health.status_code == 200
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, (queries, errors[0].getMessage())

    await asyncio.to_thread(check)


# -- mutations -------------------------------------------------------------------------

WORLD_IDS = [str(uid(n)) for n in (1, 10, 11, 15, 20, 21, 31, 32, 41, 42, 43, 44, 61, 62)]
STATE_TYPES = ["Success", "Failed", "Running", "Scheduled", "Submitted", "Cancelled", "Bogus"]


def json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 5),
        st.sampled_from(["", "x", "Success", "a", "FAILED"]),
        st.builds(
            lambda t, m: {"type": t, "message": m},
            st.sampled_from(STATE_TYPES),
            st.text(max_size=4),
        ),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(["type", "message", "a", "labels", "key"]), inner, max_size=3
            ),
        ),
        max_leaves=6,
    )


TIMES = ["2030-01-01T00:00:00+00:00", "2020-06-01T12:00:00Z"]
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Boolean": st.booleans(),
    "Int": st.integers(-2, 5),
    "String": st.one_of(
        st.sampled_from(["", "x", "default", "Success", "FAILED", "WEBHOOK", "Test"]),
        st.text(max_size=8),
    ),
    "uuid": st.one_of(st.sampled_from(WORLD_IDS), st.uuids().map(str)),
    "UUID": st.one_of(st.sampled_from(WORLD_IDS), st.uuids().map(str)),
    "JSON": json_values(),
    "jsonb": json_values(),
    "DateTime": st.sampled_from(TIMES),
    "timestamptz": st.sampled_from(TIMES),
    "interval": st.sampled_from(["0:00:10", "1 day", "10"]),
}


def typed_value(kind: Any, depth: int = 0, nullable: bool = True) -> st.SearchStrategy[Any]:
    """A JSON value of the GraphQL input type ``kind`` (null only where it is allowed)."""
    if isinstance(kind, GraphQLNonNull):
        return typed_value(kind.of_type, depth, nullable=False)
    none = st.none() if nullable and depth else st.nothing()
    if isinstance(kind, GraphQLList):
        return st.lists(typed_value(kind.of_type, depth + 1), max_size=2) | none
    if isinstance(kind, GraphQLEnumType):
        return st.sampled_from(sorted(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        required = {
            name: typed_value(f.type, depth + 1)
            for name, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
        optional = {
            name: typed_value(f.type, depth + 1)
            for name, f in kind.fields.items()
            if name not in required and depth <= 2
        }
        return st.fixed_dictionaries(required, optional=optional)
    scalar = SCALARS[kind.name]
    return scalar if nullable else scalar.map(lambda value: {} if value is None else value)


def mutation_document(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    mutation: GraphQLObjectType,
    name: str,
    well_typed: bool,
) -> dict[str, Any]:
    """A request body calling one mutation root field: well-typed arguments through
    variables, or ill-typed literals and unknown arguments inline."""
    field = mutation.fields[name]
    returned = get_named_type(field.type)
    selection = "" if isinstance(returned, GraphQLScalarType) else "{ __typename }"
    if well_typed:
        args = [
            a
            for a, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) or draw(st.booleans())
        ]
        values = {f"v{i}": draw(typed_value(field.args[a].type)) for i, a in enumerate(args)}
        declared = ", ".join(f"$v{i}: {field.args[a].type}" for i, a in enumerate(args))
        passed = ", ".join(f"{a}: $v{i}" for i, a in enumerate(args))
        head = f"mutation({declared})" if args else "mutation"
        call = f"{name}({passed})" if args else name
        return {"query": f"{head} {{ {call} {selection} }}", "variables": values}
    arguments = draw(
        st.dictionaries(st.sampled_from([*field.args, "bogus"]), literals(), max_size=3)
    )
    inline = ", ".join(f"{k}: {v}" for k, v in arguments.items())
    return {"query": f"mutation {{ {name}{'(' + inline + ')' if inline else ''} {selection} }}"}


async def checksum(db: Database) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows, as the driver returns them."""
    found = {}
    async with db.session() as session:
        connection = await session.connection()
        for table in Base.metadata.sorted_tables:
            result = await connection.exec_driver_sql(f"SELECT * FROM {table.name}")
            rows = sorted(repr(tuple(row)) for row in result)
            found[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def failed(answer: Any) -> bool:
    """Every operation of the answer failed (a batch answers a list)."""
    answers = answer if isinstance(answer, list) else [answer]
    return all(a.get("errors") and not any((a.get("data") or {}).values()) for a in answers)


async def test_no_mutation_takes_the_server_down_or_half_writes(
    client: httpx.AsyncClient, app: Any, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Every mutation root field, once with well-typed and once with ill-typed arguments,
    then batches of random ones: no 5xx, an answer within seconds, /health still
    answering, no ERROR logged, and an answer made only of errors leaves every row of
    every table as it was."""
    await seed(db)
    mutation = app.state.schema._schema.mutation_type
    # Deletions last: a delete with an empty ``where`` empties its table for the rest.
    names = sorted(mutation.fields, key=lambda name: (name.startswith("delete_"), name))
    loop = asyncio.get_running_loop()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def post(body: Any, before: Any) -> Any:
        started = time.perf_counter()
        response = run(client.post("/", json=body))
        took = time.perf_counter() - started
        assert response.status_code < 500, (body, response.text)
        assert took < 5, body
        assert run(client.get("/health")).status_code == 200
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        caplog.clear()
        assert not errors, (body, errors[0].getMessage())
        after = run(checksum(db))
        if failed(response.json()):
            changed = sorted(t for t in after if after[t] != before[t])
            assert not changed, (body, response.json(), changed)
        return after

    state = {"tables": None}

    # One Hypothesis run per few fields (a long example overruns its buffer and is
    # thrown away; a run that picked its fields from outside state would be "flaky"),
    # then one run of batches. No shrinking: the rows an example wrote stay for the
    # next one, so a replay differs.
    def hypothesis_run(examples: int) -> Any:
        return settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.generate],
        )

    def each_way(fields: list[str]) -> Callable[[], None]:
        @hypothesis_run(1)
        @given(st.data())
        def check(data: st.DataObject) -> None:
            tables = state["tables"] or run(checksum(db))
            for name in fields:
                for well_typed in (True, False):
                    tables = post(mutation_document(data.draw, mutation, name, well_typed), tables)
                    state["tables"] = tables

        return check

    @hypothesis_run(MUTATION_BATCHES)
    @given(st.data())
    def batches(data: st.DataObject) -> None:
        batch = [
            mutation_document(
                data.draw, mutation, data.draw(st.sampled_from(names)), data.draw(st.booleans())
            )
            for _ in range(data.draw(st.integers(2, 3)))
        ]
        state["tables"] = post(batch, state["tables"] or run(checksum(db)))

    for start in range(0, len(names), MUTATION_CHUNK):
        await asyncio.to_thread(each_way(names[start : start + MUTATION_CHUNK]))
    await asyncio.to_thread(batches)
