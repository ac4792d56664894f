"""Hasura's generated mutations: ``insert_T``/``insert_T_one``, ``update_T``/``update_T_by_pk``,
``delete_T``/``delete_T_by_pk``. Neither the 1.4.1 client nor the UI sends them; users'
scripts written against Server 1 do (bulk deletes of old runs and logs, relabelling).

Each root field is one transaction; ``returning`` is read after the commit through the
same batched read path as queries, so nested selections work there too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import strawberry

from prefect_server.graphql import scalars
from prefect_server.graphql.hasura import writes
from prefect_server.graphql.hasura.inputs import existing, list_of, optional, ref
from prefect_server.graphql.hasura.metadata import TableInfo
from prefect_server.graphql.hasura.mutation_inputs import update_operations
from prefect_server.graphql.hasura.objects import make_object, with_arguments
from prefect_server.graphql.hasura.runtime import (
    Loaders,
    Record,
    collect_names,
    columns_for,
    plain,
    requested_columns,
)
from prefect_server.graphql.hasura.statements import Selection


@dataclass
class Written:
    table: TableInfo
    ids: list[uuid.UUID]
    # Rows as they were before a delete (they cannot be read afterwards).
    records: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def _returning(written: Written, info: Any) -> list[Record]:
    if written.records is not None:
        return [Record(row) for row in written.records]
    if not written.ids:
        return []
    table = written.table
    selection = Selection(table, where={"id": {"_in": [str(i) for i in written.ids]}})
    columns = tuple(dict.fromkeys(["id", *requested_columns(info, table)]))
    rows = await Loaders.of(info).rows(selection, columns)
    by_id = {getattr(row, "id", None): row for row in rows}
    return [by_id[i] for i in written.ids if i in by_id]


def response_type(table: TableInfo) -> None:
    async def returning(root: Written, info: strawberry.Info) -> list[Record]:
        return await _returning(root, info)

    def affected_rows(root: Written) -> int:
        return len(root.ids)

    make_object(
        f"{table.name}_mutation_response",
        {
            "affected_rows": strawberry.field(
                resolver=affected_rows, name="affected_rows", graphql_type=int
            ),
            "returning": strawberry.field(
                resolver=with_arguments(returning, []),
                name="returning",
                graphql_type=list_of(ref(table.name)),
            ),
        },
        {},
    )


async def _fresh_reads(info: Any) -> None:
    # A read session opened before the write would not see it on SQLite (snapshot).
    await Loaders.of(info).close()


def _columns_for_delete(info: Any, table: TableInfo) -> tuple[str, ...]:
    for selected in info.selected_fields:
        for child in getattr(selected, "selections", []):
            if getattr(child, "name", None) == "returning":
                names: set[str] = set()
                collect_names(child.selections, names)
                return columns_for(table, names)
    return ()


def mutation_fields(table: TableInfo) -> dict[str, Any]:
    name = table.name
    fields: dict[str, Any] = {}
    conflict = ("on_conflict", optional(existing(f"{name}_on_conflict")))
    insert_input = existing(f"{name}_insert_input")
    operations = update_operations(table)
    update_args = [(op, optional(existing(type_name))) for op, type_name in operations.items()]

    async def insert_many(root: Any, info: strawberry.Info, **kwargs: Any) -> Written:
        db = info.context.db
        async with db.transaction() as session:
            objects = plain(kwargs["objects"]) or []
            ids = await writes.insert_rows(
                session, table, objects, plain(kwargs.get("on_conflict")), db.dialect
            )
        await _fresh_reads(info)
        return Written(table, ids)

    async def insert_one(root: Any, info: strawberry.Info, **kwargs: Any) -> Record | None:
        db = info.context.db
        async with db.transaction() as session:
            obj = plain(kwargs["object"])
            ids = await writes.insert_rows(
                session, table, [obj], plain(kwargs.get("on_conflict")), db.dialect
            )
        await _fresh_reads(info)
        rows = await _returning(Written(table, ids), info)
        return rows[0] if rows else None

    async def update_many(root: Any, info: strawberry.Info, **kwargs: Any) -> Written:
        db = info.context.db
        ops = {op: plain(kwargs.get(op)) or {} for op in operations}
        async with db.transaction() as session:
            ids = await writes.matching_ids(session, table, plain(kwargs.get("where")), db.dialect)
            ids = await writes.update_rows(session, table, ids, ops)
        await _fresh_reads(info)
        return Written(table, ids)

    async def update_by_pk(root: Any, info: strawberry.Info, **kwargs: Any) -> Record | None:
        db = info.context.db
        ops = {op: plain(kwargs.get(op)) or {} for op in operations}
        key = plain(kwargs["pk_columns"])["id"]
        async with db.transaction() as session:
            ids = await writes.matching_ids(session, table, {"id": {"_eq": key}}, db.dialect)
            ids = await writes.update_rows(session, table, ids, ops)
        await _fresh_reads(info)
        rows = await _returning(Written(table, ids), info)
        return rows[0] if rows else None

    async def delete_many(root: Any, info: strawberry.Info, **kwargs: Any) -> Written:
        db = info.context.db
        async with db.transaction() as session:
            ids = await writes.matching_ids(session, table, plain(kwargs.get("where")), db.dialect)
            records = await writes.delete_rows(
                session, table, ids, _columns_for_delete(info, table)
            )
        await _fresh_reads(info)
        return Written(table, ids, records)

    async def delete_by_pk(root: Any, info: strawberry.Info, **kwargs: Any) -> Record | None:
        db = info.context.db
        columns = requested_columns(info, table)
        async with db.transaction() as session:
            ids = await writes.matching_ids(
                session, table, {"id": {"_eq": kwargs["id"]}}, db.dialect
            )
            records = await writes.delete_rows(session, table, ids, columns)
        await _fresh_reads(info)
        return Record(records[0]) if records else None

    response = ref(f"{name}_mutation_response")
    optional_row = optional(ref(name))
    where_required = ("where", existing(f"{name}_bool_exp"))
    fields[f"insert_{name}"] = strawberry.field(
        resolver=with_arguments(insert_many, [("objects", list_of(insert_input)), conflict]),
        name=f"insert_{name}",
        graphql_type=optional(response),
    )
    fields[f"insert_{name}_one"] = strawberry.field(
        resolver=with_arguments(insert_one, [("object", insert_input), conflict]),
        name=f"insert_{name}_one",
        graphql_type=optional_row,
    )
    fields[f"update_{name}"] = strawberry.field(
        resolver=with_arguments(update_many, [*update_args, where_required]),
        name=f"update_{name}",
        graphql_type=optional(response),
    )
    fields[f"delete_{name}"] = strawberry.field(
        resolver=with_arguments(delete_many, [where_required]),
        name=f"delete_{name}",
        graphql_type=optional(response),
    )
    if table.has_pk:
        pk = ("pk_columns", existing(f"{name}_pk_columns_input"))
        fields[f"update_{name}_by_pk"] = strawberry.field(
            resolver=with_arguments(update_by_pk, [*update_args, pk]),
            name=f"update_{name}_by_pk",
            graphql_type=optional_row,
        )
        fields[f"delete_{name}_by_pk"] = strawberry.field(
            resolver=with_arguments(delete_by_pk, [("id", scalars.uuid_scalar)]),
            name=f"delete_{name}_by_pk",
            graphql_type=optional_row,
        )
    return fields
