"""A property test over the introspected schema: every root query field with well- and
ill-typed arguments, alone and in batches. Whatever the document, the server answers
without a 5xx, within seconds, keeps answering /health, and logs no ERROR for it.
(Mutations are left out: the oracle "a failed mutation changes no row" is still to do.)"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
