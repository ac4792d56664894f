"""The projects page: counts per project, paging, and creating a project from a form."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from prefect_server.database.models import Flow, Project
from prefect_server.orchestration import flows

import factories
from uiutil import browser, post, text_of


async def project_names(db: Any) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(select(Project.name).order_by(Project.name)))


async def test_projects_with_flow_and_run_counts(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    busy = await factories.create_project(db, tenant_id, "Busy")
    idle = await factories.create_project(db, tenant_id, "Idle")
    kept = await factories.create_flow(db, busy)
    archived = await factories.create_flow(db, busy, factories.serialized_flow(name="old"))
    async with db.transaction() as session:
        await flows.archive_flow(session, archived)
    now = dt.datetime.now(dt.timezone.utc)
    await factories.create_flow_run(db, kept, scheduled_start_time=now - dt.timedelta(hours=1))
    await factories.create_flow_run(db, kept, scheduled_start_time=now - dt.timedelta(hours=2))
    await factories.create_flow_run(db, kept, scheduled_start_time=now - dt.timedelta(days=3))

    async with browser(app) as client:
        response = await client.get("/ui/projects")
    assert response.status_code == 200
    html = response.text
    assert f'href="/ui/flows?project={busy}"' in html
    assert f'href="/ui/?project={busy}"' in html
    assert 'aria-label="1 flows in Busy"' in html
    assert "2 runs of Busy in the last 24 hours" in html
    assert "0 flows in Idle" in html and "0 runs of Idle" in html
    assert f'href="/ui/flows?project={idle}"' in html


async def test_projects_are_paged(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    for i in range(3):
        await factories.create_project(db, tenant_id, f"P{i}")
    async with browser(app) as client:
        first = text_of((await client.get("/ui/projects?size=2")).text)
        second = text_of((await client.get("/ui/projects?size=2&page=2")).text)
        nonsense = await client.get("/ui/projects?page=abc&size=-4")
    assert "P0" in first and "P1" in first and "P2" not in first
    assert "P2" in second and "P0" not in second
    assert "Page 1 of 2 · 3 in all" in first
    assert nonsense.status_code == 200


async def test_create_a_project(app: Any) -> None:
    async with browser(app) as client:
        response = await post(
            client,
            "/ui/projects",
            {"name": "  Analytics ", "description": "Nightly jobs"},
            page="/ui/projects",
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/projects"
        after = text_of((await client.get("/ui/projects")).text)
    assert "Project “Analytics” created." in after
    assert "Nightly jobs" in after
    async with app.state.db.session() as session:
        row = (await session.execute(select(Project.name, Project.description))).one()
    assert tuple(row) == ("Analytics", "Nightly jobs")


async def test_an_empty_name_is_refused_beside_the_field(app: Any) -> None:
    async with browser(app) as client:
        response = await post(
            client, "/ui/projects", {"name": "   ", "description": "kept"}, page="/ui/projects"
        )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    assert "A project needs a name." in text_of(response.text)
    assert ">kept</textarea>" in response.text
    assert await project_names(app.state.db) == []


async def test_a_duplicate_name_is_refused_and_writes_nothing(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    await factories.create_project(db, tenant_id, "Data")
    async with browser(app) as client:
        response = await post(
            client, "/ui/projects", {"name": "Data", "description": "again"}, page="/ui/projects"
        )
    assert response.status_code == 400
    assert "There is already a project named “Data”." in text_of(response.text)
    assert 'value="Data"' in response.text
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Project)) == 1
        assert await session.scalar(select(Project.description)) is None


async def test_create_without_the_csrf_token_is_refused(app: Any) -> None:
    async with browser(app) as client:
        await client.get("/ui/projects")
        refused = await client.post("/ui/projects", data={"name": "Sneaky"})
    assert refused.status_code == 403
    assert await project_names(app.state.db) == []


async def test_project_names_are_text_not_markup(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    async with db.transaction() as session:
        from prefect_server.orchestration import projects

        await projects.create_project(
            session, tenant_id, "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"
        )
    async with browser(app) as client:
        html = (await client.get("/ui/projects")).text
        refused = await post(
            client, "/ui/projects", {"name": "<script>alert(1)</script>"}, page="/ui/projects"
        )
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert refused.status_code == 400
    assert "<script>alert(1)</script>" not in refused.text


async def test_unknown_project_on_the_linked_pages_is_harmless(app: Any) -> None:
    # The dashboard takes the project id the projects page links with.
    async with browser(app) as client:
        response = await client.get(f"/ui/?project={uuid.uuid4()}")
    assert response.status_code == 200
    async with app.state.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Flow)) == 0
