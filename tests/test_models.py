"""The data model on the real database: timestamps, constraints, cascades.

Rows are raw on purpose: what is tested lies below the domain functions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import String, Uuid, column, delete, func, insert, inspect, select, table, update
from sqlalchemy.exc import IntegrityError

from prefect_server.database import models as m
from prefect_server.database.engine import Database
from prefect_server.database.types import Timestamp

UTC = dt.timezone.utc
PAST = dt.datetime(2001, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)


async def _graph(db: Database, slug: str = "t") -> dict[str, Any]:
    """One row in every table, all under one tenant."""
    ids: dict[str, Any] = {}
    async with db.transaction() as s:
        tenant = m.Tenant(name=slug, slug=slug)
        s.add(tenant)
        await s.flush()
        project = m.Project(tenant_id=tenant.id, name="p")
        group = m.FlowGroup(tenant_id=tenant.id, name="g")
        s.add_all([project, group])
        await s.flush()
        flow = m.Flow(tenant_id=tenant.id, project_id=project.id, flow_group_id=group.id, name="f")
        s.add(flow)
        await s.flush()
        up = m.Task(tenant_id=tenant.id, flow_id=flow.id, slug="up-1")
        down = m.Task(tenant_id=tenant.id, flow_id=flow.id, slug="down-1")
        config = m.AgentConfig(tenant_id=tenant.id)
        s.add_all([up, down, config])
        await s.flush()
        agent = m.Agent(tenant_id=tenant.id, agent_config_id=config.id)
        s.add_all(
            [
                agent,
                m.Edge(
                    tenant_id=tenant.id,
                    flow_id=flow.id,
                    upstream_task_id=up.id,
                    downstream_task_id=down.id,
                ),
            ]
        )
        await s.flush()
        run = m.FlowRun(tenant_id=tenant.id, flow_id=flow.id, agent_id=agent.id)
        s.add(run)
        await s.flush()
        task_run = m.TaskRun(tenant_id=tenant.id, flow_run_id=run.id, task_id=up.id)
        s.add(task_run)
        await s.flush()
        s.add_all(
            [
                m.FlowRunState(
                    tenant_id=tenant.id, flow_run_id=run.id, state="Scheduled", serialized_state={}
                ),
                m.TaskRunState(
                    tenant_id=tenant.id,
                    task_run_id=task_run.id,
                    state="Pending",
                    serialized_state={},
                ),
                m.Log(
                    tenant_id=tenant.id, flow_run_id=run.id, task_run_id=task_run.id, message="hi"
                ),
                m.TaskRunArtifact(tenant_id=tenant.id, task_run_id=task_run.id, kind="markdown"),
                m.CloudHook(tenant_id=tenant.id, type="WEBHOOK"),
                m.Message(tenant_id=tenant.id, text="hello"),
                m.TaskTagLimit(tenant_id=tenant.id, tag="db", limit=2),
                m.FlowLabelLimit(tenant_id=tenant.id, label="gpu", limit=1),
            ]
        )
        ids.update(
            tenant=tenant.id,
            project=project.id,
            group=group.id,
            flow=flow.id,
            up=up.id,
            down=down.id,
            agent=agent.id,
            run=run.id,
            task_run=task_run.id,
        )
    return ids


async def _count(db: Database, model: Any) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)))


# -- updated / created -------------------------------------------------------------


async def test_updated_moves_on_orm_update(db: Database) -> None:
    ids = await _graph(db)
    async with db.transaction() as s:
        await s.execute(update(m.Project).values(updated=PAST, created=PAST))
    async with db.transaction() as s:
        project = await s.get_one(m.Project, ids["project"])
        assert project.updated == PAST
        project.description = "changed"
    async with db.session() as s:
        project = await s.get_one(m.Project, ids["project"])
        assert project.updated > PAST
        assert project.created == PAST  # created never moves


async def test_updated_moves_on_core_update(db: Database) -> None:
    ids = await _graph(db)
    async with db.transaction() as s:
        await s.execute(update(m.FlowRun).values(updated=PAST))
    before = dt.datetime.now(UTC)
    async with db.transaction() as s:
        await s.execute(update(m.FlowRun).where(m.FlowRun.id == ids["run"]).values(name="renamed"))
    async with db.session() as s:
        updated = await s.scalar(select(m.FlowRun.updated).where(m.FlowRun.id == ids["run"]))
    assert updated is not None and updated >= before - dt.timedelta(seconds=1)


async def test_every_table_maintains_created_and_updated(db: Database) -> None:
    await _graph(db)
    async with db.session() as s:
        for model in m.TABLES.values():
            row = (await s.execute(select(model.created, model.updated))).first()
            assert row is not None, model.__tablename__
            assert row.created.tzinfo is not None and row.updated.tzinfo is not None


# -- timestamps --------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        dt.datetime(2024, 3, 1, 17, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        dt.datetime(2024, 3, 1, 12, 30, 0, 123456),  # naive means UTC
        "2024-03-01T12:30:00.123456Z",
        "2024-03-01T07:30:00.123456-05:00",
    ],
)
async def test_timestamps_come_back_aware_in_utc(db: Database, given: Any) -> None:
    ids = await _graph(db)
    expected = dt.datetime(2024, 3, 1, 12, 30, 0, 123456, tzinfo=UTC)
    async with db.transaction() as s:
        await s.execute(update(m.FlowRun).values(start_time=given))
    async with db.session() as s:
        orm = (await s.get_one(m.FlowRun, ids["run"])).start_time
        core = await s.scalar(select(m.FlowRun.start_time))
        # Comparisons in SQL see the same instant.
        matched = await s.scalar(select(func.count()).where(m.FlowRun.start_time == expected))
    for value in (orm, core):
        assert value == expected
        assert value.utcoffset() == dt.timedelta(0)
    assert matched == 1


async def test_timestamps_order_as_time_in_sql(db: Database) -> None:
    ids = await _graph(db)
    times = [
        dt.datetime(2024, 1, 1, 9, 0, 0, tzinfo=UTC),
        dt.datetime(2024, 1, 1, 10, 0, 0, 5, tzinfo=UTC),
        dt.datetime(2024, 1, 1, 10, 0, 1, tzinfo=UTC),
    ]
    async with db.transaction() as s:
        for i, when in enumerate(reversed(times)):
            s.add(m.Log(flow_run_id=ids["run"], timestamp=when, message=str(i)))
    async with db.session() as s:
        got = list(
            await s.scalars(
                select(m.Log.timestamp)
                .where(m.Log.timestamp < dt.datetime(2025, 1, 1, tzinfo=UTC))
                .order_by(m.Log.timestamp)
            )
        )
    assert got == times


# -- unique constraints ------------------------------------------------------------


async def _violates(db: Database, *rows: Any) -> bool:
    try:
        async with db.transaction() as s:
            s.add_all(rows)
    except IntegrityError:
        return True
    return False


async def test_tenant_slug_is_unique(db: Database) -> None:
    await _graph(db, "acme")
    assert await _violates(db, m.Tenant(name="other", slug="acme"))
    assert not await _violates(db, m.Tenant(name="acme", slug="acme-2"))


async def test_project_name_unique_per_tenant(db: Database) -> None:
    ids = await _graph(db)
    other = await _graph(db, "other")
    assert await _violates(db, m.Project(tenant_id=ids["tenant"], name="p"))
    assert not await _violates(db, m.Project(tenant_id=other["tenant"], name="p2"))
    assert not await _violates(db, m.Project(tenant_id=ids["tenant"], name="P"))


async def test_task_slug_unique_per_flow(db: Database) -> None:
    ids = await _graph(db)
    other = await _graph(db, "other")
    assert await _violates(db, m.Task(flow_id=ids["flow"], slug="up-1"))
    assert not await _violates(db, m.Task(flow_id=other["flow"], slug="up-2"))


async def test_task_run_unique_per_flow_run_task_and_map_index(db: Database) -> None:
    ids = await _graph(db)
    same = {"flow_run_id": ids["run"], "task_id": ids["up"]}
    assert await _violates(db, m.TaskRun(**same))  # map_index -1 already there
    assert not await _violates(db, m.TaskRun(**same, map_index=0), m.TaskRun(**same, map_index=1))
    assert await _violates(db, m.TaskRun(**same, map_index=1))
    assert not await _violates(db, m.TaskRun(flow_run_id=ids["run"], task_id=ids["down"]))


async def test_flow_run_idempotency_key_unique_per_flow_and_nulls_never_collide(
    db: Database,
) -> None:
    ids = await _graph(db)
    other = await _graph(db, "other")
    assert not await _violates(db, m.FlowRun(flow_id=ids["flow"]), m.FlowRun(flow_id=ids["flow"]))
    assert not await _violates(db, m.FlowRun(flow_id=ids["flow"], idempotency_key="k"))
    assert await _violates(db, m.FlowRun(flow_id=ids["flow"], idempotency_key="k"))
    assert not await _violates(db, m.FlowRun(flow_id=other["flow"], idempotency_key="k"))
    assert await _count(db, m.FlowRun) == 6


async def test_edge_triple_is_unique(db: Database) -> None:
    ids = await _graph(db)
    edge = {
        "flow_id": ids["flow"],
        "upstream_task_id": ids["up"],
        "downstream_task_id": ids["down"],
    }
    assert await _violates(db, m.Edge(**edge, key="x"))
    reverse = {**edge, "upstream_task_id": ids["down"], "downstream_task_id": ids["up"]}
    assert not await _violates(db, m.Edge(**reverse))


async def test_named_unique_constraints_exist_in_the_database(db: Database) -> None:
    def uniques(connection: Any) -> dict[str, set[tuple[str, ...]]]:
        inspector = inspect(connection)
        return {
            table: {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
            for table in ("tenant", "project", "task", "task_run", "flow_run", "edge")
        }

    async with db.engine.connect() as connection:
        found = await connection.run_sync(uniques)
    assert ("slug",) in found["tenant"]
    assert ("tenant_id", "name") in found["project"]
    assert ("flow_id", "slug") in found["task"]
    assert ("flow_run_id", "task_id", "map_index") in found["task_run"]
    assert ("idempotency_key", "flow_id") in found["flow_run"]
    assert ("flow_id", "downstream_task_id", "upstream_task_id") in found["edge"]


# -- foreign keys and cascades -----------------------------------------------------


async def test_deleting_a_tenant_removes_everything(db: Database) -> None:
    ids = await _graph(db)
    kept = await _graph(db, "kept")
    async with db.transaction() as s:
        await s.execute(delete(m.Tenant).where(m.Tenant.id == ids["tenant"]))
    async with db.session() as s:
        for model in m.TABLES.values():
            tenants = set(
                await s.scalars(select(model.tenant_id if model is not m.Tenant else model.id))
            )
            assert tenants == {kept["tenant"]}, model.__tablename__


async def test_deleting_a_flow_removes_its_runs_and_their_children(db: Database) -> None:
    ids = await _graph(db)
    async with db.transaction() as s:
        await s.execute(delete(m.Flow).where(m.Flow.id == ids["flow"]))
    for model in (
        m.Task,
        m.Edge,
        m.FlowRun,
        m.FlowRunState,
        m.TaskRun,
        m.TaskRunState,
        m.Log,
        m.TaskRunArtifact,
    ):
        assert await _count(db, model) == 0, model.__tablename__
    assert await _count(db, m.Project) == 1 and await _count(db, m.FlowGroup) == 1


async def test_deleting_an_agent_keeps_its_runs(db: Database) -> None:
    ids = await _graph(db)
    async with db.transaction() as s:
        await s.execute(delete(m.AgentConfig))
        assert await s.scalar(select(m.Agent.agent_config_id)) is None
        await s.execute(delete(m.Agent))
    async with db.session() as s:
        run = await s.get_one(m.FlowRun, ids["run"])
        assert run.agent_id is None


async def test_foreign_keys_are_enforced(db: Database) -> None:
    assert await _violates(db, m.Project(tenant_id=uuid.uuid4(), name="orphan"))


async def test_log_has_a_primary_key(db: Database) -> None:
    ids = await _graph(db)
    async with db.session() as s:
        log_ids = list(await s.scalars(select(m.Log.id).where(m.Log.flow_run_id == ids["run"])))
    assert len(log_ids) == 1 and isinstance(log_ids[0], uuid.UUID)


async def test_server_defaults_fill_rows_inserted_without_the_orm(db: Database) -> None:
    """Rows written by plain SQL (another tool, a migration) get the same defaults."""
    ids = await _graph(db)
    bare = table(
        "task",
        column("id", Uuid()),
        column("created", Timestamp()),
        column("updated", Timestamp()),
        column("flow_id", Uuid()),
        column("slug", String()),
    )
    now = dt.datetime.now(UTC)
    async with db.transaction() as s:
        await s.execute(
            insert(bare).values(
                id=uuid.uuid4(), created=now, updated=now, flow_id=ids["flow"], slug="raw-1"
            )
        )
    async with db.session() as s:
        task = await s.scalar(select(m.Task).where(m.Task.slug == "raw-1"))
    assert task is not None
    assert (task.tags, task.mapped, task.is_root_task, task.auto_generated) == (
        [],
        False,
        False,
        False,
    )
