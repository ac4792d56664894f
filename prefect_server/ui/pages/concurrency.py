"""Concurrency limits: each limit with its usage, the runs holding its slots and the runs
waiting for one; set a limit or delete it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.orchestration import concurrency_limits, tenants
from prefect_server.orchestration.concurrency_usage import concurrency_overview
from prefect_server.orchestration.errors import NotFound, ValidationFailed
from prefect_server.ui import security
from prefect_server.ui.pages.common import PageNotFound, database, id_from_url
from prefect_server.ui.templating import render

router = APIRouter()
KIND_WORDS = {"task": "tag", "flow": "label"}


async def _show(
    request: Request, *, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Response:
    context: dict[str, Any] = {"errors": errors or {}, "form": form or {}, "limits": []}
    async with database(request).session() as session:
        tenant_id = await tenants.first_tenant_id(session)
        if tenant_id is not None:
            context["limits"] = await concurrency_overview(session, tenant_id)
    return render(request, "concurrency.html", context, status=400 if errors else 200)


@router.get("/concurrency")
async def concurrency_page(request: Request) -> Response:
    return await _show(request)


@router.post("/concurrency")
async def set_limit(request: Request) -> Response:
    form = await security.read_form(request)
    kind = form.get("kind", "")
    if kind not in KIND_WORDS:
        return await _show(
            request, errors={"kind": "Choose a task tag or a flow label."}, form=form
        )
    word = KIND_WORDS[kind]
    name = form.get("name", "").strip()
    if not name:
        return await _show(request, errors={"name": f"Name the {word} to limit."}, form=form)
    try:
        limit = int(form.get("limit", "").strip())
    except ValueError:
        error = f"Not a whole number: {form.get('limit', '')!r}."
        return await _show(request, errors={"limit": error}, form=form)
    try:
        async with database(request).transaction() as session:
            tenant_id = await tenants.first_tenant_id(session)
            if tenant_id is None:
                raise ValidationFailed("There is no tenant to hold concurrency limits.")
            await concurrency_limits.set_limit(session, kind, tenant_id, name, limit)
    except ValidationFailed as exc:  # a negative limit: the name was checked above
        return await _show(request, errors={"limit": str(exc)}, form=form)
    return security.redirect(
        request, "/ui/concurrency", f"At most {limit} runs with {word} {name!r} at a time."
    )


@router.post("/concurrency/{kind}/{limit_id}/delete")
async def delete_limit(request: Request, kind: str, limit_id: str) -> Response:
    if kind not in KIND_WORDS:
        raise PageNotFound(f"There is no kind of concurrency limit {kind!r}.")
    key = id_from_url(limit_id, "concurrency limit")
    try:
        async with database(request).transaction() as session:
            await concurrency_limits.delete_limit(session, kind, key)
    except NotFound as exc:
        raise PageNotFound(str(exc)) from None
    return security.redirect(request, "/ui/concurrency", "Limit deleted: its runs wait no more.")
