"""``/ready``: 200 only when the database answers at the migrations' head; ``/health``
never touches the database."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serverproc import Server, clean_env, command
from sqlalchemy import text
from waiting import wait_for

from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.http.health import Migrations, readiness
from prefect_server.settings import Settings, to_async_url

from dbutil import scratch_database


async def test_ready_when_the_schema_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "reason": "ready"}


async def test_not_ready_behind_head_and_ready_when_ahead(db: Database, settings: Settings) -> None:
    migrations = Migrations(settings.database_url)
    heads, known = await migrations.known()
    async with db.engine.begin() as conn:
        (current,) = (await conn.execute(text("SELECT version_num FROM alembic_version"))).one()
    assert {current} == heads
    older = sorted(known - heads)[0]
    try:
        await _set_revision(db, older)
        ok, reason = await readiness(db, migrations)
        assert not ok
        assert older in reason and "prefect-server database upgrade" in reason
        # A revision this code does not know is a newer version's (a rolling update).
        await _set_revision(db, "ffffffffffff")
        assert await readiness(db, migrations) == (True, "ready")
    finally:
        await _set_revision(db, current)


async def _set_revision(db: Database, revision: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


async def test_not_ready_when_the_database_is_away(settings: Settings) -> None:
    # Port 9 (discard) on localhost: connections are refused at once.
    away = dataclasses.replace(
        settings.database,
        connection_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
    )
    settings = settings.replace(database=away)
    db = Database.from_settings(settings)
    try:
        ok, reason = await readiness(db, Migrations(settings.database_url))
    finally:
        await db.dispose()
    assert not ok
    assert reason.startswith("the database does not answer: ")


async def test_health_does_not_need_the_database(settings: Settings, db: Database) -> None:
    app: Any = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.db.dispose()
        # A broken engine: /ready says why, /health stays 200.
        app.state.db = Database.from_settings(
            settings.replace(
                database=dataclasses.replace(
                    settings.database,
                    connection_url="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
                )
            )
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health")).status_code == 200
            response = await client.get("/ready")
            assert response.status_code == 503
            assert response.json()["status"] == "unavailable"


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the run's kind without a schema (PostgreSQL: one beside the
    suite's, dropped afterwards)."""
    with scratch_database(database_url, tmp_path / "empty.db", "ready") as url:
        yield url


async def test_not_ready_without_a_schema(settings: Settings, empty_url: str) -> None:
    empty = settings.replace(
        database=dataclasses.replace(settings.database, connection_url=to_async_url(empty_url))
    )
    db = Database.from_settings(empty)
    try:
        ok, reason = await readiness(db, Migrations(empty.database_url))
    finally:
        await db.dispose()
    assert (ok, reason) == (
        False,
        "the database has no schema: run prefect-server database upgrade",
    )


def test_a_new_replica_takes_traffic_once_the_migration_job_has_run(
    tmp_path: Path, empty_url: str
) -> None:
    """The rollout as Kubernetes runs it: a replica started with --no-upgrade on a
    schema behind its code is alive but unready, and the same process turns ready
    when ``database upgrade -y`` (the migration Job) has run."""
    from alembic.script import ScriptDirectory

    from prefect_server.database import migrations
    from prefect_server.database.migrations import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    (base,), (head,) = scripts.get_bases(), scripts.get_heads()
    assert base != head
    migrations.upgrade(to_async_url(empty_url), base)
    env = {"PREFECT_SERVER__DATABASE__CONNECTION_URL": empty_url}
    server = Server(tmp_path, "--no-upgrade", "--no-ui", "--no-services", env=env)
    try:
        server.wait_until_serving("/health")
        answer = httpx.get(server.url + "/ready", timeout=10)
        assert answer.status_code == 503, answer.text
        reason = answer.json()["reason"]
        assert base in reason and head in reason and "prefect-server database upgrade" in reason
        job = subprocess.run(
            [*command(), "database", "upgrade", "-y"],
            env=clean_env(tmp_path, **env),
            capture_output=True,
            text=True,
        )
        assert job.returncode == 0, job.stderr
        wait_for(lambda: httpx.get(server.url + "/ready", timeout=10).status_code == 200, 30)
        assert server.process.poll() is None
    finally:
        output = server.stop()
    assert "Traceback" not in output, output
