"""The writes behind Hasura's generated mutations: insert, update and delete through the models.

Column defaults and ``onupdate`` come from the models (``id``, ``created``, ``updated``
moves on every update). A state row inserted here goes through the one state-writing
function of each run kind, exactly as the action mutations do.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exc, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from prefect_server.database.dialect import Dialect
from prefect_server.graphql.hasura.bounds import check_no_nul
from prefect_server.graphql.hasura.filters import FilterError, where_clause
from prefect_server.graphql.hasura.metadata import TableInfo, tables
from prefect_server.graphql.hasura.mutation_inputs import constraints
from prefect_server.orchestration import flow_run_states, runs, task_run_states
from prefect_server.utilities.clock import utcnow
from prefect_server.utilities.ids import id_or_raise

STATE_TABLES = {"flow_run_state": "flow_run_id", "task_run_state": "task_run_id"}

# The run columns that mirror the run's current state row. Only the state functions
# may move them: they insert the state row, step ``version`` (the client's optimistic
# lock) and fire the cloud hooks in one transaction. Routing ``_set: {state: …}``
# through them instead would need the whole state (its type, result, message) that a
# column update does not carry, so these columns are refused in updates.
STATE_COLUMNS = frozenset(
    {
        "version",
        "state",
        "state_timestamp",
        "state_message",
        "state_result",
        "state_start_time",
        "serialized_state",
    }
)
STATE_ACTIONS = {"flow_run": "set_flow_run_states", "task_run": "set_task_run_states"}


def refuse_state_columns(
    table: TableInfo, operations: dict[str, Any], mutation: str = "update"
) -> None:
    """A FilterError when an update of a run, or an insert's ``on_conflict`` update,
    names one of its state columns."""
    action = STATE_ACTIONS.get(table.name)
    if action is None:
        return
    for op, spec in operations.items():
        named = sorted(STATE_COLUMNS.intersection(spec or ()))
        if named:
            raise FilterError(
                f"{mutation}_{table.name} cannot change {', '.join(named)} through {op}: "
                f"a run's state changes only through {action}, which records it in the "
                "run's state history and steps its version."
            )


def write_error(error: exc.DBAPIError) -> FilterError:
    """Hasura's error prefixes (clients match ``Uniqueness violation.``) with the database's text."""
    text = str(error.orig)
    lowered = text.lower()
    if "unique" in lowered or "duplicate key" in lowered:
        return FilterError(f"Uniqueness violation. {text}")
    if "foreign key" in lowered:
        return FilterError(f"Foreign key violation. {text}")
    if "null" in lowered:
        return FilterError(f"Not-NULL violation. {text}")
    return FilterError(f"Database error: {text}")


def _bind(table: TableInfo, values: dict[str, Any]) -> dict[str, Any]:
    row = {}
    for key, value in values.items():
        column = table.columns.get(key)
        if column is None:
            continue
        if column.scalar == "uuid" and value is not None and not isinstance(value, uuid.UUID):
            value = id_or_raise(value, ValueError(f"Could not parse UUID: {value}"))
        row[key] = value
    return row


async def insert_rows(
    session: AsyncSession,
    table: TableInfo,
    objects: Sequence[dict[str, Any]],
    on_conflict: dict[str, Any] | None,
    dialect: Dialect,
) -> list[uuid.UUID]:
    """Insert ``objects`` (with nested relationship inserts); the ids of rows written."""
    check_no_nul(list(objects), "objects")
    ids: list[uuid.UUID] = []
    for obj in objects:
        row_id = await _insert_one(session, table, dict(obj), on_conflict, dialect)
        if row_id is not None:
            ids.append(row_id)
    return ids


async def _insert_one(
    session: AsyncSession,
    table: TableInfo,
    obj: dict[str, Any],
    on_conflict: dict[str, Any] | None,
    dialect: Dialect,
) -> uuid.UUID | None:
    if table.name in STATE_TABLES:
        return await _insert_state(session, table, obj)
    values = _bind(table, obj)
    # Object relationships are written first: this row points at them.
    for rel in table.relationships.values():
        nested = obj.get(rel.name)
        if nested and not rel.is_array:
            target = tables()[rel.target]
            child = await _insert_one(
                session, target, dict(nested["data"]), nested.get("on_conflict"), dialect
            )
            if child is not None:
                values[rel.local] = child
    values.setdefault("id", uuid.uuid4())
    stmt = dialect.insert(table.table).values(values)
    if on_conflict:
        stmt = _on_conflict(table, stmt, on_conflict, dialect)
    try:
        row_id = (await session.execute(stmt.returning(table.table.c.id))).scalar_one_or_none()
    except exc.DBAPIError as error:
        raise write_error(error) from None
    if row_id is None:
        return None
    if table.name == "flow_run" and row_id == values["id"]:
        await runs.create_initial_task_runs(session, row_id)
    for rel in table.relationships.values():
        nested = obj.get(rel.name)
        if nested and rel.is_array:
            target = tables()[rel.target]
            parent_key = values[rel.local] if rel.local != "id" else row_id
            children = [{**child, rel.remote: parent_key} for child in nested["data"]]
            await insert_rows(session, target, children, nested.get("on_conflict"), dialect)
    return row_id  # type: ignore[no-any-return]


def _on_conflict(table: TableInfo, stmt: Any, on_conflict: dict[str, Any], dialect: Dialect) -> Any:
    named = constraints(table)
    columns = named.get(on_conflict.get("constraint") or "")
    if columns is None:
        raise FilterError(f"Unknown constraint {on_conflict.get('constraint')!r} of {table.name}")
    update_columns = on_conflict.get("update_columns") or []
    # An upsert onto an existing run would otherwise move its state columns without
    # a state row, as ``_set`` would.
    refuse_state_columns(table, {"on_conflict.update_columns": update_columns}, "insert")
    if not update_columns:
        return stmt.on_conflict_do_nothing(index_elements=list(columns))
    condition = where_clause(table, table.table, on_conflict.get("where"), dialect)
    changes = {name: stmt.excluded[name] for name in update_columns}
    if "updated" in table.columns and "updated" not in changes:
        changes["updated"] = utcnow()
    return stmt.on_conflict_do_update(index_elements=list(columns), set_=changes, where=condition)


async def _insert_state(session: AsyncSession, table: TableInfo, obj: dict[str, Any]) -> uuid.UUID:
    state = obj.get("serialized_state") or {}
    if not isinstance(state, dict) or not state.get("type"):
        state = {"type": obj.get("state"), "message": obj.get("message")}
    run_id = obj.get(STATE_TABLES[table.name])
    if table.name == "flow_run_state":
        written = await flow_run_states.set_flow_run_state(session, run_id, state)
    else:
        written = await task_run_states.set_task_run_state(session, run_id, state)
    return written.state_id


async def matching_ids(
    session: AsyncSession, table: TableInfo, where: Any, dialect: Dialect
) -> list[uuid.UUID]:
    alias = table.from_clause()
    condition = where_clause(table, alias, where, dialect)
    stmt = select(alias.c.id)
    if condition is not None:
        stmt = stmt.where(condition)
    return list((await session.execute(stmt)).scalars())


async def update_rows(
    session: AsyncSession,
    table: TableInfo,
    ids: list[uuid.UUID],
    operations: dict[str, dict[str, Any]],
) -> list[uuid.UUID]:
    """Apply ``_set``/``_inc`` in one statement, jsonb operators row by row.

    A run's state columns are refused (see ``STATE_COLUMNS``), even when no row matches.
    """
    refuse_state_columns(table, operations)
    for op, operand in operations.items():
        check_no_nul(operand, op)
    for op in ("_delete_elem", "_delete_at_path"):
        for column, operand in (operations.get(op) or {}).items():
            if operand is None:
                raise FilterError(
                    f"{op} needs {'an index' if op == '_delete_elem' else 'a path'} for "
                    f"column {column}, got null."
                )
    if not ids:
        return []
    t = table.table
    values: dict[str, Any] = dict(_bind(table, operations.get("_set") or {}))
    for name, amount in (operations.get("_inc") or {}).items():
        values[name] = t.c[name] + amount
    json_ops = {op: spec for op, spec in operations.items() if op not in ("_set", "_inc") and spec}
    try:
        if not json_ops:
            if values:
                await session.execute(update(t).where(t.c.id.in_(ids)).values(values))
            return ids
        columns = sorted({name for spec in json_ops.values() for name in spec})
        rows = await session.execute(
            select(t.c.id, *(t.c[c] for c in columns)).where(t.c.id.in_(ids))
        )
        for row in rows.all():
            changed = dict(values)
            for name in columns:
                changed[name] = _json_update(row._mapping[name], name, json_ops)
            await session.execute(update(t).where(t.c.id == row.id).values(changed))
    except exc.DBAPIError as error:
        raise write_error(error) from None
    return ids


def _json_update(value: Any, column: str, json_ops: dict[str, dict[str, Any]]) -> Any:
    # The operators of PostgreSQL's jsonb, applied in Hasura's order.
    value = copy.deepcopy(value)
    for op in ("_delete_key", "_delete_elem", "_delete_at_path", "_append", "_prepend"):
        spec = json_ops.get(op) or {}
        if column not in spec or value is None:
            continue
        operand = spec[column]
        if op == "_append":
            value = _concat(value, operand)
        elif op == "_prepend":
            value = _concat(operand, value)
        elif op == "_delete_key":
            if isinstance(value, dict):
                value.pop(operand, None)
            elif isinstance(value, list):
                value = [v for v in value if v != operand]
        elif op == "_delete_elem" and isinstance(value, list):
            if -len(value) <= operand < len(value):
                del value[operand]
        elif op == "_delete_at_path":
            _delete_path(value, list(operand))
    return value


def _concat(left: Any, right: Any) -> Any:
    if isinstance(left, dict) and isinstance(right, dict):
        return {**left, **right}
    left_items = left if isinstance(left, list) else [left]
    right_items = right if isinstance(right, list) else [right]
    return left_items + right_items


def _delete_path(value: Any, path: list[str]) -> None:
    for step in path[:-1]:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.lstrip("-").isdigit():
            index = int(step)
            value = value[index] if -len(value) <= index < len(value) else None
        else:
            return
    if not path:
        return
    last = path[-1]
    if isinstance(value, dict):
        value.pop(last, None)
    elif isinstance(value, list) and last.lstrip("-").isdigit():
        index = int(last)
        if -len(value) <= index < len(value):
            del value[index]


async def delete_rows(
    session: AsyncSession, table: TableInfo, ids: list[uuid.UUID], columns: Sequence[str]
) -> list[dict[str, Any]]:
    """Delete the rows; their ``columns`` as they were, for ``returning``."""
    if not ids:
        return []
    t = table.table
    wanted = list(dict.fromkeys(["id", *columns]))
    found = [
        dict(row._mapping)
        for row in await session.execute(select(*(t.c[c] for c in wanted)).where(t.c.id.in_(ids)))
    ]
    try:
        await session.execute(delete(t).where(t.c.id.in_(ids)))
    except exc.DBAPIError as error:
        raise write_error(error) from None
    return found
