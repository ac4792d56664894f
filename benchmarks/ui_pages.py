"""Server response time of every page of the built-in web UI on a large history.

    python benchmarks/ui_pages.py --database-url postgresql://postgres@127.0.0.1:5432/bench
    python benchmarks/ui_pages.py --database-url sqlite:////tmp/ui-bench.db
    python benchmarks/ui_pages.py --database-url postgresql://… --history 990000   # a long history
    python benchmarks/ui_pages.py --database-url ... --reuse                    # seeded before

THE DATABASE IS RESET (downgraded and migrated), then seeded with ``--runs`` flow runs
spread over the last ``--days`` days (ending now, so the dashboard's windows hold runs),
``--tasks`` task runs each, 3 states per flow run, one state per task run and ``--logs``
logs per flow run, over 5 flows of 20 tasks in a chain. Each page is requested through the real
app in process (HTTP -> route -> SQL -> template), ``--repeat`` times after one warm-up;
the median and p90 of the whole response are printed, then those of the live fragments
the pages poll. ``--history N`` adds N older finished runs (3 states, 2 task runs and 2 logs
each) generated inside PostgreSQL, for the million-run figures.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import statistics
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import insert, select, text

from prefect_server.app import create_app
from prefect_server.database import migrations
from prefect_server.database import models as m
from prefect_server.database.engine import Database
from prefect_server.settings import load_settings, to_async_url

FLOWS = 5
TASKS_PER_FLOW = 20
BATCH = 500
OUTCOMES = ["Success"] * 8 + ["Failed", "Cancelled"]


def _flow_rows(tenant: uuid.UUID, project: uuid.UUID) -> tuple[list[Any], ...]:
    groups, flows, tasks, edges = [], [], [], []
    for f in range(FLOWS):
        group, flow = uuid.uuid4(), uuid.uuid4()
        groups.append({"id": group, "tenant_id": tenant, "name": f"bench-flow-{f}"})
        flows.append(
            {
                "id": flow,
                "tenant_id": tenant,
                "project_id": project,
                "flow_group_id": group,
                "version_group_id": str(group),
                "version": 1,
                "name": f"bench-flow-{f}",
                "core_version": "1.4.1",
                "parameters": [
                    {"name": "x", "slug": "x", "default": 1, "required": False},
                ],
            }
        )
        ids = [uuid.uuid4() for _ in range(TASKS_PER_FLOW)]
        for i, task in enumerate(ids):
            tasks.append(
                {
                    "id": task,
                    "tenant_id": tenant,
                    "flow_id": flow,
                    "slug": f"t{i}-1",
                    "name": f"task {i}",
                    "mapped": i == 5,
                }
            )
        for up, down in zip(ids, ids[1:], strict=False):
            edges.append(
                {
                    "tenant_id": tenant,
                    "flow_id": flow,
                    "upstream_task_id": up,
                    "downstream_task_id": down,
                }
            )
    return groups, flows, tasks, edges


async def seed(db: Database, runs: int, tasks_per_run: int, logs: int, days: float) -> None:
    tenant, project = uuid.uuid4(), uuid.uuid4()
    groups, flows, tasks, edges = _flow_rows(tenant, project)
    # Every run was submitted by one of three agents, as on a real server: the agents
    # page must not read an agent's whole history.
    agents = [uuid.uuid4() for _ in range(3)]
    async with db.transaction() as s:
        await s.execute(insert(m.Tenant), [{"id": tenant, "name": "bench", "slug": "bench"}])
        await s.execute(insert(m.Project), [{"id": project, "tenant_id": tenant, "name": "p"}])
        for model, rows in (
            (m.FlowGroup, groups),
            (m.Flow, flows),
            (m.Task, tasks),
            (m.Edge, edges),
        ):
            await s.execute(insert(model), rows)
        await s.execute(
            insert(m.Agent),
            [
                {"id": agent, "tenant_id": tenant, "name": f"agent-{i}", "type": "LocalAgent"}
                | {"labels": []}
                for i, agent in enumerate(agents)
            ],
        )
    now = dt.datetime.now(dt.timezone.utc)
    step = dt.timedelta(days=days) / max(runs, 1)
    task_ids: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in tasks:
        task_ids.setdefault(row["flow_id"], []).append(row["id"])
    for start in range(0, runs, BATCH):
        rows: dict[Any, list[dict[str, Any]]] = {
            m.FlowRun: [],
            m.FlowRunState: [],
            m.TaskRun: [],
            m.TaskRunState: [],
            m.Log: [],
        }
        for i in range(start, min(runs, start + BATCH)):
            run, flow = uuid.uuid4(), flows[i % FLOWS]
            when = now - step * (runs - i)
            # The newest runs are still running; the rest finished.
            state = "Running" if runs - i <= 5 else OUTCOMES[i % len(OUTCOMES)]
            finished = state != "Running"
            rows[m.FlowRun].append(
                {
                    "id": run,
                    "tenant_id": tenant,
                    "flow_id": flow["id"],
                    "name": f"run-{i}",
                    "state": state,
                    "state_message": f"{state} after some work",
                    "state_timestamp": when + dt.timedelta(seconds=30),
                    "scheduled_start_time": when,
                    "start_time": when,
                    "end_time": when + dt.timedelta(seconds=30) if finished else None,
                    "serialized_state": {"type": state},
                    "parameters": {"x": i},
                    "labels": [],
                    "version": 3,
                    "agent_id": agents[i % len(agents)],
                }
            )
            for v, name in enumerate(("Scheduled", "Running", state)):
                rows[m.FlowRunState].append(
                    {
                        "tenant_id": tenant,
                        "flow_run_id": run,
                        "state": name,
                        "version": v + 1,
                        "timestamp": when + dt.timedelta(seconds=v * 15),
                        "serialized_state": {"type": name},
                    }
                )
            for n, task in enumerate(task_ids[flow["id"]][:tasks_per_run]):
                task_run = uuid.uuid4()
                begin = when + dt.timedelta(seconds=n)
                rows[m.TaskRun].append(
                    {
                        "id": task_run,
                        "tenant_id": tenant,
                        "flow_run_id": run,
                        "task_id": task,
                        "state": "Success",
                        "start_time": begin,
                        "end_time": begin + dt.timedelta(seconds=1),
                        "serialized_state": {"type": "Success"},
                        "version": 3,
                    }
                )
                rows[m.TaskRunState].append(
                    {
                        "tenant_id": tenant,
                        "task_run_id": task_run,
                        "state": "Success",
                        "timestamp": begin,
                        "serialized_state": {"type": "Success"},
                    }
                )
            for n in range(logs):
                rows[m.Log].append(
                    {
                        "tenant_id": tenant,
                        "flow_run_id": run,
                        "name": "prefect.FlowRunner",
                        "level": "ERROR" if n == logs - 1 and state == "Failed" else "INFO",
                        "message": f"log line {n} of run {i}",
                        "timestamp": when + dt.timedelta(seconds=n),
                    }
                )
        async with db.transaction() as s:
            for model, batch in rows.items():
                if batch:
                    await s.execute(insert(model), batch)
        if start and start % 100_000 == 0:
            print(f"  … {start} flow runs", flush=True)
    if db.is_postgres:
        # Fresh planner statistics, as autovacuum would have gathered on a live server.
        async with db.engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("ANALYZE"))


HISTORY_SQL = [
    # Older runs, one a minute before the seeded ones, with 3 states, 2 task runs and
    # 2 logs each: generated inside PostgreSQL (minutes for a million, not hours).
    """
    INSERT INTO flow_run (id, tenant_id, flow_id, name, state, state_message,
        state_timestamp, scheduled_start_time, start_time, end_time, serialized_state,
        parameters, labels, version, agent_id, created, updated)
    SELECT gen_random_uuid(), f.tenant_id, f.id, 'old-run-' || i,
        CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Success' END, 'finished long ago',
        t + interval '30 seconds', t, t, t + interval '30 seconds',
        '{"type": "Success"}', '{}', '[]', 3, (SELECT min(id::text)::uuid FROM agent), t, t
    FROM generate_series(1, :n) AS i
    CROSS JOIN LATERAL (SELECT CAST(:oldest AS timestamptz) - i * interval '1 minute' AS t) AS at
    JOIN (SELECT id, tenant_id, row_number() OVER (ORDER BY name) - 1 AS k FROM flow) AS f
        ON f.k = i % :flows
    """,
    """
    INSERT INTO flow_run_state (id, tenant_id, flow_run_id, state, version, timestamp,
        serialized_state, created, updated)
    SELECT gen_random_uuid(), r.tenant_id, r.id, s.name, s.v, r.scheduled_start_time,
        '{}', r.created, r.created
    FROM flow_run r
    CROSS JOIN (VALUES (1, 'Scheduled'), (2, 'Running'), (3, 'Success')) AS s(v, name)
    WHERE r.name LIKE 'old-run-%'
    """,
    """
    INSERT INTO task_run (id, tenant_id, flow_run_id, task_id, map_index, state, version,
        start_time, end_time, serialized_state, created, updated)
    SELECT gen_random_uuid(), r.tenant_id, r.id, t.id, -1, 'Success', 3,
        r.start_time, r.end_time, '{}', r.created, r.created
    FROM flow_run r
    JOIN task t ON t.flow_id = r.flow_id AND t.slug IN ('t0-1', 't1-1')
    WHERE r.name LIKE 'old-run-%'
    """,
    """
    INSERT INTO log (id, tenant_id, flow_run_id, name, level, message, timestamp,
        created, updated)
    SELECT gen_random_uuid(), r.tenant_id, r.id, 'prefect.FlowRunner', 'INFO',
        'old log line ' || n, r.scheduled_start_time + n * interval '1 second',
        r.created, r.created
    FROM flow_run r CROSS JOIN generate_series(1, 2) AS n
    WHERE r.name LIKE 'old-run-%'
    """,
]


async def add_history(db: Database, runs: int) -> None:
    """``runs`` older flow runs before the seeded ones (PostgreSQL only)."""
    if not db.is_postgres:
        raise SystemExit("--history needs PostgreSQL (it is generated by generate_series)")
    async with db.session() as s:
        oldest = await s.scalar(
            select(m.FlowRun.scheduled_start_time).order_by(m.FlowRun.scheduled_start_time).limit(1)
        )
    async with db.engine.connect() as conn:
        await conn.execute(text("COMMIT"))
        for n, sql in enumerate(HISTORY_SQL):
            params = {"n": runs, "oldest": oldest, "flows": FLOWS} if n == 0 else {}
            await conn.execute(text(sql), params)
            await conn.execute(text("COMMIT"))
        await conn.execute(text("ANALYZE"))


async def ids(db: Database) -> dict[str, str]:
    async with db.session() as s:
        newest = await s.scalar(
            select(m.FlowRun.id).order_by(m.FlowRun.scheduled_start_time.desc()).limit(1)
        )
        group = await s.scalar(select(m.Flow.flow_group_id).where(m.Flow.name == "bench-flow-0"))
        task_run = await s.scalar(
            select(m.TaskRun.id).where(m.TaskRun.flow_run_id == newest).limit(1)
        )
        project = await s.scalar(select(m.Project.id).where(m.Project.name == "p"))
    return {
        "run": str(newest),
        "group": str(group),
        "task_run": str(task_run),
        "project": str(project),
    }


def pages(i: dict[str, str]) -> list[tuple[str, str]]:
    run, group, task_run = i["run"], i["group"], i["task_run"]
    return [
        ("dashboard (24 h)", "/ui/"),
        ("dashboard (7 d, one project)", f"/ui/?window=7d&project={i['project']}"),
        ("flows", "/ui/flows"),
        ("flow page", f"/ui/flows/{group}"),
        ("run form", f"/ui/flows/{group}/run"),
        ("flow runs, page 1", "/ui/flow-runs"),
        ("flow runs, page 200", "/ui/flow-runs?page=200"),
        ("flow runs, Failed", "/ui/flow-runs?state=Failed"),
        ("flow-run page", f"/ui/flow-runs/{run}"),
        ("task-run page", f"/ui/task-runs/{task_run}"),
        ("agents", "/ui/agents"),
        ("projects", "/ui/projects"),
        ("live: dashboard counts+chart", "/ui/?_fragment=live_counts"),
        ("live: dashboard in progress", "/ui/?_fragment=live_active"),
        ("live: dashboard late", "/ui/?_fragment=live_late"),
        ("live: flow-run list rows", "/ui/flow-runs?_fragment=live_rows"),
    ]


async def time_page(client: httpx.AsyncClient, url: str, repeat: int) -> tuple[float, float]:
    first = await client.get(url)
    if first.status_code != 200:
        raise SystemExit(f"{url} answered {first.status_code}: {first.text[:300]}")
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = await client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, url
    return statistics.median(timings), statistics.quantiles(timings, n=10)[-1]


async def main(args: argparse.Namespace) -> None:
    url = to_async_url(args.database_url)
    if not args.reuse:
        if "postgresql" in url:
            migrations.downgrade(url)
        migrations.upgrade(url)
    settings = load_settings(env={})
    settings = settings.replace(
        database=dataclasses.replace(settings.database, connection_url=url, migrate_on_start=False),
        services=dataclasses.replace(settings.services, enabled=False),
    )
    db = Database.from_settings(settings)
    if not args.reuse:
        start = time.perf_counter()
        await seed(db, args.runs, args.tasks, args.logs, args.days)
        print(
            f"seeded {args.runs} flow runs x {args.tasks} task runs, {args.logs} logs each "
            f"in {time.perf_counter() - start:.1f} s"
        )
    if args.history:
        start = time.perf_counter()
        await add_history(db, args.history)
        print(f"added {args.history} older flow runs in {time.perf_counter() - start:.1f} s")
    found = await ids(db)
    await db.dispose()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for label, page in pages(found):
                if args.only and args.only not in label:
                    continue
                median, p90 = await time_page(client, page, args.repeat)
                print(f"{label:32s} median {median:7.1f} ms   p90 {p90:7.1f} ms", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=20, help="task runs per flow run (<= 20)")
    parser.add_argument("--logs", type=int, default=10, help="logs per flow run")
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", help="measure only pages whose label contains this")
    parser.add_argument(
        "--history", type=int, default=0, help="older flow runs to add (PostgreSQL only)"
    )
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded database")
    asyncio.run(main(parser.parse_args()))
