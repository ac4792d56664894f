"""Two real server processes on one PostgreSQL database: each scheduled flow gets exactly
its 10 runs however the replicas' scheduler passes interleave."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from towel_util import interval_clock, make_flow, schedule

from prefect_server.database.engine import Database
from prefect_server.database.models import Flow, FlowRun
from prefect_server.testing import free_port

pytestmark = pytest.mark.postgres

FLOWS = 20
REPLICAS = 2


class Replica:
    def __init__(self, database_url: str, home: Path):
        self.port = free_port()
        self.log = home / f"replica-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER")}
        env.update(
            HOME=str(home),
            PREFECT_SERVER__HOME=str(home),
            PREFECT_SERVER__DATABASE__CONNECTION_URL=database_url,
            PREFECT_SERVER__SERVICES__SCHEDULER__LOOP_SECONDS="1",
            PREFECT_SERVER__LOG_LEVEL="INFO",
        )
        command = [str(Path(sys.executable).with_name("prefect-server")), "start"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--no-upgrade"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(self.output())

    def passes(self) -> int:
        return self.output().count("Scheduled ")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def replicas(database_url: str, tmp_path: Path) -> Iterator[list[Replica]]:
    started = [Replica(database_url, tmp_path) for _ in range(REPLICAS)]
    try:
        yield started
    finally:
        for replica in started:
            replica.stop()


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


async def _until(condition: object, replicas: list[Replica], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():  # type: ignore[operator]
        for replica in replicas:
            assert replica.process.poll() is None, replica.output()
        assert time.monotonic() < deadline, [r.output()[-3000:] for r in replicas]
        await asyncio.sleep(0.5)


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
        replica.wait_until_up()

    async def first_flows_scheduled() -> bool:
        return all(runs >= 10 for runs, _ in (await _counts(db, flows)).values())

    await _until(first_flows_scheduled, replicas)
    async with db.transaction() as session:
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
