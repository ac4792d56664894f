"""A flow whose flow-run process dies (SIGKILL) in the middle of a task with a retry
left: the zombie killer must retry the task run, and the retry succeeds."""

import os
import signal
from datetime import timedelta
from pathlib import Path

import prefect
from prefect import Flow, task
from prefect.run_configs import LocalRun


@task(max_retries=1, retry_delay=timedelta(seconds=0))
def fragile():
    marker = Path(os.environ["E2E_MARKER_DIR"]) / f"zombie-{prefect.context.flow_run_id}"
    if not marker.exists():
        marker.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return "survived"


with Flow("e2e-towel-zombie", run_config=LocalRun(labels=["towel"])) as flow:
    fragile()
