"""One SQL statement per selection, batched over the parents of a relationship.

A root field is one statement. A relationship is one statement for all its parents
at once (``remote IN (keys)``); per-parent ``limit``/``offset`` and ``distinct_on``
use ROW_NUMBER() windows, which both databases have, instead of one query per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.sql import FromClause

from prefect_server.database.dialect import Dialect
from prefect_server.graphql.hasura.filters import FilterError, where_clause
from prefect_server.graphql.hasura.metadata import TableInfo
from prefect_server.graphql.hasura.ordering import apply_direction, order_terms

PARENT = "_p"


@dataclass(frozen=True)
class Selection:
    """Rows of ``table`` as the client asked for them (the Hasura arguments, as plain data)."""

    table: TableInfo
    where: Any = None
    order_by: Any = None
    limit: int | None = None
    offset: int | None = None
    distinct_on: tuple[str, ...] = ()
    function_args: dict[str, Any] = field(default_factory=dict)
    # For relationship loads: the target column matched against the parents' keys.
    remote: str | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise FilterError(f'"limit" must not be negative: {self.limit}')
        if self.offset is not None and self.offset < 0:
            raise FilterError(f'"offset" must not be negative: {self.offset}')
        for name in self.distinct_on:
            if name not in self.table.columns:
                raise FilterError(f"Unknown column {name!r} in distinct_on of {self.table.name}")


@dataclass(frozen=True)
class Measure:
    """One aggregate value: ``count``, or ``fn`` over ``columns``."""

    label: str
    fn: str
    columns: tuple[str, ...] = ()
    distinct: bool = False


def _prepare(
    selection: Selection, dialect: Dialect, keys: Sequence[Any] | None
) -> tuple[FromClause, list[ColumnElement[bool]], list[tuple[Any, str]]]:
    table = selection.table
    alias = table.from_clause(selection.function_args)
    conditions: list[ColumnElement[bool]] = []
    condition = where_clause(table, alias, selection.where, dialect)
    if condition is not None:
        conditions.append(condition)
    if selection.remote is not None:
        conditions.append(alias.c[selection.remote].in_(list(keys or ())))
    terms = order_terms(table, alias, selection.order_by)
    if not terms:
        terms = [(alias.c[name], "asc") for name in table.default_order]
    return alias, conditions, terms


def rows_statement(
    selection: Selection,
    dialect: Dialect,
    columns: Sequence[str],
    keys: Sequence[Any] | None = None,
) -> Select[Any]:
    """The selected ``columns`` (plus ``_p``, the parent key, when batched), in order."""
    alias, conditions, terms = _prepare(selection, dialect, keys)
    wanted = list(dict.fromkeys([*columns, *selection.distinct_on]))
    outputs: list[Any] = [alias.c[name] for name in wanted]
    batched = selection.remote is not None
    if batched:
        outputs.append(alias.c[selection.remote].label(PARENT))  # type: ignore[index]
    paged = selection.limit is not None or bool(selection.offset)
    if not selection.distinct_on and not (batched and paged):
        stmt = select(*outputs).where(*conditions)
        stmt = stmt.order_by(*(apply_direction(expr, d) for expr, d in terms))
        if selection.limit is not None:
            stmt = stmt.limit(selection.limit)
        if selection.offset:
            stmt = stmt.offset(selection.offset)
        return stmt

    # Windowed form: order keys become columns of a subquery so windows can reuse them.
    labelled = [expr.label(f"_o{i}") for i, (expr, _) in enumerate(terms)]
    layer = select(*outputs, *labelled).where(*conditions).subquery()
    names = [*wanted, *([PARENT] if batched else []), *(c.name for c in labelled)]

    def ordering(sub: Any) -> list[Any]:
        return [apply_direction(sub.c[f"_o{i}"], d) for i, (_, d) in enumerate(terms)]

    def parents(sub: Any) -> list[Any]:
        return [sub.c[PARENT]] if batched else []

    if selection.distinct_on:
        # PostgreSQL's DISTINCT ON keeps the first row of each key in order_by order.
        first = func.row_number().over(
            partition_by=[*parents(layer), *(layer.c[n] for n in selection.distinct_on)],
            order_by=ordering(layer),
        )
        ranked = select(*(layer.c[n] for n in names), first.label("_d")).subquery()
        layer = select(*(ranked.c[n] for n in names)).where(ranked.c["_d"] == 1).subquery()

    if batched and paged:
        position = func.row_number().over(partition_by=parents(layer), order_by=ordering(layer))
        ranked = select(*(layer.c[n] for n in names), position.label("_r")).subquery()
        start = selection.offset or 0
        window = [ranked.c["_r"] > start]
        if selection.limit is not None:
            window.append(ranked.c["_r"] <= start + selection.limit)
        return (
            select(*(ranked.c[n] for n in wanted), ranked.c[PARENT])
            .where(*window)
            .order_by(*ordering(ranked))
        )

    stmt = select(*(layer.c[n] for n in [*wanted, *([PARENT] if batched else [])]))
    stmt = stmt.order_by(*ordering(layer))
    if selection.limit is not None and not batched:
        stmt = stmt.limit(selection.limit)
    if selection.offset and not batched:
        stmt = stmt.offset(selection.offset)
    return stmt


def _measure(measure: Measure, sub: Any, dialect: Dialect) -> Any:
    if measure.fn == "count":
        if not measure.columns:
            return func.count()
        if len(measure.columns) == 1:
            target = sub.c[measure.columns[0]]
        else:
            target = dialect.row_value([sub.c[c] for c in measure.columns])
        return func.count(target.distinct() if measure.distinct else target)
    (column,) = measure.columns
    expr = sub.c[column]
    if measure.fn in ("max", "min", "sum"):
        return getattr(func, measure.fn)(expr)
    if measure.fn == "avg":
        return func.avg(expr * 1.0)
    if measure.fn in ("stddev", "stddev_samp", "stddev_pop"):
        return dialect.stddev(expr, sample=measure.fn != "stddev_pop")
    if measure.fn in ("variance", "var_samp", "var_pop"):
        return dialect.variance(expr, sample=measure.fn != "var_pop")
    raise FilterError(f"Unknown aggregate function {measure.fn!r}")


def aggregate_statement(
    selection: Selection,
    dialect: Dialect,
    measures: Sequence[Measure],
    keys: Sequence[Any] | None = None,
) -> Select[Any]:
    """One row per parent key (or one row) with every measure labelled."""
    columns = sorted({c for m in measures for c in m.columns}) or _any_column(selection.table)
    sub = rows_statement(selection, dialect, columns, keys).subquery()
    outputs = [_measure(m, sub, dialect).label(m.label) for m in measures]
    if selection.remote is None:
        return select(*outputs).select_from(sub)
    return select(sub.c[PARENT], *outputs).select_from(sub).group_by(sub.c[PARENT])


def _any_column(table: TableInfo) -> list[str]:
    return ["id"] if "id" in table.columns else [next(iter(table.columns))]
