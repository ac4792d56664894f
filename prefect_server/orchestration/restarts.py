"""Restarting a finished flow run: what failed, and what depends on it, runs again.

The rule is Server 1's UI's (its flow-run restart dialog): the task runs in a failed
state (a kind of Failed, or Cancelled) and the task runs of every task downstream of
theirs (following the flow's edges, mapped children included) go back to Pending with
a message, and the flow run goes to Scheduled so that an agent submits it again.
Upstream work that succeeded keeps its state, and with it the result the next run
reads. A mapped task of which only some children failed keeps its Mapped parent and
its successful children: resetting the parent would run every child again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import dialect_of
from prefect_server.database.models import Edge, FlowRun, TaskRun
from prefect_server.orchestration import logs
from prefect_server.orchestration.errors import APIError, NotFound
from prefect_server.orchestration.flow_run_states import set_flow_run_state
from prefect_server.orchestration.state_types import FINISHED_STATES, descendants
from prefect_server.orchestration.task_run_states import set_task_run_states
from prefect_server.utilities.ids import id_or_raise

RESTARTED_TASK_STATES = frozenset([*descendants("Failed"), "Cancelled"])
DEFAULT_MESSAGE = "Restarted from the web UI"
# set_task_run_states locks its runs with one IN list; SQLite caps bound parameters.
BATCH = 500


class RestartRefused(APIError):
    """The run cannot be restarted (not finished, or nothing in it failed)."""


@dataclass(frozen=True)
class Restart:
    flow_run_id: uuid.UUID
    task_runs_reset: int


def downstream_of(
    starts: set[uuid.UUID], edges: list[tuple[uuid.UUID, uuid.UUID]]
) -> set[uuid.UUID]:
    """Every task reachable from ``starts`` along (upstream, downstream) edges, ``starts`` excluded."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for upstream, downstream in edges:
        children.setdefault(upstream, []).append(downstream)
    seen: set[uuid.UUID] = set()
    todo = list(starts)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen and child not in starts:
                seen.add(child)
                todo.append(child)
    return seen


async def restart_flow_run(
    session: AsyncSession, flow_run_id: uuid.UUID | str, message: str | None = None
) -> Restart:
    """Reset the failed part of a finished flow run and schedule it again (one transaction:
    the caller's). Raises ``RestartRefused`` with a sentence when there is nothing to do."""
    missing = NotFound(f"Invalid flow run ID: {flow_run_id}.")
    run_id = id_or_raise(flow_run_id, missing)
    message = message or DEFAULT_MESSAGE
    stmt = select(FlowRun.state, FlowRun.flow_id).where(FlowRun.id == run_id)
    run = (await session.execute(dialect_of(session).for_update(stmt))).one_or_none()
    if run is None:
        raise missing
    if run.state not in FINISHED_STATES:
        raise RestartRefused(
            f"This run has not finished ({run.state or 'no state'}); "
            "only a finished run can be restarted."
        )
    failed = (
        await session.execute(
            select(TaskRun.id, TaskRun.task_id).where(
                TaskRun.flow_run_id == run_id, TaskRun.state.in_(sorted(RESTARTED_TASK_STATES))
            )
        )
    ).all()
    if not failed and run.state not in RESTARTED_TASK_STATES:
        raise RestartRefused(
            f"Nothing in this run failed ({run.state}); there is nothing to restart."
        )
    reset = {row.id for row in failed}
    edges = await session.execute(
        select(Edge.upstream_task_id, Edge.downstream_task_id).where(Edge.flow_id == run.flow_id)
    )
    later = downstream_of({row.task_id for row in failed}, [(u, d) for u, d in edges])
    if later:
        reset.update(
            await session.scalars(
                select(TaskRun.id).where(
                    TaskRun.flow_run_id == run_id, TaskRun.task_id.in_(sorted(later))
                )
            )
        )
    pending = {"type": "Pending", "message": message}
    ordered = sorted(reset)
    for start in range(0, len(ordered), BATCH):
        await set_task_run_states(session, [(i, pending) for i in ordered[start : start + BATCH]])
    await set_flow_run_state(session, run_id, {"type": "Scheduled", "message": message})
    await logs.write_run_logs(
        session,
        [
            {
                "flow_run_id": run_id,
                "level": "INFO",
                "name": "prefect-server.restart",
                "message": f"{message}: {len(reset)} task run(s) reset to Pending.",
            }
        ],
    )
    return Restart(run_id, len(reset))
