"""Hasura's object types per table: columns, relationships and aggregates, with their resolvers.

Every resolver is generic: it turns its arguments into a ``Selection`` and asks the
request's ``Loaders``, which run one statement for all parents of a relationship.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from prefect_server.graphql.hasura.filters import FilterError
from prefect_server.graphql.hasura.inputs import SCALARS, existing, list_of, optional, ref, register
from prefect_server.graphql.hasura.metadata import Relationship, TableInfo, tables
from prefect_server.graphql.hasura.runtime import (
    ROOT,
    Loaders,
    Record,
    ordered_argument,
    plain,
    requested_columns,
)
from prefect_server.graphql.hasura.statements import Measure, Selection

STATISTICS = ("stddev", "stddev_pop", "stddev_samp", "var_pop", "var_samp", "variance")


@dataclass(frozen=True)
class AggregateSource:
    """What ``T_aggregate`` and ``T_aggregate_fields`` resolve against: rows and a parent key."""

    selection: Selection
    key: Any = ROOT


def list_arguments(table: str) -> list[tuple[str, Any]]:
    """The arguments every list of rows takes (root fields and array relationships)."""
    return [
        ("distinct_on", optional(list_of(existing(f"{table}_select_column")))),
        ("limit", int | None),
        ("offset", int | None),
        ("order_by", optional(list_of(existing(f"{table}_order_by")))),
        ("where", optional(existing(f"{table}_bool_exp"))),
    ]


def with_arguments(func: Callable[..., Any], arguments: list[tuple[str, Any]]) -> Any:
    """Give a generic resolver the GraphQL arguments Strawberry reads from its signature."""
    parameters = [
        inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(
            "info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=strawberry.Info
        ),
    ]
    for name, annotation in arguments:
        default = strawberry.UNSET
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    func.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return func


def make_selection(table: TableInfo, info: Any, kwargs: dict[str, Any], **extra: Any) -> Selection:
    def integer(name: str) -> int | None:
        value = kwargs.get(name, strawberry.UNSET)
        return None if value is strawberry.UNSET else value

    distinct = plain(kwargs.get("distinct_on", strawberry.UNSET)) or []
    return Selection(
        table=table,
        where=plain(kwargs.get("where", strawberry.UNSET)),
        order_by=ordered_argument(info, "order_by", kwargs.get("order_by", strawberry.UNSET)),
        limit=integer("limit"),
        offset=integer("offset"),
        distinct_on=tuple(distinct if isinstance(distinct, list) else [distinct]),
        **extra,
    )


def _object_relationship(rel: Relationship) -> Any:
    target = tables()[rel.target]

    async def resolve(root: Any, info: strawberry.Info) -> Any:
        key = getattr(root, rel.local)
        if key is None:
            return None
        selection = Selection(target, remote=rel.remote)
        rows = await Loaders.of(info).rows(selection, requested_columns(info, target), key)
        return rows[0] if rows else None

    return strawberry.field(
        resolver=with_arguments(resolve, []),
        name=rel.name,
        graphql_type=optional(ref(rel.target)),
    )


def _array_relationship(rel: Relationship) -> Any:
    target = tables()[rel.target]

    async def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> list[Record]:
        selection = make_selection(target, info, kwargs, remote=rel.remote)
        columns = requested_columns(info, target)
        return await Loaders.of(info).rows(selection, columns, getattr(root, rel.local))

    resolver = with_arguments(resolve, list_arguments(rel.target))
    return strawberry.field(resolver=resolver, name=rel.name, graphql_type=list_of(ref(rel.target)))


def _array_aggregate(rel: Relationship) -> Any:
    target = tables()[rel.target]

    def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> AggregateSource:
        selection = make_selection(target, info, kwargs, remote=rel.remote)
        return AggregateSource(selection, getattr(root, rel.local))

    resolver = with_arguments(resolve, list_arguments(rel.target))
    return strawberry.field(
        resolver=resolver, name=f"{rel.name}_aggregate", graphql_type=ref(f"{rel.target}_aggregate")
    )


def make_object(name: str, namespace: dict[str, Any], annotations: dict[str, Any]) -> type:
    namespace = {
        **namespace,
        "__annotations__": annotations,
        "__module__": "prefect_server.graphql.hasura.registry",
    }
    return register(strawberry.type(type(name, (), namespace), name=name))


def table_object(table: TableInfo) -> None:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for column in table.columns.values():
        scalar = SCALARS[column.scalar]
        annotations[column.name] = optional(scalar) if column.nullable else scalar
        namespace[column.name] = strawberry.field(name=column.name)
    for rel in table.relationships.values():
        if rel.is_array:
            namespace[rel.name] = _array_relationship(rel)
            namespace[f"{rel.name}_aggregate"] = _array_aggregate(rel)
        else:
            namespace[rel.name] = _object_relationship(rel)
    make_object(table.name, namespace, annotations)
    aggregate_types(table)


def _statistics_fields(table: TableInfo, fn: str) -> None:
    columns = table.numeric_columns() if fn not in ("max", "min") else table.comparable_columns()
    annotations: dict[str, Any] = {}
    for column in columns:
        scalar = table.columns[column].scalar
        if fn in ("max", "min", "sum"):
            annotations[column] = optional(SCALARS[scalar])
        else:
            annotations[column] = float | None
    make_object(
        f"{table.name}_{fn}_fields", {c: strawberry.field(name=c) for c in columns}, annotations
    )


def _measure_field(table: TableInfo, fn: str) -> Any:
    columns = table.numeric_columns() if fn not in ("max", "min") else table.comparable_columns()
    measures = tuple(Measure(column, fn, (column,)) for column in columns)

    async def resolve(root: AggregateSource, info: strawberry.Info) -> Record:
        return Record(await Loaders.of(info).aggregate(root.selection, measures, root.key))

    return strawberry.field(
        resolver=with_arguments(resolve, []),
        name=fn,
        graphql_type=optional(ref(f"{table.name}_{fn}_fields")),
    )


def aggregate_types(table: TableInfo) -> None:
    name = table.name

    async def count(root: AggregateSource, info: strawberry.Info, **kwargs: Any) -> int:
        columns = tuple(plain(kwargs.get("columns", strawberry.UNSET)) or ())
        distinct = bool(plain(kwargs.get("distinct", strawberry.UNSET)))
        if distinct and not columns:
            raise FilterError("count(distinct: true) needs the columns to count")
        measure = Measure("count", "count", columns, distinct)
        values = await Loaders.of(info).aggregate(root.selection, (measure,), root.key)
        return int(values["count"] or 0)

    count_resolver = with_arguments(
        count,
        [
            ("columns", optional(list_of(existing(f"{name}_select_column")))),
            ("distinct", bool | None),
        ],
    )
    namespace: dict[str, Any] = {
        "count": strawberry.field(resolver=count_resolver, name="count", graphql_type=int)
    }
    functions = ["max", "min"] if table.comparable_columns() else []
    if table.numeric_columns():
        functions += ["avg", "sum", *STATISTICS]
    for fn in functions:
        _statistics_fields(table, fn)
        namespace[fn] = _measure_field(table, fn)
    make_object(f"{name}_aggregate_fields", namespace, {})

    def aggregate(root: AggregateSource) -> AggregateSource:
        return root

    async def nodes(root: AggregateSource, info: strawberry.Info) -> list[Record]:
        columns = requested_columns(info, table)
        return await Loaders.of(info).rows(root.selection, columns, root.key)

    aggregate_field = strawberry.field(
        resolver=aggregate,
        name="aggregate",
        graphql_type=optional(ref(f"{name}_aggregate_fields")),
    )
    nodes_field = strawberry.field(
        resolver=with_arguments(nodes, []), name="nodes", graphql_type=list_of(ref(name))
    )
    make_object(f"{name}_aggregate", {"aggregate": aggregate_field, "nodes": nodes_field}, {})
