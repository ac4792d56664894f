"""How much work a document asks for, measured before any rule or resolver sees it.

A 2 KB document can name a fragment that spreads the next one twice, n times over:
``{ ...F0 } fragment F0 on query_root { ...F1 ...F1 } …``. Walking it spread by spread
(as a depth limiter or an executor does) costs 2^n. Here every fragment is measured
once, from the fragments it spreads, so the cost is linear in the document's size, and
a document whose expansion is too deep or too large is refused before validation.

Unknown fragments and fragment cycles count as empty here: validation names them
(``KnownFragmentNamesRule``, ``NoFragmentCyclesRule``).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLError
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# The original UI's largest document selects a few hundred fields; the 1.4.1 client's,
# a few dozen. Validation's overlap rule is quadratic in a selection's fields: 5,000
# identical fields take about a second here.
MAX_FIELDS = 1_000
# Parsing is linear, but 20,000 tokens already take a quarter of a second; the client's documents
# carry their bulk in variables.
MAX_TOKENS = 20_000


@dataclass(frozen=True, slots=True)
class Size:
    """A selection's depth (as graphql-depth-limit counts it) and its fields, expanded."""

    depth: int
    fields: int


_EMPTY = Size(0, 0)


class _Measure:
    def __init__(self, document: DocumentNode):
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._sizes: dict[str, Size] = {}
        self._open: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None) -> Size:
        depth = fields = 0
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                size = self.field(selection)
            elif isinstance(selection, InlineFragmentNode):
                size = self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                size = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection
                continue
            depth = max(depth, size.depth)
            # Saturate: a bomb's count must not become a number of 2^n digits.
            fields = min(fields + size.fields, MAX_FIELDS + 1)
        return Size(depth, fields)

    def field(self, node: FieldNode) -> Size:
        # Introspection fields do not count towards the depth (graphql-depth-limit).
        if node.name.value.startswith("__") or node.selection_set is None:
            inner = self.selection_set(node.selection_set)
            return Size(0, min(1 + inner.fields, MAX_FIELDS + 1))
        inner = self.selection_set(node.selection_set)
        return Size(1 + inner.depth, min(1 + inner.fields, MAX_FIELDS + 1))

    def fragment(self, name: str) -> Size:
        size = self._sizes.get(name)
        if size is not None:
            return size
        definition = self._fragments.get(name)
        if definition is None or name in self._open:
            return _EMPTY
        self._open.add(name)
        size = self.selection_set(definition.selection_set)
        self._open.discard(name)
        self._sizes[name] = size
        return size


def limit_errors(document: DocumentNode, max_depth: int) -> list[GraphQLError]:
    """Errors for each operation that is too deep or expands to too many fields."""
    measure = _Measure(document)
    errors = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        name = definition.name.value if definition.name else "anonymous"
        size = measure.selection_set(definition.selection_set)
        if size.depth > max_depth:
            errors.append(
                GraphQLError(
                    f"'{name}' exceeds maximum operation depth of {max_depth}", [definition]
                )
            )
        if size.fields > MAX_FIELDS:
            errors.append(
                GraphQLError(
                    f"'{name}' selects more than {MAX_FIELDS} fields once its fragments are "
                    "spread; ask for less in one operation.",
                    [definition],
                )
            )
    return errors
