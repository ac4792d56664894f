"""``/ready`` (may this replica take traffic?) and ``/metrics`` (Prometheus' text).

``/health`` stays the liveness answer: it never touches the database, so a database
outage makes replicas unready, not restarted.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from prefect_server.observability import metrics
from prefect_server.settings import Settings

# Well under the probes' timeouts, so a hanging database answers 503 rather than no answer.
READY_TIMEOUT_SECONDS = 3.0

# Checks given up on, kept referenced until their cancellation has finished.
_abandoned: set[asyncio.Future[Any]] = set()


class Migrations:
    """The revisions this code knows, read from the migration scripts once."""

    def __init__(self, url: str):
        self.url = url
        self._known: tuple[frozenset[str], frozenset[str]] | None = None

    def _read(self) -> tuple[frozenset[str], frozenset[str]]:
        from alembic.script import ScriptDirectory

        from prefect_server.database.migrations import alembic_config

        scripts = ScriptDirectory.from_config(alembic_config(self.url))
        known = frozenset(script.revision for script in scripts.walk_revisions())
        return frozenset(scripts.get_heads()), known

    async def known(self) -> tuple[frozenset[str], frozenset[str]]:
        if self._known is None:
            self._known = await asyncio.to_thread(self._read)
        return self._known


async def readiness(db: Any, migrations: Migrations) -> tuple[bool, str]:
    """Whether the database answers and its schema is at the head of our migrations.

    A revision we do not know is newer than this code: during a rolling update the new
    version's migration job ran first and the old replicas go on serving until replaced.
    """
    heads, known = await migrations.known()
    check = await _within(_revisions(db), READY_TIMEOUT_SECONDS)
    if check is None:
        return False, f"the database did not answer within {READY_TIMEOUT_SECONDS:g} s"
    try:
        current = check.result()
    except Exception as exc:
        return False, f"the database does not answer: {type(exc).__name__}: {exc}"
    if current is None:
        return False, "the database has no schema: run prefect-server database upgrade"
    if current == heads or (current and not current & known):
        return True, "ready"
    return False, (
        f"the database schema is at {', '.join(sorted(current)) or 'no revision'}, "
        f"the migrations' head is {', '.join(sorted(heads))}: "
        "run prefect-server database upgrade"
    )


async def _within(work: Coroutine[Any, Any, Any], seconds: float) -> asyncio.Future[Any] | None:
    """``work`` done within ``seconds``, or None; work that takes longer is cancelled
    without waiting for it. Cancelling an asyncpg query asks the server to cancel it
    over a new connection, and a frozen server keeps that waiting for the connect
    timeout (5 s), past the probe's own timeout."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task
    task.cancel()
    _abandoned.add(task)
    task.add_done_callback(_abandoned.discard)
    return None


async def _revisions(db: Any) -> set[str] | None:
    """The schema's revisions, or None when the database answers but has no schema."""
    async with db.engine.connect() as connection:
        try:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
        except Exception:
            await connection.rollback()
            await connection.execute(text("SELECT 1"))  # raises when the database is away
            return None


def _authorized(request: Request, settings: Settings) -> bool:
    if not settings.api_keys or settings.metrics.public:
        return True
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key:
        return False
    return any(hmac.compare_digest(key.strip(), allowed) for allowed in settings.api_keys)


def install(app: FastAPI, settings: Settings) -> None:
    # Module-level handlers with their parts in app.state (see prefect_server/app.py:
    # FastAPI's handler cache would keep a closure's app alive).
    app.state.migrations = Migrations(settings.database_url)
    app.add_api_route("/ready", ready, methods=["GET"], include_in_schema=False)
    if settings.metrics.enabled:
        app.state.state_counts = metrics.RunStateCounts(settings.metrics.state_counts_cache_seconds)
        app.add_api_route("/metrics", prometheus, methods=["GET"], include_in_schema=False)


async def ready(request: Request) -> JSONResponse:
    ok, reason = await readiness(request.app.state.db, request.app.state.migrations)
    return JSONResponse(
        {"status": "ready" if ok else "unavailable", "reason": reason},
        status_code=200 if ok else 503,
    )


async def prometheus(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    state_counts: metrics.RunStateCounts = request.app.state.state_counts
    if not _authorized(request, settings):
        return JSONResponse(
            {"error": "a valid API key is required (Authorization: Bearer <key>)"},
            status_code=401,
        )
    # The process's own metrics matter most while the database is away: the runs per
    # state keep their last values when they cannot be read in time.
    refreshed = await _within(state_counts.refresh(request.app.state.db), READY_TIMEOUT_SECONDS)
    if refreshed is not None and not refreshed.cancelled():
        refreshed.exception()  # retrieved: a failed read is no "never retrieved" warning
    body = metrics.exposition(state_counts, settings.metrics.multiprocess_dir)
    return Response(body, media_type=metrics.CONTENT_TYPE)
