"""A document's shape: its tokens with the literal values taken out.

The 1.4.1 client writes ids inline (``get_or_create_task_run_info``, heartbeats), so
its documents rarely repeat verbatim, but their shapes do. What is true of a document
apart from its literal values (its validity under every rule but one, its execution
plan) is true of every document with the same shape. A literal's kind stays in the
shape: ``map_index: 3`` and ``map_index: "3"`` have different shapes.
"""

from __future__ import annotations

from typing import NamedTuple

from graphql import GraphQLError
from graphql.language import Lexer, Source, TokenKind

from prefect_server.graphql.limits import MAX_TOKENS

_MARKS = {
    TokenKind.STRING: "\x00S",
    TokenKind.BLOCK_STRING: "\x00B",
    TokenKind.INT: "\x00I",
    TokenKind.FLOAT: "\x00F",
}


class Literal(NamedTuple):
    kind: TokenKind
    value: str


class Shape(NamedTuple):
    text: str
    literals: tuple[Literal, ...]


def shape_of(query: str, max_tokens: int = MAX_TOKENS) -> Shape | None:
    """The document's shape and its literals in source order; None if it does not lex
    or has more than ``max_tokens`` tokens (the parser refuses it; no need to read on)."""
    try:
        lexer = Lexer(Source(query))
        parts: list[str] = []
        literals: list[Literal] = []
        token = lexer.advance()
        while token.kind != TokenKind.EOF:
            mark = _MARKS.get(token.kind)
            if mark is None:
                parts.append(token.value or token.kind.value)
            else:
                parts.append(mark)
                literals.append(Literal(token.kind, token.value or ""))
            if len(parts) > max_tokens:
                return None
            token = lexer.advance()
    except GraphQLError:
        return None
    return Shape(" ".join(parts), tuple(literals))
