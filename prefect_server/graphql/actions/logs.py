"""``write_run_logs``."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import partial
from typing import Any

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from prefect_server.database.engine import Database
from prefect_server.graphql.actions._payloads import SuccessPayload
from prefect_server.graphql.context import Context
from prefect_server.graphql.hot import Caller, HotMutation
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


async def _write(
    conn: AsyncConnection,
    caller: Caller,
    input: Mapping[str, Any],
    *,
    check_references: bool = False,
) -> SuccessPayload:
    batch = [_as_dict(log) for log in input["logs"]]
    await logs.write_run_logs(conn, batch, check_references=check_references)
    return SuccessPayload(success=True)


# One of the client's hottest documents: plans answer it without the general executor
# (graphql/plans.py), and the resolver runs the same writes.
WRITE_RUN_LOGS = HotMutation(
    "write_run_logs",
    Database.core_transaction,
    _write,
    # A log of a deleted or unknown run: store the others rather than refuse the batch.
    retry=(IntegrityError, partial(_write, check_references=True)),
)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def write_run_logs(
        self, info: Info[Context, None], input: WriteRunLogsInput
    ) -> SuccessPayload | None:
        payload: SuccessPayload = await WRITE_RUN_LOGS(
            info.context, {"logs": [vars(log) for log in input.logs]}
        )
        return payload
