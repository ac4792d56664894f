"""The ``prefect-server`` command: start (as a real subprocess) and the database commands."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from serverproc import Server, clean_env, command
from sqlalchemy import text
from typer.testing import CliRunner

import prefect_server
from prefect_server import startup
from prefect_server.cli import app as cli_app
from prefect_server.database import migrations

from dbutil import current_revision, inspect_with, table_names

HELLO = "{ hello api { backend } }"


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Any]:
    """Starts ``prefect-server start *args`` with HOME at tmp_path; stops them all after."""
    started: list[Server] = []

    def start(*args: str, **env: str) -> Server:
        server = Server(tmp_path, *args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _post(url: str, query: str) -> dict[str, Any]:
    response = httpx.post(url, json={"query": query, "variables": "null"}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_start_with_no_settings_serves_the_api(start_server: Any, tmp_path: Path) -> None:
    server = start_server("--no-services")
    server.wait_until_serving()

    for path in ("/", "/graphql"):
        data = _post(server.url + path, HELLO)
        assert data["api"]["backend"] == "SERVER"
        assert data["hello"]
    database = tmp_path / ".prefect_server" / "prefect_server.db"
    assert database.is_file()
    assert asyncio.run(_tenant_slugs(f"sqlite+aiosqlite:///{database}")) == ["default"]

    output = server.stop()
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert server.process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_start_with_a_database_url(
    start_server: Any, tmp_path: Path, database_url: str, db: Any
) -> None:
    """The suite's database (SQLite or PostgreSQL), emptied by ``db``, given as a plain URL."""
    plain = database_url.replace("+asyncpg", "").replace("+aiosqlite", "")
    server = start_server("--no-services", "--database-url", plain)
    server.wait_until_serving()
    assert _post(server.url, HELLO)["api"]["backend"] == "SERVER"
    assert asyncio.run(_tenant_slugs(database_url)) == ["default"]
    assert not (tmp_path / ".prefect_server" / "prefect_server.db").exists()


def test_start_no_upgrade_leaves_the_database_alone(start_server: Any, tmp_path: Path) -> None:
    """With --no-upgrade the schema is someone else's job: an empty database stays
    empty and the server refuses to start on it."""
    home = tmp_path / "home"
    server = start_server("--no-upgrade", "--no-services", PREFECT_SERVER__HOME=str(home))
    server.process.wait(timeout=90)
    assert server.process.returncode != 0
    assert "prefect-server database upgrade" in server.output()  # what to run is named

    url = f"sqlite+aiosqlite:///{home / 'prefect_server.db'}"
    assert asyncio.run(_revision(url)) is None


def _workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned for the server ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.postgres
def test_start_with_workers(start_server: Any, tmp_path: Path, database_url: str, db: Any) -> None:
    """``--workers 2``: two server processes answer on one port, and stop with the parent."""
    plain = database_url.replace("+asyncpg", "")
    server = start_server("--workers", "2", "--no-services", "--database-url", plain)
    server.wait_until_serving()
    workers = _workers_of(server.process.pid)
    assert len(workers) == 2, server.stop()
    for index in range(20):
        data = _post(
            server.url,
            f'mutation {{ create_tenant(input: {{name: "t{index}", slug: "t-{index}"}}) {{ id }} }}',
        )
        assert data["create_tenant"]["id"]
    slugs = asyncio.run(_tenant_slugs(database_url))
    # Both workers ran the lifespan; the default tenant is still there once.
    assert sorted(slugs) == sorted(["default", *(f"t-{i}" for i in range(20))])
    output = server.stop()
    assert server.process.returncode in (0, -signal.SIGTERM), output
    assert output.count("Application shutdown complete") == 2, output
    assert "Traceback" not in output
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_workers_need_postgresql(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["start", "--workers", "2"], env={"HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert result.output.startswith("Error: --workers 2 needs PostgreSQL")
    assert not (tmp_path / ".prefect_server").exists()


def test_version_option() -> None:
    result = CliRunner().invoke(cli_app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == prefect_server.__version__


def test_help_lists_commands_with_one_line_descriptions() -> None:
    result = CliRunner().invoke(cli_app, ["--help"])
    assert result.exit_code == 0
    commands = result.output.split("Commands:", 1)[1].strip().splitlines()
    assert [line.split()[0] for line in commands] == [
        "start",
        "config",
        "version",
        "database",
        "limits",
    ]
    assert not [line for line in commands if line.endswith("...")]


def test_start_help_shows_flags_as_flags_and_names_every_service() -> None:
    result = CliRunner().invoke(cli_app, ["start", "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    for flag in ("--no-upgrade", "--no-services", "--no-ui", "--debug"):
        assert f"  {flag}  " in result.output
    services = " ".join(result.output.split("--no-services", 1)[1].split("--no-ui")[0].split())
    for name in ("scheduler", "lazarus", "zombie killer", "retention"):
        assert name in services


def _capture_start(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> Any:
    """Run ``start`` in-process up to the point where it hands the app to uvicorn."""
    captured: dict[str, Any] = {}

    def run(app: Any, **kwargs: Any) -> None:
        captured.update(app=app, **kwargs)

    monkeypatch.setattr(uvicorn, "run", run)
    # The default port may be taken on a shared machine; nothing binds it here.
    monkeypatch.setattr(startup, "port_is_free", lambda host, port: None)
    result = CliRunner().invoke(cli_app, ["start", *args], env=env)
    assert result.exit_code == 0, result.output
    return captured


def test_start_flags_reach_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env: dict[str, Any] = {k: None for k in os.environ if k.startswith("PREFECT_SERVER__")}
    # --no-upgrade needs a schema already there (start refuses an empty database).
    migrations.upgrade(f"sqlite:///{tmp_path / '.prefect_server' / 'prefect_server.db'}")
    captured = _capture_start(
        monkeypatch,
        ["--host", "0.0.0.0", "--port", "4999", "--no-upgrade", "--no-services"],
        {**env, "HOME": str(tmp_path)},
    )
    settings = captured["app"].state.settings
    assert (captured["host"], captured["port"]) == ("0.0.0.0", 4999)
    assert settings.database.migrate_on_start is False
    assert settings.services.enabled is False

    captured = _capture_start(monkeypatch, [], {**env, "HOME": str(tmp_path)})
    settings = captured["app"].state.settings
    assert (captured["host"], captured["port"]) == ("127.0.0.1", 4200)
    assert settings.database.migrate_on_start is True
    assert settings.services.enabled is True
    assert settings.ui.enabled is True
    assert any(getattr(r, "path", "") == "/ui/static" for r in captured["app"].routes)

    captured = _capture_start(monkeypatch, ["--no-ui"], {**env, "HOME": str(tmp_path)})
    assert captured["app"].state.settings.ui.enabled is False
    assert not any(str(getattr(r, "path", "")).startswith("/ui") for r in captured["app"].routes)


def test_start_flags_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    migrations.upgrade(f"sqlite:///{tmp_path / '.prefect_server' / 'prefect_server.db'}")
    captured = _capture_start(
        monkeypatch,
        [],
        {
            "HOME": str(tmp_path),
            "PREFECT_SERVER__DATABASE__MIGRATE_ON_START": "false",
            "PREFECT_SERVER__SERVICES__ENABLED": "false",
            "PREFECT_SERVER__PORT": "4444",
        },
    )
    settings = captured["app"].state.settings
    assert captured["port"] == 4444
    assert settings.database.migrate_on_start is False
    assert settings.services.enabled is False


# -- database upgrade | downgrade | reset ------------------------------------------


async def _revision(url: str) -> str | None:
    return await inspect_with(url, current_revision)


async def _tenant_slugs(url: str) -> list[str]:
    return await inspect_with(
        url, lambda connection: list(connection.execute(text("SELECT slug FROM tenant")).scalars())
    )


def _cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli_app, list(args), env=env, input=stdin)


@pytest.fixture
def cli_database(database_url: str) -> Iterator[str]:
    """The suite's database (SQLite file or PostgreSQL), migrated back to head afterwards."""
    yield database_url
    migrations.upgrade(database_url)


def test_database_commands(cli_database: str) -> None:
    url = cli_database

    result = _cli("database", "downgrade", "-y", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert asyncio.run(_revision(url)) is None
    assert "tenant" not in asyncio.run(inspect_with(url, table_names))

    result = _cli("database", "upgrade", "-y", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert asyncio.run(_revision(url)) == "0002"
    assert {"tenant", "flow_run", "task_run_state"} <= asyncio.run(inspect_with(url, table_names))

    result = _cli("database", "reset", "-y", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert asyncio.run(_revision(url)) == "0002"


def test_database_commands_ask_first(cli_database: str) -> None:
    url = cli_database
    result = _cli("database", "downgrade", "--database-url", url, stdin="n\n")
    assert result.exit_code != 0
    assert "Data will be lost" in result.output
    assert asyncio.run(_revision(url)) == "0002"  # untouched

    result = _cli("database", "reset", "--database-url", url, stdin="n\n")
    assert result.exit_code != 0
    assert asyncio.run(_revision(url)) == "0002"


def test_database_url_password_is_masked_in_the_prompt(cli_database: str) -> None:
    result = _cli(
        "database",
        "downgrade",
        "--database-url",
        "postgresql://u:hunter2@127.0.0.1:1/x",
        stdin="n\n",
    )
    assert "hunter2" not in result.output
    assert "postgresql+asyncpg://u:***@127.0.0.1:1/x" in result.output


def test_database_command_failures_are_one_line(tmp_path: Path) -> None:
    stamped = tmp_path / "newer.db"
    assert (
        _cli("database", "upgrade", "-y", "--database-url", f"sqlite:///{stamped}").exit_code == 0
    )
    with sqlite3.connect(stamped) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    cases = {
        f"sqlite:///{stamped}": "Can't locate revision identified by '9999' - the database "
        "was migrated by another prefect-server",
        "postgresql://postgres@127.0.0.1:1/x": "Cannot connect to PostgreSQL on 127.0.0.1:1",
        "sqlite:////proc/no/such/dir/x.db": "Cannot create the directory '/proc/no/such/dir'",
    }
    for url, message in cases.items():
        for command_ in ("upgrade", "downgrade", "reset"):
            result = _cli("database", command_, "-y", "--database-url", url)
            assert result.exit_code == 2, result.output
            assert result.output.startswith(f"Error: {message}"), result.output
            assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
    with sqlite3.connect(stamped) as connection:  # nothing written
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999",)
        ]
    result = _cli("database", "upgrade", "-y", "--debug", "--database-url", f"sqlite:///{stamped}")
    assert result.exit_code == 2 and "Traceback" in result.output


def test_database_upgrade_subprocess_uses_prefect_server_home(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    env = clean_env(tmp_path / "user", PREFECT_SERVER__HOME=str(home))
    completed = subprocess.run(
        [*command(), "database", "upgrade", "-y"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    database = home / "prefect_server.db"
    assert database.is_file()
    assert not (tmp_path / "user" / ".prefect_server").exists()
    assert asyncio.run(_revision(f"sqlite+aiosqlite:///{database}")) == "0002"


@pytest.mark.parametrize("enabled", [False, True])
async def test_services_setting_controls_the_scheduler(
    settings: Any, db: Any, enabled: bool
) -> None:
    from prefect_server.app import create_app

    settings = settings.replace(services=dataclasses.replace(settings.services, enabled=enabled))
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        scheduler = application.state.scheduler
        assert scheduler.running is enabled
        names = {job.name for job in scheduler.get_jobs()}
        assert names == ({"scheduler", "lazarus", "zombie_killer"} if enabled else set())
    assert not scheduler.running
