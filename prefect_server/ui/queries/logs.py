"""A run's logs: the newest lines for the page, all of them in batches for a download."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select

from prefect_server.database.engine import Database
from prefect_server.database.models import Log
from prefect_server.orchestration.logs import LEVELS
from prefect_server.ui.pages.common import MAX_PAGE
from prefect_server.ui.queries.flow_runs import like

PAGE_LINES = 200
DOWNLOAD_BATCH = 1000


@dataclass(frozen=True)
class LogFilter:
    """Which lines: a minimum level and a text the message contains (any case)."""

    level: str = "DEBUG"
    text: str = ""
    page: int = 1

    @classmethod
    def of(cls, params: Mapping[str, str]) -> LogFilter:
        get = params.get
        level = str(get("level") or "DEBUG").upper()
        try:
            page = min(MAX_PAGE, max(1, int(get("logs_page") or 1)))
        except ValueError:
            page = 1
        return cls(level if level in LEVELS else "DEBUG", str(get("text") or "")[:200], page)

    def conditions(
        self, flow_run_id: uuid.UUID, task_run_id: uuid.UUID | None
    ) -> list[ColumnElement[bool]]:
        found = [Log.flow_run_id == flow_run_id]
        if task_run_id is not None:
            found.append(Log.task_run_id == task_run_id)
        if self.level != "DEBUG":
            found.append(Log.level.in_(LEVELS[LEVELS.index(self.level) :]))
        if self.text:
            found.append(Log.message.ilike(like(self.text), escape="\\"))
        return found


@dataclass(frozen=True)
class LogLine:
    id: uuid.UUID
    timestamp: dt.datetime
    level: str | None
    name: str | None
    message: str | None

    def as_text(self) -> str:
        when = self.timestamp.astimezone(dt.timezone.utc).isoformat()
        return f"{when} {self.level or '-':<8} {self.name or '-'}: {self.message or ''}\n"


_COLUMNS = (Log.id, Log.timestamp, Log.level, Log.name, Log.message)


async def recent(
    db: Database,
    flow_run_id: uuid.UUID,
    task_run_id: uuid.UUID | None,
    filters: LogFilter,
) -> tuple[list[LogLine], bool]:
    """A page of matching lines, oldest to newest (page 1: the newest ``PAGE_LINES``), and
    whether older lines exist."""
    async with db.session() as session:
        rows = await session.execute(
            select(*_COLUMNS)
            .where(*filters.conditions(flow_run_id, task_run_id))
            .order_by(Log.timestamp.desc(), Log.id.desc())
            .offset((filters.page - 1) * PAGE_LINES)
            .limit(PAGE_LINES + 1)
        )
        lines = [LogLine(**row._mapping) for row in rows]
    return lines[:PAGE_LINES][::-1], len(lines) > PAGE_LINES


async def all_lines(
    db: Database,
    flow_run_id: uuid.UUID,
    task_run_id: uuid.UUID | None,
    filters: LogFilter,
    batch: int = DOWNLOAD_BATCH,
) -> AsyncIterator[list[LogLine]]:
    """Every matching line, oldest first, ``batch`` at a time: each batch its own short
    read after the last (timestamp, id) seen, so memory and locks stay bounded."""
    after: tuple[dt.datetime, uuid.UUID] | None = None
    while True:
        stmt = select(*_COLUMNS).where(*filters.conditions(flow_run_id, task_run_id))
        if after is not None:
            stmt = stmt.where(
                or_(Log.timestamp > after[0], and_(Log.timestamp == after[0], Log.id > after[1]))
            )
        async with db.session() as session:
            rows = await session.execute(stmt.order_by(Log.timestamp, Log.id).limit(batch))
            lines = [LogLine(**row._mapping) for row in rows]
        if not lines:
            return
        yield lines
        if len(lines) < batch:
            return
        after = (lines[-1].timestamp, lines[-1].id)
