"""Run logs (``write_run_logs`` of Server 1's ``src/prefect_server/api/logs.py``): one multi-row insert
per batch."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select

from prefect_server.database import dialect
from prefect_server.database.models import FlowRun, Log, TaskRun
from prefect_server.database.types import parse_timestamp
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import parse_id

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_INSERT = insert(Log)


def _row(log: dict[str, Any], now: Any) -> dict[str, Any] | None:
    """The log as a row, or None when it cannot be stored (Server 1 skipped those)."""
    try:
        flow_run_id = parse_id(log["flow_run_id"])
        task_run = log.get("task_run_id")
        timestamp = parse_timestamp(log["timestamp"]) if log.get("timestamp") else now
    except (KeyError, ValueError, TypeError):
        return None
    task_run_id = parse_id(task_run) if task_run else None
    if flow_run_id is None or (task_run and task_run_id is None):
        return None
    level = log.get("level") or "INFO"
    if level not in LEVELS:
        return None
    return {
        "id": uuid.uuid4(),
        "flow_run_id": flow_run_id,
        "task_run_id": task_run_id,
        "timestamp": timestamp,
        "message": _storable(log.get("message")),
        "name": _storable(log.get("name")),
        "level": level,
        "info": log.get("info"),
        "created": now,
        "updated": now,
    }


def _storable(text: Any) -> Any:
    # A task that logs binary output can send a NUL character, which PostgreSQL's text
    # cannot hold: the whole batch failed there (and was stored on SQLite). It is kept
    # as U+FFFD on both, so the line is not lost.
    if isinstance(text, str) and "\x00" in text:
        return text.replace("\x00", "\ufffd")
    return text


async def write_run_logs(
    session: dialect.Executor, logs: list[dict[str, Any]], *, check_references: bool = False
) -> int:
    """Insert the storable logs in one statement; returns how many were stored.

    With ``check_references`` logs of unknown flow or task runs are dropped first
    (one extra query). Callers retry with it after a foreign-key failure: the client
    re-sends a refused batch forever, so one bad log must not block the others.
    """
    now = utcnow()
    rows = [row for row in (_row(log, now) for log in logs) if row is not None]
    if rows and check_references:
        rows = await _known_runs_only(session, rows)
    if rows:
        # Core executemany on the connection: the ORM's bulk-insert path costs more than
        # the insert itself for the client's small batches.
        conn = await dialect.connection(session)
        await conn.execute(_INSERT, rows)
    return len(rows)


async def _known_runs_only(
    session: dialect.Executor, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    flow_run_ids = {row["flow_run_id"] for row in rows}
    task_run_ids = {row["task_run_id"] for row in rows if row["task_run_id"]}
    known_flow_runs = set(
        await session.scalars(select(FlowRun.id).where(FlowRun.id.in_(flow_run_ids)))
    )
    known_task_runs = (
        set(await session.scalars(select(TaskRun.id).where(TaskRun.id.in_(task_run_ids))))
        if task_run_ids
        else set()
    )
    return [
        row
        for row in rows
        if row["flow_run_id"] in known_flow_runs
        and (row["task_run_id"] is None or row["task_run_id"] in known_task_runs)
    ]
