"""``prefect-server start`` refuses bad input in one line, before starting anything,
and its banner says what a person needs next."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serverproc import clean_env, command

from prefect_server import startup
from prefect_server.settings import load_settings, to_async_url
from prefect_server.testing import free_port

from dbutil import admin, scratch_database


def _start(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A start that is expected to be refused: run to its exit, output kept apart."""
    return subprocess.run(
        [*command(), "start", "--no-services", *args],
        env=clean_env(home, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line_failure(completed: subprocess.CompletedProcess[str]) -> str:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == ""  # no banner: nothing was started
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[tuple[socket.socket, int]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock, sock.getsockname()[1]
    sock.close()


def test_port_in_use(tmp_path: Path, busy_port: tuple[socket.socket, int]) -> None:
    _, port = busy_port
    line = _one_line_failure(_start(tmp_path, "--port", str(port)))
    assert f"Port {port} on 127.0.0.1 is already in use" in line
    assert "--port" in line
    # Refused before the database was created or migrated.
    assert not (tmp_path / ".prefect_server").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "The database URL 'not a url' is not a URL; use PostgreSQL"),
        ("postgres//u:s3cr3t@h/db", "is not a URL; use PostgreSQL"),
        ("mysql://u:s3cr3t@h/db", "The database 'mysql' (mysql://u:***@h/db) is not supported"),
        (
            "sqlite:////proc/not-here/x.db",
            "Cannot create the directory '/proc/not-here' for the SQLite database",
        ),
        ("postgresql://u:s3cr3t@127.0.0.1:1/x", "Cannot connect to PostgreSQL on 127.0.0.1:1"),
    ],
)
def test_bad_database_urls(tmp_path: Path, url: str, expected: str) -> None:
    line = _one_line_failure(_start(tmp_path, "--port", str(free_port()), "--database-url", url))
    assert expected in line
    assert "s3cr3t" not in line
    assert not (tmp_path / ".prefect_server").exists()


@pytest.mark.postgres
def test_missing_postgresql_database(tmp_path: Path, database_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql", database="firsthour_not_there")
    rendered = url.render_as_string(hide_password=False)
    line = _one_line_failure(_start(tmp_path, "--database-url", rendered))
    assert "The PostgreSQL database 'firsthour_not_there' does not exist" in line
    assert 'CREATE DATABASE firsthour_not_there"' in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    completed = _start(tmp_path, "--debug", "--database-url", "mysql://h/db")
    assert completed.returncode == 2
    assert "Traceback" in completed.stderr
    assert completed.stderr.strip().splitlines()[-1].startswith("Error: The database 'mysql'")


def test_workers_on_sqlite_are_refused_before_anything_is_printed(tmp_path: Path) -> None:
    line = _one_line_failure(_start(tmp_path, "--workers", "3", PREFECT_SERVER__PORTT="1"))
    assert line.startswith("Error: --workers 3 needs PostgreSQL")


def test_banner_sqlite() -> None:
    settings = load_settings(
        env={"PREFECT_SERVER__HOME": "/srv/prefect", "PREFECT_SERVER__PORT": "4300"}
    )
    text = startup.banner(settings, "9.9")
    assert text.splitlines() == [
        "prefect-server 9.9",
        "  Web UI    http://127.0.0.1:4300/ui/",
        "  API       http://127.0.0.1:4300/graphql",
        "  Database  SQLite /srv/prefect/prefect_server.db",
        "  Tenant    default",
        "Point the Prefect 1.4.1 client here:",
        "  export PREFECT__BACKEND=server",
        "  export PREFECT__SERVER__ENDPOINT=http://127.0.0.1:4300",
    ]


def test_banner_postgresql_with_api_keys_and_no_ui() -> None:
    settings = load_settings(
        env={
            "PREFECT_SERVER__HOST": "0.0.0.0",
            "PREFECT_SERVER__DATABASE__CONNECTION_URL": "postgresql://app:s3cr3t@db.internal/prefect",
            "PREFECT_SERVER__API_KEYS": "k1",
            "PREFECT_SERVER__UI__ENABLED": "false",
        }
    )
    text = startup.banner(settings, "9.9")
    assert "s3cr3t" not in text and "k1" not in text
    assert "Web UI" not in text
    assert "  Database  PostgreSQL db.internal:5432/prefect" in text
    assert "  export PREFECT__SERVER__ENDPOINT=http://127.0.0.1:4200" in text
    assert text.endswith("  export PREFECT__CLOUD__API_KEY=<one of PREFECT_SERVER__API_KEYS>")


def _revisions(url: str) -> set[str] | None:
    import asyncio

    return asyncio.run(startup._schema_revisions(startup.make_url(to_async_url(url))))


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the run's kind that nothing has created a schema in (PostgreSQL:
    one beside the suite's, dropped afterwards)."""
    with scratch_database(database_url, tmp_path / "scratch" / "scratch.db", "startup") as url:
        yield url


def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    from prefect_server.database.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def test_no_upgrade_on_an_empty_database_names_the_command_to_run(
    tmp_path: Path, scratch_url: str
) -> None:
    line = _one_line_failure(
        _start(tmp_path, "--port", str(free_port()), "--no-upgrade", "--database-url", scratch_url)
    )
    assert "The database has no schema and --no-upgrade was given" in line
    assert "run `prefect-server database upgrade`" in line
    # Nothing written: no SQLite file made, no table in PostgreSQL.
    assert not Path(tmp_path / "scratch" / "scratch.db").exists()
    assert _revisions(scratch_url) is None


def _no_upgrade_settings(url: str) -> Any:
    return load_settings(
        env={
            "PREFECT_SERVER__DATABASE__CONNECTION_URL": url,
            "PREFECT_SERVER__DATABASE__MIGRATE_ON_START": "false",
            "PREFECT_SERVER__PORT": str(free_port()),
        }
    )


def test_no_upgrade_on_a_schema_behind_the_code_starts_with_a_warning(scratch_url: str) -> None:
    """A new replica may start before its rollout's migration job has finished: it
    starts, unready, and says what to run."""
    from prefect_server.database import migrations

    scripts = _scripts()
    (base,) = scripts.get_bases()
    (head,) = scripts.get_heads()
    assert base != head
    migrations.upgrade(to_async_url(scratch_url), base)
    (warning,) = startup.check(_no_upgrade_settings(scratch_url), workers=1)
    assert warning == (
        f"The database schema is at revision {base}, behind this version's {head}; "
        "/ready answers 503 until `prefect-server database upgrade` has run."
    )
    assert _revisions(scratch_url) == {base}


def _stamp_newer(url: str) -> str:
    from prefect_server.database import migrations

    migrations.upgrade(to_async_url(url))
    newer = "ffff_from_a_newer_version"
    admin(to_async_url(url), f"UPDATE alembic_version SET version_num = '{newer}'")
    return newer


def test_a_schema_newer_than_the_code_is_refused_when_migrating(
    tmp_path: Path, scratch_url: str
) -> None:
    import prefect_server

    newer = _stamp_newer(scratch_url)
    line = _one_line_failure(
        _start(tmp_path, "--port", str(free_port()), "--database-url", scratch_url)
    )
    assert (
        f"The database is at revision {newer}, which prefect-server "
        f"{prefect_server.__version__} does not know" in line
    )
    assert "--no-upgrade" in line
    assert _revisions(scratch_url) == {newer}


def test_a_schema_newer_than_the_code_is_served_with_no_upgrade(scratch_url: str) -> None:
    # An older replica during a rolling update, as /ready sees it.
    newer = _stamp_newer(scratch_url)
    assert startup.check(_no_upgrade_settings(scratch_url), workers=1) == []
    assert _revisions(scratch_url) == {newer}


def test_a_failed_migration_is_one_line_and_debug_shows_why(
    tmp_path: Path, scratch_url: str
) -> None:
    # A table of the first migration already there, made by something else.
    Path(tmp_path / "scratch").mkdir()
    admin(to_async_url(scratch_url), "CREATE TABLE tenant (id INTEGER)")
    args = ("--port", str(free_port()), "--database-url", scratch_url)
    line = _one_line_failure(_start(tmp_path, *args))
    assert line.startswith("Error: Migrating the database failed: ")
    assert "tenant" in line and "--debug" in line
    assert _revisions(scratch_url) is None

    completed = _start(tmp_path, "--debug", *args)
    assert completed.returncode == 2 and completed.stdout == ""
    assert "Traceback" in completed.stderr
    assert completed.stderr.strip().splitlines()[-1] == line
