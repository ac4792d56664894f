"""The task-run page: state, history, its own logs, a mapped parent's children."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from prefect_server.orchestration import logs, task_runs
from prefect_server.ui import timeline
from prefect_server.ui.queries import task_runs as task_run_queries

import factories
from uiutil import browser, text_of


async def mapped_run(app: Any, n: int = 60) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """(flow run, the mapped parent t1, its children), the flow run still Running."""
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id, flow_run_name="map-mole")
    parent = (await factories.task_run_ids(db, run))["t1-1"]
    task_id = (await factories.task_ids(db, flow_id))["t1-1"]
    async with db.transaction() as session:
        kids = [
            (await task_runs.get_or_create_task_run_info(session, run, task_id, i)).id
            for i in range(n)
        ]
    for i, kid in enumerate(kids[:5]):
        await factories.set_task_run_state(db, kid, {"type": "Running"})
        await factories.set_task_run_state(
            db, kid, {"type": "Failed" if i == 0 else "Success", "message": "bad <i>"}
        )
    await factories.set_task_run_state(db, parent, {"type": "Mapped"})
    return run, parent, kids


async def test_task_run_page(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id, flow_run_name="tasky-tapir")
    ids = await factories.task_run_ids(db, run)
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Running"})
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Failed", "message": "oops <b>"})
    async with db.transaction() as session:
        await task_runs.set_task_run_name(session, ids["t1-1"], "t1 for 2024-01-01")
        await logs.write_run_logs(
            session,
            [
                {"flow_run_id": run, "task_run_id": ids["t1-1"], "message": "mine <script>"},
                {"flow_run_id": run, "task_run_id": ids["t2-1"], "message": "not mine"},
                {"flow_run_id": run, "message": "the flow's"},
            ],
        )
    async with browser(app) as client:
        response = await client.get(f"/ui/task-runs/{ids['t1-1']}")
    assert response.status_code == 200
    html, text = response.text, text_of(response.text)
    assert "t1 for 2024-01-01" in text and "t1-1" in text  # templated name, slug
    assert f'href="/ui/flow-runs/{run}"' in html and "tasky-tapir" in text
    assert "oops &lt;b&gt;" in html and "t1-key" in text  # message, cache key
    assert "State history" in text and "Running" in text
    assert "mine &lt;script&gt;" in html and "not mine" not in text and "the flow's" not in text
    assert f"task_run={ids['t1-1']}" in html  # the download keeps to this task run
    assert 'data-live="live_state"' in html and 'data-live="live_logs"' in html
    assert "Mapped children" not in text


async def test_task_run_logs_txt_keeps_to_the_task_run(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    ids = await factories.task_run_ids(db, run)
    async with db.transaction() as session:
        await logs.write_run_logs(
            session,
            [
                {"flow_run_id": run, "task_run_id": ids["t1-1"], "message": "one"},
                {"flow_run_id": run, "task_run_id": ids["t2-1"], "message": "two"},
            ],
        )
    async with browser(app) as client:
        body = (await client.get(f"/ui/flow-runs/{run}/logs.txt?task_run={ids['t1-1']}")).text
        assert "one" in body and "two" not in body
        bad = await client.get(f"/ui/flow-runs/{run}/logs.txt?task_run=nope")
        assert bad.status_code == 404


async def test_mapped_parent_shows_its_children(app: Any) -> None:
    run, parent, kids = await mapped_run(app)
    async with browser(app) as client:
        html = (await client.get(f"/ui/task-runs/{parent}")).text
        text = text_of(html)
        assert "Mapped children 60" in text
        assert "55 Pending" in text and "4 Success" in text and "1 Failed" in text
        assert f'href="/ui/task-runs/{kids[0]}"' in html
        assert f'href="/ui/task-runs/{kids[49]}"' in html
        assert f'href="/ui/task-runs/{kids[50]}"' not in html
        assert "Page 1 of 2 · 60 in all" in text
        assert 'data-live="live_children"' in html
        second = (await client.get(f"/ui/task-runs/{parent}?page=2")).text
        assert f'href="/ui/task-runs/{kids[50]}"' in second
        fragment = await client.get(f"/ui/task-runs/{parent}?_fragment=live_children")
        assert fragment.text.lstrip().startswith('<section class="card" id="children"')
        child = text_of((await client.get(f"/ui/task-runs/{kids[0]}")).text)
        assert "mapped parent" in child and "bad <i>" in child
        # The flow-run page counts the children by state too.
        flow_page = text_of((await client.get(f"/ui/flow-runs/{run}")).text)
        assert "60 children: 1 Failed 55 Pending 4 Success" in flow_page


async def test_finished_flow_run_stops_refreshing(app: Any) -> None:
    db = app.state.db
    run, parent, _ = await mapped_run(app, n=2)
    await factories.set_flow_run_state(db, run, {"type": "Failed"})
    async with browser(app) as client:
        html = (await client.get(f"/ui/task-runs/{parent}")).text
        assert "data-live" not in html
        for name in ("live_state", "live_children", "live_logs"):
            fragment = await client.get(f"/ui/task-runs/{parent}?_fragment={name}")
            assert fragment.status_code == 200 and "data-live" not in fragment.text


async def test_bad_ids_are_404(app: Any) -> None:
    async with browser(app) as client:
        for url in ("/ui/task-runs/nope", f"/ui/task-runs/{uuid.uuid4()}"):
            response = await client.get(url)
            assert response.status_code == 404
            assert "There is no task run" in response.text


def test_gantt_geometry() -> None:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    spans = [
        timeline.Span("a", "Success", t0, t0 + dt.timedelta(seconds=10), "/a"),
        timeline.Span("b", "Running", t0 + dt.timedelta(seconds=10), None, "/b"),
    ]
    chart = timeline.gantt(spans, now=t0 + dt.timedelta(seconds=20), width=1200)
    assert chart is not None
    a, b = chart.bars
    assert a.x == timeline.LABEL_WIDTH and a.width == 500.0
    assert b.x == 700.0 and b.width == 500.0  # still running: drawn to now
    assert a.colour == "#28a745" and b.y > a.y
    assert "running for" in b.title
    assert chart.ticks[-1].text == "+20 s"
    assert timeline.gantt([], now=t0) is None
    many = [timeline.Span(str(i), None, t0, t0, "/") for i in range(500)]
    tiny = timeline.gantt(many, now=t0)
    assert tiny is not None and len(tiny.bars) == timeline.LIMIT
    assert all(bar.width >= timeline.MIN_BAR for bar in tiny.bars)


async def test_mapped_children_show_their_templated_names(app: Any) -> None:
    db = app.state.db
    run, parent, kids = await mapped_run(app, n=3)
    async with db.transaction() as session:
        await task_runs.set_task_run_name(session, kids[0], "fetch <us-east>")
        await task_runs.set_task_run_name(session, kids[2], "fetch eu-west")
    async with browser(app) as client:
        html = (await client.get(f"/ui/task-runs/{parent}")).text
        flow_page = (await client.get(f"/ui/flow-runs/{run}")).text
    assert "fetch &lt;us-east&gt;" in html and "fetch eu-west" in html
    assert "<us-east>" not in html
    assert "3 children:" in text_of(flow_page)
    # The run's page lists the first children by their templated names too, escaped,
    # each linking to its own page; an unnamed child is shown by its map index.
    assert "fetch &lt;us-east&gt;" in flow_page and "<us-east>" not in flow_page
    assert f'href="/ui/task-runs/{kids[0]}">fetch &lt;us-east&gt;</a>' in flow_page
    assert f'href="/ui/task-runs/{kids[1]}">[1]</a>' in flow_page
    assert f'href="/ui/task-runs/{kids[2]}">fetch eu-west</a>' in flow_page


async def test_a_run_page_previews_only_the_first_children(app: Any) -> None:
    run, parent, kids = await mapped_run(app, n=25)
    async with browser(app) as client:
        page = (await client.get(f"/ui/flow-runs/{run}")).text
        fragment = (await client.get(f"/ui/flow-runs/{run}?_fragment=live_tasks")).text
    for html in (page, fragment):
        shown = [kid for kid in kids if f'href="/ui/task-runs/{kid}"' in html]
        assert shown == kids[: task_run_queries.CHILDREN_PREVIEW]
        assert f'href="/ui/task-runs/{parent}#children">All 25 children' in html
