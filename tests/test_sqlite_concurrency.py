"""Concurrent writers never see "database is locked" (and the PRAGMAs that make it so)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from prefect_server.database import migrations
from prefect_server.database import models as m
from prefect_server.database.engine import Database
from prefect_server.settings import Settings
from prefect_server.testing import running_server

WRITERS = 8
TRANSACTIONS = 40


@pytest.mark.sqlite
async def test_sqlite_connection_pragmas(db: Database, settings: Settings) -> None:
    async with db.session() as s:
        assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await s.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        busy = (await s.execute(text("PRAGMA busy_timeout"))).scalar()
    assert busy == int(settings.database.sqlite_busy_timeout_seconds * 1000) >= 1000


async def _writer(db: Database, tenant_id: uuid.UUID, worker: int) -> None:
    """Read-then-write transactions: the pattern that fails fastest on SQLite."""
    project_id = uuid.uuid4()
    async with db.transaction() as s:
        s.add(m.Project(id=project_id, tenant_id=tenant_id, name=f"w{worker}", description="0"))
    for i in range(1, TRANSACTIONS):
        async with db.transaction() as s:
            current = await s.scalar(
                select(m.Project.description).where(m.Project.id == project_id)
            )
            assert current == str(i - 1)
            await s.execute(
                update(m.Project).where(m.Project.id == project_id).values(description=str(i))
            )
            s.add(m.Message(tenant_id=tenant_id, text=f"{worker}:{i}"))
        # Interleave with readers, as requests do.
        async with db.session() as s:
            await s.scalar(select(func.count()).select_from(m.Message))


async def test_concurrent_writers_in_one_process(db: Database) -> None:
    async with db.transaction() as s:
        tenant = m.Tenant(name="t", slug="t")
        s.add(tenant)
    await asyncio.gather(*(_writer(db, tenant.id, w) for w in range(WRITERS)))

    async with db.session() as s:
        messages = await s.scalar(select(func.count()).select_from(m.Message))
        descriptions = set(await s.scalars(select(m.Project.description)))
    assert messages == WRITERS * (TRANSACTIONS - 1)
    assert descriptions == {str(TRANSACTIONS - 1)}


async def test_concurrent_writers_from_two_engines(settings: Settings, db: Database) -> None:
    """Two engines on one file behave like two processes (say the server and a CLI
    command): they only have SQLite's own locking, not the in-process lock."""
    other = Database.from_settings(settings)
    try:
        async with db.transaction() as s:
            tenant = m.Tenant(name="t", slug="t")
            s.add(tenant)
        await asyncio.gather(
            *(_writer(db if w % 2 else other, tenant.id, w) for w in range(WRITERS))
        )
    finally:
        await other.dispose()
    async with db.session() as s:
        messages = await s.scalar(select(func.count()).select_from(m.Message))
    assert messages == WRITERS * (TRANSACTIONS - 1)


CREATE_PROJECT = """
mutation($input: create_project_input!) { create_project(input: $input) { id } }
"""


async def test_concurrent_http_writers(database_url: str, tmp_path: Path) -> None:
    """8 clients writing at once against a running server: no errors at all."""
    url = f"sqlite:///{tmp_path / 'http.db'}" if "sqlite" in database_url else database_url
    if "sqlite" not in database_url:
        migrations.upgrade(url)
    with running_server(url) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            slug = f"c-{uuid.uuid4().hex[:8]}"
            tenant = await client.post(
                "/",
                json={
                    "query": f'mutation {{ create_tenant(input: {{name: "c", slug: "{slug}"}}) {{ id }} }}'
                },
            )
            tenant_id = tenant.json()["data"]["create_tenant"]["id"]

            async def writer(worker: int) -> list[dict[str, Any]]:
                answers = []
                for i in range(25):
                    variables = {"input": {"tenant_id": tenant_id, "name": f"p-{worker}-{i}"}}
                    response = await client.post(
                        "/", json={"query": CREATE_PROJECT, "variables": json.dumps(variables)}
                    )
                    answers.append(response.json())
                return answers

            results = await asyncio.gather(*(writer(w) for w in range(WRITERS)))

            listed = await client.post(
                "/graphql",
                json={
                    "query": "query($t: uuid) { project(where: {tenant_id: {_eq: $t}}) { name } }",
                    "variables": {"t": tenant_id},
                },
            )
    errors = [a["errors"] for answers in results for a in answers if "errors" in a]
    assert errors == []
    names = {p["name"] for p in listed.json()["data"]["project"]}
    assert names == {f"p-{w}-{i}" for w in range(WRITERS) for i in range(25)}
