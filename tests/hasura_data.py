"""A small world of rows for the read-layer tests of the generated Hasura API.

Raw ORM rows on purpose: the read tests name rows by fixed ids and compare fixed
timestamps, which the domain functions (their own ids, now() stamps) cannot give, and
nothing here tests a write rule.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from prefect_server.database import models as m
from prefect_server.database.engine import Database

UTC = dt.timezone.utc


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def at(day: int, hour: int = 0, second: int = 0, micro: int = 0) -> dt.datetime:
    return dt.datetime(2030, 1, day, hour, 0, second, micro, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    tenant: str = str(uid(1))
    alpha: str = str(uid(10))  # project "Alpha"
    beta: str = str(uid(11))  # project "beta"
    etl: str = str(uid(20))  # flow "ETL Pipeline" (Alpha)
    ml: str = str(uid(21))  # flow "ml-train" (beta, archived)
    etude: str = str(uid(22))  # flow "Étude" (Alpha)
    t1: str = str(uid(31))
    t2: str = str(uid(32))
    t3: str = str(uid(33))
    t4: str = str(uid(34))
    t5: str = str(uid(35))
    r1: str = str(uid(41))  # Success
    r2: str = str(uid(42))  # Failed
    r3: str = str(uid(43))  # Scheduled
    r4: str = str(uid(44))  # Running


W = World()


async def seed(db: Database) -> World:
    async with db.transaction() as s:
        s.add(m.Tenant(id=uid(1), name="Test", slug="test"))
        await s.flush()
        s.add_all(
            [
                m.Project(id=uid(10), tenant_id=uid(1), name="Alpha", description="first"),
                m.Project(id=uid(11), tenant_id=uid(1), name="beta"),
                m.FlowGroup(id=uid(15), tenant_id=uid(1), name="g", labels=["x"]),
            ]
        )
        await s.flush()
        common = {"tenant_id": uid(1), "flow_group_id": uid(15)}
        s.add_all(
            [
                m.Flow(
                    id=uid(20),
                    project_id=uid(10),
                    name="ETL Pipeline",
                    version=1,
                    parameters={"x": 1},
                    settings={"heartbeat_enabled": True},
                    core_version="1.4.1",
                    created=at(1),
                    **common,
                ),
                m.Flow(
                    id=uid(21),
                    project_id=uid(11),
                    name="ml-train",
                    version=2,
                    archived=True,
                    created=at(2),
                    **common,
                ),
                m.Flow(
                    id=uid(22), project_id=uid(10), name="Étude", version=3, created=at(3), **common
                ),
            ]
        )
        await s.flush()
        task = {"tenant_id": uid(1), "flow_id": uid(20)}
        s.add_all(
            [
                m.Task(
                    id=uid(31),
                    name="extract",
                    slug="t1",
                    tags=["a", "b"],
                    max_retries=1,
                    retry_delay=dt.timedelta(seconds=90),
                    **task,
                ),
                m.Task(
                    id=uid(32),
                    name="transform",
                    slug="t2",
                    tags=["b"],
                    max_retries=2,
                    retry_delay=dt.timedelta(days=1, seconds=30),
                    mapped=True,
                    **task,
                ),
                m.Task(id=uid(33), name="load", slug="t3", tags=[], **task),
                m.Task(id=uid(34), name="report", slug="t4", tags=["c"], **task),
                m.Task(id=uid(35), name="notify", slug="t5", tags=[], **task),
            ]
        )
        await s.flush()
        edge = {"tenant_id": uid(1), "flow_id": uid(20)}
        s.add_all(
            [
                m.Edge(id=uid(51), upstream_task_id=uid(31), downstream_task_id=uid(32), **edge),
                m.Edge(id=uid(52), upstream_task_id=uid(32), downstream_task_id=uid(33), **edge),
                m.Edge(id=uid(53), upstream_task_id=uid(31), downstream_task_id=uid(34), **edge),
                m.Edge(id=uid(54), upstream_task_id=uid(34), downstream_task_id=uid(33), **edge),
                m.Edge(id=uid(55), upstream_task_id=uid(33), downstream_task_id=uid(35), **edge),
            ]
        )
        await s.flush()
        s.add_all(
            [
                m.FlowRun(
                    id=uid(41),
                    tenant_id=uid(1),
                    flow_id=uid(20),
                    name="alpha-run",
                    state="Success",
                    scheduled_start_time=at(1, 3),
                    start_time=at(1, 3, 5),
                    end_time=at(1, 4),
                    labels=["x", "y"],
                    parameters={"a": 1, "b": {"c": [1, 2]}},
                    version=3,
                    serialized_state={"type": "Success", "message": "ok"},
                ),
                m.FlowRun(
                    id=uid(42),
                    tenant_id=uid(1),
                    flow_id=uid(20),
                    name="Beta-Run",
                    state="Failed",
                    scheduled_start_time=at(2),
                    labels=["y"],
                    parameters={"a": 2},
                    version=2,
                ),
                m.FlowRun(
                    id=uid(43),
                    tenant_id=uid(1),
                    flow_id=uid(21),
                    name=None,
                    state="Scheduled",
                    scheduled_start_time=at(3),
                    labels=[],
                    parameters={},
                    version=1,
                ),
                m.FlowRun(
                    id=uid(44),
                    tenant_id=uid(1),
                    flow_id=uid(22),
                    name="gamma_run",
                    state="Running",
                    scheduled_start_time=at(4),
                    start_time=at(4, 0, 0, 500000),
                    labels=["z"],
                    parameters={"a": 1, "list": [{"k": "v"}]},
                    version=5,
                ),
            ]
        )
        await s.flush()
        tr = {"tenant_id": uid(1), "flow_run_id": uid(41)}
        s.add_all(
            [
                m.TaskRun(
                    id=uid(61), task_id=uid(31), state="Success", start_time=at(1, 3, 10), **tr
                ),
                m.TaskRun(id=uid(62), task_id=uid(32), state="Mapped", **tr),
                m.TaskRun(id=uid(63), task_id=uid(32), map_index=0, state="Success", **tr),
                m.TaskRun(id=uid(64), task_id=uid(32), map_index=1, state="Failed", **tr),
                m.TaskRun(id=uid(65), task_id=uid(33), state="Pending", **tr),
                m.TaskRun(
                    id=uid(66),
                    tenant_id=uid(1),
                    flow_run_id=uid(42),
                    task_id=uid(31),
                    state="Failed",
                ),
            ]
        )
        state = {"tenant_id": uid(1), "flow_run_id": uid(41)}
        s.add_all(
            [
                m.FlowRunState(
                    id=uid(71),
                    state="Scheduled",
                    timestamp=at(1, 1),
                    version=1,
                    serialized_state={"type": "Scheduled"},
                    **state,
                ),
                m.FlowRunState(
                    id=uid(72),
                    state="Running",
                    timestamp=at(1, 3, 5),
                    version=2,
                    serialized_state={"type": "Running"},
                    **state,
                ),
                m.FlowRunState(
                    id=uid(73),
                    state="Success",
                    timestamp=at(1, 4),
                    version=3,
                    serialized_state={"type": "Success"},
                    **state,
                ),
            ]
        )
        log = {"tenant_id": uid(1), "flow_run_id": uid(41)}
        s.add_all(
            [
                m.Log(id=uid(81), timestamp=at(1, 3, 1), level="INFO", message="one", **log),
                m.Log(
                    id=uid(82),
                    timestamp=at(1, 3, 2),
                    level="ERROR",
                    message="two",
                    info={"k": 1},
                    **log,
                ),
                m.Log(id=uid(83), timestamp=at(1, 3, 3), level="INFO", message="three", **log),
            ]
        )
    return W
