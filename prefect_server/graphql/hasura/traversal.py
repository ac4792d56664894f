"""``utility.downstream_tasks`` / ``utility.upstream_tasks`` of Server 1 as a recursive CTE.

The walk starts at depth 0 with the given tasks and follows edges while the depth
reached so far is below min(50, depth_limit); each task is reported once, with the largest
depth at which it was reached, as Server 1's SQL functions did (PrefectHQ/server,
``services/postgres/alembic/versions/2020-06-24T174932_add_traversal_functions.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, func, literal, select
from sqlalchemy.sql import FromClause

from prefect_server.database.models import Edge, Task
from prefect_server.utilities.ids import id_or_raise

MAX_DEPTH = 50


def traversal_source(args: dict[str, Any]) -> FromClause:
    direction = args.get("function", "downstream")
    start = [
        id_or_raise(task_id, ValueError(f"Could not parse UUID: {task_id}"))
        for task_id in args.get("start_task_ids") or []
    ]
    limit = args.get("depth_limit")
    depth_limit = MAX_DEPTH if limit is None else min(MAX_DEPTH, int(limit))
    edge = Edge.__table__
    task = Task.__table__
    if direction == "downstream":
        source_col, next_col = edge.c.upstream_task_id, edge.c.downstream_task_id
    else:
        source_col, next_col = edge.c.downstream_task_id, edge.c.upstream_task_id

    seed: Select[Any] = select(
        task.c.id.label("task_id"), literal(0, Integer).label("depth")
    ).where(task.c.id.in_(start))
    walk = seed.cte(recursive=True)
    # UNION (not UNION ALL) bounds the work by tasks x depth even on dense graphs.
    walk = walk.union(
        select(next_col.label("task_id"), (walk.c.depth + 1).label("depth"))
        .select_from(edge.join(walk, source_col == walk.c.task_id))
        .where(walk.c.depth < depth_limit)
    )
    return (
        select(
            walk.c.task_id.label("task_id"),
            task.c.tenant_id.label("tenant_id"),
            func.max(walk.c.depth).label("depth"),
        )
        .select_from(walk.join(task, task.c.id == walk.c.task_id))
        .group_by(walk.c.task_id, task.c.tenant_id)
        .subquery()
    )
