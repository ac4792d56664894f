"""The README's quick start, executed: its commands are read from README.md, so the test
fails when the README drifts.

The installation lines (venvs, pip) are checked, not run: the suite's venv already holds
the server and the 1.4.1 client, and the client line must ask for exactly the `client`
extra's pins. Everything else runs as written, in a fresh HOME, against the
``prefect-server start`` the README starts (on a free port instead of 4200).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from serverproc import wait_until_serving  # noqa: E402

from prefect_server.testing import free_port  # noqa: E402

pytestmark = [pytest.mark.client, pytest.mark.slow]

ROOT = Path(__file__).parent.parent
SETUP = ("python3 -m venv ", ". ", "source ", "pip install ", "git clone ", "cd ")


def quick_start_commands(readme: str) -> list[str]:
    """The command lines of the ```bash blocks of the "Quick start" section."""
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines


def test_the_readme_installs_the_client_with_the_client_extras_pins() -> None:
    commands = quick_start_commands((ROOT / "README.md").read_text())
    (client,) = [c for c in commands if c.startswith("pip install") and "prefect==" in c]
    pins = set(shlex.split(client)[2:])
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["client"]
    assert pins == set(extra)
    assert any(c.startswith("prefect-server start") for c in commands)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_quick_start_runs_top_to_bottom(tmp_path: Path) -> None:
    commands = quick_start_commands((ROOT / "README.md").read_text())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_SERVER", "PREFECT__"))}
    env.update(HOME=str(tmp_path), PATH=f"{bin_dir}:{env['PATH']}", PYTHONWARNINGS="ignore")
    background: list[subprocess.Popen[str]] = []
    logs: list[Any] = []
    outputs: dict[str, str] = {}
    try:
        for command in commands:
            command = command.replace("127.0.0.1:4200", f"127.0.0.1:{port}")
            if command.startswith(SETUP):
                continue
            if command.startswith("export "):
                name, _, value = command.removeprefix("export ").partition("=")
                env[name] = value
                continue
            if command.startswith("prefect-server start"):
                command += f" --port {port}"
            is_server = command.startswith("prefect-server start")
            if command.endswith("&") or is_server:
                log = open(tmp_path / f"background-{len(background)}.log", "w")  # noqa: SIM115
                logs.append(log)
                background.append(
                    subprocess.Popen(
                        ["bash", "-c", command.rstrip("&").strip()],
                        env=env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        text=True,
                        start_new_session=True,
                    )
                )
                if is_server:
                    wait_until_serving(
                        f"{url}/health",
                        background[-1],
                        (tmp_path / f"background-{len(background) - 1}.log").read_text,
                        timeout=120,
                    )
                continue
            done = subprocess.run(
                ["bash", "-c", command],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            outputs[command] = done.stdout + done.stderr
        _the_run_is_there_to_watch(url)
    finally:
        for process in reversed(background):
            _stop(process)
        for log in logs:
            log.close()

    (watched,) = [out for command, out in outputs.items() if "--watch" in command]
    # What the README says the watch shows.
    assert "Flow run succeeded!" in watched, watched
    assert "The squares add up to 30" in watched, watched
    banner = (tmp_path / "background-0.log").read_text()
    assert f"export PREFECT__SERVER__ENDPOINT={url}" in banner, banner


RUN = """{ flow_run { id state flow { name }
  task_runs { task { name } map_index state states { state } } } }"""


def _the_run_is_there_to_watch(url: str) -> None:
    body = httpx.post(url, json={"query": RUN}, timeout=30).json()
    assert "errors" not in body, body
    (run,) = body["data"]["flow_run"]
    assert (run["flow"]["name"], run["state"]) == ("first-flow", "Success")
    squares = [t for t in run["task_runs"] if t["task"]["name"] == "square" and t["map_index"] >= 0]
    assert len(squares) == 4  # --param n=4, mapped
    retried = [t for t in squares if "Retrying" in {s["state"] for s in t["states"]}]
    assert [t["map_index"] for t in retried] == [1]  # the number 2, retried once
    page = httpx.get(f"{url}/ui/flow-runs/{run['id']}", timeout=30)
    assert page.status_code == 200 and "first-flow" in page.text
