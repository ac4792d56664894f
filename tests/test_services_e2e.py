"""The services proven with the real Prefect 1.4.1 client: its CLI registers flows, its
local agent and flow-run processes run them, against a server with fast service loops.

* a flow registered with an IntervalSchedule gets its 10 runs at once, and the agent runs
  the ones that come due while the scheduler keeps the window filled;
* a flow-run process killed (SIGKILL) while its run is Running is rescheduled by lazarus
  and the run succeeds on the next attempt;
* a flow-run process killed in the middle of a task with a retry left: the zombie killer
  retries the task run and the retry succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from prefect1 import Prefect1  # noqa: E402
from towel_util import with_services  # noqa: E402
from waiting import wait_for  # noqa: E402

from prefect_server.settings import Settings, load_settings  # noqa: E402
from prefect_server.testing import running_server  # noqa: E402

from dbutil import truncate_all  # noqa: E402

pytestmark = [pytest.mark.client, pytest.mark.slow]
# Healthy flow-run processes heartbeat every second; a process that starts slowly on a
# busy machine must not look dead, hence the margin.
HEARTBEAT_TIMEOUT = 20


def _fast_services() -> Settings:
    stale = {"loop_seconds": 1, "heartbeat_timeout_seconds": HEARTBEAT_TIMEOUT}
    return with_services(
        load_settings(env={}),
        scheduler={"loop_seconds": 1},
        lazarus=stale,
        zombie_killer=stale,
    )


@pytest.fixture(scope="module")
def towel(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefect1]:
    truncate_all(database_url)
    home = tmp_path_factory.mktemp("towel-home")
    with running_server(database_url, _fast_services(), services=True) as server:
        client = Prefect1(
            server,
            home,
            PREFECT__CLOUD__HEARTBEAT_INTERVAL="1",
            # A heartbeat thread dies with its flow-run process; a heartbeat subprocess
            # would outlive a SIGKILL and keep the dead run looking alive.
            PREFECT__CLOUD__HEARTBEAT_MODE="thread",
        )
        client.cli_ok("create", "project", "towel")
        try:
            yield client
        finally:
            client.stop_agent()


RUNS = """query($name: String!) {
  flow_run(where: {flow: {name: {_eq: $name}}}, order_by: {scheduled_start_time: asc}) {
    id state auto_scheduled idempotency_key scheduled_start_time times_resurrected
    states(order_by: {version: asc}) { state message }
    task_runs { state states(order_by: {version: asc}) { state message } }
    logs(order_by: {timestamp: asc}) { name level message }
  }
}"""


def _runs(client: Prefect1, name: str) -> list[dict[str, Any]]:
    return client.query(RUNS, {"name": name})["flow_run"]


def _run_to_the_end(client: Prefect1, flow_file: str, flow: str) -> dict[str, Any]:
    """Register ``flow_file``, start the agent, create a run of ``flow``: the run, once
    it has finished."""
    client.register("towel", flow_file)
    client.start_agent("towel")
    run_id = client.create_run(flow)

    def finished() -> dict[str, Any] | None:
        [run] = [r for r in _runs(client, flow) if r["id"] == run_id]
        return run if run["state"] in ("Success", "Failed") else None

    return wait_for(finished, timeout=300, interval=1.0)


def test_registered_schedule_gets_ten_runs_and_the_agent_runs_the_due_ones(towel: Prefect1) -> None:
    towel.register("towel", "towel_scheduled.py")
    # set_schedule_active at registration materialises the window at once.
    runs = _runs(towel, "e2e-towel-scheduled")
    assert len(runs) == 10
    assert all(run["auto_scheduled"] and run["state"] == "Scheduled" for run in runs)
    assert all(run["idempotency_key"].startswith("auto-scheduled:") for run in runs)

    towel.start_agent("towel")

    def one_succeeded_and_refilled() -> list[dict[str, Any]] | None:
        runs = _runs(towel, "e2e-towel-scheduled")
        done = [run for run in runs if run["state"] == "Success"]
        return runs if done and len(runs) >= 11 else None

    runs = wait_for(one_succeeded_and_refilled, timeout=240, interval=1.0)
    # The scheduler keeps ten runs ahead, never more, and never two for one instant.
    waiting = [run for run in runs if run["state"] == "Scheduled"]
    assert len(waiting) <= 10
    keys = [run["idempotency_key"] for run in runs]
    assert len(keys) == len(set(keys))
    flow_id = towel.flow_id("e2e-towel-scheduled")
    towel.query(
        "mutation($id: UUID!) { set_schedule_inactive(input: {flow_id: $id}) { success } }",
        {"id": flow_id},
    )


def test_killed_flow_run_is_rescheduled_by_lazarus_and_succeeds(towel: Prefect1) -> None:
    run = _run_to_the_end(towel, "towel_lazarus.py", "e2e-towel-lazarus")
    assert run["state"] == "Success", run
    assert run["times_resurrected"] == 1
    history = [state["state"] for state in run["states"]]
    assert history.count("Running") == 2
    assert "Rescheduled by a Lazarus process." in [state["message"] for state in run["states"]]
    assert {
        "name": "prefect-server.Lazarus.FlowRun",
        "level": "INFO",
        "message": "Rescheduled by a Lazarus process. This is attempt 1.",
    } in run["logs"]


def test_task_of_a_killed_flow_run_is_retried_by_the_zombie_killer(towel: Prefect1) -> None:
    run = _run_to_the_end(towel, "towel_zombie.py", "e2e-towel-zombie")
    assert run["state"] == "Success", run
    [task_run] = run["task_runs"]
    assert task_run["state"] == "Success"
    retry = (
        "No heartbeat detected from the remote task; retrying the run.This will be retry 1 of 1."
    )
    assert {"state": "Retrying", "message": retry} in task_run["states"]
    assert {
        "name": "prefect-server.ZombieKiller.TaskRun",
        "level": "ERROR",
        "message": retry,
    } in run["logs"]
    # The agent marks the due retry Submitted, which is not among lazarus's active task
    # states, while the flow run's heartbeat is still stale: lazarus may reschedule the
    # flow run once more before the new process heartbeats. Server 1 had the same race;
    # either way the run ends well.
    assert run["times_resurrected"] in (0, 1)
