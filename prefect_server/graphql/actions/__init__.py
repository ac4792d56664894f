"""The action API of Server 1's Python service: thin resolvers over the domain functions.

Each module defines ``Query`` and/or ``Mutation`` types; they are listed here and
merged into ``query_root``/``mutation_root`` by the schema.
"""

from __future__ import annotations

QUERY_TYPES: list[type] = []
MUTATION_TYPES: list[type] = []
