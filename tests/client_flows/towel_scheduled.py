"""A flow on a one-minute IntervalSchedule (the client refuses shorter ones), for the
scheduler end-to-end test."""

from datetime import timedelta

from prefect import Flow, task
from prefect.run_configs import LocalRun
from prefect.schedules import IntervalSchedule


@task
def tick():
    return "tick"


with Flow(
    "e2e-towel-scheduled",
    schedule=IntervalSchedule(interval=timedelta(minutes=1)),
    run_config=LocalRun(labels=["towel"]),
) as flow:
    tick()
