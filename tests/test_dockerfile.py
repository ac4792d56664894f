"""The image the Dockerfile builds, judged by how it runs (no Docker engine here): the
final stage's user, port, volume, command and health check, read as Docker reads them;
the command is started as the container would start it and the health check is run
against it. How the image installs the package is the Dockerfile's own business."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpstub import QuietHandler, serving
from serverproc import Server

from prefect_server.settings import load_settings
from prefect_server.testing import free_port

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    """The final stage's (INSTRUCTION, arguments) pairs, continuation lines joined."""
    logical: list[str] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    assert not current, "dangling line continuation"
    pairs = []
    for entry in logical:
        word, _, rest = entry.partition(" ")
        pairs.append((word.upper(), rest.strip()))
    starts = [i for i, (word, _) in enumerate(pairs) if word == "FROM"]
    assert starts, "no FROM"
    return pairs[starts[-1] :]


def _all(name: str) -> list[str]:
    return [args for word, args in _instructions() if word == name]


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in _all("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def _command() -> list[str]:
    """What the container runs: ENTRYPOINT then CMD, both in exec form (a shell form
    would put /bin/sh in front and swallow SIGTERM)."""
    entrypoint = _all("ENTRYPOINT")
    cmd = _all("CMD")
    argv = _exec_form(entrypoint[-1]) if entrypoint else []
    return argv + (_exec_form(cmd[-1]) if cmd else [])


def _healthcheck() -> tuple[str, list[str]]:
    """The HEALTHCHECK's options and its command, with this interpreter as ``python``."""
    (check,) = _all("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    argv = _exec_form(command)
    assert argv[0] == "python"
    return options, [sys.executable, *argv[1:]]


def test_runs_as_a_non_root_user() -> None:
    users = _all("USER")
    assert users and users[-1].split(":")[0] not in ("root", "0")
    words = [word for word, _ in _instructions()]
    last_user = len(words) - 1 - words[::-1].index("USER")
    assert all(last_user < i for i, word in enumerate(words) if word in ("ENTRYPOINT", "CMD"))


def test_listens_on_4200_on_all_interfaces_with_its_data_in_the_volume() -> None:
    argv = _command()
    assert argv[:2] == ["prefect-server", "start"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert "--port" not in argv
    assert _all("EXPOSE") == ["4200"]
    env = _env()
    settings = load_settings(env=env)
    assert settings.port == 4200
    (volume,) = _all("VOLUME")
    assert settings.home in _exec_form(volume)
    # The default database is a file in the volume, so it outlives the container.
    assert settings.database_url.startswith(f"sqlite+aiosqlite:///{settings.home}/")


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Server]:
    """The image's command with the image's environment, the volume at tmp_path and the
    port given by the environment, as ``docker run -e PREFECT_SERVER__PORT=…`` would."""
    argv = _command()
    assert argv[:2] == ["prefect-server", "start"]
    env = {**_env(), "PREFECT_SERVER__HOME": str(tmp_path / "data")}
    server = Server(tmp_path, *argv[2:], env=env, port_from_env=True)
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def _run_healthcheck(port: int) -> int:
    _, argv = _healthcheck()
    env = {**os.environ, "PREFECT_SERVER__PORT": str(port)}
    return subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode


def test_healthcheck_passes_against_the_images_command(container: Server) -> None:
    assert _run_healthcheck(container.port) == 0
    assert "Traceback" not in container.output()


def test_healthcheck_fails_when_nothing_answers() -> None:
    assert _run_healthcheck(free_port()) != 0


def test_healthcheck_asks_health_within_its_timeout() -> None:
    """/health, not /ready: a database outage must not get the container restarted
    (readiness is the orchestrator's other probe)."""
    options, _ = _healthcheck()
    flags = dict(item.lstrip("-").split("=", 1) for item in options.split())
    assert {"interval", "timeout"} <= flags.keys()
    asked: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()

    with serving(Handler) as url:
        assert _run_healthcheck(int(url.rsplit(":", 1)[1])) == 0
    assert asked == ["/health"]
