"""``X-Request-ID``: taken from the request when a proxy or client sent one, made up
otherwise; set as the log context of everything the request does and returned in the
response headers."""

from __future__ import annotations

import os
from typing import Any

from prefect_server.observability import context

HEADER = b"x-request-id"
# A proxy's id is echoed into headers and log lines: keep it short and printable.
_MAX_LENGTH = 128


def _incoming(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == HEADER or (len(name) == 12 and name.lower() == HEADER):
            text = value.decode("latin-1")
            if 0 < len(text) <= _MAX_LENGTH and text.isprintable():
                return text
            return None
    return None


class RequestIdMiddleware:
    """Outermost ASGI middleware, so the GraphQL lane and the routed app both log with it."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = _incoming(scope["headers"]) or os.urandom(8).hex()
        context.request_id.set(rid)
        header = (HEADER, rid.encode("latin-1"))

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
