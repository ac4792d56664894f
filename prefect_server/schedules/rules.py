"""Schedule filters and adjustments, from Prefect 1's function references.

A reference is `{"fn": "prefect.schedules.filters.between_times", "kwargs": {...}}`;
kwargs encode datetimes, times and timedeltas as "//datetime:…", "//time:…" and
"//timedelta:<seconds>". A reference without kwargs names the function itself.
Filters see an event's time in its own zone (wall clock), as Prefect's did.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

from prefect_server.schedules import timezones as tzs

Filter = Callable[[dt.datetime], bool]
Adjustment = Callable[[dt.datetime], dt.datetime]

FILTER_PREFIX = "prefect.schedules.filters."
ADJUSTMENT_PREFIX = "prefect.schedules.adjustments."


# Filters made from arguments (Prefect's names and parameter names: they are the wire format).


def on_datetime(dt: dt.datetime) -> Filter:
    moment = dt
    return lambda value: value == moment


def between_datetimes(start: dt.datetime, end: dt.datetime) -> Filter:
    return lambda value: value >= start and value <= end


def on_date(month: int, day: int) -> Filter:
    return lambda value: (value.month, value.day) == (month, day)


def between_dates(start_month: int, start_day: int, end_month: int, end_day: int) -> Filter:
    start, end = (start_month, start_day), (end_month, end_day)
    if start_month <= end_month:
        return lambda value: start <= (value.month, value.day) <= end
    # The range wraps over the new year.
    return lambda value: (value.month, value.day) >= start or (value.month, value.day) <= end


def at_time(t: dt.time) -> Filter:
    return lambda value: value.time() == t


def between_times(start: dt.time, end: dt.time) -> Filter:
    if start <= end:
        return lambda value: start <= value.time() <= end
    # The range wraps over midnight.
    return lambda value: value.time() >= start or value.time() <= end


def is_day_of_week(day_of_week: int) -> Filter:
    return lambda value: value.weekday() == day_of_week


# Filters used as they are.


def is_weekday(value: dt.datetime) -> bool:
    return value.weekday() < 5


def is_weekend(value: dt.datetime) -> bool:
    return value.weekday() > 4


def is_month_end(value: dt.datetime) -> bool:
    return _next_day(value).month != value.month


def is_month_start(value: dt.datetime) -> bool:
    return value.day == 1


# Adjustments.


def add(interval: dt.timedelta) -> Adjustment:
    seconds = interval.total_seconds()
    return lambda value: tzs.add_absolute(value, seconds)


def next_weekday(value: dt.datetime) -> dt.datetime:
    while not is_weekday(value):
        value = _next_day(value)
    return value


def _next_day(value: dt.datetime) -> dt.datetime:
    """One calendar day later on the wall clock (pendulum's `add(days=1)`)."""
    return tzs.add_calendar(value, 1)


_FACTORIES: dict[str, Callable[..., Any]] = {
    FILTER_PREFIX + f.__name__: f
    for f in (on_datetime, between_datetimes, on_date, between_dates, at_time, between_times)
}
_FACTORIES[FILTER_PREFIX + "is_day_of_week"] = is_day_of_week
_FACTORIES[ADJUSTMENT_PREFIX + "add"] = add

_PLAIN: dict[str, Callable[..., Any]] = {
    FILTER_PREFIX + f.__name__: f for f in (is_weekday, is_weekend, is_month_end, is_month_start)
}
_PLAIN[ADJUSTMENT_PREFIX + "next_weekday"] = next_weekday

FILTER_NAMES = frozenset(n for n in (*_FACTORIES, *_PLAIN) if n.startswith(FILTER_PREFIX))
ADJUSTMENT_NAMES = frozenset(n for n in (*_FACTORIES, *_PLAIN) if n.startswith(ADJUSTMENT_PREFIX))


def load_filter(reference: object) -> Filter:
    return _load(reference, FILTER_NAMES, "filter")


def load_adjustment(reference: object) -> Adjustment:
    return _load(reference, ADJUSTMENT_NAMES, "adjustment")


def _load(reference: object, allowed: frozenset[str], what: str) -> Any:
    if not isinstance(reference, dict) or not isinstance(reference.get("fn"), str):
        raise ValueError(f"Invalid {what}: {reference!r} (expected {{'fn': ..., 'kwargs': ...}})")
    name = reference["fn"]
    if name not in allowed:
        raise ValueError(f"Invalid function reference: {reference!r}")
    kwargs = reference.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"Invalid {what} kwargs: {kwargs!r} (expected an object)")
    if name in _PLAIN:
        if kwargs:
            raise ValueError(f"Invalid {what} {name}: it takes no arguments, got {kwargs!r}")
        return _PLAIN[name]
    factory = _FACTORIES[name]
    expected = list(inspect.signature(factory).parameters)
    if sorted(kwargs) != sorted(expected):
        raise ValueError(
            f"Invalid {what} {name}: expected arguments {expected}, got {sorted(kwargs)}"
        )
    decoded = {key: _decode(value, name) for key, value in kwargs.items()}
    _check_types(factory, decoded, name)
    return factory(**decoded)


def _decode(value: Any, name: str) -> Any:
    if isinstance(value, str):
        if value.startswith("//datetime:"):
            return tzs.aware(tzs.parse_iso(value[len("//datetime:") :]))
        if value.startswith("//time:"):
            return tzs.parse_time(value[len("//time:") :])
        if value.startswith("//timedelta:"):
            try:
                return dt.timedelta(seconds=float(value[len("//timedelta:") :]))
            except (ValueError, OverflowError) as exc:
                raise ValueError(f"Invalid timedelta for {name}: {value!r}") from exc
    return value


_EXPECTED_TYPES: dict[str, tuple[type, ...]] = {
    "dt": (dt.datetime,),
    "start": (dt.datetime, dt.time),
    "end": (dt.datetime, dt.time),
    "t": (dt.time,),
    "interval": (dt.timedelta,),
}


def _check_types(factory: Callable[..., Any], kwargs: dict[str, Any], name: str) -> None:
    """Reject arguments the filter could not compare, instead of failing while scheduling."""
    for key, value in kwargs.items():
        expected = _EXPECTED_TYPES.get(key, (int,))
        if factory is between_datetimes:
            expected = (dt.datetime,)
        elif factory is between_times:
            expected = (dt.time,)
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ValueError(f"Invalid argument {key}={value!r} for {name}")
