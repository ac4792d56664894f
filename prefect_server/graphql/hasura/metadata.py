"""What the generated API knows about each table, read from the SQLAlchemy models.

Adding a column or relationship to a model adds it here, and from here to the
API's types, filters, ordering and aggregates, with no other edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Integer, Interval, MetaData, String, Table, Uuid
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql import FromClause
from sqlalchemy.types import TypeEngine

from prefect_server.database.models import TABLES
from prefect_server.database.types import IntervalType, Timestamp

# Hasura's scalar name per column kind, and which operator families each kind has.
NUMERIC = {"Int"}
COMPARABLE = {"Int", "String", "timestamptz", "interval"}


def scalar_name(column_type: TypeEngine[Any]) -> str:
    if isinstance(column_type, Uuid):
        return "uuid"
    if isinstance(column_type, Timestamp):
        return "timestamptz"
    if isinstance(column_type, IntervalType | Interval):
        return "interval"
    if isinstance(column_type, JSON):
        return "jsonb"
    if isinstance(column_type, Boolean):
        return "Boolean"
    if isinstance(column_type, Integer):
        return "Int"
    if isinstance(column_type, String):
        return "String"
    raise TypeError(f"No Hasura scalar for column type {column_type!r}")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    scalar: str
    nullable: bool


@dataclass(frozen=True)
class Relationship:
    name: str
    target: str
    is_array: bool
    # (column of this table, column of the target table) that join them.
    local: str
    remote: str


@dataclass
class TableInfo:
    name: str
    table: Table
    columns: dict[str, ColumnInfo]
    relationships: dict[str, Relationship] = field(default_factory=dict)
    has_pk: bool = True
    # A set-returning function (utility_traversal) builds its FROM from the root's `args`.
    source: Callable[[dict[str, Any]], FromClause] | None = None
    # Rows come out in this order when the client gives no order_by (Server 1's functions sorted).
    default_order: tuple[str, ...] = ()
    _aliases: dict[int, FromClause] = field(default_factory=dict, repr=False)

    def from_clause(self, args: dict[str, Any] | None = None, depth: int = 0) -> FromClause:
        """The table under an alias named by the subquery depth it is used at.

        A filter may nest a table inside itself (task -> edge -> task), so each depth
        gets its own alias; aliases are cached because building one proxies every
        column, which cost more than running the query.
        """
        if self.source is not None:
            return self.source(args or {}).alias(f"{self.name}_{depth}")
        alias = self._aliases.get(depth)
        if alias is None:
            alias = self._aliases[depth] = self.table.alias(f"{self.name}_{depth}")
        return alias

    def numeric_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.scalar in NUMERIC]

    def comparable_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.scalar in COMPARABLE]


# Without order_by, the small tables answer in creation order, as Server 1's PostgreSQL
# did from their heaps: the 1.4.1 client takes the first row of ``{ tenant { id } }``,
# and after ``create-tenant`` that must stay the first tenant (``default``), not the
# one whose UUID sorts first. The large tables (runs, states, logs, tasks) keep the
# database's own order: a sort there costs real time on every unordered read, and the
# clients order those reads themselves wherever order matters.
CREATION_ORDER = ("created", "id")
CREATION_ORDERED = frozenset({"tenant", "project", "agent"})


def _table_info(name: str, model: Any) -> TableInfo:
    table: Table = model.__table__
    columns = {
        c.name: ColumnInfo(c.name, scalar_name(c.type), bool(c.nullable)) for c in table.columns
    }
    relationships: dict[str, Relationship] = {}
    for rel in sa_inspect(model).relationships:
        pairs = rel.local_remote_pairs or []
        if len(pairs) != 1:
            raise TypeError(f"{name}.{rel.key}: only single-column joins are supported")
        local, remote = pairs[0]
        relationships[rel.key] = Relationship(
            name=rel.key,
            target=rel.mapper.local_table.name,
            is_array=bool(rel.uselist),
            local=local.name,
            remote=remote.name,
        )
    # Server 1's log table had no primary key, so Hasura generated no log_by_pk.
    return TableInfo(
        name,
        table,
        columns,
        relationships,
        has_pk=name != "log",
        default_order=CREATION_ORDER if name in CREATION_ORDERED else (),
    )


TRAVERSAL = Table(
    "utility_traversal",
    MetaData(),
    Column("task_id", Uuid(), nullable=True),
    Column("tenant_id", Uuid(), nullable=True),
    Column("depth", Integer(), nullable=True),
)


@cache
def tables() -> dict[str, TableInfo]:
    """Every exposed table by Hasura name, utility_traversal included."""
    from prefect_server.graphql.hasura.traversal import traversal_source

    found = {name: _table_info(name, model) for name, model in sorted(TABLES.items())}
    found["utility_traversal"] = TableInfo(
        "utility_traversal",
        TRAVERSAL,
        {c.name: ColumnInfo(c.name, scalar_name(c.type), True) for c in TRAVERSAL.columns},
        {"task": Relationship("task", "task", False, "task_id", "id")},
        has_pk=False,
        source=traversal_source,
        default_order=("depth", "task_id"),
    )
    return found
