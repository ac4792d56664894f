"""Two real server processes on one PostgreSQL database: each scheduled flow gets exactly
its 10 runs however the replicas' scheduler passes interleave."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from serverproc import Server
from sqlalchemy import func, select, update
from towel_util import interval_clock, make_flow, schedule
from waiting import wait_for_async

from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowRun

pytestmark = pytest.mark.postgres

FLOWS = 20
REPLICAS = 2


class Replica(Server):
    """``prefect-server start`` on the shared database, scheduling every second."""

    def __init__(self, database_url: str, home: Path):
        super().__init__(
            home,
            "--no-upgrade",
            env={
                "PREFECT_SERVER__HOME": str(home),
                "PREFECT_SERVER__DATABASE__CONNECTION_URL": database_url,
                "PREFECT_SERVER__SERVICES__SCHEDULER__LOOP_SECONDS": "1",
                "PREFECT_SERVER__LOG_LEVEL": "INFO",
            },
        )

    def passes(self) -> int:
        return self.output().count("Scheduled ")


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[list[Replica]]:
    started = [Replica(database_url, tmp_path) for _ in range(REPLICAS)]
    try:
        yield started
    finally:
        for replica in started:
            replica.stop(signal.SIGINT, timeout=15)


async def _counts(db: Database, flow_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """Runs and distinct idempotency keys per flow."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                FlowRun.flow_id,
                func.count(),
                func.count(func.distinct(FlowRun.idempotency_key)),
            )
            .where(FlowRun.flow_id.in_(flow_ids))
            .group_by(FlowRun.flow_id)
        )
        counts = {flow_id: (runs, keys) for flow_id, runs, keys in rows}
    return {flow_id: counts.get(flow_id, (0, 0)) for flow_id in flow_ids}


async def _until(condition: Callable[[], Awaitable[bool]], replicas: list[Replica]) -> None:
    async def met() -> bool:
        for replica in replicas:
            assert replica.process.poll() is None, replica.output()
        return await condition()

    try:
        await wait_for_async(met, timeout=90, interval=0.5)
    except AssertionError as exc:
        raise AssertionError([exc, *(r.output()[-3000:] for r in replicas)]) from None


async def test_two_replicas_schedule_each_run_exactly_once(
    db: Database, replicas: list[Replica]
) -> None:
    # Long intervals: no new event comes due while the test runs.
    hourly = schedule(interval_clock(6 * 3600))
    daily = schedule(interval_clock(86400))
    flows = [await make_flow(db, flow_schedule=hourly) for _ in range(FLOWS // 2)]
    # These are activated while the replicas run, so both may race for them.
    later = [await make_flow(db, flow_schedule=daily, active=False) for _ in range(FLOWS // 2)]
    for replica in replicas:
        replica.wait_until_serving()

    async def first_flows_scheduled() -> bool:
        return all(runs >= 10 for runs, _ in (await _counts(db, flows)).values())

    await _until(first_flows_scheduled, replicas)
    async with db.transaction() as session:
        # Raw on purpose: set_schedule_active would make the runs here, in the test; the
        # point is the replicas' scheduler passes racing to make them.
        await session.execute(
            update(Flow).where(Flow.id.in_(later)).values(is_schedule_active=True)
        )

    async def all_scheduled() -> bool:
        return all(runs >= 10 for runs, _ in (await _counts(db, flows + later)).values())

    await _until(all_scheduled, replicas)
    # Let every replica run several more passes over the full set.
    marks = [replica.passes() for replica in replicas]

    async def more_passes() -> bool:
        return sum(r.passes() for r in replicas) >= sum(marks) + 3 * REPLICAS

    await _until(more_passes, replicas)

    counts = await _counts(db, flows + later)
    assert set(counts.values()) == {(10, 10)}, counts
    for replica in replicas:
        assert "Traceback" not in replica.output(), replica.output()
