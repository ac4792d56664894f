"""A first flow for prefect-server (Prefect 1.4.1 client).

It shows the four things a first run should: a Parameter, a mapped task (one task run
per number), a log line, and a retry (``square`` fails once for the number 2, then
succeeds on its second attempt).

    prefect register --project demo -p examples/first_flow.py
    prefect run --name first-flow --project demo --param n=4 --watch
"""

from datetime import timedelta

import prefect
from prefect import Flow, Parameter, task


@task
def numbers(n: int) -> list:
    return list(range(1, n + 1))


@task(max_retries=2, retry_delay=timedelta(seconds=2))
def square(x: int) -> int:
    if x == 2 and prefect.context.get("task_run_count", 1) == 1:
        raise RuntimeError("2 fails on its first attempt, to show a retry")
    return x * x


@task
def report(squares: list) -> int:
    total = sum(squares)
    prefect.context.get("logger").info("The squares add up to %d", total)
    return total


with Flow("first-flow") as flow:
    n = Parameter("n", default=3)
    report(square.map(numbers(n)))
