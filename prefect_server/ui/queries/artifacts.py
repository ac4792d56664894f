"""A flow run's artifacts, newest first, ready to show: markdown as safe HTML, links, JSON."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.models import Task, TaskRun, TaskRunArtifact
from prefect_server.ui.pages.common import Paging

PAGE_SIZE = 50
# Raw HTML in an artifact is shown as text; markdown-it refuses javascript:, vbscript:,
# file: and data: link targets by itself (its validateLink).
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class Artifact:
    id: uuid.UUID
    kind: str
    created: dt.datetime
    task_run_id: uuid.UUID
    task_name: str | None
    map_index: int
    data: Any

    @property
    def markdown(self) -> Markup | None:
        """The rendered markdown: the one place the UI marks HTML safe, made by markdown-it
        with raw HTML disabled."""
        if self.kind != "markdown":
            return None
        text = self.data.get("markdown") if isinstance(self.data, dict) else self.data
        return Markup(_MARKDOWN.render(text if isinstance(text, str) else str(text)))

    @property
    def link(self) -> str | None:
        """The target of a link artifact when it is a web address, else None (shown as text)."""
        target = self.data.get("link") if isinstance(self.data, dict) else None
        if not isinstance(target, str):
            return None
        return target if urlsplit(target.strip()).scheme.lower() in ("http", "https") else None

    @property
    def link_text(self) -> str:
        target = self.data.get("link") if isinstance(self.data, dict) else None
        return str(target if target is not None else self.data)


async def for_flow_run(
    session: AsyncSession, flow_run_id: uuid.UUID, paging: Paging
) -> tuple[list[Artifact], int]:
    """A page of the flow run's artifacts, newest first, and how many it has."""
    of_run = TaskRunArtifact.task_run_id.in_(
        select(TaskRun.id).where(TaskRun.flow_run_id == flow_run_id)
    )
    rows = await session.execute(
        select(
            TaskRunArtifact.id,
            TaskRunArtifact.kind,
            TaskRunArtifact.created,
            TaskRunArtifact.task_run_id,
            Task.name.label("task_name"),
            TaskRun.map_index,
            TaskRunArtifact.data,
        )
        .join(TaskRun, TaskRun.id == TaskRunArtifact.task_run_id)
        .join(Task, Task.id == TaskRun.task_id)
        .where(TaskRun.flow_run_id == flow_run_id)
        .order_by(TaskRunArtifact.created.desc(), TaskRunArtifact.id)
        .offset(paging.offset)
        .limit(paging.size)
    )
    found = [Artifact(**row._mapping) for row in rows]
    count = select(func.count()).select_from(TaskRunArtifact).where(of_run)
    return found, await paging.total(session, len(found), count)
