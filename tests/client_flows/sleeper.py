"""A long-running flow for the cancellation test."""

import time

from prefect import Flow, task
from prefect.run_configs import LocalRun


@task
def sleep_long():
    for _ in range(600):
        time.sleep(0.5)


@task
def after(x):
    return x


with Flow("e2e-sleeper", run_config=LocalRun(labels=["e2e"])) as flow:
    after(sleep_long())
