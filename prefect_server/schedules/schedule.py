"""Evaluating a serialized Prefect 1 schedule: the next events of its clocks.

As Prefect 1.4.1's `Schedule.next(n, after=…, return_events=True)`: the clocks' events
are merged in time order, an event identical to the one before it (same time,
parameter defaults and labels) is dropped, then every `filters` entry must pass, at
least one `or_filters` entry (if any) and no `not_filters` entry; survivors go through
the `adjustments` in order. At most MAX_CHECKED merged events are looked at.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prefect_server.schedules import timezones as tzs
from prefect_server.schedules.clocks import Clock, load_clock
from prefect_server.schedules.rules import Adjustment, Filter, load_adjustment, load_filter

MAX_CHECKED = 10_000


@dataclass(frozen=True)
class Event:
    start_time: dt.datetime  # timezone-aware, in the zone of the clock that produced it
    parameter_defaults: dict[str, Any]  # {} when none
    labels: list[str] | None


@dataclass(frozen=True)
class Schedule:
    clocks: tuple[Clock, ...]
    filters: tuple[Filter, ...] = ()
    or_filters: tuple[Filter, ...] = ()
    not_filters: tuple[Filter, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()

    def passes(self, when: dt.datetime) -> bool:
        return (
            all(f(when) for f in self.filters)
            and (not self.or_filters or any(f(when) for f in self.or_filters))
            and not any(f(when) for f in self.not_filters)
        )

    def adjust(self, when: dt.datetime) -> dt.datetime:
        for adjustment in self.adjustments:
            when = adjustment(when)
        return when


class _Candidate:
    """A clock event ordered by time only but equal only in time, defaults and labels.

    heapq.merge and itertools.groupby see exactly the comparisons Prefect's ClockEvent
    offered, so ties between clocks and duplicate-dropping come out the same.
    """

    __slots__ = ("start_time", "clock")

    def __init__(self, start_time: dt.datetime, clock: Clock) -> None:
        self.start_time = start_time
        self.clock = clock

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Candidate):
            return NotImplemented
        return (
            self.start_time == other.start_time
            and self.clock.parameter_defaults == other.clock.parameter_defaults
            and self.clock.labels == other.clock.labels
        )

    def __lt__(self, other: _Candidate) -> bool:
        return self.start_time < other.start_time

    def __gt__(self, other: _Candidate) -> bool:
        return self.start_time > other.start_time

    __hash__ = None  # type: ignore[assignment]


def load_schedule(data: object) -> Schedule:
    """A schedule from Prefect 1's serialized form; ValueError says what is wrong.

    Loaded schedules are immutable and cached by their JSON text: the scheduler
    evaluates the same few thousand schedules on every pass.
    """
    try:
        key = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError):
        return _load_schedule(data)
    return _cached_schedule(key)


@functools.lru_cache(maxsize=4096)
def _cached_schedule(key: str) -> Schedule:
    return _load_schedule(json.loads(key))


def _load_schedule(data: object) -> Schedule:
    if not isinstance(data, dict):
        raise ValueError(f"Invalid schedule: expected an object, got {data!r}")
    clocks = data.get("clocks")
    if not isinstance(clocks, list):
        raise ValueError(f"Invalid schedule clocks: {clocks!r} (expected a list of clocks)")
    return Schedule(
        clocks=tuple(load_clock(clock) for clock in clocks),
        filters=tuple(load_filter(f) for f in _references(data, "filters")),
        or_filters=tuple(load_filter(f) for f in _references(data, "or_filters")),
        not_filters=tuple(load_filter(f) for f in _references(data, "not_filters")),
        adjustments=tuple(load_adjustment(a) for a in _references(data, "adjustments")),
    )


def _references(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"Invalid schedule {key}: {value!r} (expected a list)")
    return value


def validate_schedule(schedule: object) -> None:
    """Raise ValueError with a clear message if `schedule` cannot be loaded."""
    load_schedule(schedule)


def validate_clock(clock: object) -> None:
    """Raise ValueError with a clear message if `clock` cannot be loaded."""
    load_clock(clock)


def next_events(
    schedule: dict[str, Any] | Schedule, n: int, after: dt.datetime | None = None
) -> list[Event]:
    """The next `n` events of a serialized schedule strictly after `after` (default: now).

    A naive `after` is read as UTC. Raises ValueError for a schedule that cannot be
    loaded or evaluated.
    """
    if n < 0:
        raise ValueError(f"Invalid number of events: {n}")
    loaded = schedule if isinstance(schedule, Schedule) else load_schedule(schedule)
    if n == 0:
        return []
    start = None if after is None else tzs.aware(after)
    events: list[Event] = []
    try:
        for checked, candidate in enumerate(_merged(loaded.clocks, start), start=1):
            if loaded.passes(candidate.start_time):
                # Adjusted in place, as Prefect did: the next merged event is compared
                # with this adjusted one when dropping duplicates.
                candidate.start_time = loaded.adjust(candidate.start_time)
                clock = candidate.clock
                events.append(
                    Event(
                        start_time=candidate.start_time,
                        parameter_defaults=dict(clock.parameter_defaults),
                        labels=None if clock.labels is None else list(clock.labels),
                    )
                )
            if len(events) == n or checked >= MAX_CHECKED:
                break
    except (TypeError, OverflowError) as exc:
        # Mixed naive/aware rrule dates, or dates beyond year 9999.
        raise ValueError(f"Schedule cannot be evaluated: {exc}") from exc
    return events


def _merged(clocks: tuple[Clock, ...], after: dt.datetime | None) -> Iterator[_Candidate]:
    streams = [_candidates(clock, after) for clock in clocks]
    for _, same in itertools.groupby(heapq.merge(*streams)):
        yield next(same)


def _candidates(clock: Clock, after: dt.datetime | None) -> Iterator[_Candidate]:
    for when in clock.times(after):
        yield _Candidate(when, clock)
