"""The Hasura-compatible API, generated from the models' metadata."""

from __future__ import annotations


def query_types() -> list[type]:
    return []


def mutation_types() -> list[type]:
    return []
