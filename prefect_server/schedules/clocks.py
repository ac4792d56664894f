"""The four clocks of Prefect 1 schedules, loaded from their serialized form.

Each clock yields its candidate start times after a given instant, with the same
quirks as Prefect 1.4.1 (see the notes on each `times` method); the schedule merges,
filters and adjusts them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter
from dateutil import rrule

from prefect_server.schedules import timezones as tzs
from prefect_server.schedules.timezones import UTC

# Prefect 1 anchored IntervalClocks without a start date here.
INTERVAL_ANCHOR = dt.datetime(2019, 1, 1, tzinfo=UTC)
# Prefect 1 (deploying to Cloud/Server) refused shorter intervals.
MIN_INTERVAL = dt.timedelta(minutes=1)
# A CronClock stops after this many events (Prefect 1's escape hatch).
CRON_MAX_EVENTS = 1000
# Guards the one loop that Prefect 1 could spin forever on a broken croniter.
_CRON_MAX_RETRIES = 1000
# What RRuleSchema used when `_dtstart` is absent.
RRULE_DEFAULT_DTSTART = dt.datetime(2018, 6, 20, tzinfo=UTC)


@dataclass(frozen=True)
class Clock:
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    parameter_defaults: dict[str, Any] = field(default_factory=dict)
    labels: list[str] | None = None

    def times(self, after: dt.datetime | None) -> Iterator[dt.datetime]:
        raise NotImplementedError


@dataclass(frozen=True)
class IntervalClock(Clock):
    interval: dt.timedelta = MIN_INTERVAL

    def times(self, after: dt.datetime | None) -> Iterator[dt.datetime]:
        """start + k·interval for k ≥ the first k reaching `after` (a k landing exactly on it is skipped).

        Whole days of the step are added on the start zone's wall clock and the rest as
        elapsed time, so a daily clock keeps its local hour across DST while an hourly
        one keeps elapsed hours. k is estimated from elapsed time, then stepped forward.
        """
        if after is None:
            after = tzs.now()
        start = self.start_date or INTERVAL_ANCHOR
        elapsed = tzs.instant(after) - tzs.instant(start)
        elapsed_seconds = dt.timedelta(seconds=elapsed.total_seconds()).total_seconds()
        skip: float = elapsed_seconds / self.interval.total_seconds()
        if skip < 0:
            skip = 0
        elif int(skip) == skip:
            skip += 1
        else:
            skip = int(skip + 1)
        offset = self.interval * skip
        while True:
            days = offset.days
            seconds = offset.total_seconds() - days * 24 * 60 * 60
            candidate = tzs.add_calendar(start, days, seconds)
            offset += self.interval
            if candidate < after:
                continue
            if self.end_date is not None and candidate > self.end_date:
                return
            yield candidate


@dataclass(frozen=True)
class CronClock(Clock):
    cron: str = "* * * * *"
    day_or: bool = True

    def times(self, after: dt.datetime | None) -> Iterator[dt.datetime]:
        """croniter's times in the start date's zone (UTC without one), from `after` or just
        before the start date, whichever is later.

        croniter's times are re-read as wall-clock times with pendulum's rule, so an
        ambiguous hour fires once (at its second occurrence); repeats are skipped and
        the clock ends after CRON_MAX_EVENTS events.
        """
        tz = self.start_date.tzinfo if self.start_date is not None else UTC
        assert tz is not None
        current = tzs.now(tz) if after is None else after.astimezone(tz)
        if self.start_date is not None:
            current = max(current, tzs.add_absolute(self.start_date, -1.0))
        begin = tzs.localize_standard(current.replace(tzinfo=None), tz)
        if begin.microsecond:
            # Prefect rounded up to the next second on a fixed offset: elapsed time.
            begin = tzs.add_absolute(tzs.fixed(begin), 1.0).astimezone(tz)
        cron = croniter(self.cron, begin, day_or=self.day_or)

        def following() -> dt.datetime:
            found = cron.get_next(dt.datetime)
            return tzs.localize(found.replace(tzinfo=None), tz)

        seen: set[dt.datetime] = set()
        emitted = 0
        while True:
            emitted += 1
            if emitted > CRON_MAX_EVENTS:
                return
            candidate = following()
            retries = 0
            while tzs.instant(candidate) == tzs.instant(current) or candidate in seen:
                candidate = following()
                retries += 1
                if retries == 3:
                    # Stuck in a DST loop: restart croniter just after it, as Prefect did.
                    current = candidate
                    cron = croniter(self.cron, candidate, day_or=self.day_or)
                    candidate = following()
                    if candidate in seen:
                        emitted = CRON_MAX_EVENTS
                elif retries > _CRON_MAX_RETRIES:
                    return
            if self.end_date is not None and candidate > self.end_date:
                return
            seen.add(candidate)
            yield candidate


@dataclass(frozen=True)
class DatesClock(Clock):
    dates: tuple[dt.datetime, ...] = ()

    def times(self, after: dt.datetime | None) -> Iterator[dt.datetime]:
        """The listed dates strictly after `after`, in time order (no end-date check)."""
        if after is None:
            after = tzs.now()
        for date in sorted(self.dates):
            if date > after:
                yield date


@dataclass(frozen=True)
class RRuleClock(Clock):
    rule: rrule.rrulebase = field(default_factory=rrule.rruleset)

    def times(self, after: dt.datetime | None) -> Iterator[dt.datetime]:
        """dateutil's occurrences after `after` (inclusive when starting at the start date).

        A naive rule compares against `after`'s wall clock and its times are UTC; an
        aware rule keeps its fixed offsets.
        """
        inclusive = False
        if after is None:
            after = tzs.now()
            inclusive = True
        if self.start_date is not None and after < self.start_date:
            after = self.start_date
            inclusive = True
        first = next(iter(self.rule), after)
        if first.tzinfo is None:
            after = after.replace(tzinfo=None)
        for occurrence in self.rule.xafter(after, inc=inclusive):
            when = tzs.fixed(occurrence)
            if self.end_date is not None and when > self.end_date:
                return
            yield when


def load_clock(data: object) -> Clock:
    """A clock from Prefect 1's serialized form; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"Invalid clock: expected an object, got {data!r}")
    kind = data.get("type")
    loader = _LOADERS.get(kind) if isinstance(kind, str) else None
    if loader is None:
        known = ", ".join(sorted(_LOADERS))
        raise ValueError(f"Invalid clock type: {kind!r} (expected one of {known})")
    common = {
        "parameter_defaults": _parameter_defaults(data.get("parameter_defaults")),
        "labels": _labels(data.get("labels")),
    }
    return loader(data, common)


def _parameter_defaults(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"Invalid clock parameter_defaults: {value!r} (expected an object)")
    return dict(value)


def _labels(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"Invalid clock labels: {value!r} (expected a list of strings)")
    return list(value)


def _dates(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "start_date": tzs.load_datetime_tz(data.get("start_date")),
        "end_date": tzs.load_datetime_tz(data.get("end_date")),
    }


def _interval_clock(data: dict[str, Any], common: dict[str, Any]) -> Clock:
    raw = data.get("interval")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"Invalid IntervalClock interval: {raw!r} (expected microseconds)")
    try:
        microseconds = int(raw)
    except ValueError as exc:
        raise ValueError(f"Invalid IntervalClock interval: {raw!r}") from exc
    interval = dt.timedelta(microseconds=microseconds)
    if interval < MIN_INTERVAL:
        raise ValueError(
            "Interval can not be less than one minute when deploying to Prefect Cloud."
        )
    return IntervalClock(interval=interval, **_dates(data), **common)


@functools.lru_cache(maxsize=4096)
def _valid_cron(expression: str) -> bool:
    # Parsing is most of a cron clock's load time, and flows share few expressions.
    return bool(croniter.is_valid(expression))


def _cron_clock(data: dict[str, Any], common: dict[str, Any]) -> Clock:
    cron = data.get("cron")
    if not isinstance(cron, str) or not _valid_cron(cron):
        raise ValueError(f"Invalid cron string: {cron}")
    day_or = data.get("day_or")
    if day_or is not None and not isinstance(day_or, bool):
        raise ValueError(f"Invalid CronClock day_or: {day_or!r} (expected a boolean)")
    return CronClock(cron=cron, day_or=True if day_or is None else day_or, **_dates(data), **common)


def _dates_clock(data: dict[str, Any], common: dict[str, Any]) -> Clock:
    raw = data.get("dates")
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"Invalid DatesClock dates: {raw!r} (expected a non-empty list)")
    dates = [tzs.load_datetime_tz(value) for value in raw]
    if any(date is None for date in dates):
        raise ValueError("Invalid DatesClock dates: null is not a date")
    present = [date for date in dates if date is not None]
    return DatesClock(
        dates=tuple(present), start_date=min(present), end_date=max(present), **common
    )


def _rrule_clock(data: dict[str, Any], common: dict[str, Any]) -> Clock:
    from prefect_server.schedules.rrules import load_rrule

    return RRuleClock(rule=load_rrule(data.get("rrule_obj")), **_dates(data), **common)


_LOADERS = {
    "IntervalClock": _interval_clock,
    "CronClock": _cron_clock,
    "DatesClock": _dates_clock,
    "RRuleClock": _rrule_clock,
}
