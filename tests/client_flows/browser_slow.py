"""A slow flow whose logs the browser tests watch arrive, and which they cancel."""

import time

import prefect
from prefect import Flow, task
from prefect.run_configs import LocalRun


@task
def tick():
    for second in range(60):
        prefect.context.logger.info("tick %d", second)
        time.sleep(1)


with Flow("browser-slow", run_config=LocalRun(labels=["e2e"])) as flow:
    tick()
