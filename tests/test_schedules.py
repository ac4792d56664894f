"""Prefect 1 schedules evaluated without Prefect Core: worked examples.

The serialized dicts are written by hand in the wire format of Prefect 1.4.1's
ScheduleSchema (``prefect/serialization/schedule.py``); expected times follow Prefect 1.4.1's rules, including
its daylight-saving quirks (checked against it in test_schedules_equivalence.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from prefect_server.schedules import Event, next_events, validate_clock, validate_schedule

UTC = dt.timezone.utc
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = 60_000_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def schedule(*clocks: dict, **rules: list) -> dict:
    return {"type": "Schedule", "clocks": list(clocks), "__version__": "1.4.1", **rules}


def interval(microseconds: int, **extra: object) -> dict:
    return {"type": "IntervalClock", "interval": microseconds, **extra}


def cron(expression: str, **extra: object) -> dict:
    return {"type": "CronClock", "cron": expression, **extra}


def local(value: str, tz: str = "America/New_York") -> dict:
    return {"dt": value, "tz": tz}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def ref(name: str, **kwargs: object) -> dict:
    module = "adjustments" if name in ("add", "next_weekday") else "filters"
    return {"fn": f"prefect.schedules.{module}.{name}", "kwargs": kwargs}


def starts(events: list[Event]) -> list[dt.datetime]:
    return [e.start_time.astimezone(UTC) for e in events]


def walls(events: list[Event]) -> list[str]:
    return [e.start_time.isoformat() for e in events]


# IntervalClock


def test_interval_without_start_date_is_anchored_at_2019_utc() -> None:
    events = next_events(schedule(interval(7 * HOUR)), 3, after=utc(2019, 1, 2, 0, 0))
    # 2019-01-01T00:00Z + k·7h: 21:00 (k=3), then 04:00, 11:00 on Jan 2.
    assert starts(events) == [utc(2019, 1, 2, 4), utc(2019, 1, 2, 11), utc(2019, 1, 2, 18)]
    assert all(e.parameter_defaults == {} and e.labels is None for e in events)


def test_interval_event_exactly_at_after_is_not_repeated() -> None:
    events = next_events(schedule(interval(HOUR)), 2, after=utc(2022, 1, 1, 5))
    assert starts(events) == [utc(2022, 1, 1, 6), utc(2022, 1, 1, 7)]


def test_interval_before_its_start_date_begins_at_the_start_date() -> None:
    clock = interval(DAY, start_date=local("2030-06-01T08:15:00", "UTC"))
    events = next_events(schedule(clock), 2, after=utc(2022, 1, 1))
    assert starts(events) == [utc(2030, 6, 1, 8, 15), utc(2030, 6, 2, 8, 15)]


def test_daily_interval_keeps_the_local_hour_across_dst() -> None:
    clock = interval(DAY, start_date=local("2022-03-11T09:00:00"))
    events = next_events(schedule(clock), 3, after=utc(2022, 3, 11))
    assert walls(events) == [
        "2022-03-11T09:00:00-05:00",
        "2022-03-12T09:00:00-05:00",
        "2022-03-13T09:00:00-04:00",
    ]


def test_daily_interval_starting_in_the_spring_gap_moves_forward() -> None:
    clock = interval(DAY, start_date=local("2022-03-10T02:30:00"))
    events = next_events(schedule(clock), 4, after=utc(2022, 3, 10))
    assert walls(events)[-2:] == ["2022-03-12T02:30:00-05:00", "2022-03-13T03:30:00-04:00"]


def test_hourly_interval_over_fall_back_drops_the_repeated_wall_hour() -> None:
    # Elapsed hours, but Prefect 1 compared events of one zone by wall clock, so
    # 01:00 EST (06:00Z) equalled 01:00 EDT and was dropped as a duplicate.
    clock = interval(HOUR, start_date=local("2022-11-05T23:00:00"))
    events = next_events(schedule(clock), 4, after=utc(2022, 11, 6, 3))
    assert starts(events) == [
        utc(2022, 11, 6, 4),
        utc(2022, 11, 6, 5),
        utc(2022, 11, 6, 7),
        utc(2022, 11, 6, 8),
    ]


def test_interval_stops_at_its_end_date() -> None:
    clock = interval(DAY, start_date=local("2022-01-01T00:00:00", "UTC"))
    clock["end_date"] = local("2022-01-03T00:00:00", "UTC")
    events = next_events(schedule(clock), 10, after=utc(2021, 12, 1))
    assert starts(events) == [utc(2022, 1, 1), utc(2022, 1, 2), utc(2022, 1, 3)]


def test_interval_shorter_than_a_minute_is_rejected() -> None:
    with pytest.raises(ValueError, match="Interval can not be less than one minute"):
        validate_clock(interval(59_000_000))
    validate_clock(interval(MINUTE))


# CronClock


def test_cron_without_start_date_runs_in_utc() -> None:
    events = next_events(schedule(cron("*/15 * * * *")), 3, after=utc(2022, 5, 1, 10, 7, 30))
    assert starts(events) == [
        utc(2022, 5, 1, 10, 15),
        utc(2022, 5, 1, 10, 30),
        utc(2022, 5, 1, 10, 45),
    ]


def test_cron_follows_the_start_date_zone_across_dst() -> None:
    clock = cron("0 9 * * *", start_date=local("2022-01-01T00:00:00"))
    events = next_events(schedule(clock), 3, after=utc(2022, 3, 12, 15))
    assert walls(events) == [
        "2022-03-13T09:00:00-04:00",
        "2022-03-14T09:00:00-04:00",
        "2022-03-15T09:00:00-04:00",
    ]


def test_hourly_cron_over_fall_back_fires_once_at_the_second_one_oclock() -> None:
    clock = cron("0 * * * *", start_date=local("2022-01-01T00:00:00"))
    events = next_events(schedule(clock), 3, after=utc(2022, 11, 6, 3))
    assert walls(events) == [
        "2022-11-06T00:00:00-04:00",
        "2022-11-06T01:00:00-05:00",
        "2022-11-06T02:00:00-05:00",
    ]


def test_cron_in_the_spring_gap_fires_when_the_gap_ends() -> None:
    clock = cron("30 2 * * *", start_date=local("2022-01-01T00:00:00", "Europe/Berlin"))
    events = next_events(schedule(clock), 3, after=utc(2022, 3, 25, 12))
    assert walls(events) == [
        "2022-03-26T02:30:00+01:00",
        "2022-03-27T03:00:00+02:00",
        "2022-03-28T02:30:00+02:00",
    ]


def test_cron_starts_at_its_future_start_date_inclusive() -> None:
    clock = cron("0 0 * * *", start_date=local("2030-01-01T00:00:00", "UTC"))
    events = next_events(schedule(clock), 2, after=utc(2022, 1, 1))
    assert starts(events) == [utc(2030, 1, 1), utc(2030, 1, 2)]


def test_cron_rounds_a_fractional_after_up_to_the_next_second() -> None:
    # Prefect 1 rounded 00:00:59.0005 up to 00:01:00.0005, so 00:01 itself is skipped.
    late = next_events(schedule(cron("* * * * *")), 1, after=utc(2022, 1, 1, 0, 0, 59, 500))
    assert starts(late) == [utc(2022, 1, 1, 0, 2)]
    early = next_events(schedule(cron("* * * * *")), 1, after=utc(2022, 1, 1, 0, 0, 30, 500))
    assert starts(early) == [utc(2022, 1, 1, 0, 1)]


def test_cron_day_or_false_requires_both_day_fields() -> None:
    # Fridays that are also within the first seven days: the first Friday of a month.
    first_friday = cron("0 12 1-7 * 5", day_or=False)
    events = next_events(schedule(first_friday), 3, after=utc(2022, 1, 1))
    assert starts(events) == [utc(2022, 1, 7, 12), utc(2022, 2, 4, 12), utc(2022, 3, 4, 12)]
    either = next_events(schedule(cron("0 12 1-7 * 5")), 3, after=utc(2022, 1, 1))
    assert starts(either) == [utc(2022, 1, 1, 12), utc(2022, 1, 2, 12), utc(2022, 1, 3, 12)]


def test_cron_stops_at_end_date() -> None:
    clock = cron("0 0 * * *", end_date=local("2022-01-02T12:00:00", "UTC"))
    events = next_events(schedule(clock), 5, after=utc(2021, 12, 31, 6))
    assert starts(events) == [utc(2022, 1, 1), utc(2022, 1, 2)]


def test_a_cron_clock_gives_up_after_a_thousand_events() -> None:
    # Noon is the 720th minute after midnight, the next noon the 2160th: beyond the cap.
    noon = schedule(cron("* * * * *"), filters=[ref("at_time", t="//time:12:00:00")])
    assert starts(next_events(noon, 2, after=utc(2022, 1, 1))) == [utc(2022, 1, 1, 12)]


def test_invalid_cron_is_rejected_with_prefects_message() -> None:
    with pytest.raises(ValueError, match="Invalid cron string: 61 \\* \\* \\* \\*"):
        validate_schedule(schedule(cron("61 * * * *")))


# DatesClock and RRuleClock


def test_dates_clock_yields_only_future_dates_in_order() -> None:
    clock = {
        "type": "DatesClock",
        "dates": [
            local("2022-06-01T12:00:00", "UTC"),
            local("2020-01-01T00:00:00", "UTC"),
            local("2022-03-01T08:00:00", "Europe/Berlin"),
        ],
        "labels": ["once"],
    }
    events = next_events(schedule(clock), 5, after=utc(2021, 1, 1))
    assert starts(events) == [utc(2022, 3, 1, 7), utc(2022, 6, 1, 12)]
    assert [e.labels for e in events] == [["once"], ["once"]]
    assert next_events(schedule(clock), 5, after=utc(2023, 1, 1)) == []


def test_dates_clock_accepts_plain_iso_strings() -> None:
    clock = {"type": "DatesClock", "dates": ["2031-01-01T00:00:00+02:00"]}
    assert starts(next_events(schedule(clock), 1)) == [utc(2030, 12, 31, 22)]


def test_rrule_with_count_ends() -> None:
    rule = {
        "type": "rrule",
        "rr": "DTSTART:20220101T060000\nRRULE:FREQ=DAILY;COUNT=3",
        "_dtstart": "2022-01-01T06:00:00+00:00",
        "_until": None,
    }
    clock = {"type": "RRuleClock", "rrule_obj": rule}
    events = next_events(schedule(clock), 10, after=utc(2021, 12, 1))
    assert starts(events) == [utc(2022, 1, 1, 6), utc(2022, 1, 2, 6), utc(2022, 1, 3, 6)]
    assert starts(next_events(schedule(clock), 10, after=utc(2022, 1, 2, 6))) == [
        utc(2022, 1, 3, 6)
    ]


def test_rrule_with_until_runs_on_the_fixed_offset_of_its_dtstart() -> None:
    # Prefect kept only the offset of DTSTART, so the rule does not follow DST.
    rule = {
        "type": "rrule",
        "rr": "DTSTART:20220311T090000\nRRULE:FREQ=DAILY;UNTIL=20220314T090000",
        "_dtstart": "2022-03-11T09:00:00-05:00",
        "_until": "2022-03-14T09:00:00-05:00",
    }
    events = next_events(schedule({"type": "RRuleClock", "rrule_obj": rule}), 10, utc(2022, 3, 1))
    assert starts(events) == [utc(2022, 3, d, 14) for d in (11, 12, 13, 14)]
    assert {e.start_time.utcoffset() for e in events} == {dt.timedelta(hours=-5)}


def test_rruleset_with_exdate() -> None:
    rule = {
        "type": "rruleset",
        "_rrule": [
            {
                "rr": "DTSTART:20220101T000000\nRRULE:FREQ=DAILY;COUNT=4",
                "_dtstart": "2022-01-01T00:00:00+00:00",
                "_until": None,
            }
        ],
        "_rdate": ["2022-02-01T00:00:00+00:00"],
        "_exrule": [],
        "_exdate": ["2022-01-02T00:00:00+00:00"],
    }
    events = next_events(schedule({"type": "RRuleClock", "rrule_obj": rule}), 10, utc(2021, 1, 1))
    assert starts(events) == [utc(2022, 1, 1), utc(2022, 1, 3), utc(2022, 1, 4), utc(2022, 2, 1)]


# Several clocks


def test_clocks_are_merged_in_time_order_and_identical_events_dropped() -> None:
    every_2h = interval(2 * HOUR)
    every_3h = interval(3 * HOUR)
    events = next_events(schedule(every_2h, every_3h), 5, after=utc(2022, 1, 1))
    # 06:00 comes from both clocks with the same (empty) defaults: once.
    assert starts(events) == [utc(2022, 1, 1, h) for h in (2, 3, 4, 6, 8)]


def test_events_differing_in_parameters_or_labels_are_all_kept() -> None:
    a = interval(HOUR, parameter_defaults={"who": "a"})
    b = interval(HOUR, parameter_defaults={"who": "b"}, labels=["x"])
    events = next_events(schedule(a, b), 4, after=utc(2022, 1, 1))
    assert starts(events) == [utc(2022, 1, 1, 1)] * 2 + [utc(2022, 1, 1, 2)] * 2
    # Equal times from different clocks come in heapq.merge's order, as in Prefect 1.
    assert [(e.parameter_defaults, e.labels) for e in events] == [
        ({"who": "b"}, ["x"]),
        ({"who": "a"}, None),
    ] * 2


# Filters and adjustments


def test_filters_all_or_any_and_none() -> None:
    hourly = interval(HOUR)
    rules = {
        "filters": [
            ref(
                "is_weekday",
            )
        ],
        "or_filters": [
            ref("at_time", t="//time:09:00:00"),
            ref("between_times", start="//time:17:00:00", end="//time:18:00:00"),
        ],
        "not_filters": [ref("is_month_start")],
    }
    # 2022-04-01 is a Friday (month start: excluded), 04-02/03 a weekend.
    events = next_events(schedule(hourly, **rules), 4, after=utc(2022, 3, 31, 23))
    assert starts(events) == [
        utc(2022, 4, 4, 9),
        utc(2022, 4, 4, 17),
        utc(2022, 4, 4, 18),
        utc(2022, 4, 5, 9),
    ]


def test_filters_read_the_events_own_wall_clock() -> None:
    clock = cron("0 * * * *", start_date=local("2022-01-01T00:00:00", "Europe/Berlin"))
    nine = {"filters": [ref("at_time", t="//time:09:00:00")]}
    events = next_events(schedule(clock, **nine), 1, after=utc(2022, 7, 1))
    assert walls(events) == ["2022-07-01T09:00:00+02:00"]


@pytest.mark.parametrize(
    ("rule", "expected_days"),
    [
        (ref("on_date", month=2, day=28), [28]),
        (
            ref("between_dates", start_month=2, start_day=26, end_month=3, end_day=1),
            [26, 27, 28, 1],
        ),
        (ref("is_month_end"), [28]),
        (ref("is_weekend"), [26, 27, 5]),
        (ref("is_day_of_week", day_of_week=0), [28, 7]),
        (ref("on_datetime", dt="//datetime:2022-03-03T13:00:00+01:00"), [3]),
        (
            ref(
                "between_datetimes",
                start="//datetime:2022-02-27T00:00:00+00:00",
                end="//datetime:2022-03-01T12:00:00+00:00",
            ),
            [27, 28, 1],
        ),
    ],
)
def test_date_filters(rule: dict, expected_days: list[int]) -> None:
    noon = interval(DAY, start_date=local("2022-01-01T12:00:00", "UTC"))
    events = next_events(schedule(noon, filters=[rule]), len(expected_days), utc(2022, 2, 25, 13))
    assert [e.start_time.day for e in events] == expected_days


def test_between_times_may_wrap_midnight() -> None:
    night = {"filters": [ref("between_times", start="//time:23:00:00", end="//time:01:00:00")]}
    events = next_events(schedule(interval(HOUR), **night), 4, after=utc(2022, 1, 1, 12))
    assert starts(events) == [
        utc(2022, 1, 1, 23),
        utc(2022, 1, 2),
        utc(2022, 1, 2, 1),
        utc(2022, 1, 2, 23),
    ]


def test_adjustments_apply_in_order() -> None:
    # Saturday 2022-01-01 10:00 +1h → 11:00, then moved to Monday.
    weekly = interval(7 * DAY, start_date=local("2022-01-01T10:00:00", "UTC"))
    rules = {"adjustments": [ref("add", interval="//timedelta:3600.0"), ref("next_weekday")]}
    events = next_events(schedule(weekly, **rules), 2, after=utc(2021, 12, 1))
    assert starts(events) == [utc(2022, 1, 3, 11), utc(2022, 1, 10, 11)]


def test_a_filter_that_never_passes_gives_up_after_ten_thousand_events() -> None:
    never = {"filters": [ref("on_date", month=2, day=30)]}
    assert next_events(schedule(interval(MINUTE), **never), 1, after=utc(2022, 1, 1)) == []


# Inputs


def test_after_defaults_to_now_and_naive_after_is_utc() -> None:
    before = dt.datetime.now(UTC)
    (event,) = next_events(schedule(interval(MINUTE)), 1)
    assert before < event.start_time <= before + dt.timedelta(minutes=1, seconds=1)
    naive = next_events(schedule(interval(HOUR)), 1, after=dt.datetime(2022, 1, 1, 5, 30))
    assert starts(naive) == [utc(2022, 1, 1, 6)]


def test_start_dates_as_plain_iso_text_and_null() -> None:
    clock = interval(DAY, start_date="2022-01-01T06:00:00+00:00", end_date=None)
    assert starts(next_events(schedule(clock), 1, after=utc(2022, 2, 1))) == [utc(2022, 2, 1, 6)]


def test_zero_events_and_empty_clock_list() -> None:
    assert next_events(schedule(interval(HOUR)), 0) == []
    assert next_events(schedule(), 5) == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (None, "Invalid schedule"),
        ({"clocks": "x"}, "Invalid schedule clocks"),
        (schedule({"type": "WeeklyClock"}), "Invalid clock type"),
        (schedule(interval("soon")), "Invalid IntervalClock interval"),
        (
            schedule(interval(HOUR, start_date=local("2022-01-01T00:00:00", "Mars/Olympus"))),
            "Invalid time zone",
        ),
        (schedule(interval(HOUR, start_date=local("yesterday"))), "Invalid datetime"),
        (schedule(interval(HOUR, labels="x")), "Invalid clock labels"),
        (schedule(interval(HOUR, parameter_defaults=[1])), "Invalid clock parameter_defaults"),
        (schedule(cron("0 0 * * *", day_or="no")), "Invalid CronClock day_or"),
        (schedule({"type": "DatesClock", "dates": []}), "Invalid DatesClock dates"),
        (
            schedule({"type": "RRuleClock", "rrule_obj": {"type": "rrule", "rr": "NOPE"}}),
            "Invalid rrule",
        ),
        (
            schedule(interval(HOUR), filters=[{"fn": "os.system", "kwargs": {}}]),
            "Invalid function reference",
        ),
        (schedule(interval(HOUR), filters=[ref("at_time")]), "expected arguments"),
        (schedule(interval(HOUR), filters=[ref("at_time", t="noon")]), "Invalid argument"),
        (schedule(interval(HOUR), filters=[ref("is_weekday", x=1)]), "takes no arguments"),
        (schedule(interval(HOUR), adjustments=[ref("is_weekday")]), "Invalid function reference"),
        (schedule(interval(HOUR), filters="is_weekday"), "Invalid schedule filters"),
    ],
)
def test_unloadable_schedules_are_rejected_clearly(bad: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_schedule(bad)
    with pytest.raises(ValueError, match=message):
        next_events(bad, 1)  # type: ignore[arg-type]


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="Invalid number of events"):
        next_events(schedule(interval(HOUR)), -1)


def test_a_cron_that_never_fires_cannot_be_evaluated() -> None:
    never = schedule(cron("0 0 30 2 *"))
    validate_schedule(never)  # a valid expression (Prefect 1 accepted it too) ...
    with pytest.raises(ValueError):
        next_events(never, 1, after=utc(2022, 1, 1))  # ... that has no next date
