"""``T_bool_exp`` -> a SQL condition, with Hasura v1's null collapse.

Server 1 ran Hasura with ``V1_BOOLEAN_NULL_COLLAPSE``: an operator whose value is
null (or an unset variable) is TRUE, and so is an empty ``{}``. The UI and the
client send such filters all the time. ``None`` stands for TRUE throughout.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, literal, not_, or_, select, true
from sqlalchemy.sql import FromClause

from prefect_server.database.dialect import Dialect
from prefect_server.database.sqlite_json import similar_to_regex
from prefect_server.graphql.hasura.bounds import FilterError, check_filter
from prefect_server.graphql.hasura.metadata import ColumnInfo, TableInfo, tables
from prefect_server.utilities.ids import id_or_raise

__all__ = ["Condition", "FilterError", "where_clause"]

Condition = ColumnElement[bool] | None


def where_clause(
    table: TableInfo, alias: FromClause, where: Any, dialect: Dialect, depth: int = 0
) -> Condition:
    """The condition of ``where`` (the argument of that name), checked against ``bounds``."""
    check_filter(where)
    return _where(table, alias, where, dialect, depth)


def _where(
    table: TableInfo, alias: FromClause, where: Any, dialect: Dialect, depth: int
) -> Condition:
    if not where:
        return None
    if not isinstance(where, dict):
        raise FilterError(f"Expected an object for {table.name}_bool_exp, got {where!r}")
    parts: list[ColumnElement[bool]] = []
    for key, value in where.items():
        condition = _key_condition(table, alias, key, value, dialect, depth)
        if condition is not None:
            parts.append(condition)
    return _all(parts)


def _all(parts: list[ColumnElement[bool]]) -> Condition:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else and_(*parts)


def _key_condition(
    table: TableInfo, alias: FromClause, key: str, value: Any, dialect: Dialect, depth: int
) -> Condition:
    if value is None:
        return None
    if key == "_and":
        items = value if isinstance(value, list) else [value]
        found = [_where(table, alias, item, dialect, depth) for item in items]
        return _all([c for c in found if c is not None])
    if key == "_or":
        items = value if isinstance(value, list) else [value]
        found = [_where(table, alias, item, dialect, depth) for item in items]
        if not found:
            return false()
        if any(c is None for c in found):
            # One collapsed (TRUE) alternative makes the whole disjunction TRUE.
            return None
        return or_(*found)  # type: ignore[arg-type]
    if key == "_not":
        inner = _where(table, alias, value, dialect, depth)
        return false() if inner is None else not_(inner)
    if key in table.columns:
        return _column_condition(table.columns[key], alias.c[key], value, dialect)
    if key in table.relationships:
        rel = table.relationships[key]
        target = tables()[rel.target]
        related = target.from_clause(depth=depth + 1)
        join = related.c[rel.remote] == alias.c[rel.local]
        inner = _where(target, related, value, dialect, depth + 1)
        condition = join if inner is None else and_(join, inner)
        return exists(select(literal(1)).select_from(related).where(condition))
    raise FilterError(f"field \"{key}\" not found in type: '{table.name}_bool_exp'")


def _bind_value(column: ColumnInfo, value: Any) -> Any:
    if column.scalar == "uuid" and value is not None and not isinstance(value, uuid.UUID):
        return id_or_raise(value, ValueError(f"Could not parse UUID: {value}"))
    return value


def _column_condition(column: ColumnInfo, expr: Any, ops: Any, dialect: Dialect) -> Condition:
    if not isinstance(ops, dict):
        raise FilterError(f"Expected a comparison object for column {column.name}, got {ops!r}")
    parts: list[ColumnElement[bool]] = []
    for op, raw in ops.items():
        if raw is None:
            continue
        parts.append(_operator(column, expr, op, raw, dialect))
    return _all(parts)


def _operator(
    column: ColumnInfo, expr: Any, op: str, raw: Any, dialect: Dialect
) -> ColumnElement[bool]:
    if op == "_is_null":
        return expr.is_(None) if raw else expr.is_not(None)
    if column.scalar == "jsonb":
        return _json_operator(expr, op, raw, dialect)
    if op in ("_in", "_nin"):
        values = [_bind_value(column, v) for v in (raw if isinstance(raw, list) else [raw])]
        return expr.in_(values) if op == "_in" else expr.not_in(values)
    value = _bind_value(column, raw)
    if isinstance(value, bool):
        # SQLAlchemy allows only = and != against Python's True/False; both databases
        # order false before true, as Hasura's Boolean_comparison_exp does.
        value = literal(value, expr.type)
    comparisons = {
        "_eq": expr.__eq__,
        "_neq": expr.__ne__,
        "_gt": expr.__gt__,
        "_gte": expr.__ge__,
        "_lt": expr.__lt__,
        "_lte": expr.__le__,
    }
    if op in comparisons:
        return comparisons[op](value)
    if column.scalar == "String":
        if op in ("_like", "_nlike", "_ilike", "_nilike"):
            matched = dialect.text_like(expr, value, insensitive="ilike" in op)
            return not_(matched) if op.startswith("_n") else matched
        if op in ("_similar", "_nsimilar"):
            try:
                # A pattern no database can use is refused with a sentence, not a SQL error.
                similar_to_regex(value)
            except re.error as error:
                raise FilterError(f"Invalid SIMILAR TO pattern {value!r}: {error}") from None
            matched = dialect.text_similar(expr, value)
            return not_(matched) if op == "_nsimilar" else matched
    raise FilterError(f"field \"{op}\" not found in type: '{column.scalar}_comparison_exp'")


def _json_operator(expr: Any, op: str, value: Any, dialect: Dialect) -> ColumnElement[bool]:
    if op == "_eq":
        return dialect.json_equals(expr, value)
    if op == "_neq":
        return not_(dialect.json_equals(expr, value))
    if op in ("_in", "_nin"):
        values = value if isinstance(value, list) else [value]
        matched = or_(false(), *(dialect.json_equals(expr, v) for v in values))
        return matched if op == "_in" else not_(matched)
    if op == "_contains":
        return dialect.json_contains(expr, value)
    if op == "_contained_in":
        return dialect.json_contained_in(expr, value)
    if op == "_has_key":
        return dialect.json_has_key(expr, value)
    if op in ("_has_keys_any", "_has_keys_all"):
        keys = value if isinstance(value, list) else [value]
        if not keys:
            return true() if op == "_has_keys_all" else false()
        return dialect.json_has_keys(expr, keys, every=op == "_has_keys_all")
    raise FilterError(f"Operator {op} is not supported on jsonb column values")
