"""Root queries that describe the server: ``hello``, ``api`` and ``reference_data``."""

from __future__ import annotations

import os

import strawberry

import prefect_server
from prefect_server.graphql.scalars import JSON
from prefect_server.orchestration import state_types


@strawberry.type(name="api_info")
class ApiInfo:
    backend: str | None
    mode: str | None
    version: str | None
    core_version: str | None
    release_timestamp: str | None


@strawberry.type(name="reference_data")
class ReferenceData:
    state_hierarchy: JSON
    state_info: JSON


def _core_version() -> str:
    # Server 1 reported the Prefect Core it was built with; ours speaks 1.4.1's wire format.
    return os.environ.get("PREFECT_CORE_VERSION", "1.4.1")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str | None:
        return "👋"

    @strawberry.field
    def api(self) -> ApiInfo | None:
        return ApiInfo(
            backend="SERVER",
            mode="normal",
            version=os.environ.get("PREFECT_SERVER_VERSION", prefect_server.__version__),
            core_version=_core_version(),
            release_timestamp=os.environ.get("RELEASE_TIMESTAMP"),
        )

    @strawberry.field
    def reference_data(self) -> ReferenceData | None:
        return ReferenceData(
            state_hierarchy=state_types.state_hierarchy(),
            state_info=state_types.state_info(),
        )
