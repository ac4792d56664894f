"""The action API of Server 1's Python service: thin resolvers over the domain functions.

Every module of this package may define a Strawberry type named ``Query`` and/or
``Mutation``; they are found here and merged into ``query_root``/``mutation_root``
by the schema, so adding a module needs no edit anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def _collect(attribute: str) -> list[Any]:
    found: list[Any] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        root = getattr(module, attribute, None)
        if root is not None:
            found.append(root)
    return found


def query_types() -> list[type]:
    return _collect("Query")


def mutation_types() -> list[type]:
    return _collect("Mutation")


def hot_handlers() -> dict[str, Any]:
    """Root mutation fields with a handler for planned documents (``HOT`` of each module)."""
    handlers: dict[str, Any] = {}
    for module_handlers in _collect("HOT"):
        overlap = handlers.keys() & module_handlers.keys()  # type: ignore[attr-defined]
        if overlap:
            raise ValueError(f"Hot handlers defined twice: {sorted(overlap)}")
        handlers.update(module_handlers)  # type: ignore[call-overload]
    return handlers
