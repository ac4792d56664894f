"""The one Strawberry schema: the generated Hasura layer and the action resolvers."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableValidation,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.base import has_object_definition

from prefect_server.database.results import is_nul_character_error
from prefect_server.graphql import actions, hasura, reference
from prefect_server.graphql.hasura.filters import FilterError
from prefect_server.orchestration.errors import APIError

logger = logging.getLogger(__name__)


def merge_types(name: str, types: tuple[type, ...]) -> type:
    """One root type from several; a field defined twice is a bug, not an override."""
    seen: set[str] = set()
    for t in types:
        for f in t.__strawberry_definition__.fields if has_object_definition(t) else ():
            if f.name in seen:
                raise ValueError(f"{name} defines {f.name} twice")
            seen.add(f.name)
    return strawberry.type(type(name, types, {}), name=name)


class Schema(strawberry.Schema):
    """Strawberry's schema, logging each error by whose it is.

    Strawberry logs every error with its traceback at ERROR. Most are the caller's: a
    refused request (double submission, an unknown id — agents cause these routinely)
    or a variable that does not coerce (the UI polls before its ids are loaded). Those
    answer with their message and are logged on one line at INFO; anything else is a
    fault of ours and keeps its traceback at ERROR.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if (
                error.path is None
                or isinstance(original, APIError | FilterError)
                or is_nul_character_error(original)
            ):
                logger.info("Refused: %s", error.message)
            else:
                logger.error(error, exc_info=original)

    # Strawberry caches these two lookups with a class-level functools.lru_cache keyed by
    # (schema, name): the cache keeps up to 128 schemas (some 50,000 objects each) alive
    # after their apps are gone. A server builds one schema, but every embedded server
    # and test app builds its own; a per-instance cache dies with its schema.
    def get_type_by_name(self, name: str) -> Any:  # type: ignore[override]
        cache = self.__dict__.setdefault("_types_by_name", {})
        if name not in cache:
            cache[name] = strawberry.Schema.get_type_by_name.__wrapped__(self, name)
        return cache[name]

    def get_directive_by_name(self, graphql_name: str) -> Any:  # type: ignore[override]
        cache = self.__dict__.setdefault("_directives_by_name", {})
        if graphql_name not in cache:
            lookup = strawberry.Schema.get_directive_by_name.__wrapped__
            cache[graphql_name] = lookup(self, graphql_name)
        return cache[graphql_name]


def build_schema(depth_limit: int = 7, *, checked_by_transport: bool = False) -> strawberry.Schema:
    """The schema; ``checked_by_transport`` when a DocumentChecker validates every document
    before execution, so Strawberry need not validate it a second time."""
    queries = (reference.Query, *hasura.query_types(), *actions.query_types())
    mutations = (*hasura.mutation_types(), *actions.mutation_types())
    query = merge_types("query_root", queries)
    mutation = merge_types("mutation_root", mutations) if mutations else None
    # Instances, not classes: each keeps its cache across operations. Strawberry accepts
    # them, though its annotation names only classes and factories.
    extensions: list[Any] = (
        [ParserCache(maxsize=512), DisableValidation()]
        if checked_by_transport
        else [
            QueryDepthLimiter(max_depth=depth_limit),
            ParserCache(maxsize=512),
            ValidationCache(maxsize=512),
        ]
    )
    return Schema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(auto_camel_case=False),
        extensions=extensions,
    )
