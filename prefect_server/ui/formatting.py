"""How values from runs are shown: times, durations, states, JSON."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from prefect_server.orchestration.state_types import STATE_CLASSES, is_a

UTC = dt.timezone.utc


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def when(value: dt.datetime | None) -> str:
    """An absolute UTC time a person can read and compare."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def span(seconds: float) -> str:
    """A length of time in its two largest units: ``3 h 12 min``, ``41 s``, ``0.35 s``."""
    if seconds < 0:
        seconds = -seconds
    if seconds < 10:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


def ago(value: dt.datetime | None, reference: dt.datetime | None = None) -> str:
    """``5 min ago`` or ``in 2 h`` relative to now: to the second within a minute, then
    to the minute, so a live fragment's text (and its ETag) stays the same for a minute."""
    if value is None:
        return "never"
    delta = ((reference or now()) - value).total_seconds()
    if abs(delta) < 1:
        return "just now"
    whole = int(abs(delta))
    text = span(whole - whole % 60) if whole >= 60 else f"{whole} s"
    return f"{text} ago" if delta > 0 else f"in {text}"


def duration(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """How long a run took, or has been running so far."""
    if start is None:
        return "—"
    return span(((end or now()) - start).total_seconds())


def state_colour(name: str | None) -> str:
    return STATE_CLASSES.get(name or "", (None, "#696969"))[1]


def state_slug(name: str | None) -> str:
    """The CSS class of a state: its own name, plus its family for the shared styles."""
    if not name:
        return "state state-none"
    family = next(
        (f for f in ("Failed", "Success", "Running", "Scheduled", "Cancelled") if is_a(name, f)),
        "other",
    )
    return f"state state-{name.lower()} family-{family.lower()}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def short_id(value: Any) -> str:
    return str(value)[:8]


FILTERS = {
    "when": when,
    "iso": iso,
    "ago": ago,
    "span": span,
    "duration": duration,
    "state_colour": state_colour,
    "state_slug": state_slug,
    "pretty_json": pretty_json,
    "short_id": short_id,
}
