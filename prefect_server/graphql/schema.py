"""The one Strawberry schema: the generated Hasura layer and the action resolvers."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import (
    DisableValidation,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
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
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(auto_camel_case=False),
        extensions=extensions,
    )
