"""The run list and the flow-run page: sections, filters, logs, actions, escaping, 404s."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, FlowRunState, TaskRun
from prefect_server.orchestration import artifacts, logs, task_runs

import factories
from uiutil import browser, post, text_of

NOW = dt.datetime.now(dt.timezone.utc)


async def write_logs(db: Database, run_id: uuid.UUID, lines: list[dict[str, Any]]) -> None:
    async with db.transaction() as session:
        await logs.write_run_logs(session, [{"flow_run_id": run_id, **line} for line in lines])


async def finished_run(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    """(flow_id, run): t1 succeeded with 3 mapped children and a retry, t2 failed."""
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id, flow_run_name="done-dodo")
    ids = await factories.task_run_ids(db, run)
    tasks = await factories.task_ids(db, flow_id)
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Running"})
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Retrying"})
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Running"})
    async with db.transaction() as session:
        kids = [
            (await task_runs.get_or_create_task_run_info(session, run, tasks["t1-1"], i)).id
            for i in range(3)
        ]
    for i, kid in enumerate(kids):
        await factories.set_task_run_state(db, kid, {"type": "Running"})
        await factories.set_task_run_state(db, kid, {"type": "Failed" if i == 2 else "Success"})
    await factories.set_task_run_state(db, ids["t1-1"], {"type": "Mapped"})
    await factories.set_task_run_state(db, ids["t2-1"], {"type": "Running"})
    await factories.set_task_run_state(db, ids["t2-1"], {"type": "Failed", "message": "t2 broke"})
    await factories.set_flow_run_state(db, run, {"type": "Failed", "message": "Some failed."})
    return flow_id, run


async def test_flow_run_page_shows_every_section(app: Any) -> None:
    db = app.state.db
    _, run = await finished_run(db)
    ids = await factories.task_run_ids(db, run)
    await write_logs(db, run, [{"level": "INFO", "name": "prefect.FlowRunner", "message": "hello"}])
    async with db.transaction() as session:
        await artifacts.create_task_run_artifact(
            session,
            task_run_id=ids["t2-1"],
            kind="markdown",
            data={
                "markdown": "# Title\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))"
            },
        )
        await artifacts.create_task_run_artifact(
            session, task_run_id=ids["t2-1"], kind="link", data={"link": "https://example.com/a"}
        )
        await artifacts.create_task_run_artifact(
            session, task_run_id=ids["t2-1"], kind="link", data={"link": "javascript:alert(2)"}
        )
    async with browser(app) as client:
        response = await client.get(f"/ui/flow-runs/{run}")
    assert response.status_code == 200
    html, text = response.text, text_of(response.text)
    assert "done-dodo" in text and "Some failed." in text
    for section in ("Timeline", "Task runs", "Logs", "Details", "State history", "Artifacts"):
        assert section in text
    assert '<svg class="gantt"' in html
    assert f'href="/ui/task-runs/{ids["t1-1"]}"' in html
    assert "3 children: 1 Failed 2 Success" in text  # the mapped parent's children by state
    assert "t2 broke" in html and "hello" in text
    # Markdown: rendered, its raw HTML shown as text, javascript: links refused.
    assert "<h1>Title</h1>" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html
    assert 'rel="nofollow noopener noreferrer">https://example.com/a</a>' in html
    assert "javascript:alert(2)" in text  # shown, not linked
    # A finished run: nothing refreshes, the Restart button is offered.
    assert "data-live" not in html
    assert "/restart" in html and "/cancel" not in html


async def test_flow_run_page_shows_agent_run_config_parameters_and_times(app: Any) -> None:
    from prefect_server.orchestration import agents, flow_run_states

    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    run = await factories.create_flow_run(
        db,
        flow_id,
        parameters={"who": "<i>me</i>"},
        labels=["gpu", "eu"],
        run_config={"type": "DockerRun", "image": "repo/img:1", "labels": ["gpu", "eu"]},
    )
    async with db.transaction() as session:
        agent = await agents.register_agent(
            session, tenant_id=tenant_id, labels=["gpu", "eu"], name="dock <b>", type="DockerAgent"
        )
        await flow_run_states.set_flow_run_state(
            session, run, {"type": "Submitted"}, agent_id=agent
        )
    await factories.set_flow_run_state(db, run, {"type": "Running"})
    await factories.set_flow_run_state(db, run, {"type": "Success", "message": "All done."})
    async with browser(app) as client:
        html = (await client.get(f"/ui/flow-runs/{run}")).text
    text = text_of(html)
    assert f'href="/ui/agents#agent-{agent}"' in html and "dock &lt;b&gt;" in html
    assert "DockerRun" in text and "repo/img:1" in text
    assert "&lt;i&gt;me&lt;/i&gt;" in html and "<i>me</i>" not in html
    assert "gpu" in text and "eu" in text
    for fact in ("Scheduled", "Started", "Ended", "Duration"):
        assert fact in text
    history = text[text.index("State history") :]
    # Newest first.
    assert history.index("Success") < history.index("Running") < history.index("Submitted")


async def test_retries_are_counted(app: Any) -> None:
    db = app.state.db
    _, run = await finished_run(db)
    async with browser(app) as client:
        html = (await client.get(f"/ui/flow-runs/{run}?_fragment=live_tasks")).text
    rows = [row for row in html.split("<tr>") if ">t1</a>" in row]
    assert rows and '<td class="num hide-narrow">1</td>' in rows[0]


async def test_a_running_run_is_live(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    async with browser(app) as client:
        html = (await client.get(f"/ui/flow-runs/{run}")).text
        for name in ("live_state", "live_tasks", "live_logs"):
            assert f'data-live="{name}"' in html
            fragment = await client.get(f"/ui/flow-runs/{run}?_fragment={name}")
            assert fragment.status_code == 200
            assert f'data-live="{name}"' in fragment.text
        assert "/cancel" in html
        await factories.set_flow_run_state(db, run, {"type": "Success"})
        for name in ("live_state", "live_tasks", "live_logs"):
            fragment = await client.get(f"/ui/flow-runs/{run}?_fragment={name}")
            assert "data-live" not in fragment.text


async def test_bad_ids_are_404(app: Any) -> None:
    async with browser(app) as client:
        for url in (
            "/ui/flow-runs/not-an-id",
            f"/ui/flow-runs/{uuid.uuid4()}",
            "/ui/flow-runs/not-an-id/logs.txt",
            f"/ui/flow-runs/{uuid.uuid4()}/logs.txt",
        ):
            response = await client.get(url)
            assert response.status_code == 404, url
            assert "Not found" in response.text


async def test_list_filters_and_pages(app: Any) -> None:
    db = app.state.db
    _, flow_a = await factories.flow_chain(db)
    _, flow_b = await factories.flow_chain(db)
    for i in range(30):
        await factories.create_flow_run(
            db,
            flow_a,
            flow_run_name=f"alpha-{i:02d}",
            scheduled_start_time=NOW - dt.timedelta(hours=i),
        )
    failed = await factories.running_flow_run(db, flow_b, flow_run_name="beta_%_fail")
    await factories.set_flow_run_state(db, failed, {"type": "Failed", "message": "nope <b>"})
    async with db.session() as session:
        group_b = await session.scalar(select(FlowRun.flow_id).where(FlowRun.id == failed))
    from prefect_server.database.models import Flow

    async with db.session() as session:
        group_b = await session.scalar(select(Flow.flow_group_id).where(Flow.id == group_b))
    async with browser(app) as client:
        first = text_of((await client.get("/ui/flow-runs")).text)
        assert "Page 1 of 2 · 31 in all" in first
        assert "beta_%_fail" in first and "alpha-00" in first and "alpha-29" not in first
        second = text_of((await client.get("/ui/flow-runs?page=2")).text)
        assert "alpha-29" in second
        only_failed = (await client.get("/ui/flow-runs?state=Failed")).text
        assert "beta_%_fail" in only_failed and "alpha-00" not in only_failed
        assert 'title="nope &lt;b&gt;"' in only_failed
        by_flow = text_of((await client.get(f"/ui/flow-runs?flow={group_b}")).text)
        assert "beta_%_fail" in by_flow and "alpha-00" not in by_flow
        # The name filter takes % and _ literally and ignores case.
        assert "1 in all" in text_of((await client.get("/ui/flow-runs?q=A_%25_F")).text)
        assert "0 in all" in text_of((await client.get("/ui/flow-runs?q=alpha_%25")).text)
        since = (NOW - dt.timedelta(hours=4, minutes=30)).isoformat()
        until = (NOW - dt.timedelta(hours=1, minutes=30)).isoformat()
        window = text_of(
            (await client.get("/ui/flow-runs", params={"since": since, "until": until})).text
        )
        assert "alpha-02" in window and "alpha-04" in window
        assert "alpha-01" not in window and "alpha-05" not in window
        nonsense = await client.get("/ui/flow-runs?state=Nope&since=yesterday&page=abc&flow=x")
        assert nonsense.status_code == 200
        said = text_of(nonsense.text)
        assert "There is no state called 'Nope'" in said
        assert "Since 'yesterday' is not an ISO time" in said
        assert "31 in all" in said
        live = await client.get("/ui/flow-runs?_fragment=live_rows&state=Failed")
        assert live.text.lstrip().startswith('<section class="card" data-live="live_rows"')


async def test_logs_filters_pages_and_escaping(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    start = NOW - dt.timedelta(hours=1)
    await write_logs(
        db,
        run,
        [
            {
                "level": "ERROR" if i % 10 == 0 else "INFO",
                "name": "prefect.Task",
                "message": f"line {i:03d}",
                "timestamp": (start + dt.timedelta(seconds=i)).isoformat(),
            }
            for i in range(250)
        ]
        + [
            {
                "level": "WARNING",
                "message": "<script>alert(1)</script>\n  indented",
                "timestamp": (start + dt.timedelta(seconds=999)).isoformat(),
            }
        ],
    )
    async with browser(app) as client:
        html = (await client.get(f"/ui/flow-runs/{run}")).text
        text = text_of(html)
        # The newest 200 of 251: the script line and lines 051 to 249.
        assert "line 249" in text and "line 051" in text and "line 050" not in text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;\n  indented" in html
        assert "data-follow" in html and "Older lines" in html
        older = text_of((await client.get(f"/ui/flow-runs/{run}?logs_page=2")).text)
        assert "line 050" in older and "line 000" in older and "line 051" not in older
        errors = text_of((await client.get(f"/ui/flow-runs/{run}?level=ERROR")).text)
        assert "line 240" in errors and "line 241" not in errors and "alert" not in errors
        matching = text_of((await client.get(f"/ui/flow-runs/{run}?text=LINE 12")).text)
        assert "line 120" in matching and "line 129" in matching and "line 130" not in matching
        everything = await client.get(f"/ui/flow-runs/{run}/logs.txt")
        assert everything.status_code == 200
        assert everything.headers["content-disposition"].startswith("attachment;")
        lines = everything.text.splitlines()
        assert len(lines) == 252  # 251 logs, one with two lines
        assert "line 000" in lines[0] and "<script>" in lines[-2]
        filtered = await client.get(f"/ui/flow-runs/{run}/logs.txt?level=ERROR&text=line 2")
        assert [line.split(": ")[-1] for line in filtered.text.splitlines()] == [
            f"line {i}" for i in range(200, 250, 10)
        ]


async def test_logs_download_in_batches(db: Database) -> None:
    from prefect_server.ui.queries import logs as log_queries

    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    same = NOW.isoformat()  # one timestamp for all: the batches must still not repeat
    await write_logs(db, run, [{"message": f"m{i}", "timestamp": same} for i in range(25)])
    batches = [
        batch
        async for batch in log_queries.all_lines(db, run, None, log_queries.LogFilter(), batch=10)
    ]
    assert [len(b) for b in batches] == [10, 10, 5]
    assert len({line.id for b in batches for line in b}) == 25


async def state_rows(db: Database, run: uuid.UUID) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(FlowRunState).where(FlowRunState.flow_run_id == run)
        )
    return int(count or 0)


async def current_state(db: Database, run: uuid.UUID) -> str | None:
    async with db.session() as session:
        return await session.scalar(select(FlowRun.state).where(FlowRun.id == run))


async def test_cancel(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    running = await factories.running_flow_run(db, flow_id)
    scheduled = await factories.create_flow_run(db, flow_id)
    done = await factories.running_flow_run(db, flow_id)
    await factories.set_flow_run_state(db, done, {"type": "Success"})
    async with browser(app) as client:
        response = await post(client, f"/ui/flow-runs/{running}/cancel")
        assert response.status_code == 303
        assert response.headers["location"] == f"/ui/flow-runs/{running}"
        page = await client.get(response.headers["location"])
        assert "Cancelling: the flow-run process will stop" in page.text
        assert await current_state(db, running) == "Cancelling"

        await post(client, f"/ui/flow-runs/{scheduled}/cancel")
        assert await current_state(db, scheduled) == "Cancelled"

        before = await state_rows(db, done)
        response = await post(client, f"/ui/flow-runs/{done}/cancel")
        page = await client.get(response.headers["location"])
        assert "This run already finished (Success); nothing to cancel." in page.text
        assert await state_rows(db, done) == before

        assert (await post(client, f"/ui/flow-runs/{uuid.uuid4()}/cancel")).status_code == 404
        assert (await post(client, "/ui/flow-runs/nope/cancel")).status_code == 404


async def test_csrf_is_required(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    before = await state_rows(db, run)
    async with browser(app) as client:
        await client.get("/ui/")
        for action, data in (
            ("cancel", {}),
            ("restart", {}),
            ("set-state", {"state": "Success"}),
        ):
            response = await client.post(f"/ui/flow-runs/{run}/{action}", data=data)
            assert response.status_code == 403
            response = await client.post(
                f"/ui/flow-runs/{run}/{action}", data={**data, "csrf_token": "forged"}
            )
            assert response.status_code == 403
    assert await state_rows(db, run) == before
    assert await current_state(db, run) == "Running"


async def test_set_state(app: Any) -> None:
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    async with browser(app) as client:
        response = await post(
            client, f"/ui/flow-runs/{run}/set-state", {"state": "Success", "message": "by hand"}
        )
        assert response.status_code == 303
        assert "State set to Success." in (await client.get(f"/ui/flow-runs/{run}")).text
        assert await current_state(db, run) == "Success"
        before = await state_rows(db, run)
        bad = await post(client, f"/ui/flow-runs/{run}/set-state", {"state": "Exploded<"})
        assert bad.status_code == 400
        assert "&#39;Exploded&lt;&#39; is not a state this form sets" in bad.text
        assert 'aria-invalid="true"' in bad.text
        assert await state_rows(db, run) == before
        missing = await post(
            client, f"/ui/flow-runs/{uuid.uuid4()}/set-state", {"state": "Success"}
        )
        assert missing.status_code == 404
    async with db.session() as session:
        message = await session.scalar(select(FlowRun.state_message).where(FlowRun.id == run))
    assert message == "by hand"


async def test_restart(app: Any) -> None:
    db = app.state.db
    _, run = await finished_run(db)
    _, flow_id = await factories.flow_chain(db)
    running = await factories.running_flow_run(db, flow_id)
    async with browser(app) as client:
        response = await post(client, f"/ui/flow-runs/{run}/restart")
        assert response.status_code == 303
        page = await client.get(response.headers["location"])
        assert "Restarted: 2 task run(s) back to Pending" in page.text
        before = await state_rows(db, running)
        refused = await post(client, f"/ui/flow-runs/{running}/restart")
        page = await client.get(refused.headers["location"])
        assert "This run has not finished (Running)" in page.text
        assert await state_rows(db, running) == before
    assert await current_state(db, run) == "Scheduled"
    async with db.session() as session:
        states = dict(
            (
                await session.execute(
                    select(TaskRun.map_index, TaskRun.state).where(
                        TaskRun.flow_run_id == run, TaskRun.state == "Pending"
                    )
                )
            ).all()
        )
    # The failed child (index 2) and the failed t2 (-1) run again.
    assert states == {2: "Pending", -1: "Pending"}


async def test_long_lists_count_only_so_far(app: Any, monkeypatch: Any) -> None:
    """Counting a long history stops at a cap (beyond the page asked for): "more than N"."""
    from prefect_server.ui.queries import runs as run_queries

    monkeypatch.setattr(run_queries, "COUNT_CAP", 3)
    _, flow_id = await factories.flow_chain(app.state.db)
    for _ in range(5):
        await factories.create_flow_run(app.state.db, flow_id)
    async with browser(app) as client:
        first = text_of((await client.get("/ui/flow-runs?size=2")).text)
        last = await client.get("/ui/flow-runs?size=2&page=3")
    assert "Page 1 · more than 3 in all" in first
    assert "Older →" in first
    # Past the cap, the count reaches just beyond the page asked for: exact again here.
    assert "Page 3 of 3 · 5 in all" in text_of(last.text)
    assert 'rel="next"' not in last.text


async def test_task_runs_are_paged(app: Any, monkeypatch: Any) -> None:
    from prefect_server.ui.queries import task_runs as task_queries

    monkeypatch.setattr(task_queries, "TASKS_LIMIT", 1)
    db = app.state.db
    _, run = await finished_run(db)  # t1 (mapped, started first), t2, a parameter
    ids = await factories.task_run_ids(db, run)
    async with browser(app) as client:
        first = (await client.get(f"/ui/flow-runs/{run}")).text
        second = (await client.get(f"/ui/flow-runs/{run}?tasks_page=2&level=INFO")).text
        past = (await client.get(f"/ui/flow-runs/{run}?tasks_page=9&_fragment=live_tasks")).text
    assert f'href="/ui/task-runs/{ids["t1-1"]}"' in first
    assert f'href="/ui/task-runs/{ids["t2-1"]}"' not in first
    assert "Page 1 of 3 · 3 in all" in text_of(first) and "?tasks_page=2" in first
    assert f'href="/ui/task-runs/{ids["t2-1"]}"' in second
    assert f'href="/ui/task-runs/{ids["t1-1"]}"' not in second
    # The other lists' filters stay as they were.
    assert "?tasks_page=1&amp;level=INFO" in second
    assert "No task runs on this page." in text_of(past) and "3 in all" in text_of(past)


async def test_artifacts_are_paged(app: Any, monkeypatch: Any) -> None:
    from prefect_server.ui.queries import artifacts as artifact_queries

    monkeypatch.setattr(artifact_queries, "PAGE_SIZE", 2)
    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    run = await factories.running_flow_run(db, flow_id)
    ids = await factories.task_run_ids(db, run)
    for i in range(3):
        async with db.transaction() as session:
            await artifacts.create_task_run_artifact(
                session, task_run_id=ids["t1-1"], kind="markdown", data={"markdown": f"note-{i}"}
            )
    async with browser(app) as client:
        first = text_of((await client.get(f"/ui/flow-runs/{run}")).text)
        second = text_of((await client.get(f"/ui/flow-runs/{run}?artifacts_page=2")).text)
    assert "Artifacts 3" in first and "Page 1 of 2 · 3 in all" in first
    assert "note-2" in first and "note-1" in first and "note-0" not in first
    assert "note-0" in second and "note-2" not in second


async def test_in_progress_lists_the_runs_the_dashboard_counts(app: Any, monkeypatch: Any) -> None:
    from prefect_server.ui.queries import dashboard

    db = app.state.db
    _, flow_id = await factories.flow_chain(db)
    named = {}
    for state in ("Submitted", "Running", "Cancelling", "Scheduled", "Success"):
        run = await factories.create_flow_run(db, flow_id, flow_run_name=f"run-{state.lower()}")
        if state != "Scheduled":
            await factories.set_flow_run_state(db, run, {"type": state})
        named[state] = run
    monkeypatch.setattr(dashboard, "LIST_LIMIT", 1)  # the dashboard shows 2 of the 3
    async with browser(app) as client:
        home = (await client.get("/ui/?_fragment=live_active")).text
        listed = (await client.get("/ui/flow-runs?state=In+progress")).text
    assert 'href="/ui/flow-runs?state=In+progress">All 3' in home
    shown = {state for state, run in named.items() if f'href="/ui/flow-runs/{run}"' in listed}
    assert shown == {"Submitted", "Running", "Cancelling"}
    assert '<option value="In progress" selected>' in listed
