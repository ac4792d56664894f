"""``/metrics``: Prometheus' text with requests by operation, errors, state
transitions, runs per state, services, cloud hooks and the pool."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from serverproc import Server
from sqlalchemy.engine import make_url

from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.observability import metrics
from prefect_server.observability.metrics import RequestMetrics
from prefect_server.settings import Settings

import factories


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def test_requests_are_counted_by_operation_name(client: httpx.AsyncClient) -> None:
    before = sample("prefect_server_graphql_requests_total", operation="Hello")
    before_field = sample("prefect_server_graphql_requests_total", operation="hello")
    for _ in range(3):
        # No operationName, as the 1.4.1 client sends: the first root field names it.
        response = await client.post("/", json={"query": "query Hello { hello }"})
        assert response.status_code == 200
    await client.post("/", json={"query": "query Hello { hello }", "operationName": "Hello"})
    assert sample("prefect_server_graphql_requests_total", operation="hello") == (before_field + 3)
    assert sample("prefect_server_graphql_requests_total", operation="Hello") == before + 1
    assert (
        sample("prefect_server_graphql_request_duration_seconds_count", operation="Hello")
        >= before + 1
    )


async def test_an_operation_name_of_any_json_kind_is_answered(client: httpx.AsyncClient) -> None:
    other = sample("prefect_server_graphql_requests_total", operation="other")
    response = await client.post("/", json={"query": "{ hello }", "operationName": ["x"]})
    assert response.status_code == 400
    assert sample("prefect_server_graphql_requests_total", operation="other") == other + 1


def test_operation_names_of_the_client_documents() -> None:
    create = "mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }"
    assert metrics.operation_name({"query": create}) == "create_flow_run"
    assert metrics.operation_name({"query": "{ a: flow { id } }"}) == "flow"
    assert metrics.operation_name({"query": create, "operationName": "Named"}) == "Named"
    assert metrics.operation_name({"query": "{ not closed"}) is None
    assert metrics.operation_name("not an object") is None


def test_naming_an_operation_reads_no_more_than_a_real_document() -> None:
    # The name is read before the document checker's limits: a document past the
    # size or token bound is not parsed here (a 5 MB one stalled the event loop 6 s).
    many_tokens = "{ flow { " + "a " * 25_000 + "} }"
    assert len(many_tokens) < metrics.NAMED_QUERY_CHARS
    assert metrics.operation_name({"query": many_tokens}) is None
    huge = "{ flow { id } }" + " " * metrics.NAMED_QUERY_CHARS
    assert metrics.operation_name({"query": huge}) is None
    assert metrics.operation_name({"query": "{ flow { " + "id " * 100 + "} }"}) == "flow"


async def test_errors_are_counted_by_kind(client: httpx.AsyncClient) -> None:
    validation = sample("prefect_server_errors_total", kind="validation")
    bad = sample("prefect_server_errors_total", kind="bad_request")
    graphql = sample("prefect_server_errors_total", kind="graphql")
    await client.post("/", json={"query": "{ nope }"})
    await client.post("/", json={"query": "{ hello }", "variables": "[1]"})
    refused = "mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }"
    await client.post(
        "/", json={"query": refused, "variables": {"input": {"flow_id": str(uuid.uuid4())}}}
    )
    assert sample("prefect_server_errors_total", kind="validation") == validation + 1
    assert sample("prefect_server_errors_total", kind="bad_request") == bad + 1
    assert sample("prefect_server_errors_total", kind="graphql") == graphql + 1


def test_operation_names_are_bounded() -> None:
    counted = RequestMetrics(max_names=2)
    for name in ("A", "B", "C", "not a name", 7):
        counted.observe(name, 0.001, None)
    assert counted.label("A") == "A"
    assert counted.label("C") == "other"
    assert counted.label(None) == "anonymous"
    assert set(counted._children) == {"A", "B", "other"}
    # A name in a document the schema refused takes no slot (it could be anything).
    fresh = RequestMetrics(max_names=5)
    fresh.observe("nope", 0.001, "validation")
    fresh.observe("hello", 0.001, None)
    assert set(fresh._children) == {"other", "hello"}


async def test_state_transitions_and_runs_per_state(
    client: httpx.AsyncClient, db: Database
) -> None:
    running = sample("prefect_server_state_transitions_total", run_kind="flow", state="Running")
    _, flow_id = await factories.flow_chain(db)
    await factories.running_flow_run(db, flow_id)
    assert (
        sample("prefect_server_state_transitions_total", run_kind="flow", state="Running")
        == running + 1
    )
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = scrape(response.text)
    assert found[("prefect_server_runs", (("run_kind", "flow"), ("state", "Running")))] == 1
    assert ("prefect_server_database_pool_connections_in_use", ()) in found


async def test_service_passes_and_hooks_are_counted() -> None:
    passes = sample("prefect_server_service_pass_duration_seconds_count", service="scheduler")
    items = sample("prefect_server_service_items_total", service="scheduler")
    metrics.service_pass("scheduler", 0.2, 5)
    metrics.hook_delivery("WEBHOOK", delivered=False)
    assert (
        sample("prefect_server_service_pass_duration_seconds_count", service="scheduler")
        == passes + 1
    )
    assert sample("prefect_server_service_items_total", service="scheduler") == items + 5
    assert sample(
        "prefect_server_cloud_hook_deliveries_total", hook_type="WEBHOOK", outcome="failed"
    )


async def _scrape_with(settings: Settings, headers: dict[str, str]) -> int:
    app: Any = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get("/metrics", headers=headers)).status_code


async def test_metrics_need_a_key_unless_public(settings: Settings, db: Database) -> None:
    keyed = settings.replace(api_keys=("secret",))
    assert await _scrape_with(keyed, {}) == 401
    assert await _scrape_with(keyed, {"Authorization": "Bearer wrong"}) == 401
    assert await _scrape_with(keyed, {"Authorization": "Bearer secret"}) == 200
    public = keyed.replace(metrics=dataclasses.replace(keyed.metrics, public=True))
    assert await _scrape_with(public, {}) == 200
    off = settings.replace(metrics=dataclasses.replace(settings.metrics, enabled=False))
    assert await _scrape_with(off, {}) == 404


def test_the_readme_lists_every_metric_with_its_labels() -> None:
    """The README's table is what operators build dashboards from: every family the
    server exposes, no other, with the same labels."""
    from prometheus_client.metrics import MetricWrapperBase

    exposed: dict[str, tuple[str, ...]] = {}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            (family,) = value.describe()
            suffix = "_total" if family.type == "counter" else ""
            exposed[family.name + suffix] = tuple(value._labelnames)
    counts = metrics.RunStateCounts(5)
    counts.counts = {("flow", "Running"): 1}
    for family in counts.collect():
        exposed[family.name] = tuple(dict.fromkeys(k for s in family.samples for k in s.labels))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    listed: dict[str, tuple[str, ...]] = {}
    for line in readme.splitlines():
        if line.startswith("| `prefect_server_"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            labels = tuple(label.strip("` ") for label in cells[1].split(",") if label.strip())
            listed[cells[0].strip("`")] = labels
    assert listed == exposed


_WORKER = """
import sys
from prefect_server.observability import metrics
metrics.POOL_IN_USE.inc(int(sys.argv[1]))
metrics.REQUESTS.labels("Probe").inc(int(sys.argv[2]))
print("counted", flush=True)
if sys.argv[3] == "stay":
    sys.stdin.readline()
"""


def test_a_scrape_sums_the_workers_and_forgets_a_dead_ones_pool(tmp_path: Path) -> None:
    """Multiprocess mode as ``start --workers N`` sets it up: counters add up over every
    worker, dead ones included; the pool gauge counts live workers only (uvicorn
    replaces a crashed worker, whose last count would otherwise stay)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    dead = subprocess.run(
        [sys.executable, "-c", _WORKER, "3", "2", "exit"], env=env, capture_output=True, text=True
    )
    assert dead.stdout == "counted\n", dead.stderr
    live = subprocess.Popen(
        [sys.executable, "-c", _WORKER, "2", "5", "stay"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert live.stdout is not None and live.stdout.readline() == "counted\n"
        found = scrape(metrics.exposition(metrics.RunStateCounts(5), str(tmp_path)).decode())
    finally:
        live.communicate("\n", timeout=30)
    assert found[("prefect_server_graphql_requests_total", (("operation", "Probe"),))] == 7
    assert found[("prefect_server_database_pool_connections_in_use", ())] == 2


def _probes(path: Path) -> float:
    """What one worker counted of the Probe operation, from its own file."""
    from prometheus_client.mmap_dict import MmapedDict

    values = MmapedDict(str(path), read_mode=True)
    try:
        return sum(
            value
            for key, value, _ in values.read_all_values()
            if "graphql_requests_total" in key and '"Probe"' in key
        )
    finally:
        values.close()


@pytest.mark.postgres
def test_workers_answer_scrapes_with_the_sum(tmp_path: Path, database_url: str) -> None:
    """``start --workers 2``: requests on fresh connections spread over both workers,
    and every scrape, whichever worker answers it, counts all of them."""
    plain = make_url(database_url).set(drivername="postgresql")
    shared = tmp_path / "metrics"
    server = Server(
        tmp_path,
        "--workers",
        "2",
        "--no-services",
        "--no-ui",
        "--no-upgrade",
        "--database-url",
        plain.render_as_string(hide_password=False),
        env={"PREFECT_SERVER__METRICS__MULTIPROCESS_DIR": str(shared)},
    )
    try:
        server.wait_until_ready()
        sent = 0
        per_worker: list[float] = []
        while len(per_worker) < 2 and sent < 2000:
            for _ in range(20):  # a connection each: the kernel spreads them
                answer = httpx.post(
                    server.url + "/",
                    json={"query": "query Probe { hello }", "operationName": "Probe"},
                    timeout=30,
                )
                assert answer.status_code == 200
            sent += 20
            per_worker = [_probes(path) for path in shared.glob("counter_*.db")]
        assert len(per_worker) == 2 and all(per_worker), per_worker
        for _ in range(5):
            found = scrape(httpx.get(server.url + "/metrics", timeout=30).text)
            assert (
                found[("prefect_server_graphql_requests_total", (("operation", "Probe"),))] == sent
            )
    finally:
        output = server.stop()
    assert "Traceback" not in output, output


async def test_a_service_pass_counts_what_it_handled(db: Database, settings: Settings) -> None:
    """Through the service loop, as the scheduler runs it: one lazarus pass that
    reschedules one stale run adds a pass and one item."""
    import asyncio

    from towel_util import age_heartbeat, make_flow, make_run

    from prefect_server.services import lazarus, loop

    run_id = await make_run(db, await make_flow(db), "Running")
    await age_heartbeat(db, run_id, 3600)
    passes = sample("prefect_server_service_pass_duration_seconds_count", service="lazarus")
    items = sample("prefect_server_service_items_total", service="lazarus")
    await loop.tick(db, settings, "lazarus", lazarus.run_once, asyncio.Lock())
    assert (
        sample("prefect_server_service_pass_duration_seconds_count", service="lazarus")
        == passes + 1
    )
    assert sample("prefect_server_service_items_total", service="lazarus") == items + 1


async def test_runs_per_state_are_read_at_most_every_few_seconds(db: Database) -> None:
    _, flow_id = await factories.flow_chain(db)
    await factories.running_flow_run(db, flow_id)
    counts = metrics.RunStateCounts(cache_seconds=3600)
    await counts.refresh(db)
    assert counts.counts[("flow", "Running")] == 1
    await factories.running_flow_run(db, flow_id)
    await counts.refresh(db)  # within the cache: not read again
    assert counts.counts[("flow", "Running")] == 1
    counts.read_at -= 3600
    await counts.refresh(db)
    assert counts.counts[("flow", "Running")] == 2
