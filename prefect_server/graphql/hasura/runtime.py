"""What the generated resolvers share at run time: rows, arguments and batched loads."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from prefect_server.database.engine import Database
from prefect_server.graphql.hasura.metadata import TableInfo
from prefect_server.graphql.hasura.statements import (
    PARENT,
    Measure,
    Selection,
    aggregate_statement,
    rows_statement,
)

# Keys per statement: well below SQLite's and asyncpg's bound-parameter limits.
CHUNK = 2000
ROOT = "__root__"


class Record:
    """One row; GraphQL's default resolver reads its columns as attributes."""

    def __init__(self, values: Any):
        self.__dict__.update(values)


def plain(value: Any) -> Any:
    """A Strawberry input value as plain data: dicts keyed by GraphQL name, UNSET dropped."""
    if value is strawberry.UNSET:
        return None
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is not None:
        out: dict[str, Any] = {}
        for f in definition.fields:
            item = getattr(value, f.python_name, strawberry.UNSET)
            if item is strawberry.UNSET:
                continue
            out[f.graphql_name or f.python_name] = plain(item)
        return out
    return value


def ordered_argument(info: Any, name: str, coerced: Any) -> Any:
    """An argument in the key order the client wrote it.

    GraphQL coercion rebuilds input objects in the type's field order, but
    ``order_by: {state: asc, version: desc}`` sorts by state first: the written
    order is the meaning. Literals are read from the document; a whole variable
    keeps its coerced order (the UI only sends single-key objects there).
    """
    from graphql import VariableNode, value_from_ast_untyped

    for node in info._raw_info.field_nodes[0].arguments or ():
        if node.name.value == name and not isinstance(node.value, VariableNode):
            return plain(value_from_ast_untyped(node.value, info._raw_info.variable_values))
    return plain(coerced)


def selection_key(selection: Selection) -> tuple[Any, ...]:
    return (
        selection.table.name,
        repr(selection.where),
        repr(selection.order_by),
        selection.limit,
        selection.offset,
        selection.distinct_on,
        repr(selection.function_args),
        selection.remote,
    )


def requested_columns(info: Any, table: TableInfo) -> tuple[str, ...]:
    """The columns a selection set needs: those selected and the join keys of relationships."""
    raw = info._raw_info
    cache: dict[Any, tuple[str, ...]] = info.context.cache.setdefault("hasura_columns", {})
    cache_key = (tuple(id(node) for node in raw.field_nodes), table.name)
    found = cache.get(cache_key)
    if found is not None:
        return found
    names: set[str] = set()
    collect_names(info.selected_fields, names, top=True)
    found = columns_for(table, names)
    cache[cache_key] = found
    return found


def columns_for(table: TableInfo, names: set[str]) -> tuple[str, ...]:
    """The columns to read for selected field ``names``, join keys of relationships included."""
    columns = [c for c in table.columns if c in names]
    for name, rel in table.relationships.items():
        if name in names or f"{name}_aggregate" in names:
            columns.append(rel.local)
    if not columns:
        columns = ["id"] if "id" in table.columns else [next(iter(table.columns))]
    return tuple(dict.fromkeys(columns))


def collect_names(selections: Iterable[Any], names: set[str], top: bool = False) -> None:
    for item in selections:
        if isinstance(item, SelectedField):
            if top:
                collect_names(item.selections, names)
            else:
                names.add(item.name)
        elif isinstance(item, FragmentSpread | InlineFragment):
            collect_names(item.selections, names)


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


class Loaders:
    """Per-request loaders: one SQL statement per (selection, columns) for all parents."""

    def __init__(self, db: Database):
        self.db = db
        self._loaders: dict[Any, DataLoader[Any, Any]] = {}
        # One read session per operation, its statements one after another: checking a
        # connection out of the pool (ping, BEGIN, ROLLBACK) costs more than a small query.
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._root_aggregates: DataLoader[Any, dict[str, Any]] = DataLoader(
            self._batch_root_aggregates, cache=False
        )

    @classmethod
    def of(cls, info: Any) -> Loaders:
        context = info.context
        loaders = context.cache.get("hasura_loaders")
        if loaders is None:
            loaders = context.cache["hasura_loaders"] = cls(context.db)
            context.closers.append(loaders.close)
        return loaders

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            # A statement that failed may have taken the connection down with it; the
            # pool discards such a connection, and the client gets the statement's error.
            with contextlib.suppress(Exception):
                await session.close()

    async def _fetch(self, stmt: Any) -> Sequence[Any]:
        async with self._lock:
            if self._session is None:
                self._session = self.db.sessionmaker()
            try:
                result = await self._session.execute(stmt)
            except Exception:
                await self.close()
                raise
            return result.mappings().all()

    async def _batch_root_aggregates(
        self, keys: list[tuple[Selection, tuple[Measure, ...]]]
    ) -> list[dict[str, Any]]:
        """Sibling root aggregates (the dashboard's 17 aliases) as one statement."""
        columns = []
        for i, (selection, measures) in enumerate(keys):
            for j, measure in enumerate(measures):
                stmt = aggregate_statement(selection, self.db.dialect, (measure,))
                columns.append(stmt.scalar_subquery().label(f"a{i}_{j}"))
        (row,) = await self._fetch(select(*columns))
        return [
            {m.label: _number(row[f"a{i}_{j}"]) for j, m in enumerate(measures)}
            for i, (_, measures) in enumerate(keys)
        ]

    async def rows(
        self, selection: Selection, columns: Sequence[str], key: Any = ROOT
    ) -> list[Record]:
        if selection.remote is None:
            found = await self._fetch(rows_statement(selection, self.db.dialect, columns))
            return [Record(row) for row in found]
        loader_key = ("rows", selection_key(selection), tuple(columns))
        loader = self._loaders.get(loader_key)
        if loader is None:

            async def batch(keys: list[Any]) -> list[list[Record]]:
                grouped: dict[Any, list[Record]] = defaultdict(list)
                unique = list(dict.fromkeys(keys))
                for start in range(0, len(unique), CHUNK):
                    stmt = rows_statement(
                        selection, self.db.dialect, columns, unique[start : start + CHUNK]
                    )
                    for row in await self._fetch(stmt):
                        grouped[row[PARENT]].append(Record(row))
                return [grouped.get(k, []) for k in keys]

            loader = self._loaders[loader_key] = DataLoader(batch, cache=False)
        return await loader.load(key)

    async def aggregate(
        self, selection: Selection, measures: Sequence[Measure], key: Any = ROOT
    ) -> dict[str, Any]:
        if selection.remote is None:
            return await self._root_aggregates.load((selection, tuple(measures)))
        loader_key = ("aggregate", selection_key(selection), tuple(measures))
        loader = self._loaders.get(loader_key)
        if loader is None:

            async def batch(keys: list[Any]) -> list[dict[str, Any]]:
                found: dict[Any, dict[str, Any]] = {}
                unique = list(dict.fromkeys(keys))
                for start in range(0, len(unique), CHUNK):
                    stmt = aggregate_statement(
                        selection, self.db.dialect, measures, unique[start : start + CHUNK]
                    )
                    for row in await self._fetch(stmt):
                        found[row[PARENT]] = {m.label: _number(row[m.label]) for m in measures}
                # A parent without related rows still has a count: zero.
                empty = {m.label: 0 if m.fn == "count" else None for m in measures}
                return [found.get(k, empty) for k in keys]

            loader = self._loaders[loader_key] = DataLoader(batch, cache=False)
        return await loader.load(key)
