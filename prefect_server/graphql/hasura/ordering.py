"""``[T_order_by!]`` -> ORDER BY terms with PostgreSQL's null placement on both databases.

PostgreSQL sorts NULL as larger than any value: ``asc`` puts nulls last and
``desc`` puts them first. SQLite does the opposite by default, so every term
states its placement explicitly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.sql import FromClause

from prefect_server.graphql.hasura.filters import FilterError
from prefect_server.graphql.hasura.metadata import TableInfo, tables

DIRECTIONS = (
    "asc",
    "asc_nulls_first",
    "asc_nulls_last",
    "desc",
    "desc_nulls_first",
    "desc_nulls_last",
)
AGGREGATE_ORDER_FUNCTIONS = ("max", "min", "sum", "avg")

Term = tuple[ColumnElement[Any], str]


def order_terms(table: TableInfo, alias: FromClause, order_by: Any, depth: int = 0) -> list[Term]:
    if not order_by:
        return []
    items = order_by if isinstance(order_by, list) else [order_by]
    terms: list[Term] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise FilterError(f"Expected an object for {table.name}_order_by, got {item!r}")
        for key, value in item.items():
            terms.extend(_key_terms(table, alias, key, value, depth))
    return terms


def _key_terms(table: TableInfo, alias: FromClause, key: str, value: Any, depth: int) -> list[Term]:
    if value is None:
        return []
    if key in table.columns:
        return [(alias.c[key], _direction(value))]
    if key in table.relationships and not table.relationships[key].is_array:
        rel = table.relationships[key]
        target = tables()[rel.target]
        related = target.from_clause(depth=depth + 1)
        # Each nested term becomes a scalar subquery over the one related row.
        return [
            (
                select(expr)
                .where(related.c[rel.remote] == alias.c[rel.local])
                .limit(1)
                .scalar_subquery(),
                direction,
            )
            for expr, direction in order_terms(target, related, value, depth + 1)
        ]
    if key.endswith("_aggregate") and key[: -len("_aggregate")] in table.relationships:
        rel = table.relationships[key[: -len("_aggregate")]]
        if rel.is_array:
            return _aggregate_terms(table, alias, rel.name, value, depth)
    raise FilterError(f"field \"{key}\" not found in type: '{table.name}_order_by'")


def _aggregate_terms(
    table: TableInfo, alias: FromClause, rel_name: str, value: Any, depth: int
) -> list[Term]:
    rel = table.relationships[rel_name]
    target = tables()[rel.target]
    terms: list[Term] = []
    for fn, spec in value.items():
        if spec is None:
            continue
        if fn == "count":
            exprs = [(func.count(), _direction(spec))]
        elif fn in AGGREGATE_ORDER_FUNCTIONS:
            exprs = []
            for column, direction in spec.items():
                if direction is None:
                    continue
                if column not in target.columns:
                    raise FilterError(f'field "{column}" not found in type: {rel.target}')
                exprs.append((column, direction))
        else:
            raise FilterError(f'field "{fn}" not found in type: {rel.target}_aggregate_order_by')
        for expr, direction in exprs:
            related = target.from_clause(depth=depth + 1)
            measured = getattr(func, fn)(related.c[expr]) if isinstance(expr, str) else expr
            subquery = (
                select(measured)
                .select_from(related)
                .where(related.c[rel.remote] == alias.c[rel.local])
                .scalar_subquery()
            )
            terms.append((subquery, _direction(direction)))
    return terms


def _direction(value: Any) -> str:
    direction = getattr(value, "value", value)
    if direction not in DIRECTIONS:
        raise FilterError(f"Unknown order_by direction: {direction!r}")
    return str(direction)


def apply_direction(expr: Any, direction: str) -> Any:
    ordered = expr.desc() if direction.startswith("desc") else expr.asc()
    nulls_first = direction.endswith("nulls_first") or direction == "desc"
    return ordered.nulls_first() if nulls_first else ordered.nulls_last()
