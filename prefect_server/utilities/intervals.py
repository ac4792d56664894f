"""Intervals as PostgreSQL writes them, and as Prefect clients send them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_VERBOSE = re.compile(
    r"^\s*(?:(?P<days>-?\d+)\s+days?)?\s*,?\s*"
    r"(?:(?P<sign>-)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?))?\s*$"
)


def parse_interval(value: Any) -> dt.timedelta:
    """A timedelta from seconds, ``H:M:S``, ``1 day 00:00:30`` or ``2 days, 1:00:00``."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"Could not parse interval: {value!r}")
    if isinstance(value, int | float):
        return dt.timedelta(seconds=value)
    text = str(value).strip()
    try:
        return dt.timedelta(seconds=float(text))
    except ValueError:
        pass
    match = _VERBOSE.match(text)
    if not text or not match or not (match["days"] or match["h"]):
        raise ValueError(f"Could not parse interval: {value!r}")
    delta = dt.timedelta(days=int(match["days"] or 0))
    if match["h"]:
        clock = dt.timedelta(
            hours=int(match["h"]), minutes=int(match["m"]), seconds=float(match["s"])
        )
        delta += -clock if match["sign"] else clock
    return delta
