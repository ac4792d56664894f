"""The flow the browser tests register with the real Prefect 1.4.1 CLI and look at in the UI."""

import os
from datetime import timedelta
from pathlib import Path

import prefect
from prefect import Flow, Parameter, task
from prefect.run_configs import LocalRun


@task
def numbers(n):
    return list(range(n))


@task(task_run_name="square-{x}")
def square(x):
    return x * x


@task
def report(squares):
    logger = prefect.context.logger
    logger.info("the squares are %s", squares)
    # Must reach the browser as text: proof that logs are escaped on every page.
    logger.info("<script>alert(1)</script> is only text")


@task(max_retries=1, retry_delay=timedelta(seconds=1))
def flaky():
    # Fails on its first run only: the marker survives into the retry.
    marker = Path(os.environ["E2E_MARKER_DIR"]) / f"flaky-{prefect.context.flow_run_id}"
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("flaky fails the first time")
    return "recovered"


with Flow("browser-demo", run_config=LocalRun(labels=["e2e"])) as flow:
    n = Parameter("n", default=3)
    report(square.map(numbers(n)))
    flaky()
