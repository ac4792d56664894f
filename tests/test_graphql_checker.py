"""The checker's cached verdicts equal a fresh validation's, whatever the literals."""

from __future__ import annotations

import re

from graphql import parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect_server.graphql.checker import DocumentChecker
from prefect_server.graphql.schema import build_schema

SCHEMA = build_schema(checked_by_transport=True)

# Field templates: §I is an Int literal's place, §S a String literal's.
FIELDS = (
    "hello",
    "flow(limit: §I) { id }",
    "flow(limit: §I, offset: §I) { id name }",
    "flow(where: {name: {_eq: §S}}) { id }",
    "flow(limit: §S) { id }",
    "flow(limit: $v) { id }",
    "flow_run(where: {version: {_gt: §I}}, limit: §I) { id }",
    "flow_by_pk(id: §S) { id }",
)
INTS = st.sampled_from(["0", "1", "2", "2147483648", "-1"])
STRINGS = st.sampled_from(['"a"', '"b"', '"1"', '"2b4e5c3a-0000-4000-8000-000000000000"'])


@st.composite
def documents_differing_in_literals(draw: st.DrawFn) -> tuple[str, str]:
    """Two documents of one shape: the same aliases, fields and variables."""
    chosen = draw(
        st.lists(
            st.tuples(st.sampled_from(["", "a: ", "b: "]), st.sampled_from(FIELDS)),
            min_size=1,
            max_size=3,
        )
    )
    variable = draw(st.booleans()) or any("$v" in field for _, field in chosen)
    body = " ".join(alias + field for alias, field in chosen)
    template = ("query($v: Int = §I) { " if variable else "{ ") + body + " }"
    slots = re.findall("§[IS]", template)

    def fill() -> str:
        values = iter([draw(INTS if slot == "§I" else STRINGS) for slot in slots])
        return re.sub("§[IS]", lambda _: next(values), template)

    return fill(), fill()


@settings(max_examples=200, deadline=None)
@given(documents_differing_in_literals())
def test_a_cached_verdict_equals_a_fresh_validation(pair: tuple[str, str]) -> None:
    first, second = pair
    checker = DocumentChecker(SCHEMA, 7)
    checker.check(first)  # the shape is learnt when this one is valid
    cached = [e.message for e in checker.check(second)]
    fresh = [e.message for e in validate(SCHEMA._schema, parse(second))]
    assert cached == fresh


def test_differing_arguments_under_one_alias_conflict_after_a_valid_twin() -> None:
    checker = DocumentChecker(SCHEMA, 7)
    assert checker.check("{ a: flow(limit: 1) { id } a: flow(limit: 1) { id } }") == ()
    (error,) = checker.check("{ a: flow(limit: 1) { id } a: flow(limit: 2) { id } }")
    assert "Fields 'a' conflict because they have differing arguments" in error.message
