"""The agents page: health, which waiting runs each agent could take, what it ran, delete."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from prefect_server.database.models import Agent
from prefect_server.orchestration import agents, flow_run_states
from prefect_server.ui.pages import agents as agents_page
from prefect_server.ui.queries import agents as agent_queries

import factories
from uiutil import browser, post, text_of

NOW = dt.datetime.now(dt.timezone.utc)


async def register(db: Any, tenant_id: uuid.UUID, name: str, labels: list[str]) -> uuid.UUID:
    async with db.transaction() as session:
        return await agents.register_agent(
            session,
            tenant_id=tenant_id,
            labels=labels,
            name=name,
            type="LocalAgent",
            core_version="1.4.1",
        )


def card(html: str, agent_id: uuid.UUID) -> str:
    """The text of one agent's card on the page."""
    start = html.index(f'id="agent-{agent_id}"')
    end = html.find("</article>", start)
    return text_of(html[start:end])


async def test_page_lists_agents_with_their_facts(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    agent_id = await register(db, tenant_id, "cpu-box", ["cpu", "eu"])
    async with browser(app) as client:
        response = await client.get("/ui/agents")
    assert response.status_code == 200
    html = response.text
    assert f'id="agent-{agent_id}"' in html
    text = card(html, agent_id)
    for shown in ("cpu-box", "LocalAgent", "1.4.1", "cpu", "eu", "healthy"):
        assert shown in text
    assert 'data-live="live_agents"' in html and 'data-every="10"' in html
    assert 'aria-current="page"' in html


async def test_no_agents_says_how_to_start_one(app: Any) -> None:
    async with browser(app) as client:
        text = text_of((await client.get("/ui/agents")).text)
    assert "No agent has connected yet" in text


async def test_health_follows_the_last_query(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    agent_id = await register(db, tenant_id, "poller", [])
    async with db.transaction() as session:
        assert await agents.update_agent_last_queried(session, agent_id)
    async with db.session() as session:
        (row,) = await agent_queries.list_agents(session)
    assert row.last_queried is not None
    asked = row.last_queried
    assert row.health(asked + dt.timedelta(seconds=30)) == "healthy"
    assert row.health(asked + dt.timedelta(hours=1)) == "stale"
    assert row.health(asked + dt.timedelta(days=1)) == "lost"
    assert agent_queries.health(None, asked) == "lost"

    for later, expected in ((dt.timedelta(hours=1), "stale"), (dt.timedelta(days=2), "lost")):
        monkeypatch.setattr(agents_page, "now", lambda later=later: asked + later)
        async with browser(app) as client:
            html = (await client.get("/ui/agents")).text
        assert f"health-badge {expected}" in html
        assert expected in card(html, agent_id)


async def test_which_waiting_runs_each_agent_could_take(app: Any) -> None:
    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    soon = NOW + dt.timedelta(minutes=20)
    await factories.create_flow_run(db, flow_id, flow_run_name="gpu-run", labels=["gpu"])
    await factories.create_flow_run(
        db, flow_id, flow_run_name="gpu-eu-run", labels=["gpu", "eu"], scheduled_start_time=soon
    )
    await factories.create_flow_run(db, flow_id, flow_run_name="bare-run", labels=[])
    # Too far ahead, or no longer waiting: no agent could take these now.
    await factories.create_flow_run(
        db,
        flow_id,
        flow_run_name="far-run",
        labels=["gpu"],
        scheduled_start_time=NOW + dt.timedelta(hours=3),
    )
    await factories.running_flow_run(db, flow_id, flow_run_name="busy-run", labels=["gpu"])

    gpu = await register(db, tenant_id, "gpu-box", ["gpu"])
    gpu_eu = await register(db, tenant_id, "gpu-eu-box", ["eu", "gpu", "extra"])
    bare = await register(db, tenant_id, "bare-box", [])
    cpu = await register(db, tenant_id, "cpu-box", ["cpu"])

    async with browser(app) as client:
        html = (await client.get("/ui/agents?_fragment=live_agents")).text
    assert html.lstrip().startswith("<section")

    def runs_of(agent_id: uuid.UUID) -> set[str]:
        text = card(html, agent_id)
        return {
            n for n in ("gpu-run", "gpu-eu-run", "bare-run", "far-run", "busy-run") if n in text
        }

    assert runs_of(gpu) == {"gpu-run"}
    assert runs_of(gpu_eu) == {"gpu-run", "gpu-eu-run"}
    assert runs_of(bare) == {"bare-run"}
    assert runs_of(cpu) == set()
    assert "No waiting run due within the hour" in card(html, cpu)


async def test_could_take_shows_five_and_counts_the_rest(app: Any) -> None:
    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    for i in range(7):
        await factories.create_flow_run(db, flow_id, flow_run_name=f"queued-{i}", labels=["x"])
    agent_id = await register(db, tenant_id, "x-box", ["x"])
    async with browser(app) as client:
        text = card((await client.get("/ui/agents")).text, agent_id)
    assert "Could take next 7" in text
    assert sum(f"queued-{i}" in text for i in range(7)) == 5
    assert "and 2 more" in text


async def submitted_by(
    db: Any, agent_id: uuid.UUID, flow_id: uuid.UUID, name: str, **kw: Any
) -> None:
    run_id = await factories.create_flow_run(db, flow_id, flow_run_name=name, **kw)
    async with db.transaction() as session:
        await flow_run_states.set_flow_run_state(
            session, run_id, {"type": "Submitted"}, agent_id=agent_id
        )


async def test_recently_submitted_runs(app: Any) -> None:
    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    first = await register(db, tenant_id, "first", [])
    second = await register(db, tenant_id, "second", ["other"])
    for i in range(7):
        await submitted_by(
            db, first, flow_id, f"done-{i}", scheduled_start_time=NOW - dt.timedelta(minutes=i)
        )
    async with db.session() as session:
        found = await agent_queries.submitted_runs(session, [first, second], NOW)
    assert [run.name for run in found[first]] == [f"done-{i}" for i in range(5)]
    assert second not in found
    async with browser(app) as client:
        html = (await client.get("/ui/agents")).text
    assert sum(f"done-{i}" in card(html, first) for i in range(7)) == 5
    assert "submitted none of the latest 1,000 runs" in card(html, second)


async def test_recent_runs_are_found_in_a_bounded_range(app: Any, monkeypatch: Any) -> None:
    """Only the latest runs due are looked at, so the page's cost does not grow with the
    history: an agent whose runs are all older shows none."""
    monkeypatch.setattr(agent_queries, "RECENT_RUNS_SCANNED", 3)
    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    old = await register(db, tenant_id, "old", [])
    new = await register(db, tenant_id, "new", [])
    await submitted_by(
        db, old, flow_id, "long-ago", scheduled_start_time=NOW - dt.timedelta(days=9)
    )
    for i in range(3):
        await submitted_by(
            db, new, flow_id, f"lately-{i}", scheduled_start_time=NOW - dt.timedelta(hours=i)
        )
    # Due in the future: not a run anyone submitted yet, not in the range.
    await factories.create_flow_run(db, flow_id, scheduled_start_time=NOW + dt.timedelta(days=1))
    async with db.session() as session:
        found = await agent_queries.submitted_runs(session, [old, new], NOW)
    assert old not in found
    assert [run.name for run in found[new]] == ["lately-0", "lately-1", "lately-2"]


async def test_delete_removes_the_agent(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    agent_id = await register(db, tenant_id, "old-box", [])
    async with browser(app) as client:
        page = (await client.get("/ui/agents")).text
        assert f'action="/ui/agents/{agent_id}/delete"' in page and "data-confirm" in page
        response = await post(client, f"/ui/agents/{agent_id}/delete", page="/ui/agents")
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/agents"
        after = await client.get("/ui/agents")
    assert "Agent deleted" in text_of(after.text)
    async with db.session() as session:
        assert await session.get(Agent, agent_id) is None


async def test_delete_without_the_csrf_token_keeps_the_agent(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    agent_id = await register(db, tenant_id, "kept-box", [])
    async with browser(app) as client:
        await client.get("/ui/agents")
        refused = await client.post(f"/ui/agents/{agent_id}/delete", data={})
        forged = await client.post(f"/ui/agents/{agent_id}/delete", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and forged.status_code == 403
    async with db.session() as session:
        assert await session.scalar(select(Agent.id).where(Agent.id == agent_id)) == agent_id


async def test_deleting_an_unknown_or_malformed_id_is_a_404(app: Any) -> None:
    async with browser(app) as client:
        unknown = await post(client, f"/ui/agents/{uuid.uuid4()}/delete", page="/ui/agents")
        malformed = await post(client, "/ui/agents/not-an-id/delete", page="/ui/agents")
    assert unknown.status_code == 404 and malformed.status_code == 404
    assert "There is no agent" in text_of(malformed.text)


async def test_agent_names_are_text_not_markup(app: Any) -> None:
    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    await register(db, tenant_id, "<script>alert(1)</script>", ["<b>bold</b>"])
    async with browser(app) as client:
        html = (await client.get("/ui/agents")).text
    assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_agents_are_paged_most_recent_first(app: Any) -> None:
    from sqlalchemy import update

    db = app.state.db
    tenant_id = await factories.default_tenant(db)
    ids = [await register(db, tenant_id, f"agent-{i}", []) for i in range(3)]
    async with db.transaction() as session:
        for i, agent_id in enumerate(ids):  # agent-0 asked last
            await session.execute(
                update(Agent)
                .where(Agent.id == agent_id)
                .values(last_queried=NOW - dt.timedelta(minutes=i))
            )
    async with browser(app) as client:
        first = text_of((await client.get("/ui/agents?size=2")).text)
        second = text_of((await client.get("/ui/agents?size=2&page=2")).text)
        past = text_of((await client.get("/ui/agents?size=2&page=7")).text)
    assert "agent-0" in first and "agent-1" in first and "agent-2" not in first
    assert "Page 1 of 2 · 3 in all" in first
    assert "agent-2" in second and "agent-0" not in second
    assert "No agents on this page." in past and "3 in all" in past
