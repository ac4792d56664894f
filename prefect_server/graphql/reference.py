"""Root queries that describe the server: ``hello``, ``api`` and ``reference_data``."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

import prefect_server
from prefect_server.graphql.context import Context
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


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str | None:
        return "👋"

    @strawberry.field
    def api(self, info: Info[Context, None]) -> ApiInfo | None:
        reported = info.context.settings.api_info
        return ApiInfo(
            backend="SERVER",
            mode="normal",
            version=reported.version or prefect_server.__version__,
            core_version=reported.core_version,
            release_timestamp=reported.release_timestamp or None,
        )

    @strawberry.field
    def reference_data(self) -> ReferenceData | None:
        return ReferenceData(
            state_hierarchy=state_types.state_hierarchy(),
            state_info=state_types.state_info(),
        )
