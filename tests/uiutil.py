"""Talking to the web UI through the ASGI app, as a browser would (cookies, CSRF, forms)."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import httpx

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser(app: Any) -> httpx.AsyncClient:
    """An HTTP client on the app that keeps cookies and does not follow redirects."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"accept": "text/html"},
    )


async def csrf(client: httpx.AsyncClient, page: str = "/ui/") -> str:
    """The CSRF token of the client's session, as a page's forms carry it."""
    response = await client.get(page)
    assert response.status_code == 200, response.text
    match = CSRF_INPUT.search(response.text)
    if match:
        return match.group(1)
    token = client.cookies.get("ps_csrf")
    assert token, "the page issued no CSRF token"
    return token


async def post(
    client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, page: str = "/ui/"
) -> httpx.Response:
    """POST a form the way the page's own form does: with the session's CSRF token."""
    token = await csrf(client, page)
    return await client.post(url, data={"csrf_token": token, **(data or {})})


def text_of(page: str) -> str:
    """The page's text without tags or repeated whitespace, for assertions on what shows."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page))).strip()
