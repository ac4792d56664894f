"""The one Strawberry schema: the generated Hasura layer and the action resolvers."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import strawberry
from graphql import GraphQLError, parse, validate
from graphql.language import DocumentNode, Lexer, Source, TokenKind
from graphql.validation import ValuesOfCorrectTypeRule
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
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        config=StrawberryConfig(auto_camel_case=False),
        extensions=[
            ParserCache(maxsize=512),
            DisableValidation(),
        ]
        if checked_by_transport
        else [
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
        self._valid_shapes: OrderedDict[str, None] = OrderedDict()
        self.check = lru_cache(maxsize=1024)(self._check_cached_shape)

    def _check_cached_shape(self, query: str) -> tuple[GraphQLError, ...]:
        # The 1.4.1 client writes ids inline (get_or_create_task_run_info, heartbeats), so
        # its documents rarely repeat verbatim. Literal values matter to one rule only: a
        # document whose shape (its text with literals blanked) passed before needs just
        # that rule, not all 30 (about 2.5 ms here).
        shape = document_shape(query)
        if shape is not None and shape in self._valid_shapes:
            self._valid_shapes.move_to_end(shape)
            try:
                document = parse(query)
            except GraphQLError as error:
                return (error,)
            return tuple(validate(self._schema, document, [ValuesOfCorrectTypeRule]))
        errors = self._check(query)
        if not errors and shape is not None:
            self._valid_shapes[shape] = None
            if len(self._valid_shapes) > 1024:
                self._valid_shapes.popitem(last=False)
        return errors

    def _check(self, query: str) -> tuple[GraphQLError, ...]:
        try:
            document: DocumentNode = parse(query)
        except GraphQLError as error:
            return (error,)
        return tuple(validate(self._schema, document, self._rules))


_LITERALS = frozenset({TokenKind.STRING, TokenKind.BLOCK_STRING, TokenKind.INT, TokenKind.FLOAT})


def document_shape(query: str) -> str | None:
    """The document's tokens with string and number literals blanked; None if it does not lex."""
    try:
        lexer = Lexer(Source(query))
        parts: list[str] = []
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            parts.append("\x00" if token.kind in _LITERALS else token.value or token.kind.value)
            token = lexer.advance()
    except GraphQLError:
        return None
    return " ".join(parts)
