"""The transport: paths, body shapes, status codes, health, CORS, the default tenant."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import Tenant


async def test_graphql_answers_at_root_and_graphql(client: httpx.AsyncClient) -> None:
    for path in ("/", "/graphql"):
        response = await client.post(path, json={"query": "{ hello api { backend mode } }"})
        assert response.status_code == 200
        assert response.json() == {
            "data": {"hello": "👋", "api": {"backend": "SERVER", "mode": "normal"}}
        }


async def test_variables_as_json_string_null_and_object(client: httpx.AsyncClient) -> None:
    query = "query($x: Boolean = true) { hello @include(if: $x) }"
    cases = [("null", True), (json.dumps({"x": False}), False), (None, True), ({"x": False}, False)]
    for variables, included in cases:
        response = await client.post("/", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        assert response.json()["data"] == ({"hello": "👋"} if included else {})


async def test_batched_array_is_answered_in_order(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json=[
            {"operationName": None, "query": "{ api { backend } }", "variables": {}},
            {"query": "{ hello }"},
        ],
    )
    assert response.status_code == 200
    assert response.json() == [{"data": {"api": {"backend": "SERVER"}}}, {"data": {"hello": "👋"}}]


async def test_invalid_documents_are_400_with_errors(client: httpx.AsyncClient) -> None:
    for body in ({"query": "{ nope }"}, {"query": "{ hello"}, {"query": ""}):
        response = await client.post("/", json=body)
        assert response.status_code == 400
        assert response.json()["errors"]
    response = await client.post(
        "/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_body_limit(client: httpx.AsyncClient) -> None:
    big = "x" * (6 * 1024 * 1024)
    response = await client.post("/", json={"query": "{ hello }", "variables": {"pad": big}})
    assert response.status_code == 413


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_cors_allows_any_origin_and_prefect_headers(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql",
        headers={
            "Origin": "http://localhost:8080",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-prefect-ui,x-backend,x-prefect-tenant-id",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:8080")
    assert "x-prefect-ui" in response.headers["access-control-allow-headers"].lower()


async def test_reference_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/", json={"query": "{ reference_data { state_hierarchy state_info } }"}
    )
    data = response.json()["data"]["reference_data"]
    assert sorted(data["state_hierarchy"]["Success"]) == ["Cached", "Mapped", "Skipped", "Success"]
    assert sorted(data["state_hierarchy"]["Running"]) == ["Cancelling", "Running"]
    assert sorted(data["state_hierarchy"]["Scheduled"]) == [
        "Paused",
        "Resume",
        "Retrying",
        "Scheduled",
    ]
    assert data["state_info"]["Running"] == {"color": "#3d67ff"}
    assert data["state_info"]["Success"] == {"color": "#28a745"}


async def test_default_tenant_created_once(app: object, db: Database) -> None:
    async with db.session() as session:
        rows = (await session.execute(select(Tenant.name, Tenant.slug))).all()
    assert rows == [("default", "default")]


def test_timestamps_are_formatted_as_postgresql_writes_them() -> None:
    import datetime as dt

    from prefect_server.graphql.scalars import format_timestamp

    utc = dt.timezone.utc
    assert format_timestamp(dt.datetime(2030, 1, 1, 3, tzinfo=utc)) == "2030-01-01T03:00:00+00:00"
    assert format_timestamp(dt.datetime(2030, 1, 1, 3, 0, 0, 500000, tzinfo=utc)) == (
        "2030-01-01T03:00:00.5+00:00"
    )
    assert format_timestamp(dt.datetime(2030, 1, 1, 3, 0, 0, 123456, tzinfo=utc)) == (
        "2030-01-01T03:00:00.123456+00:00"
    )
    assert format_timestamp("2030-01-01T05:00:00.25+02:00") == "2030-01-01T03:00:00.25+00:00"


async def test_browser_and_client_posts_get_the_same_answers(client: httpx.AsyncClient) -> None:
    """Posts without an Origin take the GraphQL lane, a browser's take the router (CORS):
    the answers are the same, only the browser's carry CORS headers."""
    bodies: list[tuple[bytes, int]] = [
        (json.dumps({"query": "{ hello }"}).encode(), 200),
        (json.dumps([{"query": "{ hello }"}, {"query": "{ api { mode } }"}]).encode(), 200),
        (json.dumps({"query": "{ nope }"}).encode(), 400),
        (b"{not json", 400),
        (json.dumps({"query": "query A { hello }", "operationName": "B"}).encode(), 400),
        (json.dumps({"query": "{ hello }", "variables": {"pad": "x" * 6_000_000}}).encode(), 413),
    ]
    for body, status in bodies:
        answers = []
        for origin in ({}, {"Origin": "http://localhost:8080"}):
            response = await client.post(
                "/graphql", content=body, headers={"content-type": "application/json", **origin}
            )
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/json"
            assert ("access-control-allow-origin" in response.headers) == bool(origin)
            answers.append(response.json())
        assert answers[0] == answers[1]


async def test_lane_streams_request_bodies_in_chunks(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        body = json.dumps({"query": "{ hello }", "variables": {"pad": "y" * 100_000}}).encode()
        for start in range(0, len(body), 7_000):
            yield body[start : start + 7_000]

    response = await client.post(
        "/", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "👋"}}


async def test_errors_are_logged_by_whose_they_are(
    client: httpx.AsyncClient, caplog: Any, monkeypatch: Any
) -> None:
    """The caller's errors (refused requests, bad variables) are one INFO line each; a
    fault of the server keeps its traceback at ERROR."""
    import logging
    import uuid

    from prefect_server.orchestration import task_runs

    caplog.set_level(logging.INFO)
    refused = (
        "mutation($input: set_task_run_states_input!) "
        "{ set_task_run_states(input: $input) { states { id } } }"
    )
    missing = str(uuid.uuid4())
    variables = {"input": {"states": [{"task_run_id": missing, "state": {"type": "Running"}}]}}
    for body in (
        {"query": refused, "variables": json.dumps(variables)},
        {"query": "query($id: UUID!) { get_task_run_info(task_run_id: $id) { id } }"},
    ):
        response = await client.post("/", json=body)
        assert response.json()["errors"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Refused:")]
    assert any(f"State update failed for task run ID {missing}" in m for m in refusals)
    assert any("$id" in m for m in refusals)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    caplog.clear()
    monkeypatch.setattr(task_runs, "get_task_run_info", broken)
    response = await client.post(
        "/", json={"query": f'query {{ get_task_run_info(task_run_id: "{missing}") {{ id }} }}'}
    )
    assert response.json()["errors"][0]["message"] == "disk on fire"
    (fault,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert fault.exc_info is not None and isinstance(fault.exc_info[1], RuntimeError)


async def test_an_app_that_served_requests_is_freed_when_dropped(settings: Any) -> None:
    # Strawberry's lookup caches and FastAPI's handler cache are process-wide: anything of
    # an app they hold (a closure, the schema) kept every app ever built alive - 2 GB
    # by the end of this suite, and a leak for anyone embedding servers.
    import gc
    import weakref

    from prefect_server.app import create_app

    refs = []
    for _ in range(3):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                assert (await c.post("/", json={"query": "{ hello }"})).status_code == 200
                assert (await c.get("/health")).status_code == 200
                assert (await c.get("/ready")).status_code == 200
                assert (await c.get("/graphql/console.js")).status_code == 200
                page = await c.get("/ui/", headers={"accept": "text/html"}, follow_redirects=True)
                assert page.status_code in (200, 401)
        refs.append((weakref.ref(app), weakref.ref(app.state.schema)))
        del app, transport, c
    gc.collect()
    assert [(a(), s()) for a, s in refs] == [(None, None)] * 3
