"""The flow the end-to-end tests register with the real Prefect 1.4.1 CLI."""

import os
from datetime import timedelta
from pathlib import Path

import prefect
from prefect import Flow, Parameter, case, task
from prefect.run_configs import LocalRun
from prefect.tasks.control_flow import merge


@task
def numbers(n):
    return list(range(n))


@task(task_run_name="inc-{x}")
def inc(x):
    return x + 1


@task(max_retries=2, retry_delay=timedelta(seconds=1))
def flaky():
    # Fails on its first run only: the marker survives into the retry.
    marker = Path(os.environ["E2E_MARKER_DIR"]) / f"flaky-{prefect.context.flow_run_id}"
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("flaky fails the first time")
    return "recovered"


@task
def say(total):
    prefect.context.logger.info("hello from the e2e flow, total=%s", total)


@task
def is_even(n):
    return n % 2 == 0


@task
def even():
    return "even"


@task
def odd():
    return "odd"


with Flow("e2e-demo", run_config=LocalRun(labels=["e2e"])) as flow:
    n = Parameter("n", default=3)
    incremented = inc.map(numbers(n))
    say(incremented)
    flaky()
    parity = is_even(n)
    with case(parity, True):
        a = even()
    with case(parity, False):
        b = odd()
    merge(a, b)
