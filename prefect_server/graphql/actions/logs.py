"""``write_run_logs``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry
from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.context import Context
from prefect_server.graphql.scalars import JSON, UUID, DateTime
from prefect_server.orchestration import logs


@strawberry.enum(name="log_level")
class LogLevel(enum.Enum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


@strawberry.input(name="write_run_log_input")
class WriteRunLogInput:
    flow_run_id: UUID
    task_run_id: UUID | None = None
    timestamp: DateTime | None = None
    message: str | None = None
    name: str | None = None
    level: LogLevel | None = None
    info: JSON | None = None


@strawberry.input(name="write_run_logs_input")
class WriteRunLogsInput:
    # The 1.4.1 client sometimes sends one object instead of a list; GraphQL input
    # coercion turns it into a one-element list.
    logs: list[WriteRunLogInput]


def _as_dict(log: Mapping[str, Any]) -> dict[str, Any]:
    level = log.get("level")
    return {
        "flow_run_id": log["flow_run_id"],
        "task_run_id": log.get("task_run_id"),
        "timestamp": log.get("timestamp"),
        "message": log.get("message"),
        "name": log.get("name"),
        "level": level.value if isinstance(level, enum.Enum) else level,
        "info": log.get("info"),
    }


async def _write_run_logs(ctx: Context, batch: list[dict[str, Any]]) -> SuccessPayload:
    try:
        async with ctx.db.core_transaction() as conn:
            await logs.write_run_logs(conn, batch)
    except IntegrityError:
        # A log of a deleted or unknown run: store the others rather than refuse the batch.
        async with ctx.db.core_transaction() as conn:
            await logs.write_run_logs(conn, batch, check_references=True)
    return SuccessPayload(success=True)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def write_run_logs(
        self, info: Info[Context, None], input: WriteRunLogsInput
    ) -> SuccessPayload | None:
        return await _write_run_logs(info.context, [_as_dict(vars(log)) for log in input.logs])


# The client's hottest documents skip the general executor (graphql/plans.py).
async def _hot_write_run_logs(ctx: Context, input: dict[str, Any]) -> SuccessPayload:
    return await _write_run_logs(ctx, [_as_dict(log) for log in input["logs"]])


HOT = {"write_run_logs": _hot_write_run_logs}
