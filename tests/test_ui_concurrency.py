"""The Concurrency page: limits with their usage, holders and waiters; set and delete; and
a waiting run's page saying which limit holds it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from prefect_server.database.models import FlowLabelLimit, TaskTagLimit
from prefect_server.orchestration import concurrency_limits

import factories
from uiutil import browser, post, text_of


async def limit_rows(db: Any, model: Any) -> list[tuple[str, int]]:
    name = model.tag if model is TaskTagLimit else model.label
    async with db.session() as session:
        return [(n, lim) for n, lim in await session.execute(select(name, model.limit))]


async def test_set_a_limit_see_it_change_it_delete_it(app: Any) -> None:
    db = app.state.db
    async with browser(app) as client:
        empty = text_of((await client.get("/ui/concurrency")).text)
        assert "No concurrency limits" in empty
        done = await post(client, "/ui/concurrency", {"kind": "task", "name": "db", "limit": "2"})
        assert done.status_code == 303
        assert await limit_rows(db, TaskTagLimit) == [("db", 2)]
        page = text_of((await client.get("/ui/concurrency")).text)
        assert "Tag db 0 of 2 in use" in page
        # The same name again changes the limit in place.
        await post(client, "/ui/concurrency", {"kind": "task", "name": "db", "limit": "5"})
        assert await limit_rows(db, TaskTagLimit) == [("db", 5)]
        await post(client, "/ui/concurrency", {"kind": "flow", "name": "gpu", "limit": "1"})
        assert await limit_rows(db, FlowLabelLimit) == [("gpu", 1)]
        async with db.session() as session:
            limit_id = await session.scalar(select(TaskTagLimit.id))
        gone = await post(client, f"/ui/concurrency/task/{limit_id}/delete")
        assert gone.status_code == 303
        assert await limit_rows(db, TaskTagLimit) == []
        missing = await post(client, f"/ui/concurrency/task/{limit_id}/delete")
        assert missing.status_code == 404
        assert (await post(client, "/ui/concurrency/task/nonsense/delete")).status_code == 404
        assert (await post(client, f"/ui/concurrency/other/{limit_id}/delete")).status_code == 404


async def test_bad_limits_are_refused_beside_the_field_and_write_nothing(app: Any) -> None:
    async with browser(app) as client:
        for data, message in (
            ({"kind": "task", "name": "db", "limit": "-1"}, "concurrency limits must be >= 0"),
            ({"kind": "task", "name": "db", "limit": "two"}, "Not a whole number: 'two'"),
            ({"kind": "task", "name": "  ", "limit": "2"}, "Name the tag to limit"),
            ({"kind": "label", "name": "x", "limit": "2"}, "Choose a task tag or a flow label"),
        ):
            refused = await post(client, "/ui/concurrency", data)
            assert refused.status_code == 400, data
            assert message in text_of(refused.text)
        forged = await client.post(
            "/ui/concurrency", data={"kind": "task", "name": "db", "limit": "1"}
        )
        assert forged.status_code == 403
    assert await limit_rows(app.state.db, TaskTagLimit) == []


async def test_holders_waiters_and_the_waiting_runs_page(app: Any) -> None:
    db = app.state.db
    tenant_id, flow_id = await factories.flow_chain(db)
    async with db.transaction() as session:
        await concurrency_limits.set_limit(session, "flow", tenant_id, "gpu", 1)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    holder = await factories.create_flow_run(
        db, flow_id, flow_run_name="holds-slot", labels=["gpu"], scheduled_start_time=past
    )
    await factories.set_flow_run_state(db, holder, {"type": "Running"})
    waiter = await factories.create_flow_run(
        db, flow_id, flow_run_name="waits-turn", labels=["gpu"], scheduled_start_time=past
    )
    async with browser(app) as client:
        page = text_of((await client.get("/ui/concurrency")).text)
        run_page = text_of((await client.get(f"/ui/flow-runs/{waiter}")).text)
        holder_page = text_of((await client.get(f"/ui/flow-runs/{holder}")).text)
    assert "Label gpu 1 of 1 in use" in page
    holding, waiting = page.split("Holding a slot")[1].split("Waiting")
    assert "holds-slot" in holding and "waits-turn" in waiting
    assert (
        "Waiting for a free slot: the concurrency limit on label 'gpu' (1 of 1 slots in use)"
        in run_page
    )
    assert "Waiting for a free slot" not in holder_page
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(FlowLabelLimit)) == 1


async def test_a_queued_task_runs_page_names_the_limit_holding_it(app: Any) -> None:
    db = app.state.db
    flow = factories.serialized_flow(
        tasks=[factories.task("t1-1", tags=["db", "io"])], edges=[], parameters=[]
    )
    tenant_id, flow_id = await factories.flow_chain(db, flow)
    holder, waiter = [
        (await factories.task_run_ids(db, await factories.running_flow_run(db, flow_id)))["t1-1"]
        for _ in range(2)
    ]
    async with db.transaction() as session:
        await concurrency_limits.set_limit(session, "task", tenant_id, "db", 1)
    running = {"type": "Running", "message": "Starting task run."}
    await factories.set_task_run_state(db, holder, running)
    await factories.set_task_run_state(db, waiter, running)
    async with browser(app) as client:
        waiter_page = text_of((await client.get(f"/ui/task-runs/{waiter}")).text)
        holder_page = text_of((await client.get(f"/ui/task-runs/{holder}")).text)
    assert (
        "Waiting for a free slot: the concurrency limit on tag 'db' (1 of 1 slots in use)"
        in waiter_page
    )
    assert "Waiting for a free slot" not in holder_page
    # Once the slot is free, the page no longer says the run is held.
    await factories.set_task_run_state(db, holder, {"type": "Success", "message": "done"})
    async with browser(app) as client:
        freed = text_of((await client.get(f"/ui/task-runs/{waiter}")).text)
    assert "Waiting for a free slot" not in freed


def test_the_page_in_chromium_sets_refuses_and_deletes(database_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import expect

    from prefect_server.testing import running_server

    from browserutil import chromium, watched
    from dbutil import truncate_all

    # Playwright's sync API runs an event loop in this thread; truncate_all starts its own.
    with ThreadPoolExecutor(1) as beside:
        beside.submit(truncate_all, database_url).result()
    with running_server(database_url) as server, chromium() as launched:
        with watched(launched, server.url) as ui:
            page = ui.page
            ui.goto("/ui/concurrency")
            expect(page.locator("main")).to_contain_text("No concurrency limits")
            form = page.locator("form", has=page.locator("select[name=kind]"))
            form.locator("select[name=kind]").select_option("flow")
            form.locator("input[name=name]").fill("gpu")
            form.locator("input[name=limit]").fill("-1")
            ui.expect_status("/ui/concurrency", 400)
            form.get_by_role("button", name="Set").click()
            expect(page.locator(".field-error")).to_contain_text(
                "Invalid limit -1 for label 'gpu': concurrency limits must be >= 0."
            )
            # The refused values stay in the form to correct.
            expect(form.locator("input[name=name]")).to_have_value("gpu")
            form.locator("input[name=limit]").fill("1")
            form.get_by_role("button", name="Set").click()
            card = page.locator("section.card", has_text="Label gpu")
            expect(card).to_contain_text("0 of 1 in use")
            expect(card).to_contain_text("No run holds a slot.")
            with ui.confirming():
                card.get_by_role("button", name="Delete limit").click()
                expect(page.locator("main")).to_contain_text("No concurrency limits")
            assert ui.dialogs == ["confirm: Delete the limit on gpu? Its waiting runs will start."]
