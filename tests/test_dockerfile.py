"""The Dockerfile, read as the instructions Docker would run (no engine here)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from prefect_server.settings import load_settings
from prefect_server.testing import free_port, running_server

ROOT = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    logical: list[str] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    assert not current, "dangling line continuation"
    result = []
    for entry in logical:
        word, _, rest = entry.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


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


def test_base_image_and_install() -> None:
    instructions = _instructions()
    assert instructions[0][0] == "FROM"
    image = instructions[0][1]
    assert image.startswith("python:") and image.endswith("-slim")
    assert any("pip install ." in args for args in _all("RUN"))


def test_copies_everything_the_build_needs() -> None:
    copied = {shlex.split(args)[0] for args in _all("COPY")}
    copied |= {part for args in _all("COPY") for part in shlex.split(args)[:-1]}
    # pyproject.toml's readme and the alembic tree it force-includes as _migrations.
    needed = {"pyproject.toml", "README.md", "prefect_server", "alembic"}
    assert needed <= copied
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not needed & ignored


def test_runs_as_a_non_root_user() -> None:
    users = _all("USER")
    assert users and users[-1] not in ("root", "0")
    words = [word for word, _ in _instructions()]
    assert words.index("USER") < words.index("CMD")
    assert any("useradd" in args and users[-1] in args for args in _all("RUN"))


def test_starts_the_server_on_all_interfaces_on_4200_with_a_data_volume() -> None:
    (cmd,) = _all("CMD")
    assert _exec_form(cmd) == ["prefect-server", "start", "--host", "0.0.0.0"]
    assert _all("EXPOSE") == ["4200"]
    env = _env()
    assert env.get("PREFECT_SERVER__PORT", "4200") == "4200"
    (volume,) = _all("VOLUME")
    assert env["PREFECT_SERVER__HOME"] in _exec_form(volume)
    settings = load_settings(env=env)
    assert settings.database_url.startswith(f"sqlite+aiosqlite:///{env['PREFECT_SERVER__HOME']}/")


def test_documents_the_postgresql_setting() -> None:
    assert (
        "PREFECT_SERVER__DATABASE__CONNECTION_URL=postgresql://"
        in (ROOT / "Dockerfile").read_text()
    )


def _healthcheck() -> list[str]:
    (check,) = _all("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--interval" in options and "--timeout" in options
    argv = _exec_form(command)
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


def test_healthcheck_passes_against_a_running_server_and_fails_without_one() -> None:
    argv = _healthcheck()
    with running_server(settings=load_settings(env={})) as server:
        env = {**os.environ, "PREFECT_SERVER__PORT": str(server.settings.port)}
        assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode == 0

    env = {**os.environ, "PREFECT_SERVER__PORT": str(free_port())}
    assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode != 0
