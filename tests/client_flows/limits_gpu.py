"""A flow labelled ``gpu``: the e2e test limits ``gpu`` flow runs to 1 and starts three."""

import os
import time
from pathlib import Path

import prefect
from prefect import Flow, task
from prefect.run_configs import LocalRun


def record(name):
    marker = Path(os.environ["E2E_MARKER_DIR"]) / f"ran-{prefect.context.flow_run_id}"
    with marker.open("a") as out:
        out.write(f"{name}\n")


@task
def prepare():
    record("prepare")
    time.sleep(1)
    return 1


@task
def train(x):
    record("train")
    time.sleep(1)
    return x + 1


with Flow("e2e-limits-gpu", run_config=LocalRun(labels=["limits", "gpu"])) as flow:
    train(prepare())
