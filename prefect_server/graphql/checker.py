"""Parsing and validating documents before execution, once per document shape."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import strawberry
from graphql import GraphQLError, parse, validate
from graphql.language import DocumentNode
from graphql.validation import (
    OverlappingFieldsCanBeMergedRule,
    ValuesOfCorrectTypeRule,
    specified_rules,
)

from prefect_server.graphql.limits import MAX_TOKENS, limit_errors
from prefect_server.graphql.shapes import shape_of

# The rules whose verdict depends on literal values, which a shape leaves out: a value's
# type (``limit: "x"``) and whether two fields of one name agree on their arguments
# (``a: flow(limit: 1) a: flow(limit: 2)``). Every other rule sees names only.
LITERAL_RULES = (ValuesOfCorrectTypeRule, OverlappingFieldsCanBeMergedRule)

TOO_NESTED = "The document is nested too deeply to be read."


class DocumentChecker:
    """Parses and validates documents once, so the transport can answer 400 for bad ones."""

    def __init__(self, schema: strawberry.Schema, depth_limit: int):
        self._schema = schema._schema
        self._depth_limit = depth_limit
        self._valid_shapes: OrderedDict[str, None] = OrderedDict()
        self.check = lru_cache(maxsize=1024)(self._check_cached_shape)

    def _check_cached_shape(self, query: str) -> tuple[GraphQLError, ...]:
        # The 1.4.1 client writes ids inline (get_or_create_task_run_info, heartbeats), so
        # its documents rarely repeat verbatim. A document whose shape (its text with
        # literals blanked) passed before needs only the rules that read literals, not
        # all 27 (about 2.5 ms here); the verdict is the one a fresh validation gives.
        found = shape_of(query)
        shape = None if found is None else found.text
        if shape is not None and shape in self._valid_shapes:
            self._valid_shapes.move_to_end(shape)
            return self._validate(query, LITERAL_RULES, limited=False)
        errors = self._validate(query, specified_rules, limited=True)
        if not errors and shape is not None:
            self._valid_shapes[shape] = None
            if len(self._valid_shapes) > 1024:
                self._valid_shapes.popitem(last=False)
        return errors

    def _validate(self, query: str, rules: object, *, limited: bool) -> tuple[GraphQLError, ...]:
        try:
            document: DocumentNode = parse(query, max_tokens=MAX_TOKENS)
            if limited:
                # Before validation: its rules walk fragment spreads one by one.
                refused = limit_errors(document, self._depth_limit)
                if refused:
                    return tuple(refused)
            return tuple(validate(self._schema, document, rules))  # type: ignore[arg-type]
        except GraphQLError as error:
            return (error,)
        except RecursionError:
            return (GraphQLError(TOO_NESTED),)
