"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Interval, TypeDecorator
from sqlalchemy.dialects import postgresql

UTC = dt.timezone.utc


def parse_timestamp(value: Any) -> dt.datetime:
    """A timezone-aware UTC datetime from a datetime or an ISO string; naive means UTC."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            import pendulum

            value = pendulum.parse(text)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise ValueError(f"Could not parse timestamp: {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Timestamp(TypeDecorator[dt.datetime]):
    """timestamptz: stored in UTC, always returned timezone-aware in UTC.

    SQLite has no time zones: SQLAlchemy's SQLite DATETIME writes a value's wall-clock
    digits and drops its zone, so values bound here in UTC are stored as naive UTC
    strings of a fixed width, which also keeps their text order equal to their time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return parse_timestamp(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class IntervalType(TypeDecorator[dt.timedelta]):
    """interval: a timedelta; accepts seconds or timedeltas on the way in."""

    impl = Interval
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.timedelta | None:
        if value is None or isinstance(value, dt.timedelta):
            return value
        if isinstance(value, int | float):
            return dt.timedelta(seconds=value)
        raise ValueError(f"Could not parse interval: {value!r}")


# jsonb on PostgreSQL, JSON text on SQLite. Python None is SQL NULL (not JSON null),
# because columns such as flow_group.labels give NULL its own meaning.
JSONB = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
