"""Screenshots of the built-in web UI for the README, on data written by the real 1.4.1 client.

    python benchmarks/screenshots.py                 # into docs/screenshots/
    python benchmarks/screenshots.py --out /tmp/shots
    python benchmarks/screenshots.py --out /tmp/shots --phone   # also at 390 px, to look at

Starts a server on a temporary SQLite database, registers the browser tests' flows
(tests/client_flows/browser_*.py) with the real CLI, runs them with a local agent (two
finished demo runs, one that fails on a bad parameter, a slow run still going, and a
late run whose label no agent has), then saves 1280-px PNGs of the dashboard, the demo
flow's page, a finished run's page and the agents page, plus the dashboard in dark mode
and the run's page at 390 px. The browser is the one the tests use (Debian's Chromium),
watched the same way: a console error or a failed request stops the script. Needs the
``dev`` and ``client`` extras.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from typing import Literal  # noqa: E402

from playwright.sync_api import Browser, ViewportSize  # noqa: E402
from prefect1 import Prefect1  # noqa: E402

from prefect_server.testing import running_server  # noqa: E402

from browserutil import DESKTOP, PHONE, chromium, watched  # noqa: E402

FLOWS = ROOT / "tests" / "client_flows"
# A full page taller than this is cut: the README wants the top of a page, not its tail.
MAX_HEIGHT = 1500
# The dashboard calls a waiting run late this long after its start time (queries/dashboard.py).
LATE_AFTER_S = 35


def seed(client: Prefect1) -> tuple[str, str, float]:
    """(the flow group id of browser-demo, the id of its last successful run, when the late run was made)."""
    for args in (
        ("create", "project", "demo"),
        ("register", "--project", "demo", "-p", str(FLOWS / "browser_demo.py")),
        ("register", "--project", "demo", "-p", str(FLOWS / "browser_slow.py")),
    ):
        done = client.cli(*args)
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
    client.start_agent("e2e")
    for n in (3, 6):
        done = client.cli(
            "run", "--name", "browser-demo", "--project", "demo", "--param", f"n={n}", "--watch"
        )
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
    # A string where the flow wants a number: the run fails, with its traceback in the logs.
    client.cli(
        "run", "--name", "browser-demo", "--project", "demo", "--param", "n=three", "--watch"
    )
    client.cli("run", "--name", "browser-slow", "--project", "demo")
    # No agent has this label: the dashboard lists the run as late, with the reason.
    client.cli("run", "--name", "browser-demo", "--project", "demo", "--label", "gpu")
    late_made = time.monotonic()
    data = client.query(
        """query { flow_run(where: {flow: {name: {_eq: "browser-demo"}}, state: {_eq: "Success"}},
                   order_by: {end_time: desc}, limit: 1) { id flow { flow_group_id } } }"""
    )
    run = data["flow_run"][0]
    return str(run["flow"]["flow_group_id"]), str(run["id"]), late_made


def wait_until_running(client: Prefect1, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    query = 'query { flow_run(where: {flow: {name: {_eq: "browser-slow"}}}) { state } }'
    while time.monotonic() < deadline:
        if any(r["state"] == "Running" for r in client.query(query)["flow_run"]):
            time.sleep(4)  # a few log lines
            return
        time.sleep(1)
    raise SystemExit("the slow run did not start")


def shoot(
    browser: Browser,
    origin: str,
    path: str,
    viewport: ViewportSize,
    target: Path,
    scheme: Literal["light", "dark"] = "light",
) -> None:
    with watched(browser, origin, viewport=viewport, color_scheme=scheme) as ui:
        ui.goto(path)
        ui.page.wait_for_timeout(500)
        height = min(MAX_HEIGHT, ui.page.evaluate("document.body.scrollHeight"))
        ui.page.screenshot(
            path=str(target),
            full_page=True,
            clip={"x": 0, "y": 0, "width": viewport["width"], "height": height},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--phone", action="store_true", help="also save 390-px shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, running_server() as server:
        client = Prefect1(server, Path(home))
        client.env["PREFECT__CLOUD__LOGGING_HEARTBEAT"] = "1"
        try:
            group_id, run_id, late_made = seed(client)
            wait_until_running(client)
            time.sleep(max(0.0, late_made + LATE_AFTER_S - time.monotonic()))
            pages = {
                "dashboard.png": "/ui/",
                "flow.png": f"/ui/flows/{group_id}",
                "flow-run.png": f"/ui/flow-runs/{run_id}",
                "agents.png": "/ui/agents",
            }
            sizes = [DESKTOP, PHONE] if args.phone else [DESKTOP]
            with chromium() as browser:
                for viewport in sizes:
                    for name, path in pages.items():
                        if viewport is PHONE:
                            name = name.replace(".png", "-phone.png")
                        target = args.out / name
                        shoot(browser, server.url, path, viewport, target)
                        print(f"{target}  {target.stat().st_size // 1024} KB  ({path})")
                extras: list[tuple[str, str, ViewportSize, Literal["light", "dark"]]] = [
                    ("dashboard-dark.png", "/ui/", DESKTOP, "dark"),
                    ("flow-run-phone.png", pages["flow-run.png"], PHONE, "light"),
                ]
                for name, path, viewport, scheme in extras:
                    target = args.out / name
                    shoot(browser, server.url, path, viewport, target, scheme)
                    print(f"{target}  {target.stat().st_size // 1024} KB  ({path})")
        finally:
            client.stop_agent()


if __name__ == "__main__":
    main()
