"""Hasura's input types and enums, generated per table under Hasura's exact names.

Clients declare variables with these names (``flow_run_bool_exp``, ``[task_run_order_by!]``,
``timestamptz_comparison_exp``…), so a different name fails their validation.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Optional

import strawberry

from prefect_server.graphql import scalars
from prefect_server.graphql.hasura import registry
from prefect_server.graphql.hasura.metadata import TableInfo

SCALARS: dict[str, Any] = {
    "uuid": scalars.uuid_scalar,
    "timestamptz": scalars.timestamptz,
    "interval": scalars.interval,
    "jsonb": scalars.jsonb,
    "String": str,
    "Int": int,
    "Boolean": bool,
}
BASE_OPERATORS = ("_eq", "_neq", "_gt", "_gte", "_lt", "_lte")
TEXT_OPERATORS = ("_like", "_nlike", "_ilike", "_nilike", "_similar", "_nsimilar")
AGGREGATE_ORDER_FUNCTIONS = ("avg", "max", "min", "sum")


def ref(name: str) -> Any:
    """A reference to a generated object type, resolved when the schema is built (they nest in cycles)."""
    return Annotated[name, strawberry.lazy(registry.__name__)]


def list_of(item: Any) -> Any:
    """``list[item]`` for a type only known at run time."""
    return list[item]


def optional(item: Any) -> Any:
    """``Optional[item]`` for a type only known at run time."""
    return Optional[item]  # noqa: UP045


def forward(name: str) -> str:
    """A reference between input types: a forward reference into the registry module.

    Not ``strawberry.lazy``: a lazy input type is resolved again for every argument
    value converted, which showed up as the largest cost of the UI's dashboard query.
    """
    return name


def existing(name: str) -> Any:
    """A generated input type or enum, for resolver arguments (all inputs exist by then)."""
    return getattr(registry, name)


def register(cls: type) -> type:
    setattr(registry, cls.__name__, cls)
    return cls


def make_input(name: str, fields: dict[str, Any], required: tuple[str, ...] = ()) -> type:
    namespace: dict[str, Any] = {"__annotations__": {}, "__module__": registry.__name__}
    for field_name, annotation in fields.items():
        if field_name in required:
            namespace["__annotations__"][field_name] = annotation
        else:
            namespace["__annotations__"][field_name] = optional(annotation)
        namespace[field_name] = strawberry.field(default=strawberry.UNSET, name=field_name)
    return register(strawberry.input(type(name, (), namespace), name=name))


def make_enum(name: str, values: list[str]) -> type:
    members = enum.Enum(name, {value: value for value in values})  # type: ignore[misc]
    members.__module__ = registry.__name__
    return register(strawberry.enum(members, name=name))


def comparison_inputs() -> None:
    """``<scalar>_comparison_exp`` for every scalar a column can have."""
    for scalar, annotation in SCALARS.items():
        fields: dict[str, Any] = {}
        if scalar == "jsonb":
            fields = {
                "_contained_in": annotation,
                "_contains": annotation,
                "_eq": annotation,
                "_has_key": str,
                "_has_keys_all": list[str],
                "_has_keys_any": list[str],
            }
        else:
            fields = {op: annotation for op in BASE_OPERATORS}
        fields["_in"] = list_of(annotation)
        fields["_nin"] = list_of(annotation)
        fields["_is_null"] = bool
        if scalar == "jsonb":
            fields["_neq"] = annotation
        if scalar == "String":
            fields.update({op: str for op in TEXT_OPERATORS})
        make_input(f"{scalar}_comparison_exp", dict(sorted(fields.items())))


def order_by_enum() -> None:
    make_enum(
        "order_by",
        ["asc", "asc_nulls_first", "asc_nulls_last", "desc", "desc_nulls_first", "desc_nulls_last"],
    )


def table_inputs(table: TableInfo) -> None:
    name = table.name
    make_enum(f"{name}_select_column", list(table.columns))
    bool_fields: dict[str, Any] = {
        "_and": list_of(forward(f"{name}_bool_exp")),
        "_not": forward(f"{name}_bool_exp"),
        "_or": list_of(forward(f"{name}_bool_exp")),
    }
    order_fields: dict[str, Any] = {}
    for column in table.columns.values():
        bool_fields[column.name] = forward(f"{column.scalar}_comparison_exp")
        order_fields[column.name] = forward("order_by")
    for rel in table.relationships.values():
        bool_fields[rel.name] = forward(f"{rel.target}_bool_exp")
        if rel.is_array:
            order_fields[f"{rel.name}_aggregate"] = forward(f"{rel.target}_aggregate_order_by")
        else:
            order_fields[rel.name] = forward(f"{rel.target}_order_by")
    make_input(f"{name}_bool_exp", dict(sorted(bool_fields.items())))
    make_input(f"{name}_order_by", dict(sorted(order_fields.items())))

    aggregate_fields: dict[str, Any] = {"count": forward("order_by")}
    for fn in AGGREGATE_ORDER_FUNCTIONS:
        columns = table.numeric_columns() if fn in ("avg", "sum") else table.comparable_columns()
        if columns:
            make_input(f"{name}_{fn}_order_by", {c: forward("order_by") for c in columns})
            aggregate_fields[fn] = forward(f"{name}_{fn}_order_by")
    make_input(f"{name}_aggregate_order_by", aggregate_fields)


def function_args_input(function: str) -> type:
    return make_input(
        f"{function}_args", {"depth_limit": int, "start_task_ids": scalars.uuid_array}
    )
