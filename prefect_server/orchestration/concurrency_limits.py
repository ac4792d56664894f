"""Concurrency limits as data: set, delete, list and count their usage (per tenant).

Task-tag limits (``task_tag_limit``) and flow-label limits (``flow_label_limit``) share
every rule, so each function takes the kind: ``"task"`` or ``"flow"``. Setting a limit
on a name that has one changes it in place: one row per name. The check that enforces
them is in ``concurrency``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import Dialect, dialect_of
from prefect_server.database.models import FlowLabelLimit, FlowRun, Task, TaskRun, TaskTagLimit
from prefect_server.orchestration.concurrency import (
    FLOW_HOLDING_STATES,
    TASK_HOLDING_STATES,
    has_name,
)
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise

KINDS = ("task", "flow")
# What users call a limit's name, by kind.
NAME_WORDS = {"task": "tag", "flow": "label"}


@dataclass(frozen=True, slots=True)
class Limit:
    kind: str
    id: uuid.UUID
    name: str
    limit: int
    usage: int = 0


def _model(kind: str) -> Any:
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of concurrency limit: {kind!r}.")
    return TaskTagLimit if kind == "task" else FlowLabelLimit


def _name_column(kind: str) -> Any:
    return TaskTagLimit.tag if kind == "task" else FlowLabelLimit.label


def check_limit(kind: str, name: Any, limit: Any) -> tuple[str, int]:
    """The name and limit of a limit to set, or a sentence saying which one is wrong."""
    word = NAME_WORDS[kind]
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(f"Invalid {word} {name!r}: a concurrency limit needs a {word}.")
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise ValidationFailed(
            f"Invalid limit {limit!r} for {word} {name!r}: the limit must be a whole number."
        )
    if limit < 0:
        raise ValidationFailed(
            f"Invalid limit {limit} for {word} {name!r}: concurrency limits must be >= 0."
        )
    return name, limit


async def set_limit(
    session: AsyncSession, kind: str, tenant_id: uuid.UUID, name: Any, limit: Any
) -> uuid.UUID:
    """Create the limit on ``name``, or change the one it has; returns its id."""
    name, limit = check_limit(kind, name, limit)
    model = _model(kind)
    column = _name_column(kind).key
    now = utcnow()
    stmt = (
        dialect_of(session)
        .insert(model)
        .values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            limit=limit,
            created=now,
            updated=now,
            **{column: name},
        )
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", column],
        set_={"limit": stmt.excluded.limit, "updated": now},
    ).returning(model.id)
    limit_id = await session.scalar(stmt)
    assert limit_id is not None
    return limit_id


async def delete_limit(session: AsyncSession, kind: str, limit_id: Any) -> bool:
    """Delete a limit by id; an id that names no limit of this kind is an error."""
    word = NAME_WORDS[kind]
    missing = NotFound(f"No {word} concurrency limit has the ID {limit_id!r}.")
    key = id_or_raise(limit_id, missing)
    model = _model(kind)
    deleted = await session.scalar(delete(model).where(model.id == key).returning(model.id))
    if deleted is None:
        raise missing
    return True


async def delete_limit_by_name(
    session: AsyncSession, kind: str, tenant_id: uuid.UUID, name: str
) -> bool:
    """Delete the limit on ``name``; a name with no limit is an error."""
    model = _model(kind)
    stmt = (
        delete(model)
        .where(model.tenant_id == tenant_id, _name_column(kind) == name)
        .returning(model.id)
    )
    if await session.scalar(stmt) is None:
        raise NotFound(f"There is no concurrency limit on {NAME_WORDS[kind]} {name!r}.")
    return True


async def list_limits(
    session: AsyncSession,
    kind: str,
    tenant_id: uuid.UUID,
    names: Iterable[str] | None = None,
    *,
    with_usage: bool = False,
) -> list[Limit]:
    """The tenant's limits of ``kind`` (of ``names`` only, when given), by name."""
    model = _model(kind)
    column = _name_column(kind)
    stmt = select(model.id, column, model.limit).where(model.tenant_id == tenant_id)
    if names is not None:
        stmt = stmt.where(column.in_(list(names)))
    rows = (await session.execute(stmt.order_by(column))).all()
    usage = await count_usage(session, kind, tenant_id, [r[1] for r in rows]) if with_usage else {}
    return [Limit(kind, r[0], r[1], r[2], usage.get(r[1], 0)) for r in rows]


def holding(kind: str, sql: Dialect, name: Any) -> Any:
    """The condition on runs of ``kind`` holding a slot of the limit on ``name``."""
    if kind == "task":
        return TaskRun.state.in_(sorted(TASK_HOLDING_STATES)) & has_name(sql, Task.tags, name)
    return FlowRun.state.in_(sorted(FLOW_HOLDING_STATES)) & has_name(sql, FlowRun.labels, name)


async def count_usage(
    session: AsyncSession, kind: str, tenant_id: uuid.UUID, names: Sequence[str]
) -> dict[str, int]:
    """How many runs hold a slot of each of ``names`` (whether or not it has a limit)."""
    usage: dict[str, int] = {}
    sql = dialect_of(session)
    for name in dict.fromkeys(names):
        if kind == "task":
            stmt = (
                select(func.count())
                .select_from(TaskRun)
                .join(Task, Task.id == TaskRun.task_id)
                .where(TaskRun.tenant_id == tenant_id, holding(kind, sql, name))
            )
        else:
            stmt = (
                select(func.count())
                .select_from(FlowRun)
                .where(FlowRun.tenant_id == tenant_id, holding(kind, sql, name))
            )
        usage[name] = int(await session.scalar(stmt) or 0)
    return usage
