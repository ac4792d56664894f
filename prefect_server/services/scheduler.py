"""The scheduler service: keeps the next events of every active schedule materialised."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from prefect_server.database.engine import Database
from prefect_server.database.models import Flow
from prefect_server.orchestration import scheduling
from prefect_server.settings import Settings

logger = logging.getLogger("prefect-server.Scheduler")

# Flows per page: one transaction and a few multi-row statements each.
PAGE_SIZE = 500


async def run_once(db: Database, settings: Settings) -> int:
    """One pass over all active, unarchived flows; returns how many runs it created."""
    max_runs = settings.services.scheduler.max_scheduled_runs_per_flow
    created = 0
    after: uuid.UUID | None = None
    while True:
        page = await _page(db, after)
        if not page:
            break
        created += await _schedule_page(db, page, max_runs)
        after = page[-1]
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
