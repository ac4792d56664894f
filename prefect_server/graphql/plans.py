"""Execution plans for the documents a running flow sends thousands of times.

Every task run costs the server a ``get_or_create_task_run_info``, two
``set_task_run_states`` and a share of a ``write_run_logs``. Through the general
executor (validation, graphql-core's execution, Strawberry's argument conversion) each
costs about a millisecond of CPU before any SQL runs. A document of a simple form —
one operation, one root mutation field that is a hot mutation, one ``input`` argument
given as a variable or as an inline object of literals, plain field selections — is
planned once per shape (see ``shapes``) after it passed validation, and later
documents of that shape run through the plan: the input is coerced by graphql-core's
own ``coerce_input_value``, the hot mutation runs the write its resolver shares, and the payload
is projected onto the selection with the schema's own serializers.

A plan never changes an answer. Whatever it is not sure of — a value that does not
coerce, an operation name that does not match, a hot mutation that declines or raises —
goes to the general executor instead. A hot mutation owns its write's transaction
(see ``hot``), so a write that raised wrote nothing and running the operation again is
safe; the general executor then gives the error its usual text and shape.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    IntValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    TokenKind,
    VariableNode,
    coerce_input_value,
    parse,
    print_ast,
)

from prefect_server.graphql.context import Context
from prefect_server.graphql.hot import HotMutation
from prefect_server.graphql.shapes import Literal, shape_of

logger = logging.getLogger(__name__)

# Input fields a literal may fill, by the scalar's name and the literal's kind. For
# these, graphql-core's parse_literal and parse_value agree (JSON's do not: an inline
# JSON string is parsed as JSON text), so coercing the literal's value is exact.
_LITERAL_TYPES = {
    ("UUID", TokenKind.STRING),
    ("uuid", TokenKind.STRING),
    ("String", TokenKind.STRING),
    ("Int", TokenKind.INT),
}


@dataclass(frozen=True, slots=True)
class Selected:
    """One selected field: where its value comes from and how it is written."""

    key: str
    attribute: str
    non_null: bool
    serialize: Callable[[Any], Any] | None = None  # a leaf
    fields: tuple[Selected, ...] = ()  # an object
    item_non_null: bool = False
    is_list: bool = False


class ProjectionError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Plan:
    operation_name: str | None
    key: str
    handler: HotMutation[Any]
    input_type: GraphQLInputType
    variable: str | None
    literal_fields: tuple[str, ...]
    constants: tuple[tuple[str, Any], ...]
    selection: tuple[Selected, ...]

    def input_value(
        self, literals: tuple[Literal, ...], variables: Mapping[str, Any] | None
    ) -> Any:
        if self.variable is not None:
            return (variables or {}).get(self.variable)
        value: dict[str, Any] = dict(self.constants)
        for name, literal in zip(self.literal_fields, literals, strict=True):
            value[name] = int(literal.value) if literal.kind is TokenKind.INT else literal.value
        return value


class Plans:
    """Plans by document shape, learnt from documents the general path accepted."""

    def __init__(self, schema: strawberry.Schema, hot: Iterable[HotMutation[Any]], size: int = 512):
        self._strawberry = schema
        self._schema = schema._schema
        self._handlers: dict[str, HotMutation[Any]] = {}
        for mutation in hot:
            if mutation.field in self._handlers:
                raise ValueError(f"Two hot mutations are registered for {mutation.field!r}.")
            self._handlers[mutation.field] = mutation
        _check_planned_fields(schema, self._handlers)
        self._plans: OrderedDict[str, Plan | None] = OrderedDict()
        self._size = size
        # The state and log documents repeat verbatim (their values are variables).
        self._shape_of = lru_cache(maxsize=256)(shape_of)
        self.answered = 0  # operations a plan answered (the general executor: the rest)

    def learn(self, query: str) -> None:
        """Plan ``query``'s shape (or note that it has none); call only for valid documents."""
        if not any(name in query for name in self._handlers):
            return
        # Usually just lexed by ``run``, which found no plan: the cache has it.
        shape = self._shape_of(query)
        if shape is None or shape.text in self._plans:
            return
        try:
            plan = self._plan(query, len(shape.literals))
        except Exception:  # a form this planner does not know: the general path keeps it
            logger.debug("No plan for %r", query, exc_info=True)
            plan = None
        self._plans[shape.text] = plan
        if len(self._plans) > self._size:
            self._plans.popitem(last=False)

    async def run(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        context: Context,
    ) -> dict[str, Any] | None:
        """The response, or None when the general executor must answer instead."""
        if not self._plans:
            return None
        shape = self._shape_of(query)
        plan = None if shape is None else self._plans.get(shape.text)
        if plan is None or shape is None:
            return None
        if operation_name is not None and operation_name != plan.operation_name:
            return None
        try:
            value = coerce_input_value(plan.input_value(shape.literals, variables), plan.input_type)
        except (GraphQLError, ValueError, TypeError):
            return None
        if value is None:
            return None
        try:
            payload = await plan.handler(context, value)
        except Exception:
            logger.debug("Planned %s failed; the general executor answers", plan.key, exc_info=True)
            return None
        if payload is None:
            return None
        # The handler has committed: from here on, answer; never run it a second time,
        # and never let a failure become a 5xx, which the 1.4.1 client retries (a second
        # state write or log batch).
        self.answered += 1
        try:
            return {"data": {plan.key: _project(payload, plan.selection)}}
        except ProjectionError as error:
            message = str(error)
        except Exception:
            logger.exception("Answering planned %s after its write failed", plan.key)
            message = f"The {plan.key} write was saved, but its answer could not be built."
        return {"data": {plan.key: None}, "errors": [{"message": message, "path": [plan.key]}]}

    def _plan(self, query: str, literal_count: int) -> Plan | None:
        document = parse(query)
        if len(document.definitions) != 1:
            return None
        operation = document.definitions[0]
        if not isinstance(operation, OperationDefinitionNode):
            return None
        if operation.operation is not OperationType.MUTATION or operation.directives:
            return None
        root = self._schema.mutation_type
        field = _only_field(operation.selection_set)
        if root is None or field is None or field.name.value not in self._handlers:
            return None
        definition = root.fields[field.name.value]
        arguments = field.arguments or ()
        if len(arguments) != 1 or arguments[0].name.value != "input":
            return None
        argument = definition.args["input"]
        value = arguments[0].value
        declarations = operation.variable_definitions or ()
        variable = None
        literal_fields: list[str] = []
        constants: list[tuple[str, Any]] = []
        if isinstance(value, VariableNode):
            if len(declarations) != 1:
                return None
            (declared,) = declarations
            if declared.variable.name.value != value.name.value or declared.default_value:
                return None
            if declared.directives or print_ast(declared.type) != str(argument.type):
                return None
            variable = value.name.value
        elif isinstance(value, ObjectValueNode) and not declarations:
            input_type = _named(argument.type)
            for item in value.fields:
                name = item.name.value
                if isinstance(item.value, NullValueNode):
                    constants.append((name, None))
                    continue
                kind = (
                    TokenKind.STRING
                    if isinstance(item.value, StringValueNode) and not item.value.block
                    else TokenKind.INT
                    if isinstance(item.value, IntValueNode)
                    else None
                )
                scalar = _named(input_type.fields[name].type)
                if kind is None or (scalar.name, kind) not in _LITERAL_TYPES:
                    return None
                literal_fields.append(name)
            if len(literal_fields) != literal_count:
                return None
        else:
            return None
        output = definition.type
        selection = self._selection(field, output, field.name.value, root=True)
        if selection is None:
            return None
        return Plan(
            operation_name=operation.name.value if operation.name else None,
            key=field.alias.value if field.alias else field.name.value,
            handler=self._handlers[field.name.value],
            input_type=argument.type,
            variable=variable,
            literal_fields=tuple(literal_fields),
            constants=tuple(constants),
            selection=selection.fields,
        )

    def _selection(
        self, node: FieldNode, output: Any, attribute: str, *, root: bool = False
    ) -> Selected | None:
        # The root field's one argument (``input``) was checked by the caller.
        if node.directives or (node.arguments and not root):
            return None
        non_null = isinstance(output, GraphQLNonNull)
        inner = output.of_type if non_null else output
        is_list = isinstance(inner, GraphQLList)
        item_non_null = False
        if is_list:
            inner = inner.of_type
            item_non_null = isinstance(inner, GraphQLNonNull)
            inner = inner.of_type if item_non_null else inner
        key = node.alias.value if node.alias else node.name.value
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            if is_list or node.selection_set:
                return None
            return Selected(key, attribute, non_null, serialize=inner.serialize)
        if not isinstance(inner, GraphQLObjectType) or node.selection_set is None:
            return None
        definition = self._strawberry.get_type_by_name(inner.name)
        # Plain attributes only: a field with its own resolver is the general path's.
        python_names = {
            f.name: f.python_name
            for f in getattr(definition, "fields", ())
            if getattr(f, "base_resolver", None) is None
        }
        fields = []
        for selection in node.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value not in python_names:
                return None  # fragments, __typename
            name = selection.name.value
            child = self._selection(selection, inner.fields[name].type, python_names[name])
            if child is None:
                return None
            fields.append(child)
        return Selected(key, attribute, non_null, None, tuple(fields), item_non_null, is_list)


def _check_planned_fields(
    schema: strawberry.Schema, handlers: Mapping[str, HotMutation[Any]]
) -> None:
    """A planned field must have nothing Strawberry would run that a plan skips."""
    root = schema.get_type_by_name("mutation_root")
    fields = {f.name: f for f in getattr(root, "fields", ())}
    for name in handlers:
        field = fields.get(name)
        if field is None:
            raise ValueError(f"A hot mutation is registered for {name!r}, which is no mutation.")
        if field.extensions or field.permission_classes or field.directives:
            raise ValueError(
                f"Mutation {name!r} has Strawberry extensions, permissions or directives "
                "that its execution plan would skip; remove them or its hot mutation."
            )


def _only_field(selection_set: SelectionSetNode) -> FieldNode | None:
    if len(selection_set.selections) != 1:
        return None
    field = selection_set.selections[0]
    return field if isinstance(field, FieldNode) else None


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _project(value: Any, fields: tuple[Selected, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        out[field.key] = _complete(getattr(value, field.attribute), field)
    return out


def _complete(value: Any, field: Selected) -> Any:
    if value is None:
        if field.non_null:
            raise ProjectionError(f"Cannot return null for non-nullable field {field.key}.")
        return None
    if field.is_list:
        items: list[dict[str, Any] | None] = []
        for item in value:
            if item is None:
                if field.item_non_null:
                    raise ProjectionError(f"Cannot return null in non-nullable list {field.key}.")
                items.append(None)
            else:
                items.append(_project(item, field.fields))
        return items
    if field.serialize is not None:
        return field.serialize(value)
    return _project(value, field.fields)
