"""Task-run lifecycles per second, speaking the 1.4.1 client's wire protocol.

One lifecycle is what a CloudTaskRunner sends for one task run:
``get_or_create_task_run_info`` (inline arguments, a new mapped child each time),
``set_task_run_states`` Running, ``set_task_run_states`` Success, ``write_run_logs``.
N concurrent clients run lifecycles back to back against one server process (a
``prefect-server start`` subprocess), for a fixed duration after a warm-up.

    python benchmarks/lifecycle.py                                  # temporary SQLite
    python benchmarks/lifecycle.py --database-url postgresql://postgres@127.0.0.1/bench
    python benchmarks/lifecycle.py --clients 8 --seconds 20 --json

The PostgreSQL database is migrated by the server at start; its tables keep the rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

HEADERS = {"X-PREFECT-CORE-VERSION": "1.4.1", "Content-Type": "application/json"}
GET_OR_CREATE = (
    'mutation {{ get_or_create_task_run_info(input: {{ flow_run_id: "{flow_run_id}", '
    'task_id: "{task_id}", map_index: {map_index} }}) {{ id version serialized_state }} }}'
)
SET_TASK_RUN_STATES = (
    "mutation($input: set_task_run_states_input!) "
    "{ set_task_run_states(input: $input) { states { id status message } } }"
)
WRITE_RUN_LOGS = (
    "mutation($input: write_run_logs_input!) { write_run_logs(input: $input) { success } }"
)


def state(kind: str, message: str, result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "message": message,
        "context": {"task_run_count": 1},
        "cached_inputs": {},
        "_result": result or {"type": "NoResultType", "__version__": "1.4.1"},
        "__version__": "1.4.1",
    }


class Failed(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand: httpx cost the load generator
    about 1.4 ms of CPU per request, which on a 2-core machine it took from the server."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/json\r\nX-PREFECT-CORE-VERSION: 1.4.1\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def call(client: Any, query: str, variables: Any = None) -> dict[str, Any]:
    # The 1.4.1 client sends variables as a JSON-encoded string.
    body = {"query": query, "variables": json.dumps(variables)}
    if isinstance(client, Connection):
        status, raw = await client.post(json.dumps(body).encode())
        payload = json.loads(raw)
    else:
        response = await client.post("/", json=body, headers=HEADERS)
        status, payload = response.status_code, response.json()
    if status != 200 or payload.get("errors"):
        raise Failed(str(payload.get("errors") or status))
    return payload["data"]


async def setup(
    client: httpx.AsyncClient, tag: str = "", tag_limit: int | None = None
) -> tuple[str, str]:
    """A project, a one-task flow and a Running flow run; returns (flow_run_id, task_id).

    With ``tag`` the task carries it; with ``tag_limit`` too, the tag gets that
    concurrency limit (the cost of checking a limit on every Running write).
    """
    if tag and tag_limit is not None:
        await call(
            client,
            "mutation($input: update_task_tag_limit_input!) { update_task_tag_limit(input: $input)"
            " { id } }",
            {"input": {"tag": tag, "limit": tag_limit}},
        )
    tenant = (await call(client, "query { tenant { id } }"))["tenant"][0]["id"]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    await call(
        client,
        "mutation($input: create_project_input!) { create_project(input: $input) { id } }",
        {"input": {"tenant_id": tenant, "name": name}},
    )
    task = {
        "slug": "work-1",
        "name": "work",
        "type": "prefect.tasks.core.function.FunctionTask",
        "tags": [tag] if tag else [],
        "max_retries": 0,
        "retry_delay": None,
        "timeout": None,
        "cache_for": None,
        "cache_key": None,
        "trigger": {"fn": "prefect.triggers.all_successful", "kwargs": {}},
        "auto_generated": False,
        "inputs": {},
        "outputs": "typing.Any",
        "__version__": "1.4.1",
    }
    flow = {
        "name": name,
        "type": "prefect.core.flow.Flow",
        "schedule": None,
        "parameters": [],
        "tasks": [task],
        "edges": [],
        "reference_tasks": [],
        "run_config": None,
        "storage": None,
        "__version__": "1.4.1",
    }
    project = await call(
        client, f'query {{ project(where: {{name: {{_eq: "{name}"}}}}) {{ id }} }}'
    )
    flow_id = (
        await call(
            client,
            "mutation($input: create_flow_input!) { create_flow(input: $input) { id } }",
            {
                "input": {
                    "serialized_flow": flow,
                    "project_id": project["project"][0]["id"],
                    "set_schedule_active": False,
                }
            },
        )
    )["create_flow"]["id"]
    flow_run_id = (
        await call(
            client,
            "mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }",
            {"input": {"flow_id": flow_id, "idempotency_key": uuid.uuid4().hex}},
        )
    )["create_flow_run"]["id"]
    await call(
        client,
        "mutation($input: set_flow_run_states_input!) "
        "{ set_flow_run_states(input: $input) { states { id status message } } }",
        {
            "input": {
                "states": [
                    {
                        "flow_run_id": flow_run_id,
                        "version": 1,
                        "state": state("Running", "Running flow."),
                    }
                ]
            }
        },
    )
    task_id = (
        await call(client, f'query {{ task(where: {{flow_id: {{_eq: "{flow_id}"}}}}) {{ id }} }}')
    )["task"][0]["id"]
    return flow_run_id, task_id


async def lifecycle(client: Connection, flow_run_id: str, task_id: str, index: int) -> None:
    info = (
        await call(
            client, GET_OR_CREATE.format(flow_run_id=flow_run_id, task_id=task_id, map_index=index)
        )
    )["get_or_create_task_run_info"]
    task_run_id = info["id"]
    for new, message, result in (
        ("Running", "Starting task run.", None),
        ("Success", "Task run succeeded.", {"type": "PrefectResult", "location": "3"}),
    ):
        await call(
            client,
            SET_TASK_RUN_STATES,
            {
                "input": {
                    "states": [
                        {
                            "task_run_id": task_run_id,
                            "version": info["version"],
                            "state": state(new, message, result),
                        }
                    ]
                }
            },
        )
    now = time.time()
    await call(
        client,
        WRITE_RUN_LOGS,
        {
            "input": {
                "logs": [
                    {
                        "flow_run_id": flow_run_id,
                        "task_run_id": task_run_id,
                        "name": "prefect.CloudTaskRunner",
                        "level": "INFO",
                        "message": f"Task 'work[{index}]': Finished task run",
                        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                        + "+00:00",
                    }
                ]
            }
        },
    )


async def run_load(
    url: str,
    clients: int,
    seconds: float,
    warmup: float,
    server_pid: int | None,
    tag: str = "",
    tag_limit: int | None = None,
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        flow_run_id, task_id = await setup(client, tag, tag_limit)
    address = httpx.URL(url)
    connections = [Connection(address.host, address.port or 80) for _ in range(clients)]
    counter = iter(range(10**9))
    latencies: list[float] = []
    errors: list[str] = []
    measuring = False
    stop_at = time.perf_counter() + warmup + seconds

    async def worker(connection: Connection) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                await lifecycle(connection, flow_run_id, task_id, next(counter))
            except Failed as exc:
                errors.append(str(exc)[:300])
                continue
            if measuring:
                latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(worker(c)) for c in connections]
    await asyncio.sleep(warmup)
    measuring = True
    began = time.perf_counter()
    cpu_began = time.process_time()
    server_began = process_cpu(server_pid)
    postgres_began = postgres_cpu()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - cpu_began
    server_cpu = process_cpu(server_pid) - server_began
    database_cpu = postgres_cpu() - postgres_began
    for connection in connections:
        await connection.close()
    latencies.sort()
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "lifecycles": len(latencies),
        "lifecycles_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1)
        if latencies
        else None,
        "load_generator_cpu_share": round(client_cpu / elapsed, 2),
        "server_cpu_share": round(server_cpu / elapsed, 2) if server_pid else None,
        "server_cpu_ms_per_lifecycle": round(1000 * server_cpu / len(latencies), 2)
        if server_pid and latencies
        else None,
        "postgres_cpu_share": round(database_cpu / elapsed, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a process and its children (uvicorn workers)."""
    if not pid:
        return 0.0
    total = 0.0
    for candidate in Path("/proc").iterdir():
        if not candidate.name.isdigit():
            continue
        try:
            fields = (candidate / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent pid, fields[11:13] utime and stime in clock ticks.
        if int(candidate.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def postgres_cpu() -> float:
    """CPU seconds of every process named postgres on this machine (0 if none)."""
    total = 0.0
    for candidate in Path("/proc").iterdir():
        if not candidate.name.isdigit():
            continue
        try:
            comm, _, rest = (candidate / "stat").read_text().partition(") ")
        except OSError:
            continue
        if comm.endswith("(postgres"):
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, port: int, home: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFECT_SERVER__HOME": home}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect_server.cli",
            "start",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--no-services",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if "--quiet" in sys.argv else None,
    )


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("The server exited while starting.")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("The server did not start.")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--url", default="", help="use an already running server instead")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument("--quiet", action="store_true", help="hide the server's stderr")
    parser.add_argument("--tag", default="", help="a tag the benchmark's task carries")
    parser.add_argument(
        "--tag-limit", type=int, default=None, help="a concurrency limit on --tag (e.g. 1000)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="prefect-server-bench-") as home:
        server = None
        url = args.url
        if not url:
            database_url = args.database_url or f"sqlite:///{Path(home) / 'bench.db'}"
            port = args.port or free_port()
            url = f"http://127.0.0.1:{port}"
            server = start_server(database_url, port, home)
            wait_until_up(url, server)
        try:
            result = asyncio.run(
                run_load(
                    url,
                    args.clients,
                    args.seconds,
                    args.warmup,
                    server.pid if server is not None else None,
                    args.tag,
                    args.tag_limit,
                )
            )
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    if not args.url:
        result["database"] = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
