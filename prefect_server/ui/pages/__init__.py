"""The UI's page handlers, one module per noun; each module has a ``router``."""

from prefect_server.ui.pages import (
    agents,
    concurrency,
    dashboard,
    flow_runs,
    flows,
    login,
    patterns,
    projects,
    task_runs,
)

PAGE_ROUTERS = [
    dashboard.router,
    flows.router,
    flow_runs.router,
    task_runs.router,
    agents.router,
    concurrency.router,
    projects.router,
    login.router,
    patterns.router,
]
