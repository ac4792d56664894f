"""Point the Prefect 1.4.1 client at an embedded server, and back again.

The client reads its configuration once, when ``prefect`` is imported: environment
variables only reach a ``prefect`` imported later (and the CLI, agent and flow-run
processes a test starts), so a ``prefect`` already imported is changed in place too.
Its ``Client`` takes the API from ``prefect.context.config`` (a copy made at import)
and the backend from ``prefect.config``: both are set. Without the backend set to
``server`` the client asks for a Cloud API key, and without the endpoint it talks to
localhost:4200.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# (environment variable, dotted key in the client's configuration)
_KEYS = (
    ("PREFECT__BACKEND", "backend"),
    ("PREFECT__SERVER__ENDPOINT", "server.endpoint"),
    ("PREFECT__CLOUD__API", "cloud.api"),
    ("PREFECT__CLOUD__GRAPHQL", "cloud.graphql"),
)


def _values(url: str) -> dict[str, str]:
    return {
        "backend": "server",
        "server.endpoint": url,
        "cloud.api": url,
        "cloud.graphql": f"{url}/graphql",
    }


def _configs() -> list[Any]:
    prefect = sys.modules.get("prefect")
    if prefect is None:
        return []
    return [prefect.config, prefect.context.config]


def _read(config: Any) -> dict[str, Any]:
    values = {}
    for _, key in _KEYS:
        section, _, name = key.rpartition(".")
        values[key] = (config.get(section) if section else config).get(name)
    return values


def _write(config: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        (config.get(section) if section else config)[name] = value


@contextmanager
def client_pointed_at(url: str) -> Iterator[None]:
    """Configure the 1.4.1 client (if installed) for the server at ``url``; restore
    its configuration and the environment afterwards."""
    # The environment is written for the client, a separate program that reads it; the
    # server's own settings are never read from here.
    saved_env = {variable: os.environ.get(variable) for variable, _ in _KEYS}
    saved_configs = [(config, _read(config)) for config in _configs()]
    os.environ.update({variable: _values(url)[key] for variable, key in _KEYS})
    for config, _ in saved_configs:
        _write(config, _values(url))
    try:
        yield
    finally:
        for variable, value in saved_env.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
        if saved_configs:
            for config, values in saved_configs:
                _write(config, values)
        elif _configs():
            # Imported inside the block, from our environment: reload what it would have
            # read without us.
            from prefect.configuration import load_default_config

            fresh = _read(load_default_config())
            for config in _configs():
                _write(config, fresh)
