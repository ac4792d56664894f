"""Property: our schedule evaluation gives Prefect 1.4.1's events, event for event.

Schedules are built with Prefect's own classes, serialized with its ScheduleSchema,
and the dict is fed to `next_events`; the next N events (instants, UTC offsets,
parameter defaults, labels) must equal `Schedule.next(N, after=…, return_events=True)`
of the schedule Prefect loads back from that dict (what Server 1 evaluated).
Runs only where the `client` extra (prefect==1.4.1) is installed.
"""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest

prefect = pytest.importorskip("prefect")

import pendulum  # noqa: E402
from dateutil import rrule  # noqa: E402
from hypothesis import HealthCheck, given, note, reject, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from prefect.schedules import Schedule, adjustments, clocks, filters  # noqa: E402
from prefect.serialization.schedule import ScheduleSchema  # noqa: E402

from prefect_server.schedules import next_events  # noqa: E402

pytestmark = pytest.mark.client

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"]

# Instants near daylight-saving transitions of the zones above, where the rules bite.
TRANSITIONS = [
    pendulum.datetime(2021, 3, 14, 7, tz="UTC"),  # New York springs forward
    pendulum.datetime(2021, 11, 7, 6, tz="UTC"),  # New York falls back
    pendulum.datetime(2022, 3, 27, 1, tz="UTC"),  # Berlin springs forward
    pendulum.datetime(2022, 10, 30, 1, tz="UTC"),  # Berlin falls back
    pendulum.datetime(2022, 4, 2, 16, tz="UTC"),  # Sydney falls back
    pendulum.datetime(2022, 10, 1, 16, tz="UTC"),  # Sydney springs forward
    pendulum.datetime(2023, 1, 31, 12, tz="UTC"),  # month end, no transition
]


@st.composite
def instants(draw: st.DrawFn) -> pendulum.DateTime:
    """A pendulum UTC instant, usually within a few days of a DST transition."""
    base = draw(st.sampled_from(TRANSITIONS))
    minutes = draw(
        st.one_of(
            st.integers(-3 * 24 * 60, 3 * 24 * 60),
            st.sampled_from([-60, -30, 0, 30, 60, 90]),
            st.integers(-400 * 24 * 60, 400 * 24 * 60),
        )
    )
    seconds = draw(st.sampled_from([0, 0, 0, 1, 59]))
    micro = draw(st.sampled_from([0, 0, 0, 0, 1, 500_000]))
    return base.add(minutes=minutes, seconds=seconds).add(microseconds=micro)


@st.composite
def zoned(draw: st.DrawFn) -> pendulum.DateTime:
    """A pendulum datetime in one of ZONES, wall clock built so gaps and folds occur."""
    tz = draw(st.sampled_from(ZONES))
    moment = draw(instants()).in_tz(tz)
    if draw(st.booleans()):
        # Re-read the wall clock: may land on a missing or ambiguous local time.
        moment = pendulum.datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, tz=tz
        )
    return moment


def _cron_field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        value.map(str),
        st.integers(1, max(1, (high - low) // 2)).map(lambda n: f"*/{n}"),
        st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}"),
        st.lists(value, min_size=2, max_size=3, unique=True).map(
            lambda vs: ",".join(map(str, sorted(vs)))
        ),
    )


crons = st.tuples(
    _cron_field(0, 59),
    st.one_of(_cron_field(0, 23), st.sampled_from(["1", "2", "3", "0-3", "*/3"])),
    st.one_of(st.just("*"), st.just("*"), _cron_field(1, 28)),
    st.one_of(st.just("*"), st.just("*"), _cron_field(1, 12)),
    st.one_of(st.just("*"), st.just("*"), _cron_field(0, 6)),
).map(" ".join)

intervals = st.one_of(
    st.sampled_from([60, 300, 900, 3600, 5400, 86_400, 90_000, 172_800, 604_800]).map(
        lambda s: dt.timedelta(seconds=s)
    ),
    st.integers(60, 14 * 86_400).map(lambda s: dt.timedelta(seconds=s)),
    # Microsecond parts exercise the float arithmetic of the day/second split.
    st.integers(60_000_000, 3 * 86_400_000_000).map(lambda us: dt.timedelta(microseconds=us)),
)

extras = st.fixed_dictionaries(
    {
        "parameter_defaults": st.sampled_from([None, {}, {"x": 1}, {"x": 2, "y": "a"}]),
        "labels": st.sampled_from([None, [], ["a"], ["a", "b"]]),
    }
)


@st.composite
def bounds(draw: st.DrawFn) -> dict:
    start = draw(st.one_of(st.none(), zoned()))
    end = None
    if draw(st.integers(0, 3)) == 0:
        end = draw(zoned())
    return {"start_date": start, "end_date": end}


@st.composite
def interval_clocks(draw: st.DrawFn) -> clocks.Clock:
    return clocks.IntervalClock(draw(intervals), **draw(bounds()), **draw(extras))


@st.composite
def cron_clocks(draw: st.DrawFn) -> clocks.Clock:
    day_or = draw(st.sampled_from([None, True, False]))
    return clocks.CronClock(draw(crons), day_or=day_or, **draw(bounds()), **draw(extras))


@st.composite
def dates_clocks(draw: st.DrawFn) -> clocks.Clock:
    dates = draw(st.lists(zoned(), min_size=1, max_size=6))
    return clocks.DatesClock(dates, **draw(extras))


@st.composite
def rrule_clocks(draw: st.DrawFn) -> clocks.Clock:
    start = draw(zoned())
    aware = draw(st.booleans())
    dtstart = start if aware else start.naive()
    kwargs: dict = {"dtstart": dtstart, "interval": draw(st.integers(1, 3))}
    limit = draw(st.sampled_from(["count", "until", "none"]))
    if limit == "count":
        kwargs["count"] = draw(st.integers(1, 20))
    elif limit == "until":
        until = dtstart + dt.timedelta(days=draw(st.integers(0, 30)))
        kwargs["until"] = pendulum.instance(until).in_tz("UTC") if aware else until
    if draw(st.booleans()):
        kwargs["byhour"] = sorted(draw(st.sets(st.integers(0, 23), min_size=1, max_size=3)))
    freq = draw(st.sampled_from([rrule.HOURLY, rrule.DAILY, rrule.WEEKLY]))
    # A naive rule with an aware end date cannot be compared (Prefect raises TypeError).
    clock_bounds = draw(bounds()) if aware else {"start_date": draw(st.none() | zoned())}
    try:
        rule = rrule.rrule(freq, **kwargs)
    except ValueError:  # e.g. byhour that the interval never reaches
        reject()
    return clocks.RRuleClock(rule, **clock_bounds, **draw(extras))


@st.composite
def rruleset_clocks(draw: st.DrawFn) -> clocks.Clock:
    start = draw(zoned())
    rules = rrule.rruleset()
    rules.rrule(rrule.rrule(rrule.DAILY, dtstart=start, count=draw(st.integers(1, 15))))
    for extra in draw(st.lists(zoned(), max_size=3)):
        rules.rdate(extra)
    for day in draw(st.lists(st.integers(0, 15), max_size=3)):
        rules.exdate(start + dt.timedelta(days=day))
    return clocks.RRuleClock(rules, **draw(bounds()), **draw(extras))


times_of_day = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 0, 15, 30, 45]))

filter_fns = st.one_of(
    st.sampled_from(
        [filters.is_weekday, filters.is_weekend, filters.is_month_end, filters.is_month_start]
    ),
    st.builds(filters.between_times, times_of_day, times_of_day),
    st.builds(filters.at_time, times_of_day),
    st.builds(filters.on_date, st.integers(1, 12), st.integers(1, 28)),
    st.builds(
        filters.between_dates,
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(1, 28),
    ),
    st.builds(filters.is_day_of_week, st.integers(0, 6)),
    st.builds(lambda a, b: filters.between_datetimes(min(a, b), max(a, b)), zoned(), zoned()),
    st.builds(filters.on_datetime, zoned()),
)

adjustment_fns = st.one_of(
    st.just(adjustments.next_weekday),
    st.integers(-3 * 86_400, 3 * 86_400).map(lambda s: adjustments.add(dt.timedelta(seconds=s))),
)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    clock_list = draw(
        st.lists(
            st.one_of(
                interval_clocks(), cron_clocks(), dates_clocks(), rrule_clocks(), rruleset_clocks()
            ),
            min_size=1,
            max_size=3,
        )
    )
    if draw(st.booleans()) and len(clock_list) == 1:
        # Two copies, one with other extras: identical events are dropped, others kept.
        clock_list.append(draw(st.sampled_from(clock_list)))
    return Schedule(
        clocks=clock_list,
        filters=draw(st.lists(filter_fns, max_size=1)),
        or_filters=draw(st.lists(filter_fns, max_size=2)),
        not_filters=draw(st.lists(filter_fns, max_size=1)),
        adjustments=draw(st.lists(adjustment_fns, max_size=2)),
    )


def _stdlib(moment: pendulum.DateTime) -> dt.datetime:
    """The same instant as a plain datetime in a zoneinfo zone (not pendulum's)."""
    return dt.datetime.fromtimestamp(moment.timestamp(), ZoneInfo(moment.timezone_name))


def _facts(events: list) -> list[tuple]:
    return [
        (
            pendulum.instance(e.start_time).in_tz("UTC").isoformat(),
            e.start_time.utcoffset(),
            e.parameter_defaults,
            e.labels,
        )
        for e in events
    ]


# Prefect Core's Schedule.next searches without end for events its filters never let
# through (it was seen here spending minutes in croniter on one generated schedule); such
# an example has no oracle answer and is rejected. Ours must answer quickly regardless.
ORACLE_SECONDS = 5.0
OURS_SECONDS = 5.0


class _OutOfTime(Exception):
    pass


@contextmanager
def _at_most(seconds: float) -> Iterator[None]:
    def _interrupt(_signum: int, _frame: object) -> None:
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@settings(
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    schedule=schedules(),
    after=st.one_of(instants(), zoned(), zoned().map(_stdlib)),
    n=st.integers(1, 12),
)
def test_next_events_equal_prefect_core(schedule: Schedule, after, n: int) -> None:
    serialized = ScheduleSchema().dump(schedule)
    note(f"serialized={serialized!r}")
    # Server 1 evaluated the schedule as loaded back from the database, not the original.
    try:
        with _at_most(ORACLE_SECONDS):
            expected = ScheduleSchema().load(serialized).next(n, after=after, return_events=True)
    except _OutOfTime:
        reject()
    try:
        with _at_most(OURS_SECONDS):
            got = next_events(serialized, n, after=after)
    except _OutOfTime:
        pytest.fail(f"next_events took over {OURS_SECONDS} s for {serialized!r}")
    assert _facts(got) == _facts(expected)
