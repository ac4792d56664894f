"""A Prefect 1 serialized schedule said in words, for the flow page.

The clocks are read with the scheduler's own loader (``prefect_server.schedules``), so
the page describes exactly what the scheduler will evaluate; filters and adjustments
are named from the serialized references, since loaded ones are bare functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from prefect_server.schedules import next_events
from prefect_server.schedules import timezones as tzs
from prefect_server.schedules.clocks import (
    Clock,
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
    load_clock,
)
from prefect_server.ui import cron_words

MAX_DATES_SHOWN = 5
UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
RULE_KINDS = {
    "filters": "Only times that pass every filter",
    "or_filters": "Only times that pass at least one of",
    "not_filters": "Never times that pass any of",
    "adjustments": "Then adjusted by",
}


@dataclass(frozen=True)
class Part:
    """A piece of a sentence; ``code`` pieces are shown as code (a cron expression)."""

    text: str
    code: bool = False


@dataclass
class Words:
    clocks: list[list[Part]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    problem: str | None = None


def zone_label(tz: dt.tzinfo | None) -> str:
    name = getattr(tz, "key", None) or tzs.zone_name(tz)
    if isinstance(name, str):
        return name
    if tz is None or tz.utcoffset(None) in (None, dt.timedelta(0)):
        return "UTC"
    return dt.datetime.now(tz).strftime("UTC%z")


def moment(value: dt.datetime) -> str:
    """``2024-01-01 09:00 Europe/Berlin``: the wall clock time in the clock's own zone."""
    seconds = ":%S" if value.second else ""
    return value.strftime(f"%Y-%m-%d %H:%M{seconds}") + " " + zone_label(value.tzinfo)


def interval(value: dt.timedelta) -> str:
    """``1 hour``, ``1 day 12 hours``, ``90 seconds`` is ``1 minute 30 seconds``."""
    rest = int(value.total_seconds())
    parts = []
    for unit, size in UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or f"{value.total_seconds()} seconds"


def clock_words(clock: Clock) -> list[Part]:
    parts: list[Part]
    if isinstance(clock, IntervalClock):
        parts = [Part(f"every {interval(clock.interval)}")]
        if clock.start_date is not None:
            parts.append(Part(f" starting {moment(clock.start_date)}"))
    elif isinstance(clock, CronClock):
        zone = zone_label(clock.start_date.tzinfo if clock.start_date else None)
        sentence = cron_words.describe(clock.cron, clock.day_or)
        if sentence:
            parts = [Part(f"{sentence} ({zone}), cron "), Part(clock.cron, code=True)]
        else:
            parts = [Part("cron "), Part(clock.cron, code=True), Part(f" ({zone})")]
            if not clock.day_or:
                parts.append(Part(", day of month and day of week must both match"))
        if clock.start_date is not None:
            parts.append(Part(f", from {moment(clock.start_date)}"))
    elif isinstance(clock, DatesClock):
        dates = sorted(clock.dates)
        shown = ", ".join(moment(d) for d in dates[:MAX_DATES_SHOWN])
        more = len(dates) - MAX_DATES_SHOWN
        parts = [Part(f"on {shown}" + (f" and {more} more dates" if more > 0 else ""))]
    elif isinstance(clock, RRuleClock):
        rule = " ".join(str(clock.rule).split())
        parts = [Part("recurrence rule "), Part(rule, code=True)]
    else:
        parts = [Part(type(clock).__name__)]
    if clock.end_date is not None and not isinstance(clock, DatesClock):
        parts.append(Part(f", until {moment(clock.end_date)}"))
    if clock.parameter_defaults:
        names = ", ".join(sorted(clock.parameter_defaults))
        parts.append(Part(f"; sets parameters {names}"))
    if clock.labels is not None:
        parts.append(Part(f"; labels {', '.join(clock.labels) or 'none'}"))
    return parts


def rule_words(reference: Any) -> str:
    """``between times (start 09:00:00, end 17:00:00)`` from a function reference."""
    if not isinstance(reference, dict):
        return repr(reference)
    name = str(reference.get("fn", "?")).rsplit(".", 1)[-1].replace("_", " ")
    kwargs = reference.get("kwargs") or {}
    if not isinstance(kwargs, dict) or not kwargs:
        return name
    shown = ", ".join(f"{key} {_argument(value)}" for key, value in sorted(kwargs.items()))
    return f"{name} ({shown})"


def _argument(value: Any) -> str:
    if isinstance(value, str) and value.startswith("//timedelta:"):
        try:
            return interval(dt.timedelta(seconds=float(value.split(":", 1)[1])))
        except ValueError:
            return value
    if isinstance(value, str) and value.startswith("//"):
        return value.split(":", 1)[-1]
    return str(value)


def describe(schedule: Any) -> Words:
    """The schedule's clocks and rules in words; a schedule that cannot load says why."""
    words = Words()
    if not isinstance(schedule, dict):
        words.problem = "This schedule is not an object and cannot be read."
        return words
    for raw in schedule.get("clocks") or []:
        try:
            words.clocks.append(clock_words(load_clock(raw)))
        except ValueError as exc:
            words.clocks.append([Part(f"unreadable clock: {exc}")])
    for key, title in RULE_KINDS.items():
        references = schedule.get(key)
        if isinstance(references, list) and references:
            words.rules.append(f"{title}: " + "; ".join(rule_words(r) for r in references))
    return words


def next_times(schedule: Any, n: int = 5, after: dt.datetime | None = None) -> list[dt.datetime]:
    """The schedule's next start times as the scheduler computes them; none if it cannot."""
    try:
        return [event.start_time for event in next_events(schedule, n, after)]
    except ValueError:
        return []
