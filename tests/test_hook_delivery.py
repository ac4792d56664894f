"""Cloud-hook deliveries run in the background after the state's commit; app shutdown
waits for the ones under way (bounded), so a state written just before a restart is
still announced."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from httpstub import QuietHandler, serving

from prefect_server.app import create_app
from prefect_server.database.engine import Database
from prefect_server.settings import Settings

import factories

# Longer than a test needs to reach the end of the lifespan, shorter than the drain bound.
RESPONSE_DELAY = 1.5


@pytest.fixture
def slow_receiver() -> Iterator[tuple[str, list[str]]]:
    """A receiver that answers after RESPONSE_DELAY and only then records the request."""
    answered: list[str] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length") or 0))
            time.sleep(RESPONSE_DELAY)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")
            answered.append(self.path)

    with serving(Handler) as url:
        yield url, answered


async def test_app_shutdown_waits_for_deliveries_under_way(
    settings: Settings, db: Database, slow_receiver: tuple[str, list[str]]
) -> None:
    url, answered = slow_receiver
    tenant_id, flow_id = await factories.flow_chain(db)
    await factories.running_webhook(db, tenant_id, url)
    app = create_app(settings.replace(graceful_shutdown_seconds=10))
    async with app.router.lifespan_context(app):
        run_id = await factories.create_flow_run(db, flow_id)
        await factories.set_flow_run_state(db, run_id, {"type": "Running"})
        assert answered == []
    assert answered == ["/hook"]
