"""The embedded server (``prefect_server.testing``) and its pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest

from prefect_server.settings import load_settings
from prefect_server.testing import EmbeddedServer, running_server

HELLO = {"query": "{ hello api { backend } }", "variables": "null"}


def _hello(url: str) -> str:
    response = httpx.post(url, json=HELLO, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]["api"]["backend"]


def _refuses_connections(url: str) -> bool:
    try:
        httpx.get(f"{url}/health", timeout=2)
    except httpx.TransportError:
        return True
    return False


def _server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("prefect-server:")]


def test_running_server_defaults_to_a_fresh_temporary_sqlite() -> None:
    # Not the suite's database: an unconfigured environment, as a user would have.
    settings = load_settings(env={})
    with running_server(settings=settings) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert _hello(server.url) == "SERVER"
        assert _hello(server.url + "/graphql") == "SERVER"
        assert server.database_url.startswith("sqlite+aiosqlite:///")
        database = Path(server.database_url.removeprefix("sqlite+aiosqlite:///"))
        assert database.is_file()
        assert database.parent == Path(server.settings.home)
        url = server.url

    assert _refuses_connections(url)
    assert not database.exists()  # the temporary home is gone
    assert _server_threads() == []


def test_two_servers_do_not_share_a_database() -> None:
    settings = load_settings(env={})
    with running_server(settings=settings) as one, running_server(settings=settings) as two:
        assert one.url != two.url
        assert one.database_url != two.database_url
        assert _hello(one.url) == _hello(two.url) == "SERVER"


def test_running_server_over_a_given_database(database_url: str, tmp_path: Path) -> None:
    # On SQLite a new file (migrated by the server); on PostgreSQL the suite's database.
    url = database_url if "postgresql" in database_url else f"sqlite:///{tmp_path / 'given.db'}"
    with running_server(url) as server:
        assert _hello(server.url) == "SERVER"
        assert server.database_url.split("://", 1)[1] == url.split("://", 1)[1]
    if "postgresql" not in database_url:
        assert (tmp_path / "given.db").is_file()  # the caller's file outlives the server


def test_running_server_that_cannot_start_says_so() -> None:
    with pytest.raises(RuntimeError, match="stopped while starting"):
        with running_server("postgresql://postgres@127.0.0.1:1/nowhere", load_settings(env={})):
            pass  # pragma: no cover - never reached
    assert _server_threads() == []


def test_plugin_is_registered_as_pytest11_entry_point() -> None:
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("prefect_server") == "prefect_server.testing.plugin"


def test_plugin_fixture_in_this_suite(prefect_server: EmbeddedServer) -> None:
    assert _hello(prefect_server.url) == "SERVER"


def test_plugin_fixture_in_a_users_project(tmp_path: Path) -> None:
    """A user's project with no conftest gets the fixture just by installing us."""
    (tmp_path / "test_user_flow.py").write_text(
        textwrap.dedent(
            """
            import httpx

            def test_uses_server(prefect_server):
                body = {"query": "{ api { backend } }", "variables": "null"}
                answer = httpx.post(prefect_server.url, json=body).json()
                assert answer["data"]["api"]["backend"] == "SERVER"

            def test_gets_a_fresh_one(prefect_server):
                assert str(prefect_server) == prefect_server.url
            """
        )
    )
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "2 passed" in completed.stdout


def test_a_configured_database_in_the_environment_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Were it used, the server could not start: nothing listens on port 1.
    monkeypatch.setenv(
        "PREFECT_SERVER__DATABASE__CONNECTION_URL", "postgresql://x@127.0.0.1:1/prod"
    )
    with running_server() as server:
        assert server.database_url.startswith("sqlite+aiosqlite:///")
        assert _hello(server.url) == "SERVER"


_REGISTER_A_FLOW = """
import os
{first}
import prefect
from prefect import Flow, task
from prefect.client import Client

@task
def hello():
    return 1

with running_server() as server:
    Client().create_project("fixture")
    with Flow("imported-{order}") as flow:
        hello()
    flow_id = flow.register(project_name="fixture", add_default_labels=False)
    assert flow_id, flow_id
    assert Client().graphql("{{ flow {{ name }} }}")["data"]["flow"] == [
        {{"name": "imported-{order}"}}
    ]
    assert os.environ["PREFECT__SERVER__ENDPOINT"] == server.url
# Restored: the client's own defaults (Cloud) and no variable left behind.
assert prefect.config.backend == "cloud", prefect.config.backend
assert prefect.context.config.cloud.api == "https://api.prefect.io"
assert "PREFECT__BACKEND" not in os.environ
print("ok")
"""


@pytest.mark.client
@pytest.mark.slow
@pytest.mark.parametrize(
    ("order", "first"),
    [
        ("prefect-first", "import prefect\nfrom prefect_server.testing import running_server"),
        ("server-first", "from prefect_server.testing import running_server\nimport prefect"),
    ],
)
def test_running_server_configures_the_client_whatever_the_import_order(
    order: str, first: str, tmp_path: Path
) -> None:
    pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")
    # A fresh HOME with no ~/.prefect/backend.toml and no PREFECT__ variable: what a new
    # user has, where the client would default to Cloud and ask for an API key.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT__", "PREFECT_SERVER"))}
    env.update(HOME=str(tmp_path), PYTHONWARNINGS="ignore")
    completed = subprocess.run(
        [sys.executable, "-c", _REGISTER_A_FLOW.format(first=first, order=order)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip().endswith("ok")
