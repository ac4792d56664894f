"""The projects page: every project with what is in it, and a form to create one."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.orchestration import projects as project_domain
from prefect_server.orchestration.errors import UNIQUENESS_VIOLATION, ValidationFailed
from prefect_server.orchestration.tenants import first_tenant_id
from prefect_server.ui import security
from prefect_server.ui.formatting import now
from prefect_server.ui.pages.common import Paging, database, nul_refusal
from prefect_server.ui.queries import projects
from prefect_server.ui.templating import render

router = APIRouter()


async def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    paging = Paging.of(request)
    async with database(request).session() as session:
        total = await projects.count_projects(session)
        rows = await projects.list_projects(session, now(), offset=paging.offset, limit=paging.size)
    context = {
        "projects": rows,
        "paging": paging,
        "total": total,
        "form": form or {"name": "", "description": ""},
        "errors": errors or {},
    }
    return render(request, "projects.html", context, status=status)


@router.get("/projects")
async def projects_page(request: Request) -> Response:
    return await _page(request)


@router.post("/projects")
async def create_project(request: Request) -> Response:
    sent = await security.read_form(request)
    form = {
        "name": sent.get("name", "").strip(),
        "description": sent.get("description", "").strip(),
    }
    error = None if form["name"] else "A project needs a name."
    if error is None:
        try:
            async with database(request).transaction() as session:
                tenant_id = await first_tenant_id(session)
                if tenant_id is None:
                    raise ValidationFailed("This server has no tenant to own the project.")
                await project_domain.create_project(
                    session, tenant_id, form["name"], form["description"] or None
                )
        except ValidationFailed as exc:
            error = (
                f"There is already a project named “{form['name']}”."
                if str(exc) == UNIQUENESS_VIOLATION
                else str(exc)
            )
        except DBAPIError as exc:
            error = nul_refusal(exc)
    if error is not None:
        return await _page(request, form=form, errors={"name": error}, status=400)
    return security.redirect(
        request,
        f"{request.scope.get('root_path', '')}/ui/projects",
        f"Project “{form['name']}” created.",
    )
