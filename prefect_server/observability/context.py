"""What a log line knows about the request it was written in.

Context variables follow the request's task (and the tasks a batch gathers), so a line
logged deep in the domain layer carries the request id and the GraphQL operation
without either being passed down.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str | None] = ContextVar("prefect_server_request_id", default=None)
operation: ContextVar[str | None] = ContextVar("prefect_server_operation", default=None)
flow_run_id: ContextVar[str | None] = ContextVar("prefect_server_flow_run_id", default=None)
task_run_id: ContextVar[str | None] = ContextVar("prefect_server_task_run_id", default=None)

_RUN_IDS = {"flow": flow_run_id, "task": task_run_id}


def bind_run(run_kind: str, run_id: Any) -> None:
    """Name the run a request is writing in its later log lines."""
    var = _RUN_IDS.get(run_kind)
    if var is not None and run_id is not None:
        var.set(str(run_id))


def fields() -> dict[str, str]:
    """The context of the current log line, only what is known."""
    found = {}
    for name, var in (
        ("request_id", request_id),
        ("operation", operation),
        ("flow_run_id", flow_run_id),
        ("task_run_id", task_run_id),
    ):
        value = var.get()
        if value is not None:
            found[name] = value
    return found
