"""Benchmark of the towel services on PostgreSQL (issue 5, "Speed").

    python benchmarks/services.py --database-url postgresql://postgres@127.0.0.1:5432/bench

THE DATABASE IS RESET (downgraded and migrated). Steps, each timed:
1. seed ``--flows`` active flows with an hourly IntervalClock (one task each);
2. a cold scheduler pass (``--flows`` x 10 runs to create) and a warm pass (nothing to do);
3. seed ``--task-runs`` task runs: ``--stale`` Running task runs in Running flow runs whose
   heartbeat is an hour old, ``--lazarus-runs`` stale Running flow runs whose task runs
   all finished, everything else finished long ago;
4. one zombie-killer pass and one lazarus pass.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select, text

from prefect_server.database import migrations
from prefect_server.database.engine import Database
from prefect_server.database.models import FlowRun, TaskRun
from prefect_server.orchestration import tenants
from prefect_server.services import lazarus, scheduler, zombie_killer
from prefect_server.settings import load_settings, to_async_url

HOURLY = {
    "type": "Schedule",
    "clocks": [
        {
            "type": "IntervalClock",
            "interval": 3600 * 1_000_000,
            "start_date": {"dt": "2020-01-01T00:00:00", "tz": "UTC"},
            "end_date": None,
        }
    ],
}
TASKS_PER_RUN = 100


async def timed(label: str, step: Callable[[], Awaitable[Any]]) -> Any:
    start = time.perf_counter()
    result = await step()
    print(f"{label:<48} {time.perf_counter() - start:8.2f} s   -> {result}", flush=True)
    return result


async def sql(db: Database, statement: str, **params: Any) -> None:
    async with db.transaction() as session:
        await session.execute(text(statement), params)


async def seed_flows(db: Database, flows: int, tenant: uuid.UUID, project: uuid.UUID) -> int:
    await sql(
        db,
        """
        INSERT INTO flow_group (id, tenant_id, name, settings, default_parameters, created, updated)
        SELECT gen_random_uuid(), :tenant, 'bench-' || i,
               '{"heartbeat_enabled": true, "lazarus_enabled": true}', '{}', now(), now()
        FROM generate_series(1, :n) AS i
        """,
        tenant=tenant,
        n=flows,
    )
    await sql(
        db,
        """
        INSERT INTO flow (id, tenant_id, project_id, flow_group_id, version_group_id, version, name,
                          parameters, archived, settings, serialized_flow, schedule,
                          is_schedule_active, created, updated)
        SELECT gen_random_uuid(), :tenant, :project, g.id, g.name, 1, g.name,
               '[]', false, '{}', '{}', CAST(:schedule AS jsonb), true, now(), now()
        FROM flow_group AS g WHERE g.name LIKE 'bench-%'
        """,
        tenant=tenant,
        project=project,
        schedule=json.dumps(HOURLY),
    )
    await sql(
        db,
        """
        INSERT INTO task (id, tenant_id, flow_id, name, slug, max_retries, mapped, auto_generated,
                          is_root_task, is_terminal_task, is_reference_task, tags, created, updated)
        SELECT gen_random_uuid(), :tenant, f.id, 'task', 'task-1', 0, false, false,
               false, false, false, '[]', now(), now()
        FROM flow AS f WHERE f.name LIKE 'bench-%'
        """,
        tenant=tenant,
    )
    return flows


async def seed_runs(
    db: Database,
    task_runs: int,
    stale: int,
    lazarus_runs: int,
    tenant: uuid.UUID,
    project: uuid.UUID,
) -> int:
    """One flow with TASKS_PER_RUN tasks and task_runs / TASKS_PER_RUN flow runs of it."""
    flow_runs = task_runs // TASKS_PER_RUN
    zombie_runs = stale // TASKS_PER_RUN
    assert zombie_runs + lazarus_runs <= flow_runs
    await sql(
        db,
        """
        WITH g AS (
            INSERT INTO flow_group (id, tenant_id, name, settings, default_parameters, created, updated)
            VALUES (gen_random_uuid(), :tenant, 'big', '{}', '{}', now(), now()) RETURNING id
        )
        INSERT INTO flow (id, tenant_id, project_id, flow_group_id, version_group_id, version, name,
                          parameters, archived, settings, serialized_flow, is_schedule_active,
                          created, updated)
        SELECT gen_random_uuid(), :tenant, :project, g.id, 'big', 1, 'big', '[]', false, '{}', '{}',
               false, now(), now()
        FROM g
        """,
        tenant=tenant,
        project=project,
    )
    await sql(
        db,
        """
        INSERT INTO task (id, tenant_id, flow_id, name, slug, max_retries, mapped, auto_generated,
                          is_root_task, is_terminal_task, is_reference_task, tags, created, updated)
        SELECT gen_random_uuid(), :tenant, f.id, 'task-' || i, 'task-' || i, 0, false, false,
               false, false, false, '[]', now(), now()
        FROM flow AS f, generate_series(1, :tasks) AS i WHERE f.name = 'big'
        """,
        tenant=tenant,
        tasks=TASKS_PER_RUN,
    )
    # Flow runs 1..zombie_runs are Running zombies, the next lazarus_runs are Running with
    # finished task runs, the rest finished a day ago.
    await sql(
        db,
        """
        INSERT INTO flow_run (id, tenant_id, flow_id, parameters, context, labels,
                              scheduled_start_time, auto_scheduled, heartbeat, version, state,
                              state_timestamp, state_message, serialized_state, name,
                              times_resurrected, created, updated)
        SELECT gen_random_uuid(), :tenant, f.id, '{}', '{}', '[]', now() - interval '1 day', false,
               now() - CASE WHEN i <= :live THEN interval '1 hour' ELSE interval '1 day' END,
               3, CASE WHEN i <= :live THEN 'Running' ELSE 'Success' END, now(), NULL,
               CASE WHEN i <= :live THEN '{"type": "Running"}' ELSE '{"type": "Success"}' END
                   ::jsonb,
               'run-' || i, 0, now(), now()
        FROM flow AS f, generate_series(1, :n) AS i WHERE f.name = 'big'
        """,
        tenant=tenant,
        n=flow_runs,
        live=zombie_runs + lazarus_runs,
    )
    await sql(
        db,
        """
        INSERT INTO task_run (id, tenant_id, flow_run_id, task_id, map_index, version, state,
                              state_timestamp, serialized_state, created, updated)
        SELECT gen_random_uuid(), :tenant, r.id, t.id, -1, 3,
               CASE WHEN substring(r.name FROM 5)::int <= :zombies THEN 'Running' ELSE 'Success' END,
               now(), '{}', now(), now()
        FROM flow_run AS r JOIN flow AS f ON f.id = r.flow_id AND f.name = 'big'
        JOIN task AS t ON t.flow_id = f.id
        """,
        tenant=tenant,
        zombies=zombie_runs,
    )
    async with db.transaction() as session:
        await session.execute(text("ANALYZE"))
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(TaskRun)) or 0)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--flows", type=int, default=10_000)
    parser.add_argument("--task-runs", type=int, default=1_000_000)
    parser.add_argument("--stale", type=int, default=10_000)
    parser.add_argument("--lazarus-runs", type=int, default=1_000)
    args = parser.parse_args()

    url = to_async_url(args.database_url)
    migrations.downgrade(url)
    migrations.upgrade(url)
    base = load_settings(env={})
    settings = base.replace(database=dataclasses.replace(base.database, connection_url=url))
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            tenant = await tenants.ensure_default_tenant(session)
            project = uuid.uuid4()
            await session.execute(
                text(
                    "INSERT INTO project (id, tenant_id, name, created, updated) "
                    "VALUES (:id, :tenant, 'bench', now(), now())"
                ),
                {"id": project, "tenant": tenant},
            )
        await timed(
            f"seed {args.flows} scheduled flows",
            lambda: seed_flows(db, args.flows, tenant, project),
        )
        await timed("scheduler pass, cold (runs created)", lambda: scheduler.run_once(db, settings))
        await timed("scheduler pass, warm (runs created)", lambda: scheduler.run_once(db, settings))
        await timed(
            f"seed {args.task_runs} task runs ({args.stale} stale)",
            lambda: seed_runs(db, args.task_runs, args.stale, args.lazarus_runs, tenant, project),
        )
        await timed(
            "zombie-killer pass (runs handled)", lambda: zombie_killer.run_once(db, settings)
        )
        await timed("lazarus pass (runs rescheduled)", lambda: lazarus.run_once(db, settings))
        await timed(
            "zombie-killer pass again (runs handled)", lambda: zombie_killer.run_once(db, settings)
        )
        await timed("lazarus pass again (runs rescheduled)", lambda: lazarus.run_once(db, settings))
        async with db.session() as session:
            runs = await session.scalar(select(func.count()).select_from(FlowRun))
        print(f"flow runs in the database: {runs}")
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
