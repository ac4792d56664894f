"""Prometheus metrics: what the server counts, and its ``/metrics`` text.

Counters are bumped where things happen (the GraphQL endpoint, the one state function per
run kind, the service loop, cloud-hook delivery, the connection pool); the runs per state
are read from the database when scraped, at most every few seconds.

Under ``prefect-server start --workers N`` the parent sets ``PROMETHEUS_MULTIPROC_DIR``
before the workers import this module, so every worker writes its values to files there
and any worker answers a scrape with the sum over all of them.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from prefect_server.observability import context

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Requests take 1-50 ms on the hot path and up to seconds for large UI reads.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "prefect_server_graphql_requests_total",
    "GraphQL operations answered, by operationName (anonymous: none sent; other: "
    "beyond the bounded set of names).",
    ["operation"],
)
LATENCY = Histogram(
    "prefect_server_graphql_request_duration_seconds",
    "Time to answer one GraphQL operation, by operationName.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
ERRORS = Counter(
    "prefect_server_errors_total",
    "Errors by kind: bad_request, validation, unauthenticated, graphql (an errors list "
    "in a 200 answer), internal, database_disconnect, database.",
    ["kind"],
)
STATE_TRANSITIONS = Counter(
    "prefect_server_state_transitions_total",
    "States written, by run kind (flow, task) and state.",
    ["run_kind", "state"],
)
SERVICE_PASS = Histogram(
    "prefect_server_service_pass_duration_seconds",
    "Duration of one service pass (passes another replica ran are not observed).",
    ["service"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
)
SERVICE_ITEMS = Counter(
    "prefect_server_service_items_total",
    "Items a service handled: runs the scheduler created, runs lazarus resurrected, "
    "zombies killed, rows retention deleted.",
    ["service"],
)
SERVICE_FAILURES = Counter(
    "prefect_server_service_failures_total", "Service passes that raised.", ["service"]
)
HOOK_DELIVERIES = Counter(
    "prefect_server_cloud_hook_deliveries_total",
    "Cloud-hook deliveries by hook type and outcome (delivered, failed).",
    ["hook_type", "outcome"],
)
POOL_IN_USE = Gauge(
    "prefect_server_database_pool_connections_in_use",
    "Database connections checked out of the pool (summed over live workers).",
    multiprocess_mode="livesum",
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_OTHER = "other"
_ANONYMOUS = "anonymous"
# Answers that never reached the schema's resolvers.
_REFUSED = ("bad_request", "validation", "unauthenticated")


def operation_name(op: Any) -> Any:
    """What a GraphQL operation is called in metrics and log lines: its ``operationName``,
    or else its first root field (``set_task_run_states``) — the 1.4.1 client names none
    of its operations, so without this all its traffic would be one label."""
    if not isinstance(op, dict):
        return None
    name = op.get("operationName")
    if name:
        # Any JSON value may come: a list would not even be hashable.
        return name if isinstance(name, str) else str(name)
    query = op.get("query")
    if not isinstance(query, str) or len(query) > NAMED_QUERY_CHARS:
        return None
    return _first_root_field(query)


# This runs before the document checker's limits, on the event loop: an unbounded parse
# of a 5 MB document took 6 s and stalled every other request. Real documents (the 1.4.1
# client's, the UI's) are a few kilobytes; a bigger one is simply "anonymous".
NAMED_QUERY_CHARS = 64 * 1024
NAMED_QUERY_TOKENS = 20_000


@functools.lru_cache(maxsize=512)
def _first_root_field(query: str) -> str | None:
    # Cached by the document's text: a client sends the same few documents with
    # different variables, so each is parsed here once.
    try:
        document = parse(query, no_location=True, max_tokens=NAMED_QUERY_TOKENS)
    except GraphQLError:
        return None
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    return selection.name.value
            return None
    return None


class RequestMetrics:
    """Counting GraphQL operations cheaply: the labelled children are looked up once per
    operation name, so a request costs two dict lookups, an increment and an observation."""

    def __init__(self, max_names: int):
        self.max_names = max_names
        self._children: dict[str, tuple[Any, Any]] = {}

    def label(self, operation_name: Any, error: str | None = None) -> str:
        """A name seen before keeps its label; a new one needs a free slot and a valid
        operation (names in documents the schema refused would fill the slots)."""
        if not operation_name:
            return _ANONYMOUS
        if operation_name in self._children:
            return str(operation_name)
        if (
            isinstance(operation_name, str)
            and error not in _REFUSED
            and len(self._children) < self.max_names
            and _NAME.fullmatch(operation_name)
        ):
            return operation_name
        return _OTHER

    def observe(self, operation_name: Any, seconds: float, error: str | None) -> None:
        children = self._children.get(operation_name or _ANONYMOUS)
        if children is None:
            label = self.label(operation_name, error)
            children = self._children.get(label)
            if children is None:
                children = self._children[label] = (
                    REQUESTS.labels(label),
                    LATENCY.labels(label),
                )
        children[0].inc()
        children[1].observe(seconds)
        if error is not None:
            ERRORS.labels(error).inc()


def error(kind: str) -> None:
    ERRORS.labels(kind).inc()


def state_transition(run_kind: str, state: str, run_id: Any) -> None:
    """One state written for a run (called by the state function of each run kind)."""
    STATE_TRANSITIONS.labels(run_kind, state).inc()
    context.bind_run(run_kind, run_id)


def service_pass(service: str, seconds: float, items: int | None) -> None:
    SERVICE_PASS.labels(service).observe(seconds)
    if items:
        SERVICE_ITEMS.labels(service).inc(items)


def service_failed(service: str) -> None:
    SERVICE_FAILURES.labels(service).inc()


def hook_delivery(hook_type: str, delivered: bool) -> None:
    HOOK_DELIVERIES.labels(hook_type, "delivered" if delivered else "failed").inc()


def watch_engine(engine: AsyncEngine) -> None:
    """Count pooled connections in use and the database errors SQLAlchemy sees."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine.pool, "checkout")
    def _checkout(*_: Any) -> None:
        POOL_IN_USE.inc()

    @event.listens_for(sync_engine.pool, "checkin")
    def _checkin(*_: Any) -> None:
        POOL_IN_USE.dec()

    @event.listens_for(sync_engine, "handle_error")
    def _handle_error(exception_context: Any) -> None:
        ERRORS.labels(
            "database_disconnect" if exception_context.is_disconnect else "database"
        ).inc()


class RunStateCounts(Collector):
    """Flow runs and task runs currently in each state, read at most every
    ``cache_seconds`` (both tables have an index on ``state``)."""

    def __init__(self, cache_seconds: float):
        self.cache_seconds = cache_seconds
        self.read_at = -float("inf")
        self.counts: dict[tuple[str, str], int] = {}

    async def refresh(self, db: Any) -> None:
        if time.monotonic() - self.read_at < self.cache_seconds:
            return
        from prefect_server.database.models import FlowRun, TaskRun

        counts: dict[tuple[str, str], int] = {}
        async with db.session() as session:
            for kind, model in (("flow", FlowRun), ("task", TaskRun)):
                rows = await session.execute(
                    select(model.state, func.count()).group_by(model.state)
                )
                for state, count in rows:
                    counts[(kind, state or "None")] = count
        self.counts = counts
        self.read_at = time.monotonic()

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "prefect_server_runs",
            "Flow runs and task runs currently in each state.",
            labels=["run_kind", "state"],
        )
        for (kind, state), count in sorted(self.counts.items()):
            family.add_metric([kind, state], count)
        yield family


def exposition(state_counts: RunStateCounts, multiprocess_dir: str) -> bytes:
    """The text of a scrape: every process's metrics, then the runs per state."""
    registry: CollectorRegistry
    if multiprocess_dir:
        forget_dead_workers(multiprocess_dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=multiprocess_dir)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    extra = CollectorRegistry()
    extra.register(state_counts)
    return text + generate_latest(extra)


def forget_dead_workers(multiprocess_dir: str) -> None:
    """Drop the pool gauge of workers that died: uvicorn replaces a crashed worker, and
    its last count of connections in use would stay in the sum. Counters and histograms
    of dead workers stay, as totals must not go down."""
    for path in Path(multiprocess_dir).glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), multiprocess_dir)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
