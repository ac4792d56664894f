"""The agents page: who polls, how recently, what each could take next, what it ran."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.orchestration import agents as agent_domain
from prefect_server.ui import security
from prefect_server.ui.formatting import now
from prefect_server.ui.pages.common import Paging, database, id_from_url, require
from prefect_server.ui.queries import agents
from prefect_server.ui.templating import render

router = APIRouter()
SHOWN_PER_AGENT = 5


@router.get("/agents")
async def agents_page(request: Request) -> Response:
    # The one live block needs everything the page shows, so there is nothing to skip.
    moment = now()
    # Every restart of a Prefect 1 agent registers a new one: old ones pile up, paged.
    paging = Paging.of(request, size=50)
    async with database(request).session() as session:
        rows = await agents.list_agents(session, paging.size, paging.offset)
        total = await paging.total(session, len(rows), agents.AGENTS_COUNT)
        waiting = await agents.waiting_runs(session, moment)
        submitted = await agents.submitted_runs(session, [a.id for a in rows], moment)
    takes = {agent.id: agents.could_take(agent, waiting) for agent in rows}
    context = {
        "agents": rows,
        "takes": takes,
        "submitted": submitted,
        "now": moment,
        "shown": SHOWN_PER_AGENT,
        "waiting_total": len(waiting),
        "waiting_limit": agents.WAITING_LIMIT,
        "paging": paging,
        "total": total,
        "runs_scanned": agents.RECENT_RUNS_SCANNED,
    }
    return render(request, "agents.html", context)


@router.post("/agents/{agent_id}/delete")
async def delete_agent(request: Request, agent_id: str) -> Response:
    key = id_from_url(agent_id, "agent")
    async with database(request).transaction() as session:
        require(await agent_domain.delete_agent(session, key) or None, "agent", agent_id)
    return security.redirect(
        request,
        f"{request.scope.get('root_path', '')}/ui/agents",
        "Agent deleted. A running agent registers again when it restarts.",
    )
