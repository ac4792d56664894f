"""A real ``prefect-server start`` process, a private PostgreSQL instance, and a load
of GraphQL writes whose every answer is recorded (for the outage and shutdown tests).

Every test that starts a server process or waits for one to answer does it here."""

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from waiting import wait_for

from prefect_server.testing import free_port

CREATE_PROJECT = "mutation($input: create_project_input!) { create_project(input: $input) { id } }"


def command() -> list[str]:
    """``prefect-server`` as installed beside this interpreter (what users run)."""
    script = Path(sys.executable).with_name("prefect-server")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect_server.cli"]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any prefect-server setting, HOME at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_SERVER")}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def wait_until_serving(
    url: str,
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
    output: Callable[[], str] = lambda: "",
    timeout: float = 90,
) -> None:
    """Until ``url`` answers 200; fails at once, with ``output()``, if ``process`` exits."""

    def answers() -> bool:
        assert process.poll() is None, f"the server exited early:\n{output()}"
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {url} did not answer\n{output()}") from None


class Server:
    """``prefect-server start --port <free port> *args`` in its own environment (the
    caller's without prefect-server settings, HOME at ``home``, then ``env``), its
    output in a log file under ``home``."""

    def __init__(
        self,
        home: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        port_from_env: bool = False,
    ):
        """``port_from_env``: give the port as PREFECT_SERVER__PORT instead of --port,
        as a container's environment does."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"server-{self.port}.log"
        self.log = self.log_path.open("w")
        port = {"PREFECT_SERVER__PORT": str(self.port)} if port_from_env else {}
        flag = [] if port_from_env else ["--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command(), "start", *flag, *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=clean_env(home, **{**(env or {}), **port}),
        )

    def wait_until_serving(self, path: str = "/health", timeout: float = 90) -> None:
        wait_until_serving(self.url + path, self.process, self.output, timeout)

    def wait_until_ready(self, timeout: float = 90) -> None:
        """Until /ready answers: the database is reachable too."""
        self.wait_until_serving("/ready", timeout)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 60) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> str:
        """Signal the server, kill it if it has not exited within ``timeout``; its output."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        return self.output()

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
