"""``python -m build`` makes a wheel and an sdist that a newcomer can install without a
clone: the wheel, installed with its dependencies into a fresh venv, migrates a
database and serves the API, the web UI and the API console.

SQLite only: it proves what the package carries, not what the database does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import prefect_server
from prefect_server.testing import free_port

pytestmark = pytest.mark.sqlite

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "prefect_server"
# What the running server reads from the package besides Python modules.
DATA_DIRS = ("ui/templates", "ui/static", "http/console")


def _files(directory: Path) -> set[str]:
    return {
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_SERVER", "VIRTUAL_ENV"))
    }
    return {**env, **extra}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, sdist), built once the way a release is: the sdist from the tree, the
    wheel from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


@pytest.fixture(scope="module")
def installed(dist: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a fresh venv with the wheel and its dependencies."""
    wheel, _ = dist
    where = tmp_path_factory.mktemp("venv")
    # This venv's pip installs into the new one (pip --python): no ensurepip, and no
    # bytecode compiled ahead, which would take most of the time.
    venv.create(where, with_pip=False)
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(where / "bin" / "python")),
            *("install", "-q", "--no-compile", str(wheel)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=_clean_env(),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return where / "bin"


def test_the_wheel_carries_the_migrations_templates_and_static_files(
    dist: tuple[Path, Path],
) -> None:
    wheel, _ = dist
    names = set(zipfile.ZipFile(wheel).namelist())
    for directory in DATA_DIRS:
        expected = {f"prefect_server/{directory}/{name}" for name in _files(PACKAGE / directory)}
        assert expected and expected <= names, directory
    migrations = {
        f"prefect_server/_migrations/{name}"
        for name in _files(ROOT / "alembic")
        if not name.endswith(".pyc")
    }
    assert "prefect_server/_migrations/env.py" in migrations
    assert migrations <= names
    # The package and its metadata, nothing from around it.
    assert {name.split("/")[0] for name in names} == {
        "prefect_server",
        f"prefect_server-{prefect_server.__version__}.dist-info",
    }


def test_the_sdist_carries_the_source_migrations_tests_and_readme(
    dist: tuple[Path, Path],
) -> None:
    _, sdist = dist
    with tarfile.open(sdist) as archive:
        top = f"prefect_server-{prefect_server.__version__}/"
        names = {name.removeprefix(top) for name in archive.getnames()}
    for required in (
        "pyproject.toml",
        "README.md",
        "Dockerfile",
        "alembic/env.py",
        "prefect_server/cli.py",
        "prefect_server/ui/templates/base.html",
        "prefect_server/ui/static/app.css",
        "prefect_server/http/console/console.js",
        "tests/conftest.py",
        "tests/test_packaging.py",
    ):
        assert required in names, required
    for name in _files(ROOT / "alembic" / "versions"):
        assert f"alembic/versions/{name}" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".db")]
    assert not [name for name in names if name.startswith((".ci/", ".venv/", ".git/"))]


@pytest.fixture
def server(installed: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The installed prefect-server, run from an unrelated directory on a database
    migrated by its own ``database upgrade``."""
    env = _clean_env(
        HOME=str(tmp_path),
        PREFECT_SERVER__DATABASE__CONNECTION_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
    )
    upgrade = subprocess.run(
        [str(installed / "prefect-server"), "database", "upgrade", "-y"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    port = free_port()
    log = tmp_path / "server.log"
    # --no-upgrade: the start-up check must find the packaged migrations' head.
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(installed / "prefect-server"), "start", "--no-upgrade", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed server did not become ready"
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_installed_wheel_reports_its_version(installed: Path) -> None:
    completed = subprocess.run(
        [str(installed / "prefect-server"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_env(),
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == prefect_server.__version__
    where = subprocess.run(
        [str(installed / "python"), "-c", "import prefect_server; print(prefect_server.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=installed,
        env=_clean_env(),
    )
    # Imported from the venv, not from this checkout.
    assert where.stdout.strip().startswith(str(installed.parent)), where.stdout + where.stderr


def test_the_installed_wheel_migrates_and_serves_the_api_ui_and_console(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = server
    ready = httpx.get(f"{base}/ready", timeout=10)
    assert ready.status_code == 200, ready.text

    answer = httpx.post(f"{base}/graphql", json={"query": "{ hello }"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"data": {"hello": "👋"}}

    page = httpx.get(f"{base}/ui/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Dashboard</h1>" in page.text

    for path, source in (
        ("/ui/static/app.css", PACKAGE / "ui" / "static" / "app.css"),
        ("/graphql/console.js", PACKAGE / "http" / "console" / "console.js"),
    ):
        asset = httpx.get(f"{base}{path}", timeout=10)
        assert asset.status_code == 200, path
        assert asset.content == source.read_bytes(), path

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
