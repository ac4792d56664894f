"""What every resolver receives as ``info.context``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prefect_server.database.engine import Database
from prefect_server.settings import Settings


@dataclass
class Context:
    db: Database
    settings: Settings
    # Request headers, lower-cased names (x-prefect-agent-id, x-prefect-core-version, …).
    headers: Mapping[str, str] = field(default_factory=dict)
    # Per-request scratch space for the generated layer (batched relationship loads).
    cache: dict[Any, Any] = field(default_factory=dict)
    # Awaited when the operation is done (e.g. the generated layer's read session).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        while self.closers:
            await self.closers.pop()()

    @property
    def agent_id(self) -> str | None:
        return self.headers.get("x-prefect-agent-id") or None

    @property
    def core_version(self) -> str | None:
        return self.headers.get("x-prefect-core-version") or None
