"""The API console at GET /graphql: our own page, served from the package, no other host."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from prefect_server.app import create_app
from prefect_server.settings import Settings

# Any absolute URL; the same origin never needs one.
ABSOLUTE_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def client(app: Any, accept: str = "text/html") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"accept": accept},
    )


@pytest.fixture
async def app_without_ui(settings: Settings, db: Any) -> AsyncIterator[Any]:
    application = create_app(settings.replace(ui=dataclasses.replace(settings.ui, enabled=False)))
    async with application.router.lifespan_context(application):
        yield application


async def test_get_graphql_serves_the_console(app: Any) -> None:
    async with client(app) as c:
        page = await c.get("/graphql")
        slash = await c.get("/graphql/")
    assert page.status_code == 200 and slash.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<title>API console · prefect-server</title>" in html
    assert 'src="/graphql/console.js?v=' in html
    assert 'href="/graphql/console.css?v=' in html
    for control in ('id="query"', 'id="variables"', 'id="auth"', 'id="run"', 'id="search"'):
        assert control in html
    assert "graphiql" not in html.lower()
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_assets_are_served_with_their_types(app: Any) -> None:
    async with client(app) as c:
        js = await c.get("/graphql/console.js")
        css = await c.get("/graphql/console.css")
    assert js.status_code == 200 and css.status_code == 200
    assert js.headers["content-type"].split(";")[0] == "text/javascript"
    assert css.headers["content-type"].split(";")[0] == "text/css"
    # What the page promises: a POST of {query, variables, operationName}, auth per tab.
    assert "operationName" in js.text and "sessionStorage" in js.text
    assert "__schema" in js.text


async def test_page_and_assets_reference_no_other_host(app: Any) -> None:
    async with client(app) as c:
        bodies = [
            (await c.get(path)).text
            for path in ("/graphql", "/graphql/console.js", "/graphql/console.css")
        ]
    for body in bodies:
        assert "http://" not in body and "https://" not in body
        assert ABSOLUTE_URL.search(body) is None, ABSOLUTE_URL.search(body)


async def test_without_the_ui_the_servers_address_serves_the_console(
    app_without_ui: Any,
) -> None:
    async with client(app_without_ui) as c:
        root = await c.get("/")
        graphql = await c.get("/graphql")
        js = await c.get("/graphql/console.js")
        ui = await c.get("/ui/")
    assert root.status_code == 200 and "API console" in root.text
    assert graphql.status_code == 200 and js.status_code == 200
    assert ui.status_code == 404


async def test_with_the_ui_a_browser_at_the_root_goes_to_the_ui(app: Any) -> None:
    async with client(app) as c:
        browser = await c.get("/")
        api = await c.get("/", headers={"accept": "application/json"})
    assert browser.status_code == 307 and browser.headers["location"] == "/ui/"
    assert api.status_code == 200 and "API console" in api.text


@pytest.mark.parametrize("path", ["/", "/graphql"])
async def test_posts_still_answer_graphql(app: Any, path: str) -> None:
    async with client(app, accept="application/json") as c:
        plain = await c.post(path, json={"query": "{ hello }"})
        # The console's own request: from a browser (Origin) with all three keys.
        console = await c.post(
            path,
            json={"query": "query Q { hello }", "variables": {}, "operationName": "Q"},
            headers={"origin": "http://testserver"},
        )
    assert plain.status_code == 200 and plain.json()["data"]["hello"]
    assert console.status_code == 200 and console.json() == plain.json()


async def test_the_schema_browsers_introspection_passes_the_depth_limit(app: Any) -> None:
    async with client(app) as c:
        js = (await c.get("/graphql/console.js")).text
    type_ref = re.search(r'var TYPE_REF = "([^"]+)"', js)
    assert type_ref is not None
    fields = "fields { name description args { name description type { T } } type { T } }"
    fields = fields.replace("T", type_ref.group(1))
    query = "query ConsoleSchema { __schema { queryType { name F } mutationType { name F } } }"
    query = query.replace("F", fields)
    async with client(app, accept="application/json") as c:
        answer = (await c.post("/graphql", json={"query": query})).json()
    assert "errors" not in answer, answer
    names = {f["name"] for f in answer["data"]["__schema"]["queryType"]["fields"]}
    assert {"flow_run", "hello"} <= names
    assert answer["data"]["__schema"]["mutationType"]["name"] == "mutation_root"
