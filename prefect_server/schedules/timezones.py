"""Time zones and wall-clock arithmetic with Prefect 1's (pendulum 2.1's) rules.

Prefect 1 did its schedule arithmetic with pendulum 2.1; matching its events means
matching pendulum's choices where a wall-clock time is missing (spring forward: the
time moves forward by the gap) or ambiguous (fall back: the later, post-transition
instant), and its split between wall-clock additions (days) and absolute additions
(seconds only). We do that with the standard library so that the result does not
depend on which pendulum release is installed.

Time zone objects are cached per name so that two datetimes in the same zone share
the *same* tzinfo object: the standard library then compares them by wall clock,
exactly as it compared pendulum datetimes sharing pendulum's cached zone objects.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from math import copysign
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

UTC = dt.timezone.utc

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@functools.lru_cache(maxsize=512)
def zone(name: str) -> dt.tzinfo:
    """The time zone called `name` (an IANA name, "UTC" or a "+HH:MM" offset)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"Invalid time zone: {name!r}")
    if name.lower() == "utc":
        return UTC
    offset = _OFFSET.match(name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        return dt.timezone(sign * dt.timedelta(minutes=minutes))
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError, OSError for odd keys
        raise ValueError(f"Invalid time zone: {name!r}") from exc


def zone_name(tz: dt.tzinfo | None) -> str | None:
    """The name of a pytz or pendulum zone (as pendulum.instance read them).

    Other zones (zoneinfo, dateutil) count as their fixed UTC offset, as they did for
    Prefect 1: that decides whether `after` shares a zone with the events.
    """
    for attr in ("zone", "name"):
        name = getattr(tz, attr, None)
        if isinstance(name, str) and name:
            return name
    return None


def aware(value: dt.datetime) -> dt.datetime:
    """`value` as a datetime in one of our cached zones; naive values are UTC."""
    # A plain datetime: subclasses (pendulum's) bring their own arithmetic.
    value = dt.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
        fold=value.fold,
    )
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    name = zone_name(value.tzinfo)
    if name is not None:
        try:
            return value.astimezone(zone(name))
        except ValueError:
            pass
    offset = value.utcoffset()
    assert offset is not None
    return value.astimezone(UTC if not offset else dt.timezone(offset))


def fixed(value: dt.datetime) -> dt.datetime:
    """An aware datetime with its zone replaced by its fixed UTC offset (naive: UTC)."""
    offset = value.utcoffset()
    if offset is None:
        return value.replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC if not offset else dt.timezone(offset))


def instant(value: dt.datetime) -> dt.datetime:
    """The naive UTC instant of an aware datetime (offsets honour `fold`)."""
    offset = value.utcoffset()
    assert offset is not None
    return value.replace(tzinfo=None) - offset


def localize(wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A naive wall-clock time in `tz`, resolved like pendulum's POST_TRANSITION rule.

    Missing times move forward by the size of the gap; ambiguous times take the
    second (post-transition) occurrence.
    """
    return _resolve(wall, tz, lambda first, second: second)


def localize_standard(wall: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A naive wall-clock time in `tz`, resolved like pytz's `localize(is_dst=False)`.

    Prefect 1 fed croniter a pytz-localized start; for an ambiguous time that picks
    the standard-time reading (or the later instant when that does not decide).
    """

    def standard_time(first: dt.datetime, second: dt.datetime) -> dt.datetime:
        standard = [c for c in (first, second) if not c.dst()]
        if len(standard) == 1:
            return standard[0]
        return max((first, second), key=instant)

    return _resolve(wall, tz, standard_time)


def _resolve(
    wall: dt.datetime,
    tz: dt.tzinfo,
    ambiguous: Callable[[dt.datetime, dt.datetime], dt.datetime],
) -> dt.datetime:
    """`wall` in `tz`; an ambiguous time is decided by `ambiguous(first, second)`.

    A missing time moves forward by the size of the gap, for pendulum and pytz alike:
    zoneinfo's fold=0 reading keeps the offset from before the gap.
    """
    wall = wall.replace(tzinfo=None, fold=0)
    if not isinstance(tz, ZoneInfo):
        return wall.replace(tzinfo=tz)
    first = wall.replace(tzinfo=tz)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    moved = first.astimezone(UTC).astimezone(tz)
    if moved.replace(tzinfo=None) != wall:
        return moved  # missing
    return ambiguous(first, second)


def _carry(value: float, unit: int) -> tuple[float, float]:
    """Split `value` into (rest, whole units), rounding towards zero like pendulum."""
    sign = copysign(1, value)
    whole, rest = divmod(value * sign, unit)
    return rest * sign, whole * sign


def add_to_wall(wall: dt.datetime, days: float = 0, seconds: float = 0) -> dt.datetime:
    """Add days and seconds to a naive datetime, normalising units as pendulum 2.1 did.

    The float arithmetic is kept in the same order so results agree to the microsecond.
    """
    minutes: float = 0
    hours: float = 0
    if abs(seconds) > 59:
        seconds, carried = _carry(seconds, 60)
        minutes += carried
    if abs(minutes) > 59:
        minutes, carried = _carry(minutes, 60)
        hours += carried
    if abs(hours) > 23:
        hours, carried = _carry(hours, 24)
        days += carried
    return wall + dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def add_calendar(value: dt.datetime, days: float, seconds: float = 0) -> dt.datetime:
    """pendulum's `add(days=…, seconds=…)` with days != 0: on the wall clock, then localized."""
    if not days:
        return add_absolute(value, seconds)
    assert value.tzinfo is not None
    return localize(add_to_wall(value.replace(tzinfo=None), days, seconds), value.tzinfo)


def add_absolute(value: dt.datetime, seconds: float) -> dt.datetime:
    """pendulum's `add(seconds=…)`: elapsed time, computed in UTC, shown in the same zone."""
    assert value.tzinfo is not None
    moved = add_to_wall(instant(value), 0, seconds)
    return moved.replace(tzinfo=UTC).astimezone(value.tzinfo)


def now(tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime.now(UTC).astimezone(tz)


def parse_iso(text: str, default_tz: dt.tzinfo | None = UTC) -> dt.datetime:
    """An ISO 8601 datetime; an offset in the text wins, else it is read in `default_tz`.

    Offsets become fixed-offset zones (as pendulum and marshmallow produced them);
    with `default_tz=None` a text without offset stays naive.
    """
    if not isinstance(text, str):
        raise ValueError(f"Invalid datetime: {text!r}")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = dateutil_parser.isoparse(text)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"Invalid datetime: {text!r}") from exc
    if parsed.tzinfo is not None:
        return fixed(parsed)
    if default_tz is None:
        return parsed
    return localize(parsed, default_tz)


def parse_time(text: str) -> dt.time:
    """An ISO 8601 time of day; any offset is dropped, as Prefect 1's filters did."""
    try:
        return dt.time.fromisoformat(text).replace(tzinfo=None)
    except (TypeError, ValueError):
        try:
            return dateutil_parser.isoparse("2000-01-01T" + text).time()
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"Invalid time: {text!r}") from exc


def load_datetime_tz(value: object) -> dt.datetime | None:
    """A clock date as Prefect serialized it: `{"dt": naive ISO, "tz": name}`, ISO text or null."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return aware(value)
    if isinstance(value, str):
        return parse_iso(value)
    if isinstance(value, dict) and "dt" in value:
        tz_name = value.get("tz")
        tz = zone(tz_name) if tz_name is not None else UTC
        return parse_iso(value["dt"], default_tz=tz)
    raise ValueError(
        f'Invalid date: {value!r} (expected {{"dt": ..., "tz": ...}}, ISO text or null)'
    )
