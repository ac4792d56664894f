"""The action API of Server 1's Python service: thin resolvers over the domain functions.

Every module of this package may define a Strawberry type named ``Query`` and/or
``Mutation``; they are found here and merged into ``query_root``/``mutation_root``
by the schema, so adding a module needs no edit anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from prefect_server.graphql.actions import logs, runs, states
from prefect_server.graphql.hot import HotMutation


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


def hot_handlers() -> tuple[HotMutation[Any], ...]:
    """The root mutations whose documents execution plans answer (graphql/plans.py),
    each defined beside its resolver, which shares its write."""
    return (
        states.SET_FLOW_RUN_STATES,
        states.SET_TASK_RUN_STATES,
        runs.GET_OR_CREATE_TASK_RUN_INFO,
        runs.UPDATE_FLOW_RUN_HEARTBEAT,
        runs.UPDATE_TASK_RUN_HEARTBEAT,
        logs.WRITE_RUN_LOGS,
    )
