"""Documents that ask for too much are refused with a 400 before validation runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from graphql import get_introspection_query, parse

from prefect_server.graphql.limits import MAX_FIELDS, MAX_TOKENS, limit_errors


def bomb(n: int) -> str:
    """Each fragment spreads the next twice: 2^n fields once spread."""
    spreads = [f"fragment F{i} on query_root {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n)]
    return " ".join(["{ ...F0 }", *spreads, f"fragment F{n} on query_root {{ hello }}"])


async def test_an_unknown_fragment_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/", json={"query": "{ ...Nope hello }"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["message"] == "Unknown fragment 'Nope'."
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_fragment_bomb_is_refused_at_once_and_health_keeps_answering(
    client: httpx.AsyncClient,
) -> None:
    started = time.perf_counter()
    bombs = [client.post("/", json={"query": bomb(n)}) for n in (24, 40, 64)]
    health = client.get("/health")
    *answers, healthy = await asyncio.gather(*bombs, health)
    assert time.perf_counter() - started < 2
    assert healthy.status_code == 200
    for answer in answers:
        assert answer.status_code == 400
        assert f"more than {MAX_FIELDS} fields" in answer.json()["errors"][0]["message"]


async def test_a_small_bomb_still_runs(gql: Any) -> None:
    assert (await gql(bomb(6)))["hello"]


async def test_a_fragment_cycle_is_named_by_validation(client: httpx.AsyncClient) -> None:
    query = "{ ...A } fragment A on query_root { ...B } fragment B on query_root { ...A hello }"
    response = await client.post("/", json={"query": query})
    assert response.status_code == 400
    assert "Cannot spread fragment 'A' within itself" in response.text


async def test_too_many_tokens_are_refused(client: httpx.AsyncClient) -> None:
    query = "{ " + "hello " * (MAX_TOKENS + 1) + "}"
    response = await client.post("/", json={"query": query})
    assert response.status_code == 400
    assert f"more than {MAX_TOKENS} tokens" in response.json()["errors"][0]["message"]


async def test_a_document_nested_beyond_reading_is_refused(client: httpx.AsyncClient) -> None:
    query = "{ flow " * 5000 + "}" * 5000
    response = await client.post("/", json={"query": query})
    assert response.status_code == 400


async def test_depth_through_fragments_counts_as_inline() -> None:
    inline = parse("{ flow { project { flows { flow_runs { id } } } } }")
    spread = parse(
        "{ flow { ...P } } fragment P on flow { project { ...F } }"
        " fragment F on project { flows { flow_runs { id } } }"
    )
    assert [e.message for e in limit_errors(inline, 3)] == [
        "'anonymous' exceeds maximum operation depth of 3"
    ]
    assert [e.message for e in limit_errors(spread, 3)] == [
        e.message for e in limit_errors(inline, 3)
    ]
    assert limit_errors(spread, 4) == []


def test_introspection_fits_the_limits() -> None:
    assert limit_errors(parse(get_introspection_query()), 7) == []
