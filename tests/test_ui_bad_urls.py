"""Whatever is typed into the address bar: a 404 page for what does not exist, the page
itself for nonsense in its query, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

import factories
from uiutil import post, text_of


def lenient_browser(app: Any) -> httpx.AsyncClient:
    # A 500 comes back as a response (instead of an exception) so every URL is reported.
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        headers={"accept": "text/html"},
    )


def not_ids(others: list[uuid.UUID]) -> list[str]:
    """Ids of no such thing: malformed, unknown, another kind's, long, traversal, control."""
    return [
        "not-an-id",
        str(uuid.uuid4()),
        *(str(other) for other in others),
        "a" * 5000,
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "-1",
        "0x10",
        "%E2%80%AE",
        "{" + str(uuid.uuid4()) + "}",
    ]


async def test_unknown_and_malformed_ids_are_404_pages(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    task_run = next(iter((await factories.task_run_ids(db, run)).values()))
    urls = [
        f"/ui/{base}/{bad}{tail}"
        for base, tail, others in (
            ("flow-runs", "", [flow_id, task_run]),
            ("flow-runs", "/logs.txt", [task_run]),
            ("flows", "", [flow_id, run, task_run]),
            ("flows", "/run", [run]),
            ("task-runs", "", [flow_id, run]),
        )
        for bad in not_ids(others)
    ]
    urls += [
        "/ui/no-such-page",
        "/ui/flow-runs/x/y/z",
        f"/ui/flow-runs/{run}/logs.txt?task_run=nope",
    ]
    async with lenient_browser(app) as client:
        for url in urls:
            response = await client.get(url)
            assert response.status_code == 404, url
            assert response.headers["content-type"].startswith("text/html"), url
            assert "Not found" in text_of(response.text), url
        for url in (
            f"/ui/flow-runs/{task_run}/cancel",
            f"/ui/flow-runs/{'a' * 5000}/restart",
            f"/ui/flows/{run}/run",
            f"/ui/flows/{run}/schedule",
            f"/ui/agents/{run}/delete",
            "/ui/no-such-page",
        ):
            response = await post(client, url, {"state": "Success"})
            assert response.status_code == 404, url
            assert "Not found" in text_of(response.text), url


async def test_nonsense_in_the_query_is_ignored_never_a_500(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    task_run = next(iter((await factories.task_run_ids(db, run)).values()))
    async with db.session() as session:
        from prefect_server.database.models import Flow

        group = (await session.get(Flow, flow_id)).flow_group_id  # type: ignore[union-attr]
    huge = "9" * 30
    urls = [
        f"/ui/flow-runs?page={huge}",
        f"/ui/flow-runs?size={huge}&page=-3",
        f"/ui/flows?page={huge}",
        f"/ui/projects?page={huge}",
        f"/ui/flows/{group}?page={huge}",
        f"/ui/flows/{group}?version=%C2%B2",  # "²" counts as a digit in Python
        f"/ui/flow-runs/{run}?logs_page={huge}",
        f"/ui/task-runs/{task_run}?page={huge}&logs_page={huge}",
        "/ui/?window=%00&project=%00",
        "/ui/flow-runs?q=%00&flow=%00&since=9999-99-99",
        "/ui/flow-runs?since=0001-01-01T00:00:00%2B14:00&until=9999-12-31T23:59:59-14:00",
        "/ui/flows?q=%00",
        f"/ui/flows/{group}?q=%00",
        f"/ui/flow-runs/{run}?text=%00&level=%00",
        f"/ui/flow-runs/{run}/logs.txt?text=%00",
    ]
    async with lenient_browser(app) as client:
        for url in urls:
            response = await client.get(url)
            assert response.status_code == 200, url
        unknown_version = await client.get(f"/ui/flows/{group}?version={huge}")
    assert unknown_version.status_code == 404


async def test_names_from_runs_are_text_on_every_page(app: Any) -> None:
    db = app.state.db
    tenant = await factories.default_tenant(db)
    project = await factories.create_project(db, tenant, "<i>proj</i>")
    flow_id = await factories.create_flow(
        db, project, factories.serialized_flow("<script>flow()</script>")
    )
    run = await factories.running_flow_run(db, flow_id, flow_run_name="<img src=x onerror=run()>")
    await factories.set_flow_run_state(db, run, {"type": "Failed", "message": "<b>why</b>"})
    async with db.session() as session:
        from prefect_server.database.models import Flow

        group = (await session.get(Flow, flow_id)).flow_group_id  # type: ignore[union-attr]
    pages = ["/ui/", "/ui/flows", f"/ui/flows/{group}", "/ui/flow-runs", f"/ui/flow-runs/{run}"]
    pages += ["/ui/projects", f"/ui/flows/{group}/run", "/ui/?_fragment=live_failures"]
    async with lenient_browser(app) as client:
        for url in pages:
            html = (await client.get(url)).text
            for raw in ("<script>flow()", "<img src=x", "<b>why", "<i>proj"):
                assert raw not in html, (url, raw)
            shown = ("&lt;script&gt;flow()", "&lt;img src=x", "&lt;b&gt;why", "&lt;i&gt;proj")
            assert any(text in html for text in shown), url  # the names are there, as text


async def test_a_nul_character_in_a_form_never_ends_in_a_500(app: Any) -> None:
    """PostgreSQL refuses a NUL in any text; SQLite stores it. Either way: no 500."""
    from sqlalchemy import func, select

    from prefect_server.database.models import Flow, FlowRun, Project

    db = app.state.db
    flow = factories.serialized_flow(parameters=[factories.parameter("x", default=1)])
    _, flow_id = await factories.flow_chain(db, flow)
    run = await factories.running_flow_run(db, flow_id)
    async with db.session() as session:
        group = (await session.get(Flow, flow_id)).flow_group_id  # type: ignore[union-attr]
        projects_before = await session.scalar(select(func.count()).select_from(Project))
    form = f"/ui/flows/{group}/run"
    async with lenient_browser(app) as client:
        answers = [
            await post(client, form, {"run_name": "a\x00b"}, page=form),
            await post(client, form, {"labels": "x\x00"}, page=form),
            await post(client, form, {"param:x": '"\\u0000"'}, page=form),
            await post(
                client, f"/ui/flow-runs/{run}/set-state", {"state": "Failed", "message": "m\x00"}
            ),
            await post(client, "/ui/projects", {"name": "p\x00q"}),
        ]
    assert all(answer.status_code in (303, 400) for answer in answers), [
        a.status_code for a in answers
    ]
    async with db.session() as session:
        runs = await session.scalar(select(func.count()).select_from(FlowRun))
        projects = await session.scalar(select(func.count()).select_from(Project))
    if db.is_postgres:
        # Refused in words, nothing written.
        assert [a.status_code for a in answers] == [400] * 5
        assert all("NUL character" in text_of(a.text) for a in answers)
        assert runs == 1 and projects == projects_before


async def test_any_text_in_a_csrf_token_or_a_cookie_is_refused_not_a_500(app: Any) -> None:
    async with lenient_browser(app) as client:
        await client.get("/ui/")
        refused = await client.post("/ui/logout", data={"csrf_token": "é☃"})
        # As a browser may send it: raw bytes, not ASCII.
        raw = {"cookie": "ps_csrf=ünïcode".encode()}
        also = await client.post("/ui/logout", data={"csrf_token": "ü"}, headers=raw)
    assert refused.status_code == 403 and also.status_code == 403


async def test_a_trailing_slash_leads_to_the_page(app: Any) -> None:
    async with lenient_browser(app) as client:
        moved = await client.get("/ui/flow-runs/?state=Failed")
        assert moved.status_code == 307
        assert moved.headers["location"] == "/ui/flow-runs?state=Failed"
        assert (await client.get(moved.headers["location"])).status_code == 200
        nowhere = await client.get("/ui/no-such-page/")
        assert (await client.get(nowhere.headers["location"])).status_code == 404
