"""Ids as clients send them: a UUID, or its text. The one place that parses them."""

from __future__ import annotations

import uuid
from typing import Any


def parse_id(value: Any) -> uuid.UUID | None:
    """A UUID from a UUID or its text; ``None`` for anything that is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def id_or_raise(value: Any, error: Exception) -> uuid.UUID:
    """A UUID from a UUID or its text; raises ``error`` for anything that is not one."""
    parsed = parse_id(value)
    if parsed is None:
        raise error
    return parsed
