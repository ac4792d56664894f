"""Parsing and validating documents before execution, once per document shape."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import strawberry
from graphql import GraphQLError, parse, validate
from graphql.language import DocumentNode
from graphql.validation import ValuesOfCorrectTypeRule

from prefect_server.graphql.shapes import shape_of


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
        found = shape_of(query)
        shape = None if found is None else found.text
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
