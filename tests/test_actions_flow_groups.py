"""Flow-group mutations, flow settings toggles and schedule activation."""

from __future__ import annotations

import datetime as dt
import uuid

import pendulum
import pytest
from sqlalchemy import func, select, update

from prefect_server.database.models import Flow, FlowGroup, FlowRun
from prefect_server.orchestration import flow_groups, flow_schedules, flows, projects, runs, tenants
from prefect_server.orchestration.errors import ValidationFailed

HOURLY = {
    "type": "Schedule",
    "clocks": [{"type": "IntervalClock", "interval": 3600 * 1_000_000, "start_date": None}],
}


def mutation(name: str, selection: str = "success") -> str:
    return f"mutation($input: {name}_input!) {{ {name}(input: $input) {{ {selection} }} }}"


@pytest.fixture
async def project_id(db) -> uuid.UUID:
    async with db.transaction() as session:
        tenant = await tenants.ensure_default_tenant(session)
        return await projects.create_project(session, tenant, "proj")


async def _make_flow(db, project_id, **extra) -> tuple[uuid.UUID, uuid.UUID]:
    async with db.transaction() as session:
        flow_id = await flows.create_flow(session, {"name": "f", **extra}, project_id)
        group = await session.scalar(select(Flow.flow_group_id).where(Flow.id == flow_id))
    return flow_id, group


async def _group(db, group_id) -> FlowGroup:
    async with db.session() as session:
        return await session.get(FlowGroup, group_id)


async def _runs(db, flow_id, *where) -> list[FlowRun]:
    async with db.session() as session:
        return list(
            await session.scalars(select(FlowRun).where(FlowRun.flow_id == flow_id, *where))
        )


async def test_heartbeat_and_lazarus_toggles(gql, db, project_id):
    flow_id, group_id = await _make_flow(db, project_id)
    await gql(mutation("disable_flow_heartbeat"), {"input": {"flow_id": str(flow_id)}})
    await gql(mutation("disable_flow_lazarus_process"), {"input": {"flow_id": str(flow_id)}})
    settings = (await _group(db, group_id)).settings
    assert settings["heartbeat_enabled"] is False and settings["disable_heartbeat"] is True
    assert settings["lazarus_enabled"] is False and settings["version_locking_enabled"] is False
    await gql(mutation("enable_flow_heartbeat"), {"input": {"flow_id": str(flow_id)}})
    data = await gql(mutation("enable_flow_lazarus_process"), {"input": {"flow_id": str(flow_id)}})
    assert data["enable_flow_lazarus_process"]["success"] is True
    settings = (await _group(db, group_id)).settings
    assert (
        settings["heartbeat_enabled"],
        settings["disable_heartbeat"],
        settings["lazarus_enabled"],
    ) == (
        True,
        False,
        True,
    )
    async with db.session() as session:
        # The flow-run process reads the flow's copy of the settings.
        assert (await session.get(Flow, flow_id)).settings == settings
    errors = await gql.errors(
        mutation("enable_flow_heartbeat"), {"input": {"flow_id": str(uuid.uuid4())}}
    )
    assert errors[0]["message"] == "Invalid flow ID."


async def test_labels_parameters_description_run_config(gql, db, project_id):
    _, group_id = await _make_flow(db, project_id)
    gid = str(group_id)
    await gql(
        mutation("set_flow_group_labels"),
        {"input": {"flow_group_id": gid, "labels": ["b", "a", "b"]}},
    )
    assert (await _group(db, group_id)).labels == ["a", "b"]
    await gql(mutation("set_flow_group_labels"), {"input": {"flow_group_id": gid, "labels": []}})
    assert (await _group(db, group_id)).labels == []
    await gql(mutation("set_flow_group_labels"), {"input": {"flow_group_id": gid, "labels": None}})
    assert (await _group(db, group_id)).labels is None

    params = mutation("set_flow_group_default_parameters")
    await gql(params, {"input": {"flow_group_id": gid, "parameters": {"x": 1, "y": 2}}})
    await gql(params, {"input": {"flow_group_id": gid, "parameters": {"x": 3}}})
    await gql(
        mutation("set_flow_group_description"),
        {"input": {"flow_group_id": gid, "description": "d"}},
    )
    run_config = {"type": "LocalRun", "labels": ["l"]}
    await gql(
        mutation("set_flow_group_run_config"),
        {"input": {"flow_group_id": gid, "run_config": run_config}},
    )
    group = await _group(db, group_id)
    assert (group.default_parameters, group.description, group.run_config) == (
        {"x": 3},
        "d",
        run_config,
    )

    data = await gql(
        mutation("set_flow_group_description"), {"input": {"flow_group_id": str(uuid.uuid4())}}
    )
    assert data["set_flow_group_description"]["success"] is False


async def test_set_flow_group_schedule_builds_clocks(gql, db, project_id):
    _, group_id = await _make_flow(db, project_id)
    data = await gql(
        mutation("set_flow_group_schedule"),
        {
            "input": {
                "flow_group_id": str(group_id),
                "cron_clocks": [{"cron": "0 * * * *", "parameter_defaults": {"x": 1}}],
                "interval_clocks": [{"interval": 60}, {"interval": 120, "parameter_defaults": {}}],
                "timezone": "Europe/Paris",
            }
        },
    )
    assert data["set_flow_group_schedule"]["success"] is True
    schedule = (await _group(db, group_id)).schedule
    assert schedule["type"] == "Schedule"
    clocks = schedule["clocks"]
    assert [c["type"] for c in clocks] == ["CronClock", "IntervalClock", "IntervalClock"]
    assert clocks[0]["cron"] == "0 * * * *" and clocks[0]["parameter_defaults"] == {"x": 1}
    assert [c["interval"] for c in clocks[1:]] == [60_000_000, 120_000_000]
    assert "parameter_defaults" not in clocks[1] and "parameter_defaults" not in clocks[2]
    for clock in clocks:
        assert clock["start_date"]["tz"] == "Europe/Paris"
        local = pendulum.parse(clock["start_date"]["dt"], tz="Europe/Paris")
        assert abs((pendulum.now("UTC") - local).total_seconds()) < 3600

    await gql(
        mutation("set_flow_group_schedule"),
        {"input": {"flow_group_id": str(group_id), "cron_clocks": [{"cron": "0 0 * * *"}]}},
    )
    clock = (await _group(db, group_id)).schedule["clocks"][0]
    assert clock == {"type": "CronClock", "cron": "0 0 * * *", "start_date": None}


async def test_set_flow_group_schedule_rejects_bad_input(gql, db, project_id):
    _, group_id = await _make_flow(db, project_id)
    set_schedule = mutation("set_flow_group_schedule")
    errors = await gql.errors(
        set_schedule,
        {
            "input": {
                "flow_group_id": str(group_id),
                "cron_clocks": [{"cron": "0 * * * *"}],
                "timezone": "Mars/Olympus",
            }
        },
    )
    assert errors[0]["message"] == "Invalid timezone provided for schedule: Mars/Olympus"
    errors = await gql.errors(
        set_schedule,
        {"input": {"flow_group_id": str(group_id), "cron_clocks": [{"cron": "every day"}]}},
    )
    assert errors[0]["message"].startswith("Invalid clock provided for schedule: ")
    errors = await gql.errors(
        set_schedule,
        {"input": {"flow_group_id": str(group_id), "interval_clocks": [{"interval": 0}]}},
    )
    assert errors[0]["message"].startswith("Invalid clock provided for schedule: ")
    assert (await _group(db, group_id)).schedule is None


async def test_group_schedule_change_removes_auto_scheduled_runs(gql, db, project_id):
    flow_id, group_id = await _make_flow(db, project_id)
    async with db.transaction() as session:
        auto = await runs.create_flow_run(session, flow_id=flow_id, auto_scheduled=True)
        await session.execute(update(FlowRun).where(FlowRun.id == auto).values(auto_scheduled=True))
        manual = await runs.create_flow_run(session, flow_id=flow_id)
    await gql(
        mutation("set_flow_group_schedule"),
        {"input": {"flow_group_id": str(group_id), "interval_clocks": [{"interval": 60}]}},
    )
    assert [r.id for r in await _runs(db, flow_id)] == [manual]
    async with db.transaction() as session:
        await session.execute(
            update(FlowRun).where(FlowRun.id == manual).values(auto_scheduled=True)
        )
    await gql(mutation("delete_flow_group_schedule"), {"input": {"flow_group_id": str(group_id)}})
    assert await _runs(db, flow_id) == []
    assert (await _group(db, group_id)).schedule is None


async def test_delete_flow_group_deletes_its_flows(gql, db, project_id):
    flow_id, group_id = await _make_flow(db, project_id)
    data = await gql(mutation("delete_flow_group"), {"input": {"flow_group_id": str(group_id)}})
    assert data["delete_flow_group"]["success"] is True
    async with db.session() as session:
        assert await session.get(Flow, flow_id) is None
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed, match="Must provide flow group ID."):
            await flow_groups.delete_flow_group(session, None)


async def test_set_schedule_active_schedules_runs(gql, db, project_id):
    flow_id, _ = await _make_flow(db, project_id, schedule=HOURLY)
    # Registration activated the schedule (set_schedule_active defaults to true).
    async with db.session() as session:
        assert (await session.get(Flow, flow_id)).is_schedule_active is True
    scheduled = await _runs(db, flow_id, FlowRun.auto_scheduled.is_(True))
    assert len(scheduled) == 10 and all(r.state == "Scheduled" for r in scheduled)

    data = await gql(mutation("set_schedule_inactive"), {"input": {"flow_id": str(flow_id)}})
    assert data["set_schedule_inactive"]["success"] is True
    assert await _runs(db, flow_id) == []
    data = await gql(mutation("set_schedule_active"), {"input": {"flow_id": str(flow_id)}})
    assert data["set_schedule_active"]["success"] is True
    assert len(await _runs(db, flow_id)) == 10
    await gql(mutation("set_schedule_active"), {"input": {"flow_id": str(flow_id)}})
    assert len(await _runs(db, flow_id)) == 10


async def test_set_schedule_active_without_schedule_or_with_required_parameters(
    gql, db, project_id
):
    plain, _ = await _make_flow(db, project_id)
    data = await gql(mutation("set_schedule_active"), {"input": {"flow_id": str(plain)}})
    assert data["set_schedule_active"]["success"] is False
    unknown = await gql(mutation("set_schedule_active"), {"input": {"flow_id": str(uuid.uuid4())}})
    assert unknown["set_schedule_active"]["success"] is False

    required = [{"name": "x", "slug": "x", "required": True, "default": None}]
    async with db.transaction() as session:
        flow_id = await flows.create_flow(
            session, {"name": "needs-x", "schedule": HOURLY, "parameters": required}, project_id
        )
    # Registration swallowed the refusal: the flow exists with its schedule off.
    async with db.session() as session:
        assert (await session.get(Flow, flow_id)).is_schedule_active is False
    errors = await gql.errors(mutation("set_schedule_active"), {"input": {"flow_id": str(flow_id)}})
    assert errors[0]["message"] == "Can not schedule a flow that has required parameters."
    assert await _runs(db, flow_id) == []

    with_defaults = {
        **HOURLY,
        "clocks": [{**HOURLY["clocks"][0], "parameter_defaults": {"x": 1}}],
    }
    async with db.transaction() as session:
        ok_id = await flows.create_flow(
            session,
            {"name": "has-x", "schedule": with_defaults, "parameters": required},
            project_id,
        )
    runs_made = await _runs(db, ok_id)
    assert len(runs_made) == 10 and all(r.parameters == {"x": 1} for r in runs_made)


async def test_set_schedule_active_requires_an_id(db):
    async with db.transaction() as session:
        with pytest.raises(ValidationFailed, match="Invalid flow id."):
            await flow_schedules.set_schedule_active(session, None)


async def test_archive_flow_removes_and_cancels_scheduled_runs(gql, db, project_id):
    flow_id, _ = await _make_flow(db, project_id)
    future = pendulum.now("UTC").add(days=1)
    async with db.transaction() as session:
        auto = await runs.create_flow_run(session, flow_id=flow_id, scheduled_start_time=future)
        await session.execute(update(FlowRun).where(FlowRun.id == auto).values(auto_scheduled=True))
        manual = await runs.create_flow_run(session, flow_id=flow_id, scheduled_start_time=future)
    archive = mutation("archive_flow")
    data = await gql(archive, {"input": {"flow_id": str(flow_id)}})
    assert data["archive_flow"]["success"] is True
    remaining = await _runs(db, flow_id)
    assert [(r.id, r.state, r.state_message) for r in remaining] == [
        (manual, "Cancelled", f"Flow {flow_id} was archived.")
    ]
    async with db.session() as session:
        assert (await session.get(Flow, flow_id)).archived is True
    again = await gql(archive, {"input": {"flow_id": str(flow_id)}})
    assert again["archive_flow"]["success"] is True
    missing = await gql(archive, {"input": {"flow_id": str(uuid.uuid4())}})
    assert missing["archive_flow"]["success"] is False


async def test_unarchive_flow(db, project_id):
    flow_id, _ = await _make_flow(db, project_id, schedule=HOURLY)
    async with db.transaction() as session:
        await flows.archive_flow(session, flow_id)
    assert await _runs(db, flow_id) == []
    async with db.transaction() as session:
        assert await flows.unarchive_flow(session, flow_id) is True
    assert len(await _runs(db, flow_id)) == 10
    assert all(
        r.scheduled_start_time > dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
        for r in await _runs(db, flow_id)
    )
    async with db.session() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Flow).where(Flow.archived.is_(True))
            )
            == 0
        )
