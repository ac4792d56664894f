"""pytest plugin (entry point ``pytest11``): the ``prefect_server`` fixture.

Each test using it gets a fresh server over a fresh temporary SQLite database, or
over ``PREFECT_SERVER_TEST_DATABASE_URL`` when that is set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from prefect_server.settings import suite_database_url
from prefect_server.testing import EmbeddedServer, running_server


@pytest.fixture
def prefect_server() -> Iterator[EmbeddedServer]:
    with running_server(suite_database_url()) as server:
        yield server
