"""Registration with the real Prefect 1.4.1 client: ``flow.register()`` and ``prefect register``.

``flow.register()`` sends the flow without tasks and edges, then ``register_tasks`` and
``register_edges``; the CLI sends everything in one compressed payload with an
idempotency key. Runs where the ``client`` extra is installed; installs nothing itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from prefect1 import Prefect1  # noqa: E402

from prefect_server.testing import running_server  # noqa: E402

from dbutil import truncate_all  # noqa: E402

pytestmark = [pytest.mark.client]

FLOW_SOURCE = """
from prefect import Flow, Parameter, task


@task
def numbers(n):
    return list(range(n))


@task
def inc(x):
    return x + 1


@task
def total(xs):
    return sum(xs)


with Flow("{name}") as flow:
    n = Parameter("n", default=3)
    total(inc.map(numbers(n)))
{extra}
"""


class Client(Prefect1):
    def write_flow(self, name: str, extra: str = "") -> Path:
        path = self.home / f"{name}.py"
        path.write_text(FLOW_SOURCE.replace("{name}", name).replace("{extra}", extra))
        return path

    def flows(self, name: str) -> list[dict[str, Any]]:
        return self.query(
            f'query {{ flow(where: {{name: {{_eq: "{name}"}}}}, order_by: {{version: asc}}) '
            "{ id version archived version_group_id serialized_flow "
            "tasks(order_by: {slug: asc}) { slug mapped } } }"
        )["flow"]


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    truncate_all(database_url)
    with running_server(database_url) as server:
        client = Client(server, tmp_path_factory.mktemp("prefect1-registration"))
        client.cli_ok("create", "project", "reg")
        yield client


def test_flow_register_from_python(client: Client) -> None:
    path = client.write_flow("py-flow")
    code = textwrap.dedent(
        f"""
        import runpy
        flow = runpy.run_path({str(path)!r})["flow"]
        print(flow.register(project_name="reg", no_url=True))
        print(flow.register(project_name="reg", no_url=True))
        """
    )
    done = client.python(code)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = done.stdout.split()[-2:]
    versions = client.flows("py-flow")
    assert [f["id"] for f in versions] == ids
    assert [(f["version"], f["archived"]) for f in versions] == [(1, True), (2, False)]
    assert versions[0]["version_group_id"] == versions[1]["version_group_id"]
    latest = versions[1]
    assert [t["slug"] for t in latest["tasks"]] == ["inc-1", "n", "numbers-1", "total-1"]
    assert {t["slug"]: t["mapped"] for t in latest["tasks"]}["inc-1"] is True
    # The split path keeps the tasks in serialized_flow, as Server 1 did.
    assert sorted(t["slug"] for t in latest["serialized_flow"]["tasks"]) == [
        "inc-1",
        "n",
        "numbers-1",
        "total-1",
    ]


def test_prefect_register_cli(client: Client) -> None:
    path = client.write_flow("cli-flow")
    first = client.cli_ok("register", "--project", "reg", "-p", str(path))
    assert "Done" in first.stdout, first.stdout
    again = client.cli_ok("register", "--project", "reg", "-p", str(path))
    assert "Skipped" in again.stdout, again.stdout
    assert len(client.flows("cli-flow")) == 1

    client.write_flow("cli-flow", extra="    total(numbers(n))\n")
    changed = client.cli_ok("register", "--project", "reg", "-p", str(path))
    assert "Done" in changed.stdout and "Version: 2" in changed.stdout, changed.stdout
    versions = client.flows("cli-flow")
    assert [(f["version"], f["archived"]) for f in versions] == [(1, True), (2, False)]
    assert {t["slug"] for t in versions[1]["tasks"]} == {
        "inc-1",
        "n",
        "numbers-1",
        "numbers-2",
        "total-1",
        "total-2",
    }


def test_projects_and_tenants_from_the_cli(client: Client) -> None:
    created = client.cli_ok("create", "project", "cli-proj", "-d", "about")
    assert "cli-proj created" in created.stdout, created.stdout
    # A duplicate is a 'Uniqueness violation.', which the client turns into "exists".
    again = client.cli_ok("create", "project", "cli-proj", "--skip-if-exists")
    assert "cli-proj" in again.stdout, again.stdout
    projects = client.query(
        'query { project(where: {name: {_eq: "cli-proj"}}) { id description } }'
    )
    assert [p["description"] for p in projects["project"]] == ["about"]
    deleted = client.cli_ok("delete", "project", "cli-proj")
    assert "cli-proj deleted" in deleted.stdout, deleted.stdout
    assert (
        client.query('query { project(where: {name: {_eq: "cli-proj"}}) { id } }')["project"] == []
    )

    client.cli_ok("server", "create-tenant", "--name", "Second Team")
    slugs = [t["slug"] for t in client.query("query { tenant { slug } }")["tenant"]]
    # The default tenant stays first: clients take tenant[0].
    assert slugs[0] == "default" and "second-team" in slugs
