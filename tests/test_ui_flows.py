"""The flows pages: the list, a flow's page, running a flow, turning its schedule on and off."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, select

from prefect_server.database.models import Flow, FlowRun
from prefect_server.orchestration import flow_groups, flows
from prefect_server.ui import graph, schedule_words

import factories
from uiutil import browser, post, text_of

UTC = dt.timezone.utc
HOUR = 3600 * 1_000_000
SCHEDULE = {
    "type": "Schedule",
    "clocks": [
        {
            "type": "IntervalClock",
            "interval": HOUR,
            "start_date": {"dt": "2024-01-01T00:00:00", "tz": "UTC"},
            "parameter_defaults": {"who": "scheduler"},
        },
        {
            "type": "CronClock",
            "cron": "0 9 * * 1-5",
            "start_date": {"dt": "2024-01-01T00:00:00", "tz": "Europe/Berlin"},
            "parameter_defaults": {"who": "cron"},
        },
    ],
    "filters": [{"fn": "prefect.schedules.filters.is_weekday", "kwargs": {}}],
    "adjustments": [
        {"fn": "prefect.schedules.adjustments.add", "kwargs": {"interval": "//timedelta:600"}}
    ],
}


def rich_flow(name: str = "Rich Flow", schedule: Any = SCHEDULE) -> dict[str, Any]:
    """Parameters x (default 1) and who (required); x → extract → <b>x</b> (mapped)."""
    flow = factories.serialized_flow(
        name,
        parameters=[factories.parameter("x", default=1), factories.parameter("who", required=True)],
        tasks=[
            factories.task("extract-1", tags=["io"], max_retries=2),
            factories.task("<b>x</b>-1", type="prefect.tasks.shell.ShellTask"),
        ],
        edges=[
            factories.edge("x", "extract-1", key="n"),
            factories.edge("extract-1", "<b>x</b>-1", key="item", mapped=True),
        ],
        run_config={"type": "LocalRun", "labels": ["dev", "local"]},
    )
    flow["schedule"] = schedule
    flow["storage"] = {"type": "Local", "flows": {}}
    return flow


async def group_of(db: Any, flow_id: uuid.UUID) -> uuid.UUID:
    async with db.session() as session:
        return (await session.get(Flow, flow_id)).flow_group_id  # type: ignore[union-attr]


async def run_form_of(db: Any, flow: dict[str, Any] | None = None) -> tuple[uuid.UUID, str]:
    """A new flow (``rich_flow()`` unless given) and the address of its run form."""
    _, flow_id = await factories.flow_chain(db, flow or rich_flow())
    return flow_id, f"/ui/flows/{await group_of(db, flow_id)}/run"


async def run_count(db: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(FlowRun)) or 0)


# The list


async def test_list_search_project_filter_and_pages(app: Any) -> None:
    db = app.state.db
    tenant = await factories.default_tenant(db)
    first = await factories.create_project(db, tenant, "First")
    second = await factories.create_project(db, tenant, "Second")
    for name in ("beta", "Alpha", "alphabet soup"):
        await factories.create_flow(db, first, factories.serialized_flow(name))
    await factories.create_flow(db, second, factories.serialized_flow("Gamma"))
    async with browser(app) as client:
        everything = text_of((await client.get("/ui/flows")).text)
        found = text_of((await client.get("/ui/flows?q=ALPHA")).text)
        in_second = text_of((await client.get(f"/ui/flows?project={second}")).text)
        page_two = text_of((await client.get("/ui/flows?size=2&page=2")).text)
        nonsense = await client.get("/ui/flows?page=abc&size=x&project=nope&q=%25")
    names = ["Alpha", "alphabet soup", "beta", "Gamma"]
    assert [everything.index(n) for n in names] == sorted(everything.index(n) for n in names)
    assert "Alpha" in found and "alphabet soup" in found and "beta" not in found
    assert "Gamma" in in_second and "Alpha" not in in_second
    assert "beta" in page_two and "Gamma" in page_two and "Alpha" not in page_two
    assert "Page 2 of 2 · 4 in all" in page_two
    assert nonsense.status_code == 200
    assert "No flow matches these filters." in nonsense.text


async def test_list_shows_the_last_ten_runs_as_marks(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    now = dt.datetime.now(UTC)
    for i in range(12):
        run = await factories.create_flow_run(
            db,
            flow_id,
            flow_run_name=f"run-{i:02}",
            scheduled_start_time=now - dt.timedelta(hours=12 - i),
        )
        await factories.set_flow_run_state(db, run, {"type": "Running"})
        await factories.set_flow_run_state(db, run, {"type": "Failed" if i == 11 else "Success"})
    await factories.create_flow_run(
        db, flow_id, flow_run_name="in-future", scheduled_start_time=now + dt.timedelta(hours=1)
    )
    async with browser(app) as client:
        html = (await client.get("/ui/flows")).text
    marks = re.findall(r'<a class="mark"[^>]*title="([^"]+)"', html)
    assert len(marks) == 10
    assert marks[0].startswith("run-02 · Success · ") and marks[-1].startswith("run-11 · Failed")
    assert "in-future" not in html and "run-01" not in html
    assert f'href="/ui/flows/{await group_of(db, flow_id)}/run"' in html


async def test_list_shows_the_schedule_and_its_next_run(app: Any) -> None:
    from prefect_server.orchestration import flow_schedules

    db = app.state.db
    tenant = await factories.default_tenant(db)
    project = await factories.create_project(db, tenant)
    on = await factories.create_flow(db, project, rich_flow("Hourly"))
    await factories.create_flow(db, project, rich_flow("Paused"))
    await factories.create_flow(db, project, factories.serialized_flow("Unscheduled"))
    async with db.transaction() as session:
        await flow_schedules.set_schedule_active(session, on)
    async with db.session() as session:
        due = await session.scalar(
            select(func.min(FlowRun.scheduled_start_time)).where(FlowRun.flow_id == on)
        )
    assert due is not None
    async with browser(app) as client:
        html = (await client.get("/ui/flows")).text
    rows = {
        name: row for row in html.split("<tr>") for name in re.findall(r">([A-Za-z]+)</a>", row)
    }
    assert '<span class="badge on">on</span>' in rows["Hourly"]
    assert "next <time" in rows["Hourly"]
    assert due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") in rows["Hourly"]
    assert "off" in text_of(rows["Paused"]) and "next" not in rows["Paused"]
    assert "none" in text_of(rows["Unscheduled"])


async def test_flow_page_runs_filter_search_and_pages(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db, rich_flow())
    group = await group_of(db, flow_id)
    now = dt.datetime.now(UTC)
    for i in range(30):
        run = await factories.create_flow_run(
            db,
            flow_id,
            flow_run_name=f"{'odd' if i % 2 else 'even'}-{i:02d}",
            parameters={"who": "me"},
            scheduled_start_time=now - dt.timedelta(minutes=i),
        )
        if i % 3 == 0:
            await factories.set_flow_run_state(db, run, {"type": "Failed"})
    page = f"/ui/flows/{group}?_fragment=live_runs"
    async with browser(app) as client:
        first = text_of((await client.get(page)).text)
        second = text_of((await client.get(f"{page}&page=2")).text)
        failed = text_of((await client.get(f"{page}&state=Failed")).text)
        odd = text_of((await client.get(f"{page}&q=ODD&size=50")).text)
        both = text_of((await client.get(f"{page}&q=odd&state=Failed&size=50")).text)
    assert "Page 1 of 2 · 30 in all" in first and "even-00" in first and "odd-25" not in first
    assert "Page 2 of 2" in second and "odd-25" in second and "even-00" not in second
    assert "10 in all" in failed and "even-00" in failed and "odd-01" not in failed
    assert "15 in all" in odd and "even" not in odd
    assert "5 in all" in both and "odd-03" in both and "odd-01" not in both


async def test_list_runs_two_queries_for_marks_whatever_the_page_size(app: Any) -> None:
    """The last runs of every flow on the page come from one query, not one per flow."""
    from sqlalchemy import event

    db = app.state.db
    tenant = await factories.default_tenant(db)
    project = await factories.create_project(db, tenant, "Many")
    for i in range(6):
        flow_id = await factories.create_flow(db, project, factories.serialized_flow(f"f{i}"))
        await factories.create_flow_run(db, flow_id)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with browser(app) as client:
            assert (await client.get("/ui/flows")).status_code == 200
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    run_queries = [s for s in statements if "flow_run" in s]
    assert len(run_queries) == 2, run_queries  # next runs, last runs


async def test_archived_only_flows_are_hidden_unless_asked(app: Any) -> None:
    db = app.state.db
    tenant = await factories.default_tenant(db)
    project = await factories.create_project(db, tenant)
    v1 = await factories.create_flow(db, project, factories.serialized_flow("Old"))
    v2 = await factories.create_flow(db, project, factories.serialized_flow("Old"))
    await factories.create_flow(db, project, factories.serialized_flow("Kept"))
    async with browser(app) as client:
        before = (await client.get("/ui/flows")).text
    # One row per group, showing its current version (2).
    assert before.count(">Old</a>") == 1
    assert re.search(r">Old</a>.*?<td class=\"num hide-narrow\">2</td>", before, re.S)
    async with db.transaction() as session:
        await flows.archive_flow(session, v2)
    assert v1 != v2
    async with browser(app) as client:
        hidden = text_of((await client.get("/ui/flows")).text)
        shown = text_of((await client.get("/ui/flows?archived=1")).text)
    assert "Old " not in hidden and "Kept" in hidden
    assert "Old archived" in shown


# The flow page


async def test_flow_page_shows_every_section(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db, rich_flow())
    group = await group_of(db, flow_id)
    async with db.transaction() as session:
        await flow_groups.set_default_parameters(session, group, {"x": 5})
    await factories.create_flow_run(
        db, flow_id, flow_run_name="first-run", parameters={"who": "me"}
    )
    async with browser(app) as client:
        response = await client.get(f"/ui/flows/{group}")
        fragment = await client.get(f"/ui/flows/{group}?_fragment=live_runs&state=Nope&page=abc")
        filtered = await client.get(f"/ui/flows/{group}?_fragment=live_runs&q=nothing-like-it")
    assert response.status_code == 200
    html, text = response.text, text_of(response.text)
    assert "<h1>Rich Flow" in html and "Version 1" in text
    assert "dev local (from the run config)" in text
    assert "LocalRun" in text and "Local" in text and "1.4.1" in text
    # The schedule in words.
    assert "every 1 hour starting 2024-01-01 00:00 UTC; sets parameters who" in text
    assert (
        "at 09:00, on Monday through Friday (Europe/Berlin), cron <code>0 9 * * 1-5</code>"
    ) in html
    assert "Only times that pass every filter: is weekday" in text
    assert "Then adjusted by: add (interval 10 minutes)" in text
    assert "Turn schedule on" in text and "Next times" in text
    # Parameters: the group's default overrides the flow's; who is required.
    assert re.search(
        r"x</td>\s*<td><code class=\"json\">5</code> <span class=\"muted\">\(flow group default\)",
        html,
    )
    assert re.search(
        r"who</td>\s*<td><span class=\"muted\">none</span></td>\s*<td><strong>required", html
    )
    # Versions, graph, tasks.
    assert f'href="/ui/flows/{group}?version=1"' in html
    assert '<svg class="taskgraph"' in html and 'class="edge mapped"' in html
    assert '<g class="node parameter"><title>x (parameter)</title>' in html
    assert "ShellTask" in text and "FunctionTask" in text and "io" in text
    # A task named <b>x</b> is text, never markup.
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    # Runs, and their live fragment (bad filters are ignored, never a 500).
    assert "first-run" in text and 'data-live="live_runs"' in html
    assert fragment.status_code == 200 and "first-run" in fragment.text
    assert fragment.text.lstrip().startswith('<div data-live="live_runs"')
    assert "No run matches these filters." in filtered.text


async def test_versions_are_listed_and_selectable(app: Any) -> None:
    db = app.state.db
    tenant = await factories.default_tenant(db)
    project = await factories.create_project(db, tenant)
    await factories.create_flow(db, project, factories.serialized_flow("Versioned"))
    v2 = await factories.create_flow(db, project, rich_flow("Versioned", schedule=None))
    group = await group_of(db, v2)
    async with browser(app) as client:
        latest = text_of((await client.get(f"/ui/flows/{group}")).text)
        first = text_of((await client.get(f"/ui/flows/{group}?version=1")).text)
        missing = await client.get(f"/ui/flows/{group}?version=9")
    assert "Version 2" in latest and "This flow has no schedule" in latest
    assert "Version 1" in first and "archived" in first and "the current version is 2" in first
    assert missing.status_code == 404


async def test_unknown_and_malformed_ids_are_404_pages(app: Any) -> None:
    async with browser(app) as client:
        for url in (
            "/ui/flows/not-a-uuid",
            f"/ui/flows/{uuid.uuid4()}",
            f"/ui/flows/{uuid.uuid4()}/run",
            "/ui/flows/1234/run",
        ):
            response = await client.get(url)
            assert response.status_code == 404, url
            assert "Not found" in response.text
        refused = await post(client, f"/ui/flows/{uuid.uuid4()}/run", {"run_name": "x"})
    assert refused.status_code == 404


# The run form


async def test_run_form_is_filled_with_the_defaults(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db, rich_flow())
    group = await group_of(db, flow_id)
    async with db.transaction() as session:
        await flow_groups.set_default_parameters(session, group, {"x": {"a": [1, 2]}})
    async with browser(app) as client:
        html = (await client.get(f"/ui/flows/{group}/run")).text
    assert '<textarea id="param-1" name="param:x"' in html
    assert "{&#34;a&#34;: [1, 2]}</textarea>" in html
    assert re.search(r'name="param:who"[^>]*required[^>]*></textarea>', html)
    assert 'name="csrf_token"' in html


async def test_invalid_json_rerenders_the_form_and_creates_nothing(app: Any) -> None:
    db = app.state.db
    _, page = await run_form_of(db)
    async with browser(app) as client:
        bad = await post(client, page, {"param:x": "{nope", "param:who": '"me"'}, page=page)
        missing = await post(client, page, {"param:x": "2", "param:who": "  "}, page=page)
    assert bad.status_code == 400
    assert "Not valid JSON: Expecting property name enclosed in double quotes" in text_of(bad.text)
    assert ">{nope</textarea>" in bad.text and 'aria-invalid="true"' in bad.text
    assert missing.status_code == 400
    assert "This parameter is required." in missing.text
    assert await run_count(db) == 0


async def test_values_python_reads_but_json_has_not_are_refused(app: Any) -> None:
    db = app.state.db
    _, page = await run_form_of(db)
    async with browser(app) as client:
        answers = {
            value: await post(client, page, {"param:x": value, "param:who": "1"}, page=page)
            for value in ("NaN", "-Infinity", "1e999", "[" * 5000 + "]" * 5000)
        }
    for value, answer in answers.items():
        assert answer.status_code == 400, value[:10]
        assert "Not valid JSON" in text_of(answer.text), value[:10]
    assert "nested too deeply" in text_of(answers["[" * 5000 + "]" * 5000].text)
    assert await run_count(db) == 0


async def test_run_form_creates_the_run_and_redirects_to_it(app: Any) -> None:
    db = app.state.db
    flow_id, page = await run_form_of(db)
    async with browser(app) as client:
        data = {"param:x": "[1, 2]", "param:who": '"me"', "run_name": "by-hand", "labels": "a, b,"}
        response = await post(client, page, data, page=page)
        flash = unquote(response.cookies.get("ps_flash") or "")
    assert response.status_code == 303
    run_id = response.headers["location"].rsplit("/", 1)[-1]
    assert response.headers["location"] == f"/ui/flow-runs/{run_id}"
    assert flash == "Flow run by-hand created"
    async with db.session() as session:
        run = await session.get(FlowRun, uuid.UUID(run_id))
    assert run is not None and run.flow_id == flow_id
    assert run.parameters == {"x": [1, 2], "who": "me"}
    assert run.name == "by-hand" and run.labels == ["a", "b"] and run.state == "Scheduled"


async def test_empty_labels_mean_the_flows_own(app: Any) -> None:
    db = app.state.db
    _, page = await run_form_of(db)
    async with browser(app) as client:
        response = await post(client, page, {"param:x": "", "param:who": "1"}, page=page)
    assert response.status_code == 303
    async with db.session() as session:
        run = (await session.scalars(select(FlowRun))).one()
    assert run.labels == ["dev", "local"] and run.parameters == {"x": 1, "who": 1}


async def test_an_archived_flow_cannot_be_run(app: Any) -> None:
    db = app.state.db
    flow_id, page = await run_form_of(db, factories.serialized_flow())
    async with db.transaction() as session:
        await flows.archive_flow(session, flow_id)
    async with browser(app) as client:
        response = await post(client, page, {"param:x": "1"}, page=page)
    assert response.status_code == 400
    assert f"Flow {flow_id} is archived." in response.text
    assert await run_count(db) == 0


async def test_a_post_without_the_csrf_token_is_refused(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db, rich_flow())
    group = await group_of(db, flow_id)
    async with browser(app) as client:
        await client.get(f"/ui/flows/{group}/run")
        response = await client.post(f"/ui/flows/{group}/run", data={"param:who": '"me"'})
        schedule = await client.post(f"/ui/flows/{group}/schedule", data={"active": "true"})
    assert response.status_code == 403 and schedule.status_code == 403
    assert await run_count(db) == 0
    async with db.session() as session:
        assert (await session.get(Flow, flow_id)).is_schedule_active is False  # type: ignore[union-attr]


# Schedule on and off


async def test_schedule_on_and_off(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db, rich_flow())
    group = await group_of(db, flow_id)
    page = f"/ui/flows/{group}"

    async def active() -> bool:
        async with db.session() as session:
            flow = await session.get(Flow, flow_id)
            assert flow is not None
            await session.refresh(flow)
            return flow.is_schedule_active

    async with browser(app) as client:
        on = await post(client, f"{page}/schedule", {"active": "true"}, page=page)
        assert on.status_code == 303 and on.headers["location"] == page
        assert "turned on" in unquote(on.cookies.get("ps_flash") or "")
        assert await active() is True
        assert await run_count(db) > 0
        assert "Turn schedule off" in (await client.get(page)).text
        off = await post(client, f"{page}/schedule", {"active": "false"}, page=page)
        assert "turned off" in unquote(off.cookies.get("ps_flash") or "")
    assert await active() is False
    assert await run_count(db) == 0


async def test_a_flow_without_schedule_offers_no_toggle(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    group = await group_of(db, flow_id)
    page = f"/ui/flows/{group}"
    async with browser(app) as client:
        html = (await client.get(page)).text
        response = await post(client, f"{page}/schedule", {"active": "true"}, page=page)
    assert "Turn schedule" not in html
    assert response.status_code == 303
    assert unquote(response.cookies.get("ps_flash") or "") == (
        "This flow has no schedule; nothing was changed."
    )
    async with db.session() as session:
        assert (await session.get(Flow, flow_id)).is_schedule_active is False  # type: ignore[union-attr]


# Pure parts: the graph layout and the schedule in words


def test_layout_puts_each_task_one_column_after_its_longest_upstream_path() -> None:
    nodes = [graph.NodeIn(n, n) for n in "abcde"]
    edges = [
        graph.EdgeIn("a", "b"),
        graph.EdgeIn("b", "c"),
        graph.EdgeIn("a", "c"),
        graph.EdgeIn("d", "e", True),
    ]
    result = graph.layout(nodes, edges)
    assert result is not None
    column = {n.id: n.column for n in result.nodes}
    assert column == {"a": 0, "b": 1, "c": 2, "d": 0, "e": 1}
    boxes = [(n.x, n.y, n.x + n.width, n.y + n.height) for n in result.nodes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
            assert all(0 <= v for v in a) and a[2] <= result.width and a[3] <= result.height
    assert [e.mapped for e in result.edges] == [False, False, False, True]


def test_layout_survives_cycles_self_loops_and_unknown_ends() -> None:
    nodes = [graph.NodeIn(n, n) for n in "abc"]
    edges = [
        graph.EdgeIn("a", "b"),
        graph.EdgeIn("b", "c"),
        graph.EdgeIn("c", "b"),
        graph.EdgeIn("a", "a"),
        graph.EdgeIn("a", "zzz"),
    ]
    result = graph.layout(nodes, edges)
    assert result is not None
    column = {n.id: n.column for n in result.nodes}
    assert column["a"] == 0 and column["b"] >= 1 and column["c"] >= 1
    assert len(result.edges) == 4  # the edge to an unknown task is dropped


def test_layout_is_bounded_and_truncates_long_names() -> None:
    many = [graph.NodeIn(i, f"t{i}") for i in range(graph.MAX_NODES + 1)]
    assert graph.layout(many, []) is None
    long = graph.layout([graph.NodeIn(1, "x" * 80)], [])
    assert long is not None and long.nodes[0].label == "x" * 14 + "…" + "x" * 7
    assert long.nodes[0].name == "x" * 80
    empty = graph.layout([], [])
    assert empty is not None and empty.nodes == [] and empty.width == 2 * graph.MARGIN


def test_schedule_words() -> None:
    def said(schedule: Any) -> list[str]:
        words = schedule_words.describe(schedule)
        return ["".join(p.text for p in clock) for clock in words.clocks] + words.rules

    assert said({"clocks": [{"type": "IntervalClock", "interval": 90 * 1_000_000}]}) == [
        "every 1 minute 30 seconds"
    ]
    dates = {
        "type": "DatesClock",
        "dates": [{"dt": f"2030-01-0{d}T10:00:00", "tz": "UTC"} for d in range(1, 8)],
    }
    assert said({"clocks": [dates]}) == [
        "on 2030-01-01 10:00 UTC, 2030-01-02 10:00 UTC, 2030-01-03 10:00 UTC, "
        "2030-01-04 10:00 UTC, 2030-01-05 10:00 UTC and 2 more dates"
    ]
    cron = {"type": "CronClock", "cron": "*/5 * * * *", "day_or": False, "labels": ["gpu"]}
    between = {
        "fn": "prefect.schedules.filters.between_times",
        "kwargs": {"start": "//time:09:00:00", "end": "//time:17:00:00"},
    }
    assert said({"clocks": [cron], "not_filters": [between]}) == [
        "every 5 minutes (UTC), cron */5 * * * *; labels gpu",
        "Never times that pass any of: between times (end 17:00:00, start 09:00:00)",
    ]
    assert said({"clocks": [{"type": "Nope"}]})[0].startswith(
        "unreadable clock: Invalid clock type"
    )
    assert schedule_words.describe("nonsense").problem
    after = dt.datetime(2030, 1, 1, tzinfo=UTC)
    hourly = {"clocks": [{"type": "IntervalClock", "interval": HOUR}]}
    assert schedule_words.next_times(hourly, 2, after) == [
        dt.datetime(2030, 1, 1, 1, tzinfo=UTC),
        dt.datetime(2030, 1, 1, 2, tzinfo=UTC),
    ]
    assert schedule_words.next_times({"clocks": "bad"}) == []


async def test_versions_are_paged(app: Any, monkeypatch: Any) -> None:
    from prefect_server.ui.queries import flows as flow_queries

    monkeypatch.setattr(flow_queries, "MAX_VERSIONS", 2)
    db = app.state.db
    tenant = await factories.default_tenant(db)
    project = await factories.create_project(db, tenant)
    for _ in range(3):
        latest = await factories.create_flow(db, project, factories.serialized_flow("Many"))
    group = await group_of(db, latest)
    async with browser(app) as client:
        first = (await client.get(f"/ui/flows/{group}")).text
        second = (await client.get(f"/ui/flows/{group}?versions_page=2")).text

    def linked(html: str) -> set[str]:
        return set(re.findall(r'[?;]version=(\d+)"', html))

    assert linked(first) == {"3", "2"} and "Page 1 of 2 · 3 in all" in text_of(first)
    assert linked(second) == {"1"}
