"""The one clock: timezone-aware UTC, as every timestamp column stores it."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
