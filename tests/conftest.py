"""Fixtures shared by the whole suite.

The same tests run on SQLite (default) and on PostgreSQL
(``PREFECT_SERVER_TEST_DATABASE_URL=postgresql://…``). The schema is built by the
real migrations once per session; every test starts from empty tables.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefect_server.app import create_app
from prefect_server.database import migrations
from prefect_server.database.engine import Database
from prefect_server.settings import Settings, load_settings, to_async_url

from dbutil import truncate


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    url = os.environ.get("PREFECT_SERVER_TEST_DATABASE_URL", "")
    backend = "postgres" if url.startswith(("postgres", "postgresql")) else "sqlite"
    other = "sqlite" if backend == "postgres" else "postgres"
    # A test about the other database runs in that database's run (CI runs both); here
    # it is deselected rather than skipped, so a skip in the summary always means
    # something is missing.
    kept = [item for item in items if other not in item.keywords]
    dropped = [item for item in items if other in item.keywords]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _root_logger_restored() -> Iterator[None]:
    # `prefect-server start` run in-process (CliRunner) sets up the root logger with a
    # handler on the runner's stderr, which is closed once the command returns; later
    # tests would then log "--- Logging error ---" into whatever they capture.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("PREFECT_SERVER_TEST_DATABASE_URL")
    if url:
        url = to_async_url(url)
        migrations.downgrade(url)
        migrations.upgrade(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="prefect-server-tests-") as tmp:
        url = to_async_url(f"sqlite:///{Path(tmp) / 'tests.db'}")
        migrations.upgrade(url)
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    base = load_settings(env={})
    return base.replace(
        home=str(tmp_path),
        database=dataclasses.replace(
            base.database, connection_url=database_url, migrate_on_start=False
        ),
        services=dataclasses.replace(base.services, enabled=False),
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """A Database on the test database, emptied before each test."""
    database = Database.from_settings(settings)
    await truncate(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def app(settings: Settings, db: Database) -> AsyncIterator[Any]:
    """The real app with its lifespan running (so the default tenant exists)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class GraphQL:
    """Posts documents the way the 1.4.1 client does (variables as a JSON string)."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        import json

        return await self.client.post(
            "/", json={"query": query, "variables": json.dumps(variables)}, headers=headers or {}
        )

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The ``data`` of a successful answer; fails the test on any error."""
        response = await self.raw(query, variables, headers)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def errors(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The ``errors`` of an answer that must have failed."""
        response = await self.raw(query, variables, headers)
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)
