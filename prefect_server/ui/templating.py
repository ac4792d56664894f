"""Rendering pages and their live fragments from the package's Jinja2 templates.

A live region of a page is a named ``{% block %}`` of the page's template: the page
renders whole, and ``?_fragment=<block>`` renders that block alone, from the same
context, so the browser can swap it in without reloading the page.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

import prefect_server
from prefect_server.ui import formatting, security

FRAGMENT_PARAM = "_fragment"

environment = Environment(
    loader=PackageLoader("prefect_server.ui", "templates"),
    # Text from runs (logs, messages, names, artifacts) is escaped, always.
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(formatting.FILTERS)
environment.globals.update(version=prefect_server.__version__)
# The shared macros, available to every template and to every block rendered alone.
environment.globals["ui"] = environment.get_template("_macros.html").module


class UnknownFragment(LookupError):
    pass


def fragment_of(request: Request) -> str | None:
    """The live region a request asks for, or None for the whole page."""
    return request.query_params.get(FRAGMENT_PARAM) or None


def wants(fragment: str | None, *names: str) -> bool:
    """Whether the data of one of ``names`` is needed: for the whole page, or that fragment."""
    return fragment is None or fragment in names


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = {k: v for k, v in request.query_params.items() if k != FRAGMENT_PARAM}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    whole: bool = False,
) -> Response:
    """The page, or the live fragment the request asks for (with an ETag, 304 when unchanged).

    ``whole`` renders the page even for a fragment request (error pages).
    """
    fragment = None if whole else fragment_of(request)
    values = {
        "request": request,
        "prefix": request.scope.get("root_path", "") + "/ui",
        "csrf_token": security.csrf_token(request),
        "login_required": security.login_required(request),
        "flash": security.pop_flash(request),
        "url_with": lambda **changes: url_with(request, **changes),
        **context,
    }
    compiled = environment.get_template(template)
    if fragment is None:
        body = compiled.render(values)
    else:
        block = compiled.blocks.get(fragment)
        if block is None or not fragment.startswith("live_"):
            raise UnknownFragment(fragment)
        body = "".join(block(compiled.new_context(values)))
    response: Response
    if fragment is not None:
        etag = '"' + hashlib.blake2b(body.encode(), digest_size=12).hexdigest() + '"'
        if request.headers.get("if-none-match") == etag:
            response = Response(status_code=304, headers={"ETag": etag})
        else:
            response = HTMLResponse(body, status_code=status, headers={"ETag": etag})
        response.headers["Cache-Control"] = "no-cache"
    else:
        response = HTMLResponse(body, status_code=status, headers=headers)
    security.finish(request, response)
    return response
