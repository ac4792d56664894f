"""The one Strawberry schema: the generated Hasura layer and the action resolvers."""

from __future__ import annotations

from functools import lru_cache

import strawberry
from graphql import GraphQLError, parse, validate
from graphql.language import DocumentNode
from strawberry.extensions import ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import has_object_definition

from prefect_server.graphql import actions, hasura, reference


def merge_types(name: str, types: tuple[type, ...]) -> type:
    """One root type from several; a field defined twice is a bug, not an override."""
    seen: set[str] = set()
    for t in types:
        for f in t.__strawberry_definition__.fields if has_object_definition(t) else ():
            if f.name in seen:
                raise ValueError(f"{name} defines {f.name} twice")
            seen.add(f.name)
    return strawberry.type(type(name, types, {}), name=name)


def build_schema(depth_limit: int = 7) -> strawberry.Schema:
    queries = (reference.Query, *hasura.query_types(), *actions.query_types())
    mutations = (*hasura.mutation_types(), *actions.mutation_types())
    query = merge_types("query_root", queries)
    mutation = merge_types("mutation_root", mutations) if mutations else None
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(auto_camel_case=False),
        extensions=[
            QueryDepthLimiter(max_depth=depth_limit),
            ParserCache(maxsize=512),
            ValidationCache(maxsize=512),
        ],
    )


class DocumentChecker:
    """Parses and validates documents once, so the transport can answer 400 for bad ones."""

    def __init__(self, schema: strawberry.Schema, depth_limit: int):
        from graphql.validation import specified_rules
        from strawberry.extensions.query_depth_limiter import create_validator

        self._schema = schema._schema
        self._rules = [*specified_rules, create_validator(depth_limit, None, None)]
        self.check = lru_cache(maxsize=1024)(self._check)

    def _check(self, query: str) -> tuple[GraphQLError, ...]:
        try:
            document: DocumentNode = parse(query)
        except GraphQLError as error:
            return (error,)
        return tuple(validate(self._schema, document, self._rules))
