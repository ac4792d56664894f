"""Six mapped children tagged ``db`` on six threads: the e2e test limits ``db`` to 2."""

import os
import time
from pathlib import Path

import prefect
from prefect import Flow, task
from prefect.executors import LocalDaskExecutor
from prefect.run_configs import LocalRun


def record(name):
    # One line per execution: the test checks that no task body ran twice.
    marker = Path(os.environ["E2E_MARKER_DIR"]) / f"ran-{prefect.context.flow_run_id}"
    with marker.open("a") as out:
        out.write(f"{name}\n")


@task
def items():
    return list(range(6))


@task(tags=["db"])
def query(x):
    record(f"query-{x}")
    time.sleep(1.5)
    return x


with Flow(
    "e2e-limits-tagged",
    run_config=LocalRun(labels=["limits"]),
    executor=LocalDaskExecutor(scheduler="threads", num_workers=6),
) as flow:
    query.map(items())
