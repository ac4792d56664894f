"""A hot mutation's write that raised wrote nothing; after one has written, every failure
is a GraphQL answer, never a 5xx; what a plan would skip is refused at startup; and the
Strawberry internals the plans and the checker use are where they expect them."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import GraphQLSchema
from sqlalchemy import func, select
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from prefect_server.database.engine import Database
from prefect_server.database.models import Log
from prefect_server.graphql import actions
from prefect_server.graphql.context import Context
from prefect_server.graphql.hot import Caller, HotMutation
from prefect_server.graphql.plans import Plans
from prefect_server.graphql.schema import build_schema
from prefect_server.orchestration import logs
from prefect_server.settings import Settings

import factories

SCHEMA = build_schema(checked_by_transport=True)
LOGS = "mutation($input: write_run_logs_input!) { write_run_logs(input: $input) { success } }"


class Broken:
    @property
    def success(self) -> bool:
        raise RuntimeError("a bug of ours while answering")


def hot_logs(write: Any) -> HotMutation[Any]:
    return HotMutation("write_run_logs", Database.core_transaction, write)


async def test_a_failure_after_the_write_is_answered_once_as_an_error(
    caplog: pytest.LogCaptureFixture, db: Database, settings: Settings
) -> None:
    calls = []

    async def write(conn: Any, caller: Caller, value: Any) -> Any:
        calls.append(value)
        return Broken()

    plans = Plans(SCHEMA, [hot_logs(write)])
    plans.learn(LOGS)
    answer = await plans.run(LOGS, {"input": {"logs": []}}, None, Context(db, settings))
    assert calls == [{"logs": []}]
    assert answer == {
        "data": {"write_run_logs": None},
        "errors": [
            {
                "message": "The write_run_logs write was saved, but its answer could not be built.",
                "path": ["write_run_logs"],
            }
        ],
    }
    assert "a bug of ours" in caplog.text  # logged with its traceback, at ERROR


async def test_a_write_that_raised_wrote_nothing(db: Database, settings: Settings) -> None:
    """The plan, not the write, owns the transaction: what a write did before it raised
    is rolled back, so the general executor may run the operation again."""
    _, flow_id = await factories.flow_chain(db)
    flow_run_id = await factories.running_flow_run(db, flow_id)
    log = {"flow_run_id": str(flow_run_id), "message": "written, then a failure"}

    async def write(conn: Any, caller: Caller, value: Any) -> Any:
        assert await logs.write_run_logs(conn, value["logs"]) == 1
        raise RuntimeError("after the insert")

    plans = Plans(SCHEMA, [hot_logs(write)])
    plans.learn(LOGS)
    answer = await plans.run(LOGS, {"input": {"logs": [log]}}, None, Context(db, settings))
    assert answer is None  # the general executor answers instead
    assert plans.answered == 0
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Log)) == 0


async def test_a_write_declined_by_accepts_runs_no_transaction(
    db: Database, settings: Settings
) -> None:
    async def write(conn: Any, caller: Caller, value: Any) -> Any:
        raise AssertionError("not called")

    hot = HotMutation("write_run_logs", Database.core_transaction, write, accepts=lambda v: False)
    plans = Plans(SCHEMA, [hot])
    plans.learn(LOGS)
    assert await plans.run(LOGS, {"input": {"logs": []}}, None, Context(db, settings)) is None


async def test_the_registered_hot_mutations() -> None:
    hot = actions.hot_handlers()
    assert sorted(h.field for h in hot) == [
        "get_or_create_task_run_info",
        "set_flow_run_states",
        "set_task_run_states",
        "update_flow_run_heartbeat",
        "update_task_run_heartbeat",
        "write_run_logs",
    ]
    Plans(SCHEMA, hot)  # each names a mutation Strawberry would run as a plain resolver


async def never(conn: Any, caller: Caller, value: Any) -> Any:
    raise AssertionError("not called")


def test_a_hot_mutation_for_no_mutation_is_refused_at_startup() -> None:
    hot = HotMutation("no_such_mutation", Database.core_transaction, never)
    with pytest.raises(ValueError, match="'no_such_mutation', which is no mutation"):
        Plans(SCHEMA, [hot])


def test_two_hot_mutations_for_one_field_are_refused() -> None:
    with pytest.raises(ValueError, match="Two hot mutations are registered for 'write_run_logs'"):
        Plans(SCHEMA, [hot_logs(never), hot_logs(never)])


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class Logged(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs)


@pytest.mark.parametrize("options", [{"permission_classes": [Deny]}, {"extensions": [Logged()]}])
def test_a_field_with_what_a_plan_would_skip_is_refused_at_startup(
    options: dict[str, Any],
) -> None:
    @strawberry.type
    class Query:
        ping: str = "pong"

    @strawberry.type(name="mutation_root")
    class Mutation:
        @strawberry.mutation(**options)
        def write_run_logs(self) -> bool:
            return True

    schema = strawberry.Schema(query=Query, mutation=Mutation)
    with pytest.raises(ValueError, match="that its execution plan would skip"):
        Plans(schema, [hot_logs(never)])


def test_the_strawberry_internals_we_use_are_where_we_expect_them() -> None:
    """Fails loudly when an upgrade of strawberry-graphql moves what plans.py, checker.py
    and the transport read; pyproject.toml pins the minor versions this was checked on."""
    from strawberry.extensions import DisableValidation, ParserCache
    from strawberry.schema.exceptions import CannotGetOperationTypeError

    assert isinstance(SCHEMA._schema, GraphQLSchema)
    root = SCHEMA.get_type_by_name("mutation_root")
    field = next(f for f in root.fields if f.name == "write_run_logs")  # type: ignore[union-attr]
    assert field.base_resolver is not None
    assert (field.extensions, field.permission_classes, field.directives) == ([], [], [])
    result = SCHEMA.get_type_by_name("success_payload")
    assert [(f.name, f.python_name, f.base_resolver) for f in result.fields] == [  # type: ignore[union-attr]
        ("success", "success", None),
        ("error", "error", None),
    ]
    assert callable(CannotGetOperationTypeError.as_http_error_reason)
    assert DisableValidation and ParserCache
    assert strawberry.__name__ == "strawberry"
