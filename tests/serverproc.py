"""A real ``prefect-server start`` process, a private PostgreSQL instance, and a load
of GraphQL writes whose every answer is recorded (for the outage and shutdown tests)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from prefect_server.testing import free_port

CREATE_PROJECT = "mutation($input: create_project_input!) { create_project(input: $input) { id } }"


class Server:
    def __init__(
        self, database_url: str, home: Path, *extra: str, env: dict[str, str] | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"server-{self.port}.log"
        self.log = self.log_path.open("w")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER_")}
        environ.update({"PREFECT_SERVER__HOME": str(home), **(env or {})})
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect_server.cli",
                "start",
                "--port",
                str(self.port),
                "--database-url",
                database_url,
                "--no-ui",
                *extra,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=environ,
        )

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the server did not become ready:\n" + self.output())

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text()

    def terminate(self, timeout: float = 60) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


@dataclass
class Outcome:
    started: float
    seconds: float
    name: str
    ok: bool
    error: str = ""


@dataclass
class Load:
    """Threads creating projects as fast as answers come; every outcome recorded."""

    url: str
    threads: int = 4
    outcomes: list[Outcome] = field(default_factory=list)
    stop_on_connect_error: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    tenant_id: str = ""

    def start(self) -> Load:
        answer = httpx.post(self.url + "/", json={"query": "{ tenant { id } }"}, timeout=30)
        self.tenant_id = answer.json()["data"]["tenant"][0]["id"]
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)
        return self.outcomes

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                name = f"load-{uuid.uuid4().hex}"
                started = time.monotonic()
                body = {
                    "query": CREATE_PROJECT,
                    "variables": {"input": {"name": name, "tenant_id": self.tenant_id}},
                }
                try:
                    answer = client.post("/", json=body)
                    data = answer.json()
                    ok = answer.status_code == 200 and not data.get("errors")
                    error = "" if ok else f"{answer.status_code} {str(data)[:200]}"
                except httpx.ConnectError as exc:
                    ok, error = False, f"ConnectError: {exc}"
                except httpx.HTTPError as exc:
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                self.outcomes.append(Outcome(started, time.monotonic() - started, name, ok, error))
                if not ok:
                    if self.stop_on_connect_error and error.startswith("ConnectError"):
                        return
                    time.sleep(0.05)


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def postgres_bin() -> Path | None:
    for version in ("17", "16", "15", "14"):
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "initdb").exists():
            return path
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PrivatePostgres:
    """A PostgreSQL instance of the test's own, on a free port, to stop and start at will
    (the shared one serves other people's tests)."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="prefect-server-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bin / tool), *args]),
            check=True,
            capture_output=True,
            cwd=self.dir,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
