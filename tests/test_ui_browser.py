"""The web UI in a real browser, on data written by the real Prefect 1.4.1 client.

A few journeys, walked the way a person would (links, buttons, forms), on a server from
the embedded fixture with a local agent running flows: the pages' markup is tested
through the ASGI app elsewhere; here the point is what only a browser shows — the
live parts refreshing without a reload, the confirm dialog, escaping as the browser
parses it, no request leaving the server, no sideways scroll on a phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from playwright.sync_api import Browser, expect  # noqa: E402
from prefect1 import Prefect1  # noqa: E402
from waiting import wait_for  # noqa: E402

from prefect_server.testing import running_server  # noqa: E402

from browserutil import PHONE, Watched, chromium, watched  # noqa: E402
from dbutil import truncate_all  # noqa: E402

pytestmark = [pytest.mark.client, pytest.mark.slow]

ESCAPED_LINE = "<script>alert(1)</script> is only text"
# Long enough for a busy shared machine to start a flow-run process and run it.
RUN_TIMEOUT_MS = 120_000


class Seeded(Prefect1):
    """The real client on a server with both browser flows registered and one demo run done."""

    demo_run_id: str = ""
    demo_group_id: str = ""
    demo_mapped_task_run_id: str = ""

    def create_run(self, flow: str, parameters: dict[str, Any] | None = None) -> str:
        """A run created by the client's Python API, as a user's script would."""
        return str(
            self.python_value(
                "from prefect import Client; import json, sys; "
                f"print(json.dumps(Client().create_flow_run(flow_id={self.flow_id(flow)!r}, "
                f"parameters={parameters or {}!r})))"
            )
        )

    def run_state(self, flow_run_id: str) -> str:
        data = self.query(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state } }", {"id": flow_run_id}
        )
        return str(data["flow_run_by_pk"]["state"])

    def runs_of(self, flow: str) -> list[str]:
        data = self.query(
            "query($name: String!) { flow_run(where: {flow: {name: {_eq: $name}}}) { id } }",
            {"name": flow},
        )
        return [str(run["id"]) for run in data["flow_run"]]


# Every page of the UI; {flow}, {run} and {task} are the demo flow's group, run and mapped task run.
EVERY_PAGE = {
    "dashboard": "/ui/",
    "flows": "/ui/flows",
    "flow": "/ui/flows/{flow}",
    "run form": "/ui/flows/{flow}/run",
    "runs": "/ui/flow-runs",
    "run": "/ui/flow-runs/{run}",
    "task run": "/ui/task-runs/{task}",
    "agents": "/ui/agents",
    "projects": "/ui/projects",
    "concurrency": "/ui/concurrency",
    "console": "/graphql",
}


def _path(seeded: Seeded, page: str) -> str:
    return EVERY_PAGE[page].format(
        flow=seeded.demo_group_id, run=seeded.demo_run_id, task=seeded.demo_mapped_task_run_id
    )


@pytest.fixture(scope="module")
def seeded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    # Playwright's sync API keeps an event loop running in this thread once the browser
    # is up, and truncate_all starts its own: run it beside, whichever fixture came first.
    with ThreadPoolExecutor(1) as beside:
        beside.submit(truncate_all, database_url).result()
    home = tmp_path_factory.mktemp("browser-home")
    with running_server(database_url) as server:
        client = Seeded(server, home)
        # Log lines reach the server each second, so a page can show them arriving.
        client.env["PREFECT__CLOUD__LOGGING_HEARTBEAT"] = "1"
        client.cli_ok("create", "project", "browser")
        client.register("browser", "browser_demo.py", "browser_slow.py")
        client.start_agent("e2e")
        try:
            client.cli_ok(
                "run", "--name", "browser-demo", "--project", "browser", "--watch", timeout=300
            )
            client.demo_run_id = client.runs_of("browser-demo")[0]
            client.demo_group_id = client.query(
                'query { flow(where: {name: {_eq: "browser-demo"}}) { flow_group_id } }'
            )["flow"][0]["flow_group_id"]
            client.demo_mapped_task_run_id = client.query(
                """query($id: uuid!) { task_run(where: {flow_run_id: {_eq: $id},
                     task: {name: {_eq: "square"}}, map_index: {_eq: -1}}) { id } }""",
                {"id": client.demo_run_id},
            )["task_run"][0]["id"]
            yield client
        finally:
            client.stop_agent()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def ui(browser: Browser, seeded: Seeded) -> Iterator[Watched]:
    with watched(browser, seeded.server.url) as seen:
        yield seen


def _main(ui: Watched) -> Any:
    return ui.page.locator("main")


def test_dashboard_to_flow_to_run_to_logs_shows_markup_as_text(ui: Watched, seeded: Seeded) -> None:
    page = ui.page
    ui.goto("/ui/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    # The history's count of successful runs leads to the list of those runs.
    _main(ui).locator("a.count", has_text="Success").first.click()
    page.wait_for_url(re.compile(r"/ui/flow-runs\?"))
    _main(ui).get_by_role("link", name="browser-demo", exact=True).first.click()
    page.wait_for_url(re.compile(r"/ui/flows/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("browser-demo")
    _main(ui).locator(f'a[href$="/ui/flow-runs/{seeded.demo_run_id}"]').first.click()
    page.wait_for_url(re.compile(r"/ui/flow-runs/[0-9a-f-]{36}"))
    logs = page.locator("[data-follow]")
    expect(logs).to_contain_text("the squares are [0, 1, 4]")
    expect(logs).to_contain_text(ESCAPED_LINE)
    # The browser parsed it as text: no script element carries it, and no dialog opened.
    injected = page.evaluate(
        "[...document.querySelectorAll('script')].some(s => s.textContent.includes('alert(1)'))"
    )
    assert not injected
    assert ui.dialogs == []


def test_api_console_answers_offline(ui: Watched) -> None:
    page = ui.page
    ui.goto("/graphql")
    query = page.get_by_role("textbox", name=re.compile("query", re.I)).first
    query.fill("{ hello }")
    page.get_by_role("button", name=re.compile(r"^run", re.I)).first.click()
    expect(page.locator("body")).to_contain_text('"hello"')


@pytest.mark.parametrize("page_name", list(EVERY_PAGE))
def test_phone_width_has_no_sideways_scroll(
    browser: Browser, seeded: Seeded, page_name: str
) -> None:
    with watched(browser, seeded.server.url, viewport=PHONE) as ui:
        ui.goto(_path(seeded, page_name))
        expect(ui.page.locator("main")).to_be_visible()
        assert ui.horizontal_overflow() <= 0, f"{page_name} scrolls sideways at 390 px"


def _run_state(ui: Watched) -> Any:
    """The run's own state on its page (the live "State" region, not a task run's)."""
    return ui.page.get_by_role("region", name="State", exact=True).locator(".state").first


def test_run_a_flow_from_its_page_and_watch_the_agent_take_it(ui: Watched, seeded: Seeded) -> None:
    page = ui.page
    ui.goto("/ui/flows")
    _main(ui).get_by_role("link", name="browser-demo", exact=True).first.click()
    page.wait_for_url(re.compile(r"/ui/flows/[0-9a-f-]{36}$"))
    _main(ui).get_by_role("link", name="Run", exact=True).click()
    page.wait_for_url(re.compile(r"/run$"))
    form_path = page.url.removeprefix(ui.origin)
    runs_before = seeded.runs_of("browser-demo")

    # A value that is not JSON: the form comes back (400) with the error beside the field.
    ui.expect_status(form_path, 400)
    field = page.get_by_label("n", exact=True)
    field.fill("[1, 2")
    page.get_by_role("button", name="Create flow run").click()
    expect(field).to_have_attribute("aria-invalid", "true")
    error = page.locator(f"#{field.get_attribute('id')}-error")
    expect(error).to_contain_text("Not valid JSON")
    expect(field).to_have_value("[1, 2")
    assert seeded.runs_of("browser-demo") == runs_before

    field.fill("4")
    page.get_by_role("button", name="Create flow run").click()
    page.wait_for_url(re.compile(r"/ui/flow-runs/[0-9a-f-]{36}$"))
    expect(_main(ui)).to_contain_text("created")
    new_runs = set(seeded.runs_of("browser-demo")) - set(runs_before)
    assert len(new_runs) == 1 and page.url.endswith(new_runs.pop())

    # The agent takes it and it runs to the end while the page stays where it is.
    ui.mark()
    expect(_run_state(ui)).to_have_text(
        re.compile("Submitted|Running|Success"), timeout=RUN_TIMEOUT_MS
    )
    expect(_run_state(ui)).to_have_text("Success", timeout=RUN_TIMEOUT_MS)
    assert ui.still_marked(), "the page was reloaded"
    expect(page.locator("[data-follow]")).to_contain_text("the squares are [0, 1, 4, 9]")


def _ticks(ui: Watched) -> int:
    return len(re.findall(r"tick \d+", ui.page.locator("[data-follow]").inner_text()))


def test_logs_arrive_live_and_cancel_stops_the_run(ui: Watched, seeded: Seeded) -> None:
    page = ui.page
    flow_run_id = seeded.create_run("browser-slow")
    ui.goto(f"/ui/flow-runs/{flow_run_id}")
    ui.mark()
    # Opened before the agent took it: the state and the logs arrive without a reload.
    expect(_run_state(ui)).to_have_text("Running", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("[data-follow]")).to_contain_text("tick 1", timeout=RUN_TIMEOUT_MS)
    before = _ticks(ui)
    wait_for(lambda: _ticks(ui) >= before + 3, timeout=30, interval=0.5)
    assert ui.still_marked(), "the page was reloaded"

    with ui.confirming(), page.expect_navigation():
        _main(ui).get_by_role("button", name="Cancel run").click()
    assert any(d.startswith("confirm") for d in ui.dialogs), ui.dialogs
    expect(_run_state(ui)).to_have_text(re.compile("Cancelling|Cancelled"))
    expect(_run_state(ui)).to_have_text("Cancelled", timeout=RUN_TIMEOUT_MS)
    assert seeded.run_state(flow_run_id) == "Cancelled"


def test_the_watcher_fails_on_what_it_must(browser: Browser, seeded: Seeded) -> None:
    with watched(browser, seeded.server.url) as ui:
        ui.goto("/ui/")
        ui.page.evaluate("console.error('broken')")
        ui.page.evaluate("fetch('http://example.com/x').catch(() => null)")
        ui.page.evaluate("fetch('/ui/flows/not-a-flow').catch(() => null)")
        ui.page.evaluate("alert('hi')")
        ui.page.wait_for_timeout(500)
        found = "\n".join(ui.problems)
        ui.problems.clear()
    assert "console error: broken" in found
    assert "request to another host: http://example.com/x" in found
    assert "unexpected 404 for GET" in found
    assert "unexpected alert dialog: 'hi'" in found


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page_name", list(EVERY_PAGE))
def test_every_page_loads_clean_and_its_live_parts_refresh(
    browser: Browser, seeded: Seeded, page_name: str, scheme: Any
) -> None:
    with watched(browser, seeded.server.url, color_scheme=scheme) as ui:
        page = ui.page
        # A fake clock: the live regions' timers fire at once instead of in 5-15 s.
        page.clock.install()
        ui.goto(_path(seeded, page_name))
        expect(page.locator("main")).to_be_visible()
        if scheme == "dark":
            assert ui.background_luminance() < 0.2, f"{page_name} ignores the dark scheme"
        else:
            assert ui.background_luminance() > 0.8
        live = sorted(
            set(page.eval_on_selector_all("[data-live]", "els => els.map(e => e.dataset.live)"))
        )
        with ExitStack() as stack:
            waits = [
                stack.enter_context(
                    page.expect_response(lambda r, n=name: f"_fragment={n}" in r.url)  # type: ignore[misc]
                )
                for name in live
            ]
            page.clock.run_for(20_000)
        for name, wait in zip(live, waits, strict=True):
            assert wait.value.status in (200, 304), (
                f"{page_name}: fragment {name} answered {wait.value.status}"
            )
        # The swapped-in fragments are still there (a failed swap would leave none).
        for name in live:
            expect(page.locator(f'[data-live="{name}"]')).to_have_count(1)


def _runs_labelled(seeded: Seeded, label: str) -> list[str]:
    data = seeded.query(
        "query($l: jsonb) { flow_run(where: {labels: {_contains: $l}}) { id } }", {"l": [label]}
    )
    return [str(run["id"]) for run in data["flow_run"]]


def test_without_javascript_pages_show_their_data_and_forms_post(
    browser: Browser, seeded: Seeded
) -> None:
    with watched(browser, seeded.server.url, javascript=False) as ui:
        page = ui.page
        ui.goto(f"/ui/flow-runs/{seeded.demo_run_id}")
        expect(_run_state(ui)).to_have_text("Success")
        expect(page.locator("[data-follow]")).to_contain_text("the squares are [0, 1, 4]")
        expect(page.locator("[data-follow]")).to_contain_text(ESCAPED_LINE)
        ui.goto(f"/ui/task-runs/{seeded.demo_mapped_task_run_id}")
        # The mapped children, by their templated names.
        expect(_main(ui).get_by_role("link", name="square-2", exact=True)).to_be_visible()

        # The run form posts without a script; a label no agent has keeps the run waiting.
        ui.goto(f"/ui/flows/{seeded.demo_group_id}/run")
        page.get_by_label("n", exact=True).fill("2")
        page.get_by_label(re.compile("^Labels")).fill("no-js-only")
        page.get_by_role("button", name="Create flow run").click()
        page.wait_for_url(re.compile(r"/ui/flow-runs/[0-9a-f-]{36}$"))
        (flow_run_id,) = _runs_labelled(seeded, "no-js-only")
        assert page.url.endswith(flow_run_id)
        expect(_run_state(ui)).to_have_text("Scheduled")

        # Cancel has no confirm dialog without a script: the form posts at once.
        _main(ui).get_by_role("button", name="Cancel run").click()
        page.wait_for_url(re.compile(rf"/ui/flow-runs/{flow_run_id}"))
        expect(_run_state(ui)).to_have_text("Cancelled")
        assert seeded.run_state(flow_run_id) == "Cancelled"
        assert ui.dialogs == []


def test_the_keyboard_alone_runs_a_flow_and_cancels_it(browser: Browser, seeded: Seeded) -> None:
    with watched(browser, seeded.server.url) as ui:
        page = ui.page
        ui.goto(f"/ui/flows/{seeded.demo_group_id}")
        ui.tab_to("Run")
        assert ui.focus_is_visible(), "the focused Run link shows no focus ring"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        ui.tab_to("param:n")
        assert ui.focus_is_visible()
        page.keyboard.press("Control+A")
        page.keyboard.type("2")
        ui.tab_to("labels")
        page.keyboard.type("keyboard-only")
        ui.tab_to("Create flow run")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        (flow_run_id,) = _runs_labelled(seeded, "keyboard-only")
        assert page.url.endswith(f"/ui/flow-runs/{flow_run_id}")

        ui.tab_to("Cancel run")
        assert ui.focus_is_visible(), "the focused Cancel button shows no focus ring"
        with ui.confirming(), page.expect_navigation():
            page.keyboard.press("Enter")
        assert any(d.startswith("confirm") for d in ui.dialogs), ui.dialogs
        expect(_run_state(ui)).to_have_text("Cancelled")
        assert seeded.run_state(flow_run_id) == "Cancelled"


def test_the_dashboards_project_list_waits_for_enter_when_chosen_by_keys(ui: Watched) -> None:
    page = ui.page
    ui.goto("/ui/")
    ui.mark()
    projects = page.get_by_label("Project")
    projects.focus()
    # A closed list changes on each arrow key: applying then would stop at the next option.
    page.keyboard.press("ArrowDown")
    expect(projects).not_to_have_value("")
    page.wait_for_timeout(500)
    assert ui.still_marked() and "project=" not in page.url
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"project=[0-9a-f-]{36}", page.url)
