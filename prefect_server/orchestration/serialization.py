"""Parsing of what clients send: ids, and the serialized flows, tasks and edges of Prefect 1.

Server 1 used pydantic models that kept unknown fields; here plain functions check
the fields the server stores and leave everything else in ``serialized_flow``.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import uuid
from typing import Any

from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.utilities.ids import parse_id


def require_id(value: Any, message: str) -> uuid.UUID:
    """A UUID, or ``ValidationFailed(message)`` when the value is empty or not a UUID."""
    parsed = parse_id(value) if value else None
    if parsed is None:
        raise ValidationFailed(message)
    return parsed


def decompress_flow(payload: str) -> dict[str, Any]:
    """``base64(gzip(json))`` as the 1.4.1 client's ``compress`` builds it."""
    try:
        decoded = json.loads(gzip.decompress(base64.b64decode(payload)).decode())
    except Exception:
        raise ValidationFailed("Unable to decompress serialized flow") from None
    if not isinstance(decoded, dict):
        raise ValidationFailed("Unable to decompress serialized flow")
    return decoded


def compress_flow(serialized_flow: dict[str, Any]) -> str:
    """The inverse of ``decompress_flow`` (tests and tools build payloads with it)."""
    return base64.b64encode(gzip.compress(json.dumps(serialized_flow).encode())).decode()


def _seconds(name: str, value: Any) -> dt.timedelta | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed(f"Invalid {name} for task: {value!r} is not a number of seconds.")
    return dt.timedelta(seconds=value)


def _slug_of(value: Any) -> Any:
    # Core sends references as {"slug": …}; Server 1 also accepted the bare slug.
    if isinstance(value, dict):
        return value.get("slug")
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def task_row(task: Any) -> dict[str, Any]:
    """The stored columns of one serialized task, as Server 1's ``api.flows.create_flow``
    stored them; bad values are refused."""
    if not isinstance(task, dict):
        raise ValidationFailed(f"Invalid task: expected an object, got {task!r}.")
    slug = task.get("slug")
    if not isinstance(slug, str) or not slug:
        raise ValidationFailed(f"Invalid task: every task needs a slug, got {slug!r}.")
    tags = task.get("tags") or []
    if not isinstance(tags, list):
        raise ValidationFailed(f"Invalid tags for task {slug}: {tags!r} is not a list.")
    max_retries = task.get("max_retries") or 0
    if isinstance(max_retries, bool) or not isinstance(max_retries, int):
        raise ValidationFailed(f"Invalid max_retries for task {slug}: {max_retries!r}.")
    trigger = task.get("trigger")
    if isinstance(trigger, dict):
        trigger = trigger.get("fn")
    return {
        "name": _text(task.get("name")),
        "slug": slug,
        "type": _text(task.get("type")),
        "max_retries": max_retries,
        "tags": tags,
        "retry_delay": _seconds(f"retry_delay of task {slug}", task.get("retry_delay")),
        "trigger": _text(trigger),
        "auto_generated": bool(task.get("auto_generated") or False),
        "cache_key": _text(task.get("cache_key")),
        "description": _text(task.get("description")),
    }


def edge_slugs(edge: Any) -> tuple[str, str, str | None, bool]:
    """(upstream slug, downstream slug, key, mapped) of one serialized edge."""
    if not isinstance(edge, dict):
        raise ValidationFailed(f"Invalid edge: expected an object, got {edge!r}.")
    upstream = _slug_of(edge.get("upstream_task"))
    downstream = _slug_of(edge.get("downstream_task"))
    if not isinstance(upstream, str) or not isinstance(downstream, str):
        raise ValidationFailed(
            f"Invalid edge: upstream and downstream task slugs are required, got {edge!r}."
        )
    return upstream, downstream, _text(edge.get("key")), bool(edge.get("mapped") or False)


def parameters_of(serialized_flow: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = serialized_flow.get("parameters") or []
    if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
        raise ValidationFailed("Invalid flow: parameters must be a list of objects.")
    for parameter in parameters:
        if not isinstance(parameter.get("name"), str):
            raise ValidationFailed(f"Invalid parameter: a name is required, got {parameter!r}.")
    return parameters


def list_of(serialized_flow: dict[str, Any], key: str) -> list[Any]:
    value = serialized_flow.get(key) or []
    if not isinstance(value, list):
        raise ValidationFailed(f"Invalid flow: {key} must be a list.")
    return value


def version_tuple(version: str) -> tuple[int, ...]:
    """Leading numeric parts of a version string: ``0.15.0+12.gabc`` → (0, 15, 0)."""
    parts: list[int] = []
    for piece in version.split("+")[0].split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:
            break
    return tuple(parts)
