"""Where the UI lives in the app: its routes under ``/ui``, its static files, its guards."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from prefect_server.ui import security
from prefect_server.ui.pages import PAGE_ROUTERS
from prefect_server.ui.pages.common import PageNotFound, error_page
from prefect_server.ui.templating import UnknownFragment

PREFIX = "/ui"
OPEN_PATHS = frozenset({f"{PREFIX}/login"})


async def guard(request: Request) -> None:
    """Every page needs a login when keys are set; every POST needs the form's CSRF token."""
    if request.url.path not in OPEN_PATHS and not security.is_logged_in(request):
        raise security.NotLoggedIn()
    if request.method == "POST":
        await security.check_post(request)


async def no_such_page(request: Request) -> Response:
    path = request.url.path
    if request.method == "GET" and path.endswith("/") and path.rstrip("/") != PREFIX:
        # As the router would without this catch-all: /ui/flows/ is /ui/flows.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(path.rstrip("/") + query, status_code=307)
    raise PageNotFound("There is no page at this address.")


def install(app: FastAPI) -> None:
    router = APIRouter(prefix=PREFIX, dependencies=[Depends(guard)])
    for page_router in PAGE_ROUTERS:
        router.include_router(page_router)
    app.include_router(router)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(packages=[("prefect_server.ui", "static")]),
        name="ui-static",
    )
    # Last under the prefix: any other path there is the UI's 404 page, not the API's JSON.
    app.add_api_route(
        f"{PREFIX}/{{rest:path}}",
        no_such_page,
        methods=["GET", "POST"],
        dependencies=[Depends(guard)],
        include_in_schema=False,
    )

    @app.exception_handler(security.NotLoggedIn)
    async def _login(request: Request, _exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = PREFIX + "/"
        from urllib.parse import quote

        return RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(security.CsrfRefused)
    async def _csrf(request: Request, _exc: Exception) -> Response:
        return error_page(
            request,
            403,
            "This form has expired",
            "The form was not sent from this server's own page (its security token is "
            "missing or old), so nothing was changed. Reload the page and try again.",
        )

    @app.exception_handler(security.FormTooLarge)
    async def _too_large(request: Request, _exc: Exception) -> Response:
        return error_page(request, 413, "Form too large", "Nothing was changed.")

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, exc: Exception) -> Response:
        return error_page(request, 404, "Not found", str(exc))

    @app.exception_handler(UnknownFragment)
    async def _no_fragment(request: Request, exc: Exception) -> Response:
        return error_page(request, 404, "Not found", f"This page has no live part {exc}.")
