"""X-Request-ID on every response and in log lines; the JSON log format."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from prefect_server.observability import context
from prefect_server.observability.logs import JsonFormatter, TextFormatter


@contextlib.contextmanager
def json_lines() -> Iterator[list[dict[str, Any]]]:
    """The root logger's lines at INFO and above, as the JSON format writes them; the
    list fills when the block ends."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


async def test_request_id_is_made_up_or_echoed(client: httpx.AsyncClient) -> None:
    made = await client.post("/", json={"query": "{ hello }"})
    assert len(made.headers["x-request-id"]) == 16
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    refused = await client.post("/", json={"query": "{ nope }"}, headers={"origin": "http://x"})
    assert refused.headers["x-request-id"]


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("prefect_server.graphql", logging.INFO, __file__, 1, message, (), None)


def test_json_lines_carry_the_request_context() -> None:
    token = context.request_id.set("rid-1")
    op = context.operation.set("SetTaskRunStates")
    context.bind_run("task", "1234")
    try:
        entry = json.loads(JsonFormatter().format(_record("hello")))
        text = TextFormatter().format(_record("hello"))
    finally:
        context.request_id.reset(token)
        context.operation.reset(op)
        context.task_run_id.set(None)
    assert entry["message"] == "hello" and entry["level"] == "INFO"
    assert entry["logger"] == "prefect_server.graphql" and entry["timestamp"]
    assert entry["request_id"] == "rid-1"
    assert entry["operation"] == "SetTaskRunStates"
    assert entry["task_run_id"] == "1234"
    assert text.endswith("hello [request_id=rid-1 operation=SetTaskRunStates task_run_id=1234]")


def test_without_a_request_lines_stay_plain() -> None:
    assert TextFormatter().format(_record("plain")).endswith("| plain")
    assert set(json.loads(JsonFormatter().format(_record("x")))) == {
        "timestamp",
        "level",
        "logger",
        "message",
    }


def test_every_logger_of_ours_is_named_after_its_module() -> None:
    # One prefix, prefect_server.<module>, so one logging rule reaches every line of ours.
    import ast
    from pathlib import Path

    import prefect_server

    package = Path(prefect_server.__file__).parent
    named = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "getLogger"
                and node.args
            ):
                named.append((path.relative_to(package).as_posix(), ast.unparse(node.args[0])))
    others = {arg for _, arg in named} - {"__name__"}
    # The one exception quiets a library's logger, not one of ours.
    assert others == {"'apscheduler'"}, named
    assert len(named) > 10


async def test_a_request_logs_json_with_its_id_and_operation(client: httpx.AsyncClient) -> None:
    """End to end: a line the domain layer logs inside a request carries the id the
    request came with and the operation, named as the 1.4.1 client's documents are."""
    tenant = (await client.post("/", json={"query": "{ tenant { id } }"})).json()
    document = {
        "query": "mutation($input: create_project_input!) { create_project(input: $input) { id } }",
        "variables": {"input": {"name": "twice", "tenant_id": tenant["data"]["tenant"][0]["id"]}},
    }
    with json_lines() as lines:
        for _ in range(2):  # the second is refused, and says so in the log
            answer = await client.post("/", json=document, headers={"X-Request-ID": "rid-e2e"})
            assert answer.headers["x-request-id"] == "rid-e2e"
    refused = [line for line in lines if line["message"].startswith("Refused")]
    assert refused, lines
    assert refused[0]["request_id"] == "rid-e2e"
    assert refused[0]["operation"] == "create_project"


async def test_a_refused_state_write_logs_the_run_id_as_a_field(
    client: httpx.AsyncClient,
) -> None:
    missing = str(uuid.uuid4())
    document = {
        "query": "mutation($input: set_flow_run_states_input!) "
        "{ set_flow_run_states(input: $input) { states { id status } } }",
        "variables": {
            "input": {"states": [{"flow_run_id": missing, "state": {"type": "Running"}}]}
        },
    }
    with json_lines() as lines:
        answer = await client.post("/", json=document)
    assert answer.json()["errors"], answer.text
    refused = [line for line in lines if line["message"].startswith("Refused")]
    assert refused, lines
    assert refused[0]["flow_run_id"] == missing
