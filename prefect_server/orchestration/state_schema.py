"""Prefect 1 states checked and re-serialised without importing Prefect Core.

Server 1 loaded every incoming state with Core's ``StateSchema`` and stored Core's
re-serialisation of it (``src/prefect_server/graphql/states.py``; the schema is prefect 1.4.1's
``prefect/serialization/state.py``): unknown keys dropped, defaults filled in,
``__version__`` added. The client reads those stored forms back (``serialized_state``
and the history), so we reproduce the same shape here, type by type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

from prefect_server.orchestration.errors import ValidationFailed
from prefect_server.orchestration.state_types import STATE_TYPES
from prefect_server.utilities.clock import utcnow

CORE_VERSION = "1.4.1"

# Result classes Core knows, with the keys each one serialises besides ``location``.
_RESULT_KEYS: dict[str, tuple[str, ...]] = {
    "Result": (),
    "AzureResult": ("container",),
    "ConstantResult": (),
    "GCSResult": ("bucket",),
    "LocalResult": ("dir",),
    "PrefectResult": (),
    "S3Result": ("bucket",),
    "SecretResult": ("secret_type",),
}
# Scheduled and its children, and Queued, carry a start time.
_START_TIME_TYPES = frozenset({"Scheduled", "Paused", "Resume", "Retrying", "Queued"})
_NESTED_STATE_TYPES = frozenset({"Submitted", "ClientFailed", "Queued"})


class InvalidState(ValidationFailed):
    """A state Core's StateSchema would refuse; the text mimics marshmallow's."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{{{field!r}: [{problem!r}]}}")


class StatePayloadTooLarge(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("State payload is too large.")


@dataclass(frozen=True, slots=True)
class ParsedState:
    type: str
    message: str | None
    # The state's own start time (Scheduled family and Queued), stored on the state row.
    start_time: dt.datetime | None
    serialized: dict[str, Any]


def check_size(state: Any, limit: int) -> None:
    """Refuse states whose JSON text exceeds ``limit`` bytes (Server 1: 1,000,000)."""
    if len(orjson.dumps(state)) > limit:
        raise StatePayloadTooLarge()


def parse_state(raw: Any, *, now: dt.datetime | None = None) -> ParsedState:
    """Validate ``raw`` as a serialised Prefect 1 state and return Core's re-serialisation."""
    now = now or utcnow()
    serialized = _state(raw, now)
    start = serialized.get("start_time")
    return ParsedState(
        type=serialized["type"],
        message=serialized["message"],
        start_time=_parse_datetime("start_time", start) if start else None,
        serialized=serialized,
    )


def _state(raw: Any, now: dt.datetime) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidState("_schema", "Invalid input type.")
    kind = raw.get("type")
    if kind is None:
        raise InvalidState("type", "Missing data for required field.")
    if isinstance(kind, list | dict):
        # Core's words for a type it cannot even look up.
        raise InvalidState("type", f"Invalid value: {kind}")
    if kind not in STATE_TYPES:
        raise InvalidState("type", f"Unsupported value: {kind}")
    message = raw.get("message")
    if message is not None and not isinstance(message, str):
        raise InvalidState("message", "Not a valid string.")
    context = raw.get("context")
    if context is None:
        context = {}
    elif not isinstance(context, dict):
        raise InvalidState("context", "Not a valid mapping type.")
    out: dict[str, Any] = {
        "type": kind,
        "message": message,
        "context": context,
        "cached_inputs": _cached_inputs(raw.get("cached_inputs")),
    }
    if kind != "Mapped":
        out["_result"] = _result("_result", raw.get("_result", _NO_RESULT))
    if kind in _START_TIME_TYPES:
        out["start_time"] = _start_time(kind, raw.get("start_time"), now)
    if kind in _NESTED_STATE_TYPES:
        nested = raw.get("state")
        out["state"] = None if nested is None else _state(nested, now)
    if kind == "Retrying":
        out["run_count"] = _int("run_count", raw.get("run_count"), default=1)
    elif kind == "Looped":
        out["loop_count"] = _int("loop_count", raw.get("loop_count", 1), default=None)
    elif kind == "Mapped":
        out["n_map_states"] = _int("n_map_states", raw.get("n_map_states", 0), default=None)
    elif kind == "Cached":
        expiration = raw.get("cached_result_expiration")
        out["cached_result_expiration"] = (
            None
            if expiration is None
            else _parse_datetime("cached_result_expiration", expiration).isoformat()
        )
        hashed = raw.get("hashed_inputs")
        if hashed is not None and not isinstance(hashed, dict):
            raise InvalidState("hashed_inputs", "Not a valid mapping type.")
        out["hashed_inputs"] = hashed
        out["cached_parameters"] = raw.get("cached_parameters")
    out["__version__"] = CORE_VERSION
    return out


_NO_RESULT: dict[str, Any] = {"type": "NoResultType"}


def _result(field: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        raise InvalidState(field, "Field may not be null.")
    if not isinstance(raw, dict):
        raise InvalidState(field, "Invalid input type.")
    kind = raw.get("type")
    if kind == "NoResultType":
        return {"type": "NoResultType", "__version__": CORE_VERSION}
    location = raw.get("location")
    if location is not None and not isinstance(location, str):
        raise InvalidState(field, "Not a valid string.")
    extra = _RESULT_KEYS.get(kind) if isinstance(kind, str) else None
    if extra is None:
        # Core cannot rebuild a custom result class and stores a plain Result instead.
        return {"type": "Result", "location": location, "__version__": CORE_VERSION}
    out: dict[str, Any] = {"type": kind, "location": location}
    for key in extra:
        out[key] = raw.get(key)
    out["__version__"] = CORE_VERSION
    return out


def _cached_inputs(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidState("cached_inputs", "Not a valid mapping type.")
    return {str(k): _result("cached_inputs", v) for k, v in raw.items()}


def _start_time(kind: str, raw: Any, now: dt.datetime) -> str | None:
    if raw is None:
        # Core's constructors default a missing start to "now", except Paused's.
        return None if kind == "Paused" else now.isoformat()
    return _parse_datetime("start_time", raw).isoformat()


def _int(field: str, raw: Any, *, default: int | None) -> int:
    if raw is None:
        if default is None:
            raise InvalidState(field, "Field may not be null.")
        return default
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidState(field, "Not a valid integer.")
    return raw


def _parse_datetime(field: str, raw: Any) -> dt.datetime:
    """ISO-8601; the offset is kept as sent (Core does), naive means UTC."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            raise InvalidState(field, "Not a valid datetime.") from None
    else:
        raise InvalidState(field, "Not a valid datetime.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value
