"""A flow whose first flow-run process is killed (SIGKILL) after its tasks finished but
before the flow run could leave Running: lazarus must reschedule it."""

import os
import signal
from pathlib import Path

from prefect import Flow, task
from prefect.run_configs import LocalRun


def die_once(flow, old_state, new_state):
    # Flow state handlers run before the new state reaches the server, so the run is
    # still Running there, with every task run finished.
    run_id = os.environ.get("PREFECT__CONTEXT__FLOW_RUN_ID", "")
    marker = Path(os.environ["E2E_MARKER_DIR"]) / f"lazarus-{run_id}"
    if new_state.is_finished() and not marker.exists():
        marker.write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return new_state


@task
def work():
    return 42


with Flow(
    "e2e-towel-lazarus", run_config=LocalRun(labels=["towel"]), state_handlers=[die_once]
) as flow:
    work()
