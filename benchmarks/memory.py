"""Resident memory of a real ``prefect-server start`` process: idle, and after load.

    python benchmarks/memory.py [--requests 500] [--database-url postgresql://...]

Starts the server as a subprocess (fresh temporary HOME, default SQLite file unless a
URL is given), waits until /health answers, lets it settle, reads VmRSS/VmHWM from
/proc, sends a mix of GraphQL reads and writes, and reads them again. Prints JSON.
Linux only (it reads /proc). The target for the idle figure is < 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

IDLE_TARGET_MB = 150.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become healthy")


def post(client: httpx.Client, query: str, variables: dict[str, Any] | None = None) -> Any:
    # Variables as a JSON string, the way the Prefect 1.4.1 client sends them.
    response = client.post("/", json={"query": query, "variables": json.dumps(variables)})
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def load(client: httpx.Client, requests: int) -> dict[str, int]:
    tenant_id = post(client, "{ tenant { id } }")["tenant"][0]["id"]
    counts = {"reads": 0, "writes": 0}
    run = uuid.uuid4().hex[:8]  # a PostgreSQL database keeps the projects of earlier runs
    for i in range(requests):
        if i % 4 == 0:
            post(
                client,
                "mutation($input: create_project_input!) { create_project(input: $input) { id } }",
                {
                    "input": {
                        "tenant_id": tenant_id,
                        "name": f"bench-{run}-{i}",
                        "description": "x" * 200,
                    }
                },
            )
            counts["writes"] += 1
        elif i % 4 == 1:
            post(client, "{ hello api { backend mode version } }")
            counts["reads"] += 1
        elif i % 4 == 2:
            post(client, "{ project(limit: 50, order_by: {name: asc}) { id name description } }")
            counts["reads"] += 1
        else:
            post(client, "{ reference_data { state_info } }")
            counts["reads"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--settle-seconds", type=float, default=3.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--services", action="store_true", help="run the scheduler etc. too")
    args = parser.parse_args()

    script = Path(sys.executable).with_name("prefect-server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "prefect_server.cli"]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="prefect-server-memory-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER__")}
        env["HOME"] = home
        if args.database_url:
            env["PREFECT_SERVER__DATABASE__CONNECTION_URL"] = args.database_url
        argv = [*command, "start", "--port", str(port), "--log-level", "warning"]
        if not args.services:
            argv.append("--no-services")
        process = subprocess.Popen(argv, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            wait_healthy(url, process)
            startup_seconds = round(time.monotonic() - started, 2)
            time.sleep(args.settle_seconds)
            idle = memory_mb(process.pid)
            with httpx.Client(base_url=url, timeout=60) as client:
                t0 = time.monotonic()
                counts = load(client, args.requests)
                elapsed = time.monotonic() - t0
            time.sleep(args.settle_seconds)
            loaded = memory_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    report = {
        "database": "postgresql" if args.database_url else "sqlite (default file)",
        "services": args.services,
        "python": sys.version.split()[0],
        "startup_seconds": startup_seconds,
        "idle_rss_mb": idle["VmRSS"],
        "requests": args.requests,
        **counts,
        "requests_per_second": round(args.requests / elapsed, 1),
        "after_load_rss_mb": loaded["VmRSS"],
        "peak_rss_mb": loaded["VmHWM"],
        "idle_target_mb": IDLE_TARGET_MB,
        "idle_under_target": idle["VmRSS"] < IDLE_TARGET_MB,
    }
    print(json.dumps(report, indent=2))
    if not report["idle_under_target"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
