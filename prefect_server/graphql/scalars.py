"""GraphQL scalars: Hasura's lowercase ones and the action service's ``UUID``/``JSON``/``DateTime``.

Both sets coexist, as in Server 1's stitched schema, because clients declare
variables with these exact names. Output values are formatted as Hasura and
PostgreSQL emitted them, whichever database is underneath.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NewType, TypeAlias

import strawberry

from prefect_server.database.types import parse_timestamp
from prefect_server.utilities.ids import id_or_raise
from prefect_server.utilities.intervals import parse_interval


def format_timestamp(value: Any) -> str | None:
    """ISO-8601 with an offset; fractional seconds only when non-zero and without
    trailing zeros (``…T00:00:00.5+00:00``), as PostgreSQL writes them."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_timestamp(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    text = value.isoformat()
    if value.microsecond:
        clock, offset = text[:-6], text[-6:]
        text = clock.rstrip("0") + offset
    return text


def format_interval(value: Any) -> str | None:
    """PostgreSQL's text form of an interval: ``00:01:30``, ``1 day 00:00:30``."""
    if value is None:
        return None
    if not isinstance(value, dt.timedelta):
        return str(value)
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    days = value.days
    seconds = value.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"
    if value.microseconds:
        clock += f".{value.microseconds:06d}".rstrip("0")
    if days:
        return f"{sign}{days} day{'s' if days != 1 else ''} {clock}"
    return clock


def parse_uuid(value: Any) -> str:
    return str(id_or_raise(value, ValueError(f"Could not parse UUID: {value}")))


def parse_json_literal(value: Any) -> Any:
    # A JSON argument written inline as a string holds JSON text (Server 1's JSON scalar).
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_uuid_array(value: Any) -> list[str]:
    """``_uuid``: a PostgreSQL array literal such as ``{id1,id2}``, or a list."""
    if isinstance(value, list | tuple):
        return [parse_uuid(item) for item in value]
    text = str(value).strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"Could not parse _uuid array literal: {value}")
    body = text[1:-1].strip()
    if not body:
        return []
    return [parse_uuid(part.strip().strip('"')) for part in body.split(",")]


def _identity(value: Any) -> Any:
    return value


def _json_literal(node: Any, variables: dict[str, Any] | None = None) -> Any:
    from graphql import StringValueNode, value_from_ast_untyped

    if isinstance(node, StringValueNode):
        return parse_json_literal(node.value)
    return value_from_ast_untyped(node, variables)


def _str(value: Any) -> str:
    return str(value)


# Type checkers see what each scalar carries; Strawberry sees the scalar definitions.
if TYPE_CHECKING:
    uuid_scalar: TypeAlias = str
    timestamptz: TypeAlias = Any
    jsonb: TypeAlias = Any
    interval: TypeAlias = Any
    uuid_array: TypeAlias = Any
    bigint: TypeAlias = int
    numeric: TypeAlias = float
    float8: TypeAlias = float
    UUID: TypeAlias = str
    JSON: TypeAlias = Any
    DateTime: TypeAlias = Any
else:

    def _scalar(
        name: str, base: type, serialize: Callable[[Any], Any], parse_value: Callable[[Any], Any]
    ) -> Any:
        return strawberry.scalar(
            NewType(name, base), name=name, serialize=serialize, parse_value=parse_value
        )

    # Hasura's scalars.
    uuid_scalar = _scalar("uuid", str, _str, parse_uuid)
    timestamptz = _scalar("timestamptz", str, format_timestamp, parse_timestamp)
    jsonb = _scalar("jsonb", object, _identity, _identity)
    interval = _scalar("interval", str, format_interval, parse_interval)
    uuid_array = _scalar("_uuid", str, _str, parse_uuid_array)
    bigint = _scalar("bigint", int, int, int)
    numeric = _scalar("numeric", float, float, float)
    float8 = _scalar("float8", float, float, float)

    # The action service's scalars.
    UUID = _scalar("UUID", str, _str, parse_uuid)
    DateTime = _scalar("DateTime", str, format_timestamp, parse_timestamp)
    JSON = strawberry.scalar(
        NewType("JSON", object),
        name="JSON",
        serialize=_identity,
        parse_value=_identity,
        parse_literal=_json_literal,
    )
