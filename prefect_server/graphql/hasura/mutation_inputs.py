"""Input types of Hasura's generated mutations, per table, under Hasura's names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

from prefect_server.graphql import scalars
from prefect_server.graphql.hasura.inputs import (
    SCALARS,
    forward,
    list_of,
    make_enum,
    make_input,
)
from prefect_server.graphql.hasura.metadata import TableInfo

JSONB_OPERATIONS = {
    "_append": lambda: scalars.jsonb,
    "_prepend": lambda: scalars.jsonb,
    "_delete_key": lambda: str,
    "_delete_elem": lambda: int,
    "_delete_at_path": lambda: list[str],
}


def constraints(table: TableInfo) -> dict[str, tuple[str, ...]]:
    """Constraint names a client may name in ``on_conflict``, with their columns.

    Hasura listed PostgreSQL's names: ``<table>_pkey`` and ``<table>_<cols>_key``
    unless the constraint was named explicitly.
    """
    found: dict[str, tuple[str, ...]] = {}
    for constraint in table.table.constraints:
        if not isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
            continue
        columns = tuple(c.name for c in constraint.columns)
        if isinstance(constraint, PrimaryKeyConstraint):
            found[f"{table.name}_pkey"] = columns
        else:
            name = constraint.name if isinstance(constraint.name, str) else None
            if not name or name.startswith("uq_"):
                name = f"{table.name}_{'_'.join(columns)}_key"
            found[name] = columns
    for index in table.table.indexes:
        if index.unique:
            columns = tuple(c.name for c in index.columns)
            found[f"{table.name}_{'_'.join(columns)}_key"] = columns
    return found


def update_operations(table: TableInfo) -> dict[str, str]:
    """Update operator -> its input type name, for the operators this table has."""
    name = table.name
    found = {"_set": f"{name}_set_input"}
    if table.numeric_columns():
        found["_inc"] = f"{name}_inc_input"
    if any(c.scalar == "jsonb" for c in table.columns.values()):
        for op in JSONB_OPERATIONS:
            found[op] = f"{name}{op}_input"
    return found


def table_mutation_inputs(table: TableInfo) -> None:
    name = table.name
    insert_fields: dict[str, Any] = {c.name: SCALARS[c.scalar] for c in table.columns.values()}
    for rel in table.relationships.values():
        kind = "arr" if rel.is_array else "obj"
        insert_fields[rel.name] = forward(f"{rel.target}_{kind}_rel_insert_input")
    make_input(f"{name}_insert_input", dict(sorted(insert_fields.items())))
    make_input(
        f"{name}_arr_rel_insert_input",
        {
            "data": list_of(forward(f"{name}_insert_input")),
            "on_conflict": forward(f"{name}_on_conflict"),
        },
        required=("data",),
    )
    make_input(
        f"{name}_obj_rel_insert_input",
        {"data": forward(f"{name}_insert_input"), "on_conflict": forward(f"{name}_on_conflict")},
        required=("data",),
    )
    make_enum(f"{name}_constraint", list(constraints(table)))
    make_enum(f"{name}_update_column", list(table.columns))
    make_input(
        f"{name}_on_conflict",
        {
            "constraint": forward(f"{name}_constraint"),
            "update_columns": list_of(forward(f"{name}_update_column")),
            "where": forward(f"{name}_bool_exp"),
        },
        required=("constraint", "update_columns"),
    )
    make_input(f"{name}_set_input", {c.name: SCALARS[c.scalar] for c in table.columns.values()})
    if table.numeric_columns():
        make_input(f"{name}_inc_input", {c: int for c in table.numeric_columns()})
    json_columns = [c.name for c in table.columns.values() if c.scalar == "jsonb"]
    if json_columns:
        for op, annotation in JSONB_OPERATIONS.items():
            make_input(f"{name}{op}_input", {c: annotation() for c in json_columns})
    if table.has_pk:
        make_input(f"{name}_pk_columns_input", {"id": scalars.uuid_scalar}, required=("id",))
