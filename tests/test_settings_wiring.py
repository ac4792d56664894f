"""Settings reach the code they control: each test fails if its setting is not read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

import prefect_server
from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.database.models import Edge, Flow, Task
from prefect_server.orchestration import flows, queue
from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.settings import ApiInfoSettings, Settings, session_settings

import factories


@asynccontextmanager
async def _database(settings: Settings, **changes: Any) -> AsyncIterator[Database]:
    database = Database.from_settings(settings.replace(**changes))
    try:
        yield database
    finally:
        await database.dispose()


async def _project(db: Database) -> Any:
    tenant_id = await factories.default_tenant(db)
    return await factories.create_project(db, tenant_id, "wiring")


async def test_core_version_cutoff_refuses_flows_built_before_it(
    db: Database, settings: Settings
) -> None:
    project_id = await _project(db)
    built_with_141 = {**factories.serialized_flow(), "__version__": "1.4.1"}
    async with _database(settings, core_version_cutoff="1.5.0") as strict:
        with pytest.raises(ValidationFailed) as refused:
            async with strict.transaction() as session:
                await flows.create_flow(session, built_with_141, project_id)
    assert str(refused.value) == (
        "Prefect backends require new flows to be built with Prefect 1.5.0+, "
        "but this flow was built with Prefect 1.4.1."
    )
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Flow)) == 0
    # The default cutoff (0.6.1) accepts the same flow.
    assert await factories.create_flow(db, project_id, built_with_141)


async def test_insert_many_batch_size_bounds_each_insert(db: Database, settings: Settings) -> None:
    project_id = await _project(db)
    slugs = [f"t{i}" for i in range(5)]
    flow = factories.serialized_flow(
        tasks=[factories.task(slug) for slug in slugs],
        edges=[factories.edge(a, b) for a, b in zip(slugs, slugs[1:], strict=False)],
        parameters=[],
    )
    async with _database(settings, insert_many_batch_size=2) as small:
        inserts: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO"):
                inserts.append(statement.split()[2].strip('"'))

        event.listen(small.engine.sync_engine, "before_cursor_execute", record)
        async with small.transaction() as session:
            flow_id = await flows.create_flow(session, flow, project_id, set_schedule_active=False)
    # Five tasks in statements of two rows, four edges likewise.
    assert (inserts.count("task"), inserts.count("edge")) == (3, 2)
    async with db.session() as session:
        tasks = await session.scalar(select(func.count()).where(Task.flow_id == flow_id))
        edges = await session.scalar(select(func.count()).where(Edge.flow_id == flow_id))
    assert (tasks, edges) == (5, 4)


async def test_a_session_without_settings_is_refused_not_defaulted(
    db: Database, settings: Settings
) -> None:
    async with db.session() as session:
        assert session_settings(session) is settings
    bare = Database(settings.database_url)
    try:
        async with bare.session() as session:
            with pytest.raises(RuntimeError, match="carries no settings"):
                session_settings(session)
    finally:
        await bare.dispose()


async def test_queued_runs_returned_limit_bounds_a_poll(db: Database, settings: Settings) -> None:
    tenant_id, flow_id = await factories.flow_chain(db)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    ids = [
        await factories.create_flow_run(db, flow_id, scheduled_start_time=past) for _ in range(4)
    ]
    async with _database(settings, queued_runs_returned_limit=3) as small:
        async with small.transaction() as session:
            assert len(await queue.get_runs_in_queue(session, tenant_id)) == 3
    async with db.transaction() as session:
        assert len(await queue.get_runs_in_queue(session, tenant_id)) == len(ids)


API = "{ api { backend mode version core_version release_timestamp } }"


async def _api(settings: Settings) -> dict[str, Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.post("/", json={"query": API})
    return dict(response.json()["data"]["api"])


async def test_the_api_query_reports_the_api_info_settings(
    db: Database, settings: Settings
) -> None:
    assert await _api(settings) == {
        "backend": "SERVER",
        "mode": "normal",
        "version": prefect_server.__version__,
        "core_version": "1.4.1",
        "release_timestamp": None,
    }
    reported = ApiInfoSettings(
        version="2022.09.23", core_version="1.4.0", release_timestamp="2022-09-23T00:00:00Z"
    )
    answer = await _api(settings.replace(api_info=reported))
    assert answer == {"backend": "SERVER", "mode": "normal", **dataclasses.asdict(reported)}
