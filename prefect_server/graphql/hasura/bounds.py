"""Limits on a filter, checked before any SQL is built from it.

The databases refuse some filters with their own errors (SQLite: "Expression tree is
too large" past 1,000 nested terms, "LIKE or GLOB pattern too complex", "parser stack
overflow"), and deeply nested jsonb values overflow Python's stack while the SQL is
built. Those errors carry the statement's text and are logged as faults of ours. A
filter within these limits is well inside what both databases accept, so the same
filter is refused, or answered, the same way on both.
"""

from __future__ import annotations

from typing import Any


class FilterError(ValueError):
    """A caller's mistake in a filter or a write's operands (``filters`` re-exports it)."""


# Keys and list items of one filter, all levels together: an AND or OR of them is a
# left-deep tree in SQLite's parser, whose depth limit is 1,000.
MAX_TERMS = 500
# Values of one _in/_nin list (each is a bound parameter; SQLite allows 32,766 in all).
MAX_LIST = 5_000
MAX_PATTERN = 1_000
# jsonb operands: nesting and items. The UI's label and parameter filters are flat.
MAX_JSON_DEPTH = 16
MAX_JSON_ITEMS = 500

_PATTERN_OPERATORS = frozenset({"_like", "_nlike", "_ilike", "_nilike", "_similar", "_nsimilar"})
_JSON_OPERATORS = frozenset({"_contains", "_contained_in", "_eq", "_neq", "_in", "_nin"})


def check_filter(where: Any, argument: str = "where") -> None:
    """A FilterError naming the part of ``argument`` that is over a limit."""
    terms = _Terms(argument)
    terms.walk(where, argument)


class _Terms:
    def __init__(self, argument: str):
        self.argument = argument
        self.count = 0

    def add(self, path: str) -> None:
        self.count += 1
        if self.count > MAX_TERMS:
            raise FilterError(
                f"The filter `{self.argument}` has more than {MAX_TERMS} conditions (at "
                f"`{path}`); split the request into smaller ones."
            )

    def walk(self, value: Any, path: str) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.add(path)
                self.walk(item, f"{path}[{index}]")
            return
        if not isinstance(value, dict):
            return
        for key, inner in value.items():
            here = f"{path}.{key}"
            self.add(here)
            if not isinstance(inner, dict):  # operands; a dict is walked below
                check_no_nul(inner, here)
            if key in _PATTERN_OPERATORS and isinstance(inner, str) and len(inner) > MAX_PATTERN:
                raise FilterError(
                    f"The pattern at `{here}` is {len(inner):,} characters long; patterns "
                    f"are limited to {MAX_PATTERN:,}."
                )
            if key in ("_in", "_nin") and isinstance(inner, list) and len(inner) > MAX_LIST:
                raise FilterError(
                    f"The list at `{here}` has {len(inner):,} values; lists are limited to "
                    f"{MAX_LIST:,}."
                )
            if key in ("_in", "_nin") and isinstance(inner, list):
                # The list itself is bounded above; each value may be a jsonb document.
                for index, item in enumerate(inner):
                    check_json(item, f"{here}[{index}]")
            elif key in _JSON_OPERATORS or key.startswith("_has_key"):
                check_json(inner, here)
            elif key.startswith("_"):
                self.walk(inner, here)
            else:  # a column's comparisons or a relationship's filter
                self.walk(inner, here)


def check_no_nul(value: Any, path: str) -> None:
    """A FilterError when a value to be written holds a NUL character anywhere (a string,
    a JSON key or value): PostgreSQL's text and jsonb cannot store it and fail the
    statement, SQLite would store it; refused on both, in words."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, at = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise FilterError(
                    f"The value at `{at}` contains a NUL character, which no text can hold."
                )
        elif isinstance(item, dict):
            for key, inner in item.items():
                pending.append((key, at))
                pending.append((inner, f"{at}.{key}"))
        elif isinstance(item, list):
            pending.extend((inner, f"{at}[{index}]") for index, inner in enumerate(item))


def check_json(value: Any, path: str) -> None:
    """A FilterError when a JSON operand nests too deeply or has too many items."""
    items = 0
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise FilterError(f"The value at `{path}` nests deeper than {MAX_JSON_DEPTH} levels.")
        following: list[Any] = []
        for item in level:
            children = (
                list(item.values())
                if isinstance(item, dict)
                else item
                if isinstance(item, list)
                else []
            )
            items += len(children)
            following.extend(children)
        if items > MAX_JSON_ITEMS:
            raise FilterError(
                f"The value at `{path}` has more than {MAX_JSON_ITEMS} items; filter on a "
                "smaller value."
            )
        level = following
