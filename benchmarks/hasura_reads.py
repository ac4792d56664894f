"""Median latency of the UI's heaviest reads through the generated Hasura API (issue 3, "Speed").

    python benchmarks/hasura_reads.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    python benchmarks/hasura_reads.py --database-url sqlite:////tmp/bench.db

THE DATABASE IS RESET (downgraded and migrated), then seeded with ``--runs`` flow runs
of 20 task runs each, 3 states per flow run, one state per task run and 10 logs per
flow run. Each query goes through the real app (HTTP body -> GraphQL -> SQL) in
process, ``--repeat`` times after one warm-up; the median and p90 are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import statistics
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import insert, text

from prefect_server.app import create_app
from prefect_server.database import migrations
from prefect_server.database import models as m
from prefect_server.database.engine import Database
from prefect_server.settings import load_settings, to_async_url

TASKS = 20
STATES = ["Success", "Failed", "Running", "Scheduled", "Pending", "Cancelled"]
T0 = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)

FLOW_RUN_LIST = """query FlowRuns($limit: Int, $offset: Int) {
  flow_run(order_by: {scheduled_start_time: desc}, limit: $limit, offset: $offset) {
    id name state scheduled_start_time start_time end_time __typename
    flow { id name __typename project { id name __typename } }
    task_runs_aggregate { aggregate { count __typename } __typename }
  }
}"""

DASHBOARD = (
    "query FlowRuns($projectId: uuid, $heartbeat: timestamptz) { "
    + " ".join(
        f"{s}: flow_run_aggregate(where: {{flow: {{project_id: {{_eq: $projectId}}}}, "
        f'scheduled_start_time: {{_gte: $heartbeat}}, state: {{_eq: "{s}"}}}}) '
        "{ aggregate { count __typename } __typename }"
        for s in (
            "Success Running Pending Failed ClientFailed Submitted Queued Resume Retrying "
            "Looped Cached Mapped TimedOut TriggerFailed Skipped Finished Cancelled"
        ).split()
    )
    + " }"
)

FLOW_RUN_PAGE = """query FlowRun($id: uuid!) {
  flow_run_by_pk(id: $id) {
    id name state serialized_state parameters context labels scheduled_start_time
    start_time end_time version __typename
    flow { id name version project { id name } }
    states(order_by: {timestamp: asc}) { id state timestamp message serialized_state }
    task_runs(order_by: {map_index: asc}) {
      id map_index state start_time end_time serialized_state task { id name slug }
    }
    logs(order_by: {timestamp: desc}, limit: 100) { id timestamp level message name task_run_id }
  }
}"""


async def seed(db: Database, runs: int) -> dict[str, Any]:
    tenant, project, group, flow = (uuid.uuid4() for _ in range(4))
    tasks = [uuid.uuid4() for _ in range(TASKS)]
    async with db.transaction() as s:
        await s.execute(insert(m.Tenant), [{"id": tenant, "name": "bench", "slug": "bench"}])
        await s.execute(insert(m.Project), [{"id": project, "tenant_id": tenant, "name": "p"}])
        await s.execute(insert(m.FlowGroup), [{"id": group, "tenant_id": tenant}])
        await s.execute(
            insert(m.Flow),
            [
                {
                    "id": flow,
                    "tenant_id": tenant,
                    "project_id": project,
                    "flow_group_id": group,
                    "name": "bench-flow",
                }
            ],
        )
        await s.execute(
            insert(m.Task),
            [
                {
                    "id": t,
                    "tenant_id": tenant,
                    "flow_id": flow,
                    "slug": f"t{i}",
                    "name": f"task {i}",
                }
                for i, t in enumerate(tasks)
            ],
        )
    first: uuid.UUID | None = None
    for start in range(0, runs, 500):
        run_rows, state_rows, task_rows, task_state_rows, log_rows = [], [], [], [], []
        for i in range(start, min(runs, start + 500)):
            run = uuid.uuid4()
            first = first or run
            when = T0 + dt.timedelta(minutes=i)
            state = STATES[i % len(STATES)]
            run_rows.append(
                {
                    "id": run,
                    "tenant_id": tenant,
                    "flow_id": flow,
                    "name": f"run-{i}",
                    "state": state,
                    "scheduled_start_time": when,
                    "start_time": when,
                    "serialized_state": {"type": state},
                    "version": 3,
                }
            )
            for v, name in enumerate(("Scheduled", "Running", state)):
                state_rows.append(
                    {
                        "tenant_id": tenant,
                        "flow_run_id": run,
                        "state": name,
                        "version": v + 1,
                        "timestamp": when + dt.timedelta(seconds=v),
                        "serialized_state": {"type": name},
                    }
                )
            for t in tasks:
                task_run = uuid.uuid4()
                task_rows.append(
                    {
                        "id": task_run,
                        "tenant_id": tenant,
                        "flow_run_id": run,
                        "task_id": t,
                        "state": "Success",
                        "serialized_state": {"type": "Success"},
                    }
                )
                task_state_rows.append(
                    {
                        "tenant_id": tenant,
                        "task_run_id": task_run,
                        "state": "Success",
                        "timestamp": when,
                        "serialized_state": {"type": "Success"},
                    }
                )
            for n in range(10):
                log_rows.append(
                    {
                        "tenant_id": tenant,
                        "flow_run_id": run,
                        "level": "INFO",
                        "message": f"log {n}",
                        "timestamp": when + dt.timedelta(seconds=n),
                    }
                )
        async with db.transaction() as s:
            for model, rows in (
                (m.FlowRun, run_rows),
                (m.FlowRunState, state_rows),
                (m.TaskRun, task_rows),
                (m.TaskRunState, task_state_rows),
                (m.Log, log_rows),
            ):
                await s.execute(insert(model), rows)
    if db.is_postgres:
        # Fresh planner statistics, as autovacuum would have gathered on a live server.
        async with db.engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE"))
    return {"project": str(project), "run": str(first)}


async def measure(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], repeat: int
) -> list[float]:
    body = {"query": query, "variables": json.dumps(variables)}
    response = await client.post("/", json=body)
    assert "errors" not in response.json(), response.text[:500]
    timings = []
    cpu = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = await client.post("/", json=body)
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    # CPU time of this process: on a shared machine it shows the work apart from the waiting.
    print(f"    (median CPU time of the app process: {statistics.median(cpu):.1f} ms)")
    return timings


async def existing(db: Database) -> dict[str, Any]:
    from sqlalchemy import select

    async with db.session() as s:
        project = await s.scalar(select(m.Project.id).where(m.Project.name == "p"))
        run = await s.scalar(select(m.FlowRun.id).where(m.FlowRun.name == "run-0"))
    return {"project": str(project), "run": str(run)}


async def main(url: str, runs: int, repeat: int, reuse: bool = False) -> None:
    url = to_async_url(url)
    if "postgresql" in url and not reuse:
        migrations.downgrade(url)
    if not reuse:
        migrations.upgrade(url)
    settings = load_settings(env={})
    settings = settings.replace(
        database=dataclasses.replace(settings.database, connection_url=url, migrate_on_start=False),
        services=dataclasses.replace(settings.services, enabled=False),
    )
    db = Database.from_settings(settings)
    start = time.perf_counter()
    ids = await existing(db) if reuse else await seed(db, runs)
    await db.dispose()
    if not reuse:
        print(f"seeded {runs} flow runs x {TASKS} task runs in {time.perf_counter() - start:.1f} s")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            cases = [
                (
                    "UI flow-run list (50, nested, aggregate)",
                    FLOW_RUN_LIST,
                    {"limit": 50, "offset": 0},
                ),
                (
                    "dashboard: 17 x flow_run_aggregate",
                    DASHBOARD,
                    {"projectId": ids["project"], "heartbeat": "2029-12-01T00:00:00+00:00"},
                ),
                ("flow-run page (states, task runs, 100 logs)", FLOW_RUN_PAGE, {"id": ids["run"]}),
            ]
            for label, query, variables in cases:
                timings = await measure(client, query, variables, repeat)
                p90 = statistics.quantiles(timings, n=10)[-1]
                print(
                    f"{label:48s} median {statistics.median(timings):7.1f} ms   p90 {p90:7.1f} ms"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded database")
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.runs, args.repeat, args.reuse))
