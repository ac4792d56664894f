"""The GraphQL endpoint: body shapes, API keys, status codes.

Accepts what Server 1's Apollo accepted: a JSON object or a JSON array of operations
(the UI batches), ``variables`` as an object, ``null`` or a JSON-encoded string (the
1.4.1 client always sends a string). Parse and validation errors answer 400, as
Apollo did; resolver errors answer 200 with an ``errors`` list.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any

import orjson
import strawberry
from fastapi import Request
from fastapi.responses import Response
from graphql import GraphQLError
from strawberry.schema.exceptions import CannotGetOperationTypeError

from prefect_server.database.results import NUL_MESSAGE, is_nul_character_error
from prefect_server.graphql.checker import DocumentChecker
from prefect_server.graphql.context import Context
from prefect_server.graphql.plans import Plans
from prefect_server.observability import context as log_context
from prefect_server.observability.metrics import RequestMetrics, operation_name

logger = logging.getLogger(__name__)


class BadRequest(Exception):
    pass


TOO_LARGE = {"errors": [{"message": "Request body is larger than the limit."}]}


def _encode(payload: Any) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)


def _response(payload: Any, status: int = 200) -> Response:
    return Response(
        _encode(payload),
        status_code=status,
        media_type="application/json",
    )


def _format_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    if is_nul_character_error(error.original_error):
        formatted["message"] = NUL_MESSAGE
    return formatted


def _variables(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw) if raw.strip() else None
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"Variables are not valid JSON: {exc}") from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest("Variables must be a JSON object.")
    return raw


class GraphQLEndpoint:
    def __init__(
        self,
        schema: strawberry.Schema,
        checker: DocumentChecker,
        max_body: int,
        plans: Plans | None = None,
    ):
        self.schema = schema
        self.checker = checker
        self.max_body = max_body
        self.plans = plans
        self.metrics: RequestMetrics | None = None

    def authorized(self, headers: dict[str, str], api_keys: tuple[str, ...]) -> bool:
        if not api_keys:
            return True
        header = headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key:
            return False
        return any(hmac.compare_digest(key.strip(), allowed) for allowed in api_keys)

    async def handle(self, request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return _response(TOO_LARGE, 413)
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        payload, status = await self.answer(body, headers, request.app.state)
        return _response(payload, status)

    async def answer(self, body: bytes, headers: dict[str, str], state: Any) -> tuple[Any, int]:
        """The answer to one POST body: the JSON payload and the status code."""
        if len(body) > self.max_body:
            return TOO_LARGE, 413
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return {"errors": [{"message": "POST body is not valid JSON."}]}, 400
        if not self.authorized(headers, state.settings.api_keys):
            error = {
                "message": "UNAUTHENTICATED: a valid API key is required "
                "(send it as `Authorization: Bearer <key>`).",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
            if self.metrics is not None:
                self.metrics.observe(None, 0.0, "unauthenticated")
            if isinstance(payload, list):
                return [{"data": None, "errors": [error]} for _ in payload], 200
            return {"data": None, "errors": [error]}, 200
        if isinstance(payload, list):
            if not payload:
                return {"errors": [{"message": "Empty batch."}]}, 400
            results = await asyncio.gather(*(self.execute(op, state, headers) for op in payload))
            return [result for result, _ in results], 200
        return await self.execute(payload, state, headers)

    async def execute(
        self, op: Any, state: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        if self.metrics is None:
            return await self._execute(op, state, headers)
        name = operation_name(op)
        if name:
            log_context.operation.set(str(name)[:64])
        started = time.perf_counter()
        try:
            answer, status = await self._execute(op, state, headers)
        except BaseException:
            self.metrics.observe(name, time.perf_counter() - started, "internal")
            raise
        error = None
        if status != 200:
            extensions = answer.get("errors", [{}])[0].get("extensions") or {}
            validation = extensions.get("code") == "GRAPHQL_VALIDATION_FAILED"
            error = "validation" if validation else "bad_request"
        elif "errors" in answer:
            error = "graphql"
        self.metrics.observe(name, time.perf_counter() - started, error)
        return answer, status

    async def _execute(
        self, op: Any, state: Any, headers: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        try:
            if not isinstance(op, dict):
                raise BadRequest("Each operation must be a JSON object.")
            query = op.get("query")
            if not isinstance(query, str) or not query.strip():
                raise BadRequest("Must provide query string.")
            variables = _variables(op.get("variables"))
            operation_name = op.get("operationName") or None
        except BadRequest as exc:
            return {"errors": [{"message": str(exc)}]}, 400
        context = Context(db=state.db, settings=state.settings, headers=headers)
        try:
            if self.plans is not None:
                answer = await self.plans.run(query, variables, operation_name, context)
                if answer is not None:
                    return answer, 200
            errors = self.checker.check(query)
            if errors:
                return {
                    "errors": [
                        {**_format_error(e), "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                        for e in errors
                    ]
                }, 400
            if self.plans is not None:
                self.plans.learn(query)
            try:
                result = await self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name,
                )
            except CannotGetOperationTypeError as error:
                # An operationName the document lacks, or none for several operations.
                return {"errors": [{"message": error.as_http_error_reason()}]}, 400
        finally:
            await context.close()
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [_format_error(e) for e in result.errors]
            # Variable coercion failures happen before execution: they are bad requests.
            if result.data is None and all(not e.path for e in result.errors):
                return response, 400
        return response, 200


class GraphQLLane:
    """ASGI middleware answering GraphQL POSTs without the web framework's routing.

    A running flow sends thousands of small POSTs; FastAPI's routing, dependency
    solving and middleware cost about 0.15 ms of each. Requests with an ``Origin``
    header (browsers: the UI) still take the routed way, for CORS.
    """

    PATHS = frozenset({"/", "/graphql", "/graphql/"})

    def __init__(self, app: Any, endpoint: GraphQLEndpoint):
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.PATHS:
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if "origin" in headers:
            return await self.app(scope, receive, send)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.endpoint.max_body:
            payload, status = TOO_LARGE, 413
        else:
            body = await self._body(receive)
            if body is None:
                payload, status = TOO_LARGE, 413
            else:
                payload, status = await self.endpoint.answer(body, headers, scope["app"].state)
        content = _encode(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def _body(self, receive: Any) -> bytes | None:
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.endpoint.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
