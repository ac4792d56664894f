"""A flow of flows: starts e2e-demo and waits for it."""

from prefect import Flow
from prefect.run_configs import LocalRun
from prefect.tasks.prefect import create_flow_run, wait_for_flow_run

with Flow("e2e-parent", run_config=LocalRun(labels=["e2e"])) as flow:
    child = create_flow_run(flow_name="e2e-demo", project_name="e2e", parameters={"n": 2})
    wait_for_flow_run(child, raise_final_state=True, stream_logs=True)
