"""An embedded server for tests: a real prefect-server on a free localhost port.

    from prefect_server.testing import running_server

    with running_server() as server:   # fresh temporary SQLite database
        ...                            # the 1.4.1 client now talks to server.url

Pass ``database_url=`` to use another database (it is migrated first), and
``settings=`` for any other setting. ``PREFECT_SERVER__DATABASE__CONNECTION_URL`` in
the environment is ignored here: tests never write to a configured database. The
pytest plugin offers the same as the ``prefect_server`` fixture.

While it runs, the Prefect 1.4.1 client (if installed) is configured for it, whether
``prefect`` was imported before or after, and in the environment of the processes a
test starts (``PREFECT__BACKEND``, ``PREFECT__SERVER__ENDPOINT``, ``PREFECT__CLOUD__API``);
its configuration is restored afterwards.
"""

from __future__ import annotations

import dataclasses
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect_server.settings import Settings, load_settings
from prefect_server.testing.client import client_pointed_at

__all__ = ["running_server", "free_port", "EmbeddedServer"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class EmbeddedServer:
    url: str
    settings: Settings
    database_url: str
    # The running ASGI app: its ``state`` holds the database and the GraphQL plans.
    app: Any = None

    def __str__(self) -> str:
        return self.url


def _wait_until_up(port: int, thread: threading.Thread, server: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.started:
            return
        if not thread.is_alive():
            raise RuntimeError("The embedded prefect-server stopped while starting.")
        time.sleep(0.02)
    raise TimeoutError(f"The embedded prefect-server did not start on port {port} in {timeout} s.")


@contextmanager
def running_server(
    database_url: str | None = None,
    settings: Settings | None = None,
    *,
    services: bool = False,
    startup_timeout: float = 60.0,
) -> Iterator[EmbeddedServer]:
    """Start a real server in a background thread; yield it; stop it on exit."""
    import uvicorn

    from prefect_server.app import create_app

    with tempfile.TemporaryDirectory(prefix="prefect-server-") as home:
        base = settings or load_settings()
        # Only an explicit choice reaches a real database: a connection URL in the
        # environment (perhaps production's) must not receive test data.
        explicit = settings.database.connection_url if settings else ""
        db = dataclasses.replace(
            base.database,
            connection_url=database_url or explicit or f"sqlite:///{Path(home) / 'test.db'}",
        )
        port = free_port()
        effective = base.replace(
            host="127.0.0.1",
            port=port,
            home=home,
            database=db,
            services=dataclasses.replace(base.services, enabled=services and base.services.enabled),
        )
        app = create_app(effective)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        failures: list[BaseException] = []

        def serve() -> None:
            # uvicorn calls sys.exit() when the lifespan fails; keep that inside
            # this thread and report it to the caller instead.
            try:
                server.run()
            except BaseException as exc:
                failures.append(exc)

        thread = threading.Thread(target=serve, name=f"prefect-server:{port}", daemon=True)
        thread.start()
        try:
            try:
                _wait_until_up(port, thread, server, startup_timeout)
            except RuntimeError as exc:
                raise exc from (failures[0] if failures else None)
            url = f"http://127.0.0.1:{port}"
            with client_pointed_at(url):
                yield EmbeddedServer(url, effective, effective.database_url, app)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            if thread.is_alive():
                # Leaving it running would keep the temporary database open.
                raise RuntimeError(f"The embedded prefect-server on port {port} did not stop.")
