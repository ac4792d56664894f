"""The dashboard: counts, history, runs in progress, late runs and why, failures, agents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect_server.orchestration import agents, tenants

import factories
from uiutil import browser, text_of


async def test_browser_at_the_servers_address_lands_on_the_dashboard(app: Any) -> None:
    async with browser(app) as client:
        response = await client.get("/")
        assert response.status_code == 307
        assert response.headers["location"] == "/ui/"
        page = await client.get("/ui/")
    assert page.status_code == 200
    assert "<h1>Dashboard</h1>" in page.text
    # An API client (no HTML in Accept) still gets what it got before.
    async with browser(app) as client:
        api = await client.get("/", headers={"accept": "application/json"})
    assert api.status_code == 200


async def test_counts_active_failures_and_upcoming(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    running = await factories.running_flow_run(db, flow_id, flow_run_name="busy-bee")
    failed = await factories.create_flow_run(db, flow_id, flow_run_name="sad-panda")
    await factories.set_flow_run_state(
        db, failed, {"type": "Failed", "message": "Boom <script>alert(1)</script>"}
    )
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    await factories.create_flow_run(
        db, flow_id, flow_run_name="future-fox", scheduled_start_time=later
    )
    async with browser(app) as client:
        html = (await client.get("/ui/")).text
    text = text_of(html)
    assert f'href="/ui/flow-runs/{running}"' in html
    assert "busy-bee" in text and "sad-panda" in text and "future-fox" in text
    # A state message is text, never markup.
    assert "<script>alert(1)</script>" not in html
    assert "Boom &lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Counts by state link to the filtered run list.
    assert "/ui/flow-runs?state=Failed" in html
    assert '<svg class="chart"' in html


async def test_late_runs_say_why(app: Any) -> None:
    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    await factories.create_flow_run(
        db, flow_id, flow_run_name="late-lark", scheduled_start_time=past, labels=["gpu"]
    )

    async def late_runs() -> str:
        async with browser(app) as client:
            return text_of((await client.get("/ui/?_fragment=live_late")).text)

    async def agent_with(label: str) -> None:
        async with db.transaction() as session:
            await agents.register_agent(
                session, tenant_id=tenant_id, labels=[label], name=f"{label}-box", type="LocalAgent"
            )

    no_agent = await late_runs()
    assert "late-lark" in no_agent
    async with browser(app) as client:
        upcoming = text_of((await client.get("/ui/?_fragment=live_upcoming")).text)
    # A late run is not upcoming; the empty list must not read as "nothing scheduled".
    assert "late-lark" not in upcoming and "Nothing is scheduled to start later." in upcoming
    assert "No agent has ever connected" in no_agent
    async with db.transaction() as session:
        other = await tenants.create_tenant(session, "Elsewhere")
        await agents.register_agent(
            session, tenant_id=other, labels=["gpu"], name="their-box", type="LocalAgent"
        )
    assert "No agent of this run's tenant has ever connected" in await late_runs()
    await agent_with("cpu")
    assert "No agent has all of this run's labels (gpu)" in await late_runs()
    await agent_with("gpu")
    assert "should be submitted within seconds" in await late_runs()


async def test_fragments_are_cacheable_and_unknown_ones_404(app: Any) -> None:
    async with browser(app) as client:
        first = await client.get("/ui/?_fragment=live_active")
        assert first.status_code == 200
        assert first.text.lstrip().startswith("<section")
        etag = first.headers["etag"]
        again = await client.get("/ui/?_fragment=live_active", headers={"if-none-match": etag})
        assert again.status_code == 304
        assert (await client.get("/ui/?_fragment=content")).status_code == 404
        assert (await client.get("/ui/?_fragment=live_nothing")).status_code == 404


async def test_project_filter_and_window(app: Any) -> None:
    db = app.state.db
    tenant_id, flow_a = await factories.flow_chain(db)
    _, flow_b = await factories.flow_chain(db)
    await factories.running_flow_run(db, flow_a, flow_run_name="alpha-run")
    await factories.running_flow_run(db, flow_b, flow_run_name="beta-run")
    from sqlalchemy import select

    from prefect_server.database.models import Flow

    async with db.session() as session:
        project_a = await session.scalar(select(Flow.project_id).where(Flow.id == flow_a))
    async with browser(app) as client:
        text = text_of((await client.get(f"/ui/?project={project_a}&window=1h")).text)
        nonsense = await client.get("/ui/?project=nope&window=forever")
    assert "alpha-run" in text and "beta-run" not in text
    assert nonsense.status_code == 200


async def test_late_runs_say_when_the_matching_agents_stopped_polling(app: Any) -> None:
    from sqlalchemy import update

    from prefect_server.database.models import Agent

    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=30)
    await factories.create_flow_run(
        db, flow_id, flow_run_name="stuck-stork", scheduled_start_time=past, labels=["gpu"]
    )
    async with db.transaction() as session:
        agent_id = await agents.register_agent(
            session, tenant_id=tenant_id, labels=["gpu"], name="gpu-box", type="LocalAgent"
        )
        # The agent last asked for work 25 minutes ago (a setup write: time cannot be waited).
        await session.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(last_queried=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=25))
        )
    async with browser(app) as client:
        text = text_of((await client.get("/ui/?_fragment=live_late")).text)
    assert "stuck-stork" in text
    assert "The agents that could take it (gpu-box) have not asked for work for 25" in text


async def test_each_history_bar_links_to_exactly_its_runs(app: Any) -> None:
    import re
    from html import unescape

    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    from prefect_server.ui.queries.dashboard import Scope

    scope = Scope(None, "24h", dt.datetime.now(dt.timezone.utc))
    # Runs inside buckets 2 (one), 10 (three) and 20 (two), away from their edges.
    for bucket, minute in ((2, 10), (10, 20), (10, 30), (10, 40), (20, 15), (20, 45)):
        when = scope.since + scope.width * bucket + dt.timedelta(minutes=minute)
        run = await factories.create_flow_run(db, flow_id, scheduled_start_time=when)
        await factories.set_flow_run_state(
            db, run, {"type": "Failed" if minute > 25 else "Success"}
        )
    async with browser(app) as client:
        html = (await client.get("/ui/?window=24h")).text
        bars = re.findall(r'<a href="([^"]+)">\s*<title>[^<]*: (\d+) runs?', html)
        assert sorted(int(total) for _, total in bars) == [1, 2, 3]
        for href, total in bars:
            listed = text_of((await client.get(unescape(href))).text)
            assert f"{total} in all" in listed, href


async def test_more_late_runs_than_shown_link_to_the_list(app: Any) -> None:
    from prefect_server.ui.queries import dashboard as dashboard_queries

    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    for i in range(dashboard_queries.LIST_LIMIT + 1):
        await factories.create_flow_run(
            db, flow_id, flow_run_name=f"late-{i}", scheduled_start_time=past
        )
    async with browser(app) as client:
        html = (await client.get("/ui/?_fragment=live_late")).text
        link = html.split("Scheduled runs due before now")[0].rsplit('href="', 1)[1].split('"')[0]
        listed = text_of((await client.get(link.replace("&amp;", "&"))).text)
    assert f"{dashboard_queries.LIST_LIMIT + 1} in all" in listed


async def test_an_unchanged_chart_is_a_304_and_a_new_run_is_not(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    now = dt.datetime.now(dt.timezone.utc)
    for minutes in (5, 90, 600):
        await factories.running_flow_run(
            db, flow_id, scheduled_start_time=now - dt.timedelta(minutes=minutes)
        )
    url = "/ui/?window=7d&_fragment=live_counts"
    async with browser(app) as client:
        first = await client.get(url)
        etag = first.headers["etag"]
        again = await client.get(url, headers={"if-none-match": etag})
        assert again.status_code == 304
        await factories.create_flow_run(db, flow_id, scheduled_start_time=now)
        changed = await client.get(url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_buckets_keep_their_edges_as_time_passes() -> None:
    from prefect_server.ui.queries.dashboard import BUCKETS, Scope

    now = dt.datetime(2026, 5, 1, 12, 34, 56, tzinfo=dt.timezone.utc)
    for window, width in (("1h", 150), ("24h", 3600), ("7d", 7 * 3600)):
        scope = Scope(None, window, now)
        later = Scope(None, window, now + dt.timedelta(seconds=width / 3))
        assert scope.width == dt.timedelta(seconds=width)
        assert scope.since.timestamp() % width == 0
        # The window covers its length back from now, and the buckets reach past now.
        assert scope.since <= now - dt.timedelta(seconds=width * BUCKETS)
        assert scope.since + scope.width * (BUCKETS + 1) > now
        assert later.since in (scope.since, scope.since + scope.width)


def test_relative_times_move_by_the_minute_after_the_first() -> None:
    from prefect_server.ui.formatting import ago

    now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    before = [ago(now - dt.timedelta(seconds=s), now) for s in (0.2, 5, 59, 61, 119, 3725)]
    assert before == ["just now", "5 s ago", "59 s ago", "1 min ago", "1 min ago", "1 h 2 min ago"]
    assert ago(now + dt.timedelta(hours=2, seconds=7), now) == "in 2 h"
