"""A PostgreSQL restart under load: the server fails fast while the database is away,
recovers by itself, and loses nothing it acknowledged.

The test runs its own PostgreSQL instance (initdb/pg_ctl of the installed PostgreSQL),
stopped with ``-m immediate`` as a crash would, while writes go on.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serverproc import CREATE_PROJECT, Load, PrivatePostgres, Server, postgres_bin
from waiting import wait_for

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 6.0


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.fail(
            "no PostgreSQL server binaries (initdb, pg_ctl) found: install the postgresql package"
        )
    instance = PrivatePostgres(bin_dir)
    instance.start()
    try:
        yield instance
    finally:
        instance.destroy()


class Prober:
    """Polls /health and /ready every 0.2 s, recording (time, path, status)."""

    def __init__(self, url: str):
        self.url = url
        self.seen: list[tuple[float, str, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self._stop.is_set():
                for path in ("/health", "/ready"):
                    started = time.monotonic()
                    try:
                        status = client.get(path).status_code
                    except httpx.HTTPError:
                        status = 0
                    self.seen.append((started, path, status, time.monotonic() - started))
                time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def _passes(url: str, service: str) -> float:
    text = httpx.get(url + "/metrics", timeout=10).text
    prefix = f'prefect_server_service_pass_duration_seconds_count{{service="{service}"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def test_postgres_restart_under_load(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    server = Server(
        tmp_path,
        "--database-url",
        private_postgres.url,
        "--no-ui",
        env={
            "PREFECT_SERVER__SERVICES__ZOMBIE_KILLER__LOOP_SECONDS": "1",
            "PREFECT_SERVER__DATABASE__CONNECT_TIMEOUT_SECONDS": "3",
        },
    )
    try:
        server.wait_until_ready()
        prober = Prober(server.url)
        load = Load(server.url, threads=4).start()
        time.sleep(3)
        stopped = time.monotonic()
        private_postgres.stop("immediate")
        time.sleep(OUTAGE_SECONDS)
        restarted = time.monotonic()
        private_postgres.start()
        back = time.monotonic()
        recovered = _wait_for_success(load, after=back, timeout=30)
        time.sleep(2)
        outcomes = load.stop()
        prober.stop()
        passes_after = _passes(server.url, "zombie_killer")
        # The zombie killer runs every second: services resume.
        wait_for(lambda: _passes(server.url, "zombie_killer") > passes_after, timeout=10)

        during = [o for o in outcomes if stopped <= o.started < back]
        failed = [o for o in during if not o.ok]
        assert failed, "no request noticed the outage"
        # Fail fast: a request during the outage is answered within a few seconds.
        assert max(o.seconds for o in during) < 5.0, max(during, key=lambda o: o.seconds)
        assert all("ConnectError" not in o.error for o in failed), failed[:3]

        health = [s for s in prober.seen if s[1] == "/health"]
        assert health and all(status == 200 for _, _, status, _ in health)
        ready = [(t, status) for t, path, status, _ in prober.seen if path == "/ready"]
        assert any(status == 503 for t, status in ready if stopped < t < restarted)
        assert ready[-1][1] == 200
        assert all(seconds < 5.0 for _, path, _, seconds in prober.seen if path == "/ready")

        # Nothing acknowledged is lost.
        acknowledged = [o.name for o in outcomes if o.ok]
        assert _count_projects(server.url, acknowledged) == len(acknowledged)
        figures = {
            "outage_seconds": round(restarted - stopped, 1),
            "recovery_seconds_after_postgres_up": round(recovered - back, 2),
            "requests_during_outage": len(during),
            "failed_during_outage": len(failed),
            "slowest_failure_seconds": round(max(o.seconds for o in failed), 2),
            "acknowledged_writes": len(acknowledged),
            "sample_error": failed[len(failed) // 2].error[:300],
        }
        print("\nOUTAGE FIGURES " + json.dumps(figures))
        assert recovered - back < 10, figures
    finally:
        server.kill()


def _wait_for_success(load: Load, after: float, timeout: float) -> float:
    """When the first write started after ``after`` was answered with success."""
    done = wait_for(
        lambda: [o for o in list(load.outcomes) if o.ok and o.started >= after],
        timeout,
        interval=0.05,
    )
    return min(o.started + o.seconds for o in done)


def _count_projects(url: str, names: list[str]) -> int:
    # In chunks: an `_in` list is bounded (hasura/bounds.py), and a quiet machine
    # acknowledges thousands of writes in this test.
    query = "query($names: [String!]) { project_aggregate(where: {name: {_in: $names}}) { aggregate { count } } }"
    total = 0
    for start in range(0, len(names), 1000):
        chunk = names[start : start + 1000]
        answer = httpx.post(
            url + "/", json={"query": query, "variables": {"names": chunk}}, timeout=30
        )
        body = answer.json()
        assert body.get("data"), body
        assert body["data"]["project_aggregate"], body.get("errors")
        total += int(body["data"]["project_aggregate"]["aggregate"]["count"])
    return total


def _write(url: str, name: str) -> tuple[bool, float]:
    """Create one project: whether it was acknowledged, and how long the answer took."""
    started = time.monotonic()
    tenant = httpx.post(url + "/", json={"query": "{ tenant { id } }"}, timeout=60).json()
    if not tenant.get("data"):
        return False, time.monotonic() - started
    variables = {"input": {"name": name, "tenant_id": tenant["data"]["tenant"][0]["id"]}}
    answer = httpx.post(
        url + "/", json={"query": CREATE_PROJECT, "variables": variables}, timeout=60
    )
    return not answer.json().get("errors"), time.monotonic() - started


def _freeze(instance: PrivatePostgres, signum: int) -> None:
    """SIGSTOP/SIGCONT the postmaster and every backend: a server that stops answering
    without closing connections (a failover's old primary gone silent)."""
    import os
    import subprocess

    postmaster = int((instance.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
    for pid in [postmaster, *map(int, children.stdout.split())]:
        os.kill(pid, signum)


def test_a_frozen_postgres_fails_requests_fast(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    """PostgreSQL stops answering without closing connections: a request on a pooled
    connection fails after the statement timeout instead of waiting for TCP to give up
    (it hung past 60 s), /ready says so in time for its probe, /health stays 200, and
    everything recovers when the database answers again."""
    import signal

    server = Server(
        tmp_path,
        "--database-url",
        private_postgres.url,
        "--no-ui",
        "--no-services",
        env={"PREFECT_SERVER__DATABASE__STATEMENT_TIMEOUT_SECONDS": "4"},
    )
    try:
        server.wait_until_ready()
        for n in range(3):  # pooled connections, idle and open
            assert _write(server.url, f"before-{n}")[0]
        _freeze(private_postgres, signal.SIGSTOP)
        try:
            frozen = _write(server.url, "during")
            # The fastest of three, so a moment's load on a shared machine is not read
            # as the server waiting too long.
            timed = []
            for _ in range(3):
                started = time.monotonic()
                ready = httpx.get(server.url + "/ready", timeout=60)
                timed.append(time.monotonic() - started)
            ready_seconds = min(timed)
            assert httpx.get(server.url + "/health", timeout=60).status_code == 200
        finally:
            _freeze(private_postgres, signal.SIGCONT)
        # The statement timeout (4 s) or the connect timeout (5 s), not a hang.
        assert not frozen[0] and frozen[1] < 20, frozen
        # About /ready's own 3 s, in time for the readiness probe (4 s in deploy/kubernetes);
        # awaiting the cancelled query's clean-up made it 5.1 s.
        assert ready.status_code == 503 and ready_seconds < 4.5, (ready.text, ready_seconds)
        assert "did not answer within 3 s" in ready.json()["reason"]
        wait_for(lambda: _write(server.url, f"after-{time.monotonic()}")[0], timeout=30)
        assert httpx.get(server.url + "/ready", timeout=30).status_code == 200
    finally:
        server.kill()
