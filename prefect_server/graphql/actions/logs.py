"""``write_run_logs``."""

from __future__ import annotations

import enum
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


def _as_dict(log: WriteRunLogInput) -> dict[str, Any]:
    return {
        "flow_run_id": log.flow_run_id,
        "task_run_id": log.task_run_id,
        "timestamp": log.timestamp,
        "message": log.message,
        "name": log.name,
        "level": log.level.value if log.level else None,
        "info": log.info,
    }


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def write_run_logs(
        self, info: Info[Context, None], input: WriteRunLogsInput
    ) -> SuccessPayload | None:
        batch = [_as_dict(log) for log in input.logs]
        db = info.context.db
        try:
            async with db.transaction() as session:
                await logs.write_run_logs(session, batch)
        except IntegrityError:
            # A log of a deleted or unknown run: store the others rather than refuse the batch.
            async with db.transaction() as session:
                await logs.write_run_logs(session, batch, check_references=True)
        return SuccessPayload(success=True)
