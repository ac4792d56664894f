"""The one ASGI app: GraphQL at ``/`` and ``/graphql``, ``/health``, and the lifespan
that owns the engine, the session factory and the in-process services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response

import prefect_server
from prefect_server import ui
from prefect_server.database import migrations
from prefect_server.database.engine import Database
from prefect_server.graphql import actions
from prefect_server.graphql.checker import DocumentChecker
from prefect_server.graphql.plans import Plans
from prefect_server.graphql.schema import build_schema
from prefect_server.http import console
from prefect_server.http.graphql import GraphQLEndpoint, GraphQLLane
from prefect_server.http.health import install as install_readiness_and_metrics
from prefect_server.http.request_id import RequestIdMiddleware
from prefect_server.observability import logs, metrics
from prefect_server.orchestration import tenants
from prefect_server.settings import Settings, load_settings

logger = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    schema = build_schema(depth_limit=settings.query_depth_limit, checked_by_transport=True)
    endpoint = GraphQLEndpoint(
        schema,
        DocumentChecker(schema, settings.query_depth_limit),
        settings.max_request_body_bytes,
        Plans(schema, actions.hot_handlers()) if settings.graphql_plans else None,
    )
    if settings.metrics.enabled:
        endpoint.metrics = metrics.RequestMetrics(settings.metrics.max_operation_names)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.database.migrate_on_start:
            await migrations.upgrade_async(settings.database_url)
        db = Database.from_settings(settings)
        if settings.metrics.enabled:
            metrics.watch_engine(db.engine)
        async with db.transaction() as session:
            await tenants.ensure_default_tenant(session)
        scheduler = AsyncIOScheduler(timezone="UTC")
        if settings.services.enabled:
            from prefect_server.services import register_services

            register_services(scheduler, db, settings)
            scheduler.start()
        app.state.db = db
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            from prefect_server.shutdown import stop_background_work

            await stop_background_work(scheduler, settings)
            await db.dispose()

    app = FastAPI(
        title="prefect-server",
        version=prefect_server.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.schema = schema
    app.state.plans = endpoint.plans
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        max_age=86400,
    )

    app.state.graphql_endpoint = endpoint
    # Added last, so it runs before CORS and the router (see GraphQLLane).
    app.add_middleware(GraphQLLane, endpoint=endpoint)
    # Outermost: the request id reaches the lane's log lines and every response.
    app.add_middleware(RequestIdMiddleware)
    for path in sorted(GraphQLLane.PATHS):
        app.add_api_route(path, graphql, methods=["POST"], include_in_schema=False)
        app.add_api_route(path, api_console, methods=["GET"], include_in_schema=False)
    console.install(app)

    if settings.ui.enabled:
        ui.install(app)

    app.add_api_route("/health", health, methods=["GET"], include_in_schema=False)

    install_readiness_and_metrics(app, settings)

    return app


# Route handlers are module-level functions that find their app's parts in
# ``request.app.state``: FastAPI caches facts about every handler it has seen in a
# module-level cache (4,096 entries), so a closure per app kept every app built in the
# process - schema, plans and all - alive long after it was gone.


async def graphql(request: Request) -> Response:
    endpoint: GraphQLEndpoint = request.app.state.graphql_endpoint
    return await endpoint.handle(request)


async def api_console(request: Request) -> Response:
    # A browser opening the server's address lands on the UI's dashboard.
    settings: Settings = request.app.state.settings
    if (
        settings.ui.enabled
        and request.url.path == "/"
        and "text/html" in request.headers.get("accept", "")
    ):
        return RedirectResponse("/ui/", status_code=307)
    return console.console_page(request)


async def health() -> JSONResponse:
    return JSONResponse({"status": "ok", "version": prefect_server.__version__})


def worker_app() -> FastAPI:
    """The app of one of several server processes (``prefect-server start --workers N``).

    uvicorn starts each worker as a fresh process that imports this factory: settings
    come from the environment the parent prepared, logging is set up here because the
    parent's configuration does not cross into the process.
    """
    settings = load_settings()
    logs.configure(settings)
    return create_app(settings)
