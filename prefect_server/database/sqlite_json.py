"""PostgreSQL's text and jsonb comparisons, composed for SQLite.

Hasura's operators (``_ilike``, ``_similar``, ``_contains``, ``_has_key``…) are native
on PostgreSQL. On SQLite they are built from json_each/json_type and two deterministic
functions registered on every connection, so both databases answer the same question
the same way. Values are always bound, never spliced.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)

from prefect_server.database.dialect import LIKE_ESCAPE


def register_functions(dbapi_connection: Any) -> None:
    """Called on every new SQLite connection."""
    dbapi_connection.create_function("pg_lower", 1, _pg_lower, deterministic=True)
    dbapi_connection.create_function("pg_similar", 2, _pg_similar, deterministic=True)


def _pg_lower(value: Any) -> Any:
    # SQLite's lower() folds ASCII only; PostgreSQL's ILIKE folds every letter.
    return value.lower() if isinstance(value, str) else value


def _pg_similar(value: Any, pattern: Any) -> Any:
    if value is None or pattern is None:
        return None
    return 1 if similar_to_regex(str(pattern)).fullmatch(str(value)) else 0


@functools.lru_cache(maxsize=256)
def similar_to_regex(pattern: str) -> re.Pattern[str]:
    """PostgreSQL's SIMILAR TO pattern as a Python regular expression."""
    out: list[str] = []
    chars = iter(pattern)
    in_class = False
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif in_class:
            out.append(char)
            in_class = char != "]"
        elif char == "[":
            out.append(char)
            in_class = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char in "|*+?{}(),0123456789":
            out.append(char)
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def text_like(column: Any, pattern: str, *, insensitive: bool) -> ColumnElement[bool]:
    if insensitive:
        return func.pg_lower(column).like(func.pg_lower(pattern), escape=LIKE_ESCAPE)
    # SQLite's LIKE ignores case; GLOB does not, so a LIKE pattern becomes a GLOB one.
    return column.op("GLOB")(like_to_glob(pattern))  # type: ignore[no-any-return]


def like_to_glob(pattern: str) -> str:
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            literal = next(chars, "\\")
            out.append(f"[{literal}]" if literal in "*?[" else literal)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def text_similar(column: Any, pattern: str) -> ColumnElement[bool]:
    return func.pg_similar(column, pattern) == 1


def _json_type_name(value: Any) -> str:
    # SQLite's json_type() names.
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "object"
    return "array"


def key_path(path: str, key: str) -> str:
    return f"{path}.{json.dumps(key)}"


def _each(doc: Any, *path: str) -> Any:
    return func.json_each(doc, *path).table_valued("key", "value", "type", "atom").alias()


def _scalar_match(type_expr: Any, atom_expr: Any, value: Any) -> ColumnElement[bool]:
    kind = _json_type_name(value)
    if kind in ("integer", "real"):
        # PostgreSQL compares jsonb numbers by value: 1 = 1.0.
        return and_(type_expr.in_(("integer", "real")), atom_expr == value)
    if kind in ("text",):
        return and_(type_expr == "text", atom_expr == value)
    return type_expr == kind


def contains(doc: Any, path: str, value: Any) -> ColumnElement[bool]:
    """``doc`` at ``path`` contains ``value`` as jsonb ``@>`` defines it."""
    if isinstance(value, dict):
        return and_(
            func.json_type(doc, path) == "object",
            *(contains(doc, key_path(path, k), v) for k, v in value.items()),
        )
    if isinstance(value, list):
        return and_(
            func.json_type(doc, path) == "array",
            *(_some_element(doc, path, item) for item in value),
        )
    return _scalar_match(func.json_type(doc, path), func.json_extract(doc, path), value)


def _some_element(doc: Any, path: str, item: Any) -> ColumnElement[bool]:
    each = _each(doc, path)
    match: ColumnElement[bool]
    if isinstance(item, dict | list):
        # CASE keeps json_type() away from element values that are not JSON text.
        match = case(
            (each.c.type.in_(("object", "array")), contains(each.c.value, "$", item)),
            else_=false(),
        )
    else:
        match = _scalar_match(each.c.type, each.c.atom, item)
    return exists(select(literal(1)).select_from(each).where(match))


def contained_in(doc: Any, path: str, value: Any) -> ColumnElement[bool]:
    """``doc`` at ``path`` is contained in ``value`` as jsonb ``<@`` defines it."""
    each = _each(doc, path)
    if isinstance(value, dict):
        allowed = [and_(each.c.key == k, _element_within(each, v)) for k, v in value.items()]
        kind = "object"
    elif isinstance(value, list):
        allowed = [_element_within(each, v) for v in value]
        kind = "array"
    else:
        return _scalar_match(func.json_type(doc, path), func.json_extract(doc, path), value)
    stray = select(literal(1)).select_from(each).where(not_(or_(false(), *allowed)))
    return and_(func.json_type(doc, path) == kind, not_(exists(stray)))


def _element_within(each: Any, value: Any) -> ColumnElement[bool]:
    if isinstance(value, dict | list):
        return case(
            (each.c.type.in_(("object", "array")), contained_in(each.c.value, "$", value)),
            else_=false(),
        )
    return _scalar_match(each.c.type, each.c.atom, value)


def equals(column: Any, value: Any) -> ColumnElement[bool]:
    # Equal jsonb values contain each other (key order and spacing do not matter).
    if isinstance(value, dict | list):
        return and_(contains(column, "$", value), contained_in(column, "$", value))
    return contains(column, "$", value)


def has_key(column: Any, key: str) -> ColumnElement[bool]:
    """jsonb ``?``: a top-level object key, or a string element of a top-level array."""
    return or_(
        and_(
            func.json_type(column) == "object",
            func.json_type(column, key_path("$", key)).is_not(None),
        ),
        and_(func.json_type(column) == "array", array_has(column, key)),
    )


def array_has(column: Any, value: Any) -> ColumnElement[bool]:
    """``column``, a JSON array, has the string ``value`` as an element."""
    each = _each(column)
    return exists(
        select(literal(1)).select_from(each).where(each.c.type == "text", each.c.atom == value)
    )


def flag_is_false(column: Any, key: str) -> ColumnElement[bool]:
    """``column`` (a JSON object) holds ``key: false`` — the boolean."""
    return func.json_type(column, f'$."{key}"') == "false"
