"""The real Prefect 1.4.1 client, unmodified, in subprocesses (its CLI, its Python API,
its local agent) pointed at one server, and GraphQL asked of that server directly to
see what the client wrote. Every test that drives the 1.4.1 client goes through here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import httpx

from prefect_server.testing import EmbeddedServer

FLOWS = Path(__file__).parent / "client_flows"


class Prefect1:
    """The client's environment: HOME at ``home``, backend "server" at ``server``'s URL,
    then ``env`` (the client's own settings, ``PREFECT__…``)."""

    def __init__(self, server: EmbeddedServer, home: Path, **env: str):
        self.server = server
        self.home = home
        self.env = {
            **os.environ,
            "HOME": str(home),
            "PREFECT__HOME_DIR": str(home / ".prefect"),
            "PREFECT__BACKEND": "server",
            "PREFECT__CLOUD__API": server.url,
            "PREFECT__SERVER__ENDPOINT": server.url,
            # Seconds, not the defaults' 15 and 30: a cancellation or a heartbeat is
            # seen within a test's patience.
            "PREFECT__CLOUD__CHECK_CANCELLATION_INTERVAL": "2",
            "PREFECT__CLOUD__HEARTBEAT_INTERVAL": "5",
            "PREFECT__LOGGING__LEVEL": "INFO",
            "PYTHONWARNINGS": "ignore",
            # Where the flows of client_flows/ leave their marker files.
            "E2E_MARKER_DIR": str(home),
            **env,
        }
        self.agent: subprocess.Popen[str] | None = None
        self._agent_log: IO[str] | None = None

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """``prefect *args``, whatever its exit status."""
        return self.python_module("prefect", *args, timeout=timeout)

    def cli_ok(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """``prefect *args``, which must succeed."""
        done = self.cli(*args, timeout=timeout)
        assert done.returncode == 0, f"prefect {' '.join(args)}\n{done.stdout}{done.stderr}"
        return done

    def python_module(
        self, module: str, *args: str, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-m", module, *args], timeout)

    def python(self, code: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """``python -c code`` in the client's environment, whatever its exit status."""
        return self._run([sys.executable, "-c", code], timeout)

    def python_value(self, code: str) -> Any:
        """The JSON value on the last line that ``code`` printed; the code must succeed."""
        done = self.python(code)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)

    def register(self, project: str, *flows: str) -> None:
        """Register each file of client_flows/ into ``project`` (which must exist)."""
        for flow in flows:
            self.cli_ok("register", "--project", project, "-p", str(FLOWS / flow))

    def start_agent(self, *labels: str) -> None:
        """``prefect agent local start`` with ``labels``, once; output in agent.log."""
        if self.agent is not None:
            return
        self._agent_log = (self.home / "agent.log").open("w")
        self.agent = subprocess.Popen(
            [sys.executable, "-m", "prefect", "agent", "local", "start"]
            + [arg for label in labels for arg in ("-l", label)],
            env=self.env,
            stdout=self._agent_log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def stop_agent(self) -> None:
        """Stop the agent and its flow-run processes; print the end of its log."""
        if self.agent and self.agent.poll() is None:
            os.killpg(self.agent.pid, signal.SIGTERM)
            try:
                self.agent.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.agent.pid, signal.SIGKILL)
                self.agent.wait()
        if self._agent_log is not None:
            self._agent_log.close()
            print((self.home / "agent.log").read_text()[-5000:])

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a GraphQL answer from the server; fails on any error."""
        response = httpx.post(
            self.server.url, json={"query": query, "variables": variables or {}}, timeout=30
        )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def flow_id(self, name: str) -> str:
        data = self.query(
            "query($name: String!) { flow(where: {name: {_eq: $name}}) { id } }", {"name": name}
        )
        return str(data["flow"][0]["id"])

    def create_run(self, flow: str) -> str:
        """A new run of the flow named ``flow``, through the API (as the UI creates one)."""
        data = self.query(
            "mutation($id: UUID!) { create_flow_run(input: {flow_id: $id}) { id } }",
            {"id": self.flow_id(flow)},
        )
        return str(data["create_flow_run"]["id"])
