"""Every difference between PostgreSQL and SQLite lives here.

Everything else in the project is written once for both databases and asks this
module for the few constructs that differ: upserts, row locks and JSON operators.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# What domain functions take: an ORM session, or a Core connection where no ORM is
# needed (the task-run hot path, Database.core_transaction).
Executor = AsyncSession | AsyncConnection


def dialect_name(session: Executor) -> str:
    if isinstance(session, AsyncConnection):
        return session.dialect.name
    return session.get_bind().dialect.name


async def connection(session: Executor) -> AsyncConnection:
    """The Core connection of ``session`` (itself, when it is one)."""
    if isinstance(session, AsyncConnection):
        return session
    return await session.connection()


def insert(session: Executor, table: Any) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing``/``on_conflict_do_update``."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_Select = TypeVar("_Select", bound=Select)  # type: ignore[type-arg]


def for_update(session: Executor, stmt: _Select) -> _Select:
    """Lock the selected rows until commit.

    SQLite has no row locks: there the write transaction itself is the lock, since
    the Database serialises writers (see Database.transaction).
    """
    if dialect_name(session) == "postgresql":
        return stmt.with_for_update()
    return stmt


@asynccontextmanager
async def advisory_lock(connection: AsyncConnection, key: int) -> AsyncIterator[bool]:
    """Try to hold a database-wide lock named by ``key`` for the block; yield whether we got it.

    PostgreSQL: a session advisory lock on ``connection``, so several server processes
    on one database agree on who runs a job; it is released when the block ends or when
    the connection dies with its process. SQLite: always granted, since one SQLite file
    is served by one process.
    """
    if connection.dialect.name != "postgresql":
        yield True
        return
    acquired = bool(await connection.scalar(select(func.pg_try_advisory_lock(key))))
    # A session lock outlives the implicit transaction; ending it keeps the connection
    # from sitting idle in a transaction (holding a snapshot) for the whole pass.
    await connection.commit()
    try:
        yield acquired
    finally:
        if acquired:
            await connection.scalar(select(func.pg_advisory_unlock(key)))
            await connection.commit()


async def transaction_lock(connection: AsyncConnection, key: int) -> None:
    """Wait until the current transaction holds a database-wide lock named by ``key``.

    PostgreSQL: a transaction advisory lock, released at commit or rollback (so
    replicas starting together run the migrations one after the other). SQLite:
    nothing to do, one SQLite file is served by one process.
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(select(func.pg_advisory_xact_lock(key)))


def json_flag_is_false(session: AsyncSession, column: Any, key: str) -> ColumnElement[bool]:
    """``column`` (a JSON object) holds ``key: false`` — the boolean, not a string or null.

    Server 1 asked Hasura for ``settings _contains {key: false}``, i.e. jsonb ``@>``.
    """
    if dialect_name(session) == "postgresql":
        return column.op("@>")(literal({key: False}, postgresql.JSONB))  # type: ignore[no-any-return]
    return func.json_type(column, f'$."{key}"') == "false"


# --- Operators of the generated GraphQL layer (Hasura's text and jsonb comparisons) ---
#
# PostgreSQL has them natively; on SQLite they are composed from json_each/json_type
# and two deterministic functions registered on every connection, so both databases
# answer the same question the same way. Values are always bound, never spliced.

LIKE_ESCAPE = "\\"


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Called on every new SQLite connection (see engine.py)."""
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


def text_like(
    dialect: str, column: Any, pattern: str, *, insensitive: bool = False
) -> ColumnElement[bool]:
    """``column LIKE pattern`` (or ILIKE) with PostgreSQL's case rules and ``\\`` escapes."""
    if dialect == "postgresql":
        if insensitive:
            return column.ilike(pattern, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
        return column.like(pattern, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
    if insensitive:
        return func.pg_lower(column).like(func.pg_lower(pattern), escape=LIKE_ESCAPE)
    # SQLite's LIKE ignores case; GLOB does not, so a LIKE pattern becomes a GLOB one.
    return column.op("GLOB")(_like_to_glob(pattern))  # type: ignore[no-any-return]


def _like_to_glob(pattern: str) -> str:
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


def text_similar(dialect: str, column: Any, pattern: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column.op("SIMILAR TO")(pattern)  # type: ignore[no-any-return]
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


def _key_path(path: str, key: str) -> str:
    return f"{path}.{json.dumps(key)}"


def _sqlite_scalar_match(type_expr: Any, atom_expr: Any, value: Any) -> ColumnElement[bool]:
    kind = _json_type_name(value)
    if kind in ("integer", "real"):
        # PostgreSQL compares jsonb numbers by value: 1 = 1.0.
        return and_(type_expr.in_(("integer", "real")), atom_expr == value)
    if kind in ("text",):
        return and_(type_expr == "text", atom_expr == value)
    return type_expr == kind


def _sqlite_contains(doc: Any, path: str, value: Any) -> ColumnElement[bool]:
    """``doc`` at ``path`` contains ``value`` as jsonb ``@>`` defines it."""
    if isinstance(value, dict):
        return and_(
            func.json_type(doc, path) == "object",
            *(_sqlite_contains(doc, _key_path(path, k), v) for k, v in value.items()),
        )
    if isinstance(value, list):
        return and_(
            func.json_type(doc, path) == "array",
            *(_sqlite_some_element(doc, path, item, _sqlite_contains) for item in value),
        )
    return _sqlite_scalar_match(func.json_type(doc, path), func.json_extract(doc, path), value)


def _sqlite_some_element(doc: Any, path: str, item: Any, nested: Any) -> ColumnElement[bool]:
    each = func.json_each(doc, path).table_valued("key", "value", "type", "atom").alias()
    match: ColumnElement[bool]
    if isinstance(item, dict | list):
        # CASE keeps json_type() away from element values that are not JSON text.
        match = case(
            (each.c.type.in_(("object", "array")), nested(each.c.value, "$", item)),
            else_=false(),
        )
    else:
        match = _sqlite_scalar_match(each.c.type, each.c.atom, item)
    return exists(select(literal(1)).select_from(each).where(match))


def _sqlite_contained_in(doc: Any, path: str, value: Any) -> ColumnElement[bool]:
    """``doc`` at ``path`` is contained in ``value`` as jsonb ``<@`` defines it."""
    each = func.json_each(doc, path).table_valued("key", "value", "type", "atom").alias()
    if isinstance(value, dict):
        allowed = [and_(each.c.key == k, _sqlite_element_within(each, v)) for k, v in value.items()]
        kind = "object"
    elif isinstance(value, list):
        allowed = [_sqlite_element_within(each, v) for v in value]
        kind = "array"
    else:
        return _sqlite_scalar_match(func.json_type(doc, path), func.json_extract(doc, path), value)
    stray = select(literal(1)).select_from(each).where(not_(or_(false(), *allowed)))
    return and_(func.json_type(doc, path) == kind, not_(exists(stray)))


def _sqlite_element_within(each: Any, value: Any) -> ColumnElement[bool]:
    if isinstance(value, dict | list):
        return case(
            (each.c.type.in_(("object", "array")), _sqlite_contained_in(each.c.value, "$", value)),
            else_=false(),
        )
    return _sqlite_scalar_match(each.c.type, each.c.atom, value)


def _jsonb(value: Any) -> Any:
    # A bound jsonb parameter; the driver encodes it once (a cast of json text would encode twice).
    return literal(value, postgresql.JSONB)


def json_contains(dialect: str, column: Any, value: Any) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column.op("@>")(_jsonb(value))  # type: ignore[no-any-return]
    return _sqlite_contains(column, "$", value)


def json_contained_in(dialect: str, column: Any, value: Any) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column.op("<@")(_jsonb(value))  # type: ignore[no-any-return]
    return _sqlite_contained_in(column, "$", value)


def json_equals(dialect: str, column: Any, value: Any) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return column.op("=")(_jsonb(value))  # type: ignore[no-any-return]
    # Equal jsonb values contain each other (key order and spacing do not matter).
    if isinstance(value, dict | list):
        return and_(_sqlite_contains(column, "$", value), _sqlite_contained_in(column, "$", value))
    return _sqlite_contains(column, "$", value)


def json_has_key(dialect: str, column: Any, key: str) -> ColumnElement[bool]:
    """jsonb ``?``: a top-level object key, or a string element of a top-level array."""
    if dialect == "postgresql":
        return column.op("?")(key)  # type: ignore[no-any-return]
    each = func.json_each(column).table_valued("key", "value", "type", "atom").alias()
    in_array = exists(
        select(literal(1)).select_from(each).where(each.c.type == "text", each.c.atom == key)
    )
    return or_(
        and_(
            func.json_type(column) == "object",
            func.json_type(column, _key_path("$", key)).is_not(None),
        ),
        and_(func.json_type(column) == "array", in_array),
    )


def json_array_has(dialect: str, column: Any, value: Any) -> ColumnElement[bool]:
    """``column``, a JSON array, has the string ``value`` (a bound parameter or a string)
    as an element: jsonb ``?`` (served by a GIN index) on PostgreSQL."""
    # Text, not the column's JSON type: the driver must not encode the name as JSON.
    value = type_coerce(value, String())
    if dialect == "postgresql":
        return column.op("?")(value)  # type: ignore[no-any-return]
    each = func.json_each(column).table_valued("key", "value", "type", "atom").alias()
    return exists(
        select(literal(1)).select_from(each).where(each.c.type == "text", each.c.atom == value)
    )


def json_has_keys(
    dialect: str, column: Any, keys: list[str], *, every: bool
) -> ColumnElement[bool]:
    """jsonb ``?&`` (every) or ``?|`` (any)."""
    if dialect == "postgresql":
        operator = "?&" if every else "?|"
        return column.op(operator)(cast(list(keys), postgresql.ARRAY(String)))  # type: ignore[no-any-return]
    tests = [json_has_key(dialect, column, key) for key in keys]
    return and_(true(), *tests) if every else or_(false(), *tests)


def variance(dialect: str, column: Any, *, sample: bool) -> ColumnElement[Any]:
    """var_samp / var_pop; SQLite has neither, so they are computed from sums."""
    if dialect == "postgresql":
        return (func.var_samp if sample else func.var_pop)(column)  # type: ignore[no-any-return]
    n = func.count(column) * 1.0
    spread = func.sum(column * column * 1.0) - func.sum(column * 1.0) * func.sum(column * 1.0) / n
    divisor = func.nullif(n - 1, 0) if sample else func.nullif(n, 0)
    return spread / divisor


def stddev(dialect: str, column: Any, *, sample: bool) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return (func.stddev_samp if sample else func.stddev_pop)(column)  # type: ignore[no-any-return]
    # Rounding can leave a tiny negative spread for equal values; sqrt must not see it.
    return func.sqrt(func.max(variance(dialect, column, sample=sample), 0.0))


def row_value(dialect: str, columns: list[Any]) -> Any:
    """A single value standing for several columns (``count(distinct (a, b))``)."""
    if dialect == "postgresql":
        return tuple_(*columns)
    return func.json_array(*columns)


def insert_then_update(session: Executor, insert_stmt: Any, update_stmt: Any) -> list[Any]:
    """An INSERT and an UPDATE of another table, as few statements as the database allows.

    PostgreSQL runs the insert as a data-modifying CTE of the update: one round trip
    (used by every state write: the state row and its run's columns). The insert must
    give every column a value (no Python-side defaults inside a CTE).
    """
    if dialect_name(session) == "postgresql":
        return [update_stmt.add_cte(insert_stmt.cte("inserted"))]
    return [insert_stmt, update_stmt]
