"""Prefect 1 schedules, evaluated without Prefect Core.

`next_events(schedule, n, after)` gives the same events as Prefect 1.4.1's
`Schedule.next(n, after=after, return_events=True)` for a schedule serialized by its
`ScheduleSchema`; `validate_schedule` / `validate_clock` reject what Prefect could not load.
"""

from prefect_server.schedules.schedule import (
    Event,
    Schedule,
    load_schedule,
    next_events,
    validate_clock,
    validate_schedule,
)

__all__ = [
    "Event",
    "Schedule",
    "load_schedule",
    "next_events",
    "validate_clock",
    "validate_schedule",
]
