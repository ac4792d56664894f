"""The scheduler service: keeps the next events of every active schedule materialised."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import Flow
from prefect_server.orchestration import scheduling
from prefect_server.settings import Settings

logger = logging.getLogger(__name__)

# Flows per page: one transaction and a few multi-row statements each.
PAGE_SIZE = 500
CONCURRENT_PAGES = 2


async def run_once(db: Database, settings: Settings) -> int:
    """One pass over all active, unarchived flows; returns how many runs it created."""
    max_runs = settings.services.scheduler.max_scheduled_runs_per_flow
    # Two pages in flight: the database inserts one while Python plans the next.
    slots = asyncio.Semaphore(CONCURRENT_PAGES)

    async def schedule(page: list[uuid.UUID]) -> int:
        try:
            return await _schedule_page(db, page, max_runs)
        finally:
            slots.release()

    pending: list[asyncio.Task[int]] = []
    after: uuid.UUID | None = None
    try:
        while True:
            await slots.acquire()
            page = await _page(db, after)
            if not page:
                slots.release()
                break
            pending.append(asyncio.ensure_future(schedule(page)))
            after = page[-1]
    finally:
        created = sum(await asyncio.gather(*pending))
    logger.info("Scheduled %d flow runs.", created)
    return created


async def _page(db: Database, after: uuid.UUID | None) -> list[uuid.UUID]:
    """The next page of active flow ids in id order (keyset paging on ix_flow_active_schedule)."""
    stmt = select(Flow.id).where(Flow.is_schedule_active.is_(True), Flow.archived.is_(False))
    if after is not None:
        stmt = stmt.where(Flow.id > after)
    async with db.session() as session:
        return list((await session.scalars(stmt.order_by(Flow.id).limit(PAGE_SIZE))).all())


async def _schedule_page(db: Database, flow_ids: list[uuid.UUID], max_runs: int) -> int:
    try:
        async with db.transaction() as session:
            result = await scheduling.schedule_flows(session, flow_ids, max_runs, with_ids=False)
        return result.created
    except Exception:
        # One bad flow (deleted meanwhile, say) must not stop the page: retry flow by flow.
        logger.warning("Scheduling a page of %d flows failed; retrying one by one.", len(flow_ids))
    created = 0
    for flow_id in flow_ids:
        try:
            async with db.transaction() as session:
                result = await scheduling.schedule_flows(
                    session, [flow_id], max_runs, with_ids=False
                )
            created += result.created
        except Exception:
            logger.exception("Could not schedule flow %s.", flow_id)
    return created
