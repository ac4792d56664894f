"""The Hasura-compatible API, generated from the models' metadata.

For every table ``T`` (``metadata.tables()``): root fields ``T``, ``T_aggregate`` and
``T_by_pk``, with Hasura v2's type names; plus Server 1's two traversal functions.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry

from prefect_server.graphql import scalars
from prefect_server.graphql.hasura import inputs, mutation_inputs, mutations, objects
from prefect_server.graphql.hasura.inputs import existing, list_of, optional, ref
from prefect_server.graphql.hasura.metadata import TableInfo, tables
from prefect_server.graphql.hasura.objects import (
    AggregateSource,
    list_arguments,
    make_selection,
    with_arguments,
)
from prefect_server.graphql.hasura.runtime import Loaders, Record, requested_columns
from prefect_server.graphql.hasura.statements import Selection

FUNCTIONS = {"utility_downstream_tasks": "downstream", "utility_upstream_tasks": "upstream"}


def _rows_field(table: TableInfo, name: str, function: str | None = None) -> Any:
    arguments = list_arguments(table.name)
    if function is not None:
        arguments.insert(0, ("args", existing(f"{name}_args")))

    async def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> list[Record]:
        selection = make_selection(
            table, info, kwargs, function_args=_function_args(function, kwargs)
        )
        return await Loaders.of(info).rows(selection, requested_columns(info, table))

    return strawberry.field(
        resolver=with_arguments(resolve, arguments),
        name=name,
        graphql_type=list_of(ref(table.name)),
    )


def _aggregate_field(table: TableInfo, name: str, function: str | None = None) -> Any:
    arguments = list_arguments(table.name)
    if function is not None:
        arguments.insert(0, ("args", existing(f"{name.removesuffix('_aggregate')}_args")))

    def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> AggregateSource:
        selection = make_selection(
            table, info, kwargs, function_args=_function_args(function, kwargs)
        )
        return AggregateSource(selection)

    return strawberry.field(
        resolver=with_arguments(resolve, arguments),
        name=name,
        graphql_type=ref(f"{table.name}_aggregate"),
    )


def _by_pk_field(table: TableInfo) -> Any:
    async def resolve(root: Any, info: strawberry.Info, **kwargs: Any) -> Record | None:
        selection = Selection(table, where={"id": {"_eq": kwargs["id"]}})
        rows = await Loaders.of(info).rows(selection, requested_columns(info, table))
        return rows[0] if rows else None

    return strawberry.field(
        resolver=with_arguments(resolve, [("id", scalars.uuid_scalar)]),
        name=f"{table.name}_by_pk",
        graphql_type=optional(ref(table.name)),
    )


def _function_args(function: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    if function is None:
        return {}
    from prefect_server.graphql.hasura.runtime import plain

    return {"function": function, **(plain(kwargs.get("args")) or {})}


# Tables Server 1's Hasura never had (Cloud's concurrency limits): no script needs their
# generated writes, which would skip the actions' checks (a blank name, no tenant).
DOMAIN_WRITES_ONLY = frozenset({"task_tag_limit", "flow_label_limit"})


@cache
def _build() -> tuple[type, type]:
    inputs.order_by_enum()
    inputs.comparison_inputs()
    namespace: dict[str, Any] = {}
    for name, table in tables().items():
        inputs.table_inputs(table)
        if name != "utility_traversal":
            mutation_inputs.table_mutation_inputs(table)
    for name in FUNCTIONS:
        inputs.function_args_input(name)
    writes: dict[str, Any] = {}
    for name, table in tables().items():
        objects.table_object(table)
        if name == "utility_traversal":
            continue
        mutations.response_type(table)
        if name not in DOMAIN_WRITES_ONLY:
            writes.update(mutations.mutation_fields(table))
        namespace[name] = _rows_field(table, name)
        namespace[f"{name}_aggregate"] = _aggregate_field(table, f"{name}_aggregate")
        if table.has_pk:
            namespace[f"{name}_by_pk"] = _by_pk_field(table)
    traversal = tables()["utility_traversal"]
    for name, direction in FUNCTIONS.items():
        namespace[name] = _rows_field(traversal, name, direction)
        namespace[f"{name}_aggregate"] = _aggregate_field(traversal, f"{name}_aggregate", direction)
    # Server 1's stitched schema let the Python service win where both defined a field
    # (delete_agent, delete_flow_run, delete_project…): the action keeps the name.
    actions_defined = _action_mutation_names()
    writes = {k: v for k, v in writes.items() if k not in actions_defined}
    query = strawberry.type(type("HasuraQuery", (), namespace), name="HasuraQuery")
    mutation = strawberry.type(type("HasuraMutation", (), writes), name="HasuraMutation")
    return query, mutation


def _action_mutation_names() -> set[str]:
    from strawberry.types.base import has_object_definition

    from prefect_server.graphql import actions

    names: set[str] = set()
    for root in actions.mutation_types():
        if has_object_definition(root):
            names.update(f.name for f in root.__strawberry_definition__.fields)
    return names


def query_types() -> list[type]:
    return [_build()[0]]


def mutation_types() -> list[type]:
    return [_build()[1]]
