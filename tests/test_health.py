"""``/ready``: 200 only when the database answers at the migrations' head; ``/health``
never touches the database."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from sqlalchemy import text

from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.http.health import Migrations, readiness
from prefect_server.settings import Settings


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
