"""The wire contract, proven with the real Prefect 1.4.1 client.

Drives the unmodified CLI, local agent and flow-run processes against a real server
from the embedded fixture. Runs where the ``client`` extra is installed; installs
nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from prefect1 import FLOWS, Prefect1  # noqa: E402
from waiting import wait_for  # noqa: E402

from prefect_server.testing import running_server  # noqa: E402

from dbutil import truncate_all  # noqa: E402

pytestmark = [pytest.mark.client, pytest.mark.slow]


@pytest.fixture(scope="module")
def prefect1(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefect1]:
    truncate_all(database_url)
    with running_server(database_url) as server:
        client = Prefect1(server, tmp_path_factory.mktemp("prefect1-home"))
        client.cli_ok("create", "project", "e2e")
        client.register("e2e", "demo.py", "parent.py", "sleeper.py")
        client.start_agent("e2e")
        try:
            yield client
        finally:
            client.stop_agent()


def test_run_watch_succeeds_and_everything_is_visible(prefect1: Prefect1) -> None:
    plans = prefect1.server.app.state.plans
    planned_before = plans.answered
    result = prefect1.cli(
        "run", "--name", "e2e-demo", "--project", "e2e", "--param", "n=3", "--watch", timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "hello from the e2e flow, total=[1, 2, 3]" in output

    data = prefect1.query(
        """query {
          flow_run(where: {flow: {name: {_eq: "e2e-demo"}}}, order_by: {created: desc}, limit: 1) {
            id state parameters labels start_time end_time
            states(order_by: {version: asc}) { state version }
            task_runs(order_by: [{task: {name: asc}}, {map_index: asc}]) {
              name map_index state task { name }
              states(order_by: {version: asc}) { state }
            }
            logs(order_by: {timestamp: asc}) { message level name }
          }
        }"""
    )
    run = data["flow_run"][0]
    assert run["state"] == "Success"
    assert run["parameters"] == {"n": 3}
    assert "e2e" in run["labels"]
    assert run["start_time"] and run["end_time"]
    history = [s["state"] for s in run["states"]]
    assert history[0] == "Scheduled" and "Submitted" in history and history[-1] == "Success"
    assert [s["version"] for s in run["states"]] == list(range(1, len(history) + 1))

    by_task: dict[str, list[dict[str, Any]]] = {}
    for task_run in run["task_runs"]:
        by_task.setdefault(task_run["task"]["name"], []).append(task_run)
    mapped = by_task["inc"]
    assert [t["map_index"] for t in mapped] == [-1, 0, 1, 2]
    assert mapped[0]["state"] == "Mapped"
    assert [t["name"] for t in mapped[1:]] == ["inc-0", "inc-1", "inc-2"]
    assert all(t["state"] == "Success" for t in mapped[1:])
    flaky_states = [s["state"] for s in by_task["flaky"][0]["states"]]
    assert "Retrying" in flaky_states and flaky_states[-1] == "Success"
    assert by_task["even"][0]["state"] == "Skipped"
    assert by_task["odd"][0]["state"] == "Success"
    messages = [log["message"] for log in run["logs"]]
    assert any("hello from the e2e flow" in m for m in messages)
    assert any("Submitted for execution" in m for m in messages)
    assert all(
        log["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") for log in run["logs"]
    )
    # The real client's hot documents went through execution plans (graphql/plans.py):
    # every task run wrote at least two states and was looked up once.
    assert plans.answered - planned_before >= 2 * len(run["task_runs"])


def test_flow_of_flows(prefect1: Prefect1) -> None:
    result = prefect1.cli("run", "--name", "e2e-parent", "--project", "e2e", "--watch", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    data = prefect1.query(
        """query { flow_run(where: {flow: {name: {_eq: "e2e-demo"}}, parameters: {_contains: {n: 2}}}) {
            state } }"""
    )
    assert [r["state"] for r in data["flow_run"]] == ["Success"]


def test_cancel_a_running_flow_run(prefect1: Prefect1) -> None:
    flow_run_id = prefect1.python_value(
        "from prefect import Client; import json;"
        "c = Client(); "
        "fid = c.graphql('query { flow(where: {name: {_eq: \"e2e-sleeper\"}}) { id } }').data.flow[0].id; "
        "print(json.dumps(c.create_flow_run(flow_id=fid)))"
    )

    def task_running() -> bool:
        data = prefect1.query(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state task_runs { state task { name } } } }",
            {"id": flow_run_id},
        )
        run = data["flow_run_by_pk"]
        return run["state"] == "Running" and any(
            t["state"] == "Running" and t["task"]["name"] == "sleep_long" for t in run["task_runs"]
        )

    wait_for(task_running, timeout=120, interval=0.5)
    cancelled = prefect1.python(
        f"from prefect import Client; print(Client().cancel_flow_run('{flow_run_id}'))"
    )
    assert cancelled.returncode == 0, cancelled.stderr

    def finished() -> dict[str, Any] | None:
        data = prefect1.query(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state task_runs { state } states { state } } }",
            {"id": flow_run_id},
        )
        run = data["flow_run_by_pk"]
        return run if run["state"] == "Cancelled" else None

    run = wait_for(finished, timeout=120, interval=0.5)
    assert "Cancelling" in [s["state"] for s in run["states"]]
    assert {t["state"] for t in run["task_runs"]} <= {"Cancelled", "Success"}
    assert "Cancelled" in {t["state"] for t in run["task_runs"]}


def test_reregistering_unchanged_flow_is_skipped_and_new_version_archives(
    prefect1: Prefect1,
) -> None:
    payload = FLOWS / "demo.py"
    json_file = prefect1.home / "demo.json"
    built = prefect1.cli("build", "-p", str(payload), "-o", str(json_file))
    assert built.returncode == 0, built.stdout + built.stderr
    first = prefect1.cli("register", "--project", "e2e", "--json", str(json_file))
    assert first.returncode == 0, first.stdout + first.stderr
    again = prefect1.cli("register", "--project", "e2e", "--json", str(json_file))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Skipped" in again.stdout
    data = prefect1.query(
        """query { flow(where: {name: {_eq: "e2e-demo"}}, order_by: {version: asc}) { version archived } }"""
    )
    versions = data["flow"]
    assert [v["archived"] for v in versions[:-1]] == [True] * (len(versions) - 1)
    assert versions[-1]["archived"] is False


def test_api_keys(database_url: str, tmp_path: Path) -> None:
    from prefect_server.settings import load_settings

    settings = load_settings().replace(api_keys=("s3cret",))
    with running_server(database_url, settings) as server:
        client = Prefect1(server, tmp_path)
        code = "from prefect import Client; print(Client().graphql('query { hello }').data.hello)"
        denied = client.python(code)
        assert denied.returncode != 0
        assert "AuthorizationError" in denied.stderr
        client.env["PREFECT__CLOUD__API_KEY"] = "s3cret"
        allowed = client.python(code)
        assert allowed.returncode == 0, allowed.stderr
        assert "👋" in allowed.stdout
