"""The API console at ``GET /graphql``: a query editor, a schema browser, nothing else.

It replaces Strawberry's GraphiQL page, which loads its scripts from a CDN and so is
blank on a host without internet. Its files ship in the package and are served from
routes outside ``/ui``: the console works with the UI turned off.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

import prefect_server

ASSET_TYPES = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# The page may talk to its own origin only: a stray external reference fails loudly
# in the browser instead of working online and breaking offline.
POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@cache
def _asset(name: str) -> bytes:
    return resources.files("prefect_server.http").joinpath("console", name).read_bytes()


def console_page(request: Request) -> Response:
    root = html.escape(request.scope.get("root_path", ""))
    page = (
        _asset("console.html")
        .decode()
        .replace("{{root}}", root)
        .replace("{{version}}", html.escape(prefect_server.__version__))
    )
    return HTMLResponse(
        page, headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"}
    )


def install(app: FastAPI) -> None:
    """The console's script and style sheet, at ``/graphql/console.js`` and ``.css``."""

    for name in ASSET_TYPES:
        app.add_api_route(
            f"/graphql/{name}", _serve_asset, methods=["GET"], include_in_schema=False
        )


async def _serve_asset(request: Request) -> Response:
    # One module-level handler for every app (a closure per app would stay in FastAPI's
    # handler cache); the route's path names the asset. The page asks for
    # ?v=<version>: a new release is a new URL.
    name = request.url.path.rsplit("/", 1)[-1]
    return Response(
        _asset(name),
        media_type=ASSET_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
