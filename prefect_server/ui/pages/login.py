"""Logging in to the UI with an API key (only asked for when keys are set), and out."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from prefect_server.ui import security
from prefect_server.ui.templating import render

router = APIRouter()


def _next(value: str | None) -> str:
    # Only a path on this server: never send a person on to another site.
    if value and value.startswith("/ui") and not value.startswith("//"):
        return value
    return "/ui/"


@router.get("/login")
async def login_form(request: Request) -> Response:
    if not security.login_required(request):
        return security.redirect(request, "/ui/")
    return render(
        request, "login.html", {"next": _next(request.query_params.get("next")), "error": None}
    )


@router.post("/login")
async def login(request: Request) -> Response:
    form = await security.read_form(request)
    target = _next(form.get("next"))
    if not security.login_required(request):
        return security.redirect(request, target)
    if not security.key_accepted(request, form.get("key", "")):
        return render(
            request,
            "login.html",
            {"next": target, "error": "That key is not one of this server's API keys."},
            status=401,
        )
    response = security.redirect(request, target, "Logged in.")
    hours = request.app.state.settings.ui.session_hours
    security.set_cookie(
        request,
        response,
        security.SESSION_COOKIE,
        security.session_value(tuple(request.app.state.settings.api_keys), hours * 3600),
        max_age=int(hours * 3600),
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = security.redirect(request, "/ui/login", "Logged out.")
    response.delete_cookie(security.SESSION_COOKIE, path="/ui")
    return response
