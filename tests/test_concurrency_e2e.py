"""Concurrency limits obeyed by the real Prefect 1.4.1 client: its local agent and
flow-run processes, with ``cloud.queue_interval`` at 1 s.

* six mapped children tagged ``db`` on six threads, ``db`` limited to 2 (set with
  ``Client().update_task_tag_limit``): all succeed, never more than two Running at once;
* three runs of a flow labelled ``gpu``, ``gpu`` limited to 1: all succeed one after
  the other, and every task of every run ran exactly once.

Overlaps are computed from the state rows (Running until the next state), not timing.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from prefect1 import Prefect1  # noqa: E402
from waiting import wait_for  # noqa: E402

from prefect_server.testing import running_server  # noqa: E402

from dbutil import truncate_all  # noqa: E402

pytestmark = [pytest.mark.client, pytest.mark.slow]

RUNS = """query($name: String!) {
  flow_run(where: {flow: {name: {_eq: $name}}}, order_by: {scheduled_start_time: asc}) {
    id state states(order_by: {version: asc}) { state timestamp }
    task_runs { map_index state task { slug } states(order_by: {version: asc}) { state timestamp } }
  }
}"""


@pytest.fixture(scope="module")
def limited(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefect1]:
    truncate_all(database_url)
    home = tmp_path_factory.mktemp("limits-home")
    with running_server(database_url) as server:
        client = Prefect1(server, home, PREFECT__CLOUD__QUEUE_INTERVAL="1")
        client.cli_ok("create", "project", "limits")
        client.register("limits", "limits_tagged.py", "limits_gpu.py")
        client.start_agent("limits", "gpu")
        try:
            yield client
        finally:
            client.stop_agent()


def _finished(client: Prefect1, name: str, count: int, timeout: float) -> list[dict[str, Any]]:
    def all_finished() -> list[dict[str, Any]] | None:
        runs = client.query(RUNS, {"name": name})["flow_run"]
        return (
            runs
            if len(runs) == count and all(r["state"] in ("Success", "Failed") for r in runs)
            else None
        )

    return wait_for(all_finished, timeout, interval=1.0)


def _running_intervals(states: list[dict[str, Any]]) -> list[tuple[dt.datetime, dt.datetime]]:
    """(start, end) of every stay in Running: until the next state row."""
    out = []
    for current, following in zip(states, states[1:], strict=False):
        if current["state"] == "Running":
            out.append((_time(current["timestamp"]), _time(following["timestamp"])))
    return out


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _max_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    # Ends sort before starts at the same instant: a slot handed over is not an overlap.
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def _executions(client: Prefect1, run_id: str) -> list[str]:
    marker = client.home / f"ran-{run_id}"
    return marker.read_text().splitlines() if marker.exists() else []


def test_tag_limit_two_of_six_mapped_children(limited: Prefect1) -> None:
    code = "from prefect import Client; Client().update_task_tag_limit('db', 2); print('ok')"
    done = limited.python(code)
    assert done.returncode == 0, done.stdout + done.stderr
    run_id = limited.create_run("e2e-limits-tagged")
    [run] = _finished(limited, "e2e-limits-tagged", 1, timeout=240)
    assert run["state"] == "Success", run
    children = [t for t in run["task_runs"] if t["task"]["slug"].startswith("query")]
    children = [t for t in children if t["map_index"] >= 0]
    assert len(children) == 6 and all(t["state"] == "Success" for t in children), children
    intervals = [i for t in children for i in _running_intervals(t["states"])]
    assert len(intervals) == 6
    assert _max_overlap(intervals) == 2
    # Some children were held back, and it shows in their history.
    assert any("Queued" in [s["state"] for s in t["states"]] for t in children)
    assert sorted(_executions(limited, run_id)) == [f"query-{i}" for i in range(6)]


def test_flow_label_limit_one_of_three_runs(limited: Prefect1) -> None:
    code = (
        "from prefect import Client; Client().graphql('mutation { update_flow_concurrency_limit"
        '(input: {label: "gpu", limit: 1}) { id } }\'); print("ok")'
    )
    done = limited.python(code)
    assert done.returncode == 0, done.stdout + done.stderr
    run_ids = [limited.create_run("e2e-limits-gpu") for _ in range(3)]
    runs = _finished(limited, "e2e-limits-gpu", 3, timeout=360)
    assert [r["state"] for r in runs] == ["Success"] * 3, runs
    # Holding a slot: from Submitted until the run finishes.
    held = []
    for run in runs:
        states = run["states"]
        start = next(s for s in states if s["state"] == "Submitted")["timestamp"]
        held.append((_time(start), _time(states[-1]["timestamp"])))
    assert _max_overlap(held) == 1
    # Admitted oldest first.
    assert [r["id"] for r in sorted(runs, key=lambda r: r["states"][1]["timestamp"])] == run_ids
    for run_id in run_ids:
        assert sorted(_executions(limited, run_id)) == ["prepare", "train"]


SET_FLOW_STATE = """mutation($id: UUID!, $state: JSON!) {
  set_flow_run_states(input: {states: [{flow_run_id: $id, state: $state}]}) {
    states { status message } } }"""


def test_a_started_flow_runner_is_queued_then_runs_each_task_once(limited: Prefect1) -> None:
    """A flow-run process that starts while its label has no free slot (here started by
    hand, as ``prefect execute flow-run``) is answered QUEUED, waits, and runs once the
    slot frees; the agent never takes the run meanwhile."""
    limited.query(
        'mutation { update_flow_concurrency_limit(input: {label: "gpu", limit: 1}) { id } }'
    )
    flow_id = limited.flow_id("e2e-limits-gpu")
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    # The slot's holder: a run no agent sees (it starts tomorrow), marked Running by hand.
    holder = limited.query(
        "mutation($id: UUID!, $at: DateTime) { create_flow_run(input: "
        "{flow_id: $id, scheduled_start_time: $at}) { id } }",
        {"id": flow_id, "at": later},
    )["create_flow_run"]["id"]
    running = {"type": "Running", "message": "held by the test"}
    answer = limited.query(SET_FLOW_STATE, {"id": holder, "state": running})
    assert answer["set_flow_run_states"]["states"][0]["status"] == "SUCCESS"
    waiter = limited.create_run("e2e-limits-gpu")
    # What the local agent gives the flow-run processes it starts.
    env = {
        **limited.env,
        "PREFECT__CONTEXT__FLOW_RUN_ID": waiter,
        "PREFECT__CONTEXT__FLOW_ID": flow_id,
        "PREFECT__CLOUD__USE_LOCAL_SECRETS": "false",
        "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS": "prefect.engine.cloud.CloudFlowRunner",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "execute", "flow-run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: _state(limited, waiter) == "Queued" or None, 120, interval=0.5)
        time.sleep(3)  # several QUEUED answers: the process waits in place, runs nothing
        assert _state(limited, waiter) == "Queued"
        assert _executions(limited, waiter) == []
        done = {"type": "Success", "message": "released by the test"}
        limited.query(SET_FLOW_STATE, {"id": holder, "state": done})
        output, _ = process.communicate(timeout=180)
    except BaseException:
        process.kill()
        print(process.communicate()[0][-5000:])  # the runner's own account, for the failure
        raise
    assert process.returncode == 0, output
    [run] = [
        r for r in limited.query(RUNS, {"name": "e2e-limits-gpu"})["flow_run"] if r["id"] == waiter
    ]
    history = [s["state"] for s in run["states"]]
    assert run["state"] == "Success", (history, output)
    assert "Submitted" not in history  # the agent never took it while it waited
    assert history.index("Queued") < history.index("Running")
    assert sorted(_executions(limited, waiter)) == ["prepare", "train"]


def _state(client: Prefect1, run_id: str) -> str:
    data = client.query("query($id: uuid!) { flow_run_by_pk(id: $id) { state } }", {"id": run_id})
    return str(data["flow_run_by_pk"]["state"])
