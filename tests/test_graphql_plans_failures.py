"""After a planned handler has written, every failure is a GraphQL answer, never a 5xx;
and the Strawberry internals the plans and the checker use are where they expect them."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import GraphQLSchema

from prefect_server.graphql.plans import Plans
from prefect_server.graphql.schema import build_schema

SCHEMA = build_schema(checked_by_transport=True)
LOGS = "mutation($input: write_run_logs_input!) { write_run_logs(input: $input) { success } }"


class Broken:
    @property
    def success(self) -> bool:
        raise RuntimeError("a bug of ours while answering")


async def test_a_failure_after_the_write_is_answered_once_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    async def handler(ctx: Any, value: dict[str, Any]) -> Any:
        calls.append(value)
        return Broken()

    plans = Plans(SCHEMA, {"write_run_logs": handler})
    plans.learn(LOGS)
    answer = await plans.run(LOGS, {"input": {"logs": []}}, None, context=None)  # type: ignore[arg-type]
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


def test_a_handler_for_no_mutation_is_refused_at_startup() -> None:
    async def handler(ctx: Any, value: dict[str, Any]) -> Any:
        return None

    with pytest.raises(ValueError, match="'no_such_mutation', which is no mutation"):
        Plans(SCHEMA, {"no_such_mutation": handler})


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
