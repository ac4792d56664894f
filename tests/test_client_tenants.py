"""With several tenants, the real 1.4.1 client works in the first one created.

The client takes the first row of ``query { tenant { id } }`` as its tenant (prefect
1.4.1 ``Client._get_auth_tenant`` for the server backend), and its agent asks only for
that tenant's runs. Tenants created after ``default`` must not take its place, whatever
their ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("prefect", reason="needs the `client` extra (prefect==1.4.1)")

from prefect1 import Prefect1  # noqa: E402
from waiting import wait_for  # noqa: E402

from prefect_server.testing import running_server  # noqa: E402

from dbutil import truncate_all  # noqa: E402

pytestmark = [pytest.mark.client, pytest.mark.slow]

CREATE_TENANT = "mutation($input: create_tenant_input!) { create_tenant(input: $input) { id } }"


@pytest.fixture
def prefect1(database_url: str, tmp_path: Path) -> Iterator[Prefect1]:
    truncate_all(database_url)
    with running_server(database_url) as server:
        client = Prefect1(server, tmp_path)
        try:
            yield client
        finally:
            client.stop_agent()


def test_the_agent_runs_the_default_tenants_run(prefect1: Prefect1) -> None:
    (default,) = prefect1.query("query { tenant { id name } }")["tenant"]
    assert default["name"] == "default"
    # More tenants, as `prefect server create-tenant` makes them, until one has an id
    # that sorts before default's: an order by id would then put it first.
    created = []
    while not any(tenant < default["id"] for tenant in created):
        answer = prefect1.query(
            CREATE_TENANT, {"input": {"name": f"other {len(created)}", "slug": f"o{len(created)}"}}
        )
        created.append(answer["create_tenant"]["id"])
        assert len(created) < 40
    listed = [t["id"] for t in prefect1.query("query { tenant { id } }")["tenant"]]
    assert listed == [default["id"], *created]

    prefect1.cli_ok("create", "project", "tenants")
    prefect1.register("tenants", "demo.py")
    run_id = prefect1.create_run("e2e-demo")
    project = prefect1.query('query { project(where: {name: {_eq: "tenants"}}) { tenant_id } }')
    assert project["project"][0]["tenant_id"] == default["id"]

    prefect1.start_agent("e2e")

    def finished() -> dict[str, object] | None:
        run = prefect1.query(
            "query($id: uuid!) { flow_run_by_pk(id: $id) { state tenant_id agent_id "
            "states(order_by: {version: asc}) { state } } }",
            {"id": run_id},
        )["flow_run_by_pk"]
        return run if run["state"] == "Success" else None

    run = wait_for(finished, timeout=120)
    assert run["tenant_id"] == default["id"]
    assert "Submitted" in [s["state"] for s in run["states"]]
    agents = prefect1.query("query { agent { id tenant_id } }")["agent"]
    assert [(a["id"], a["tenant_id"]) for a in agents] == [(run["agent_id"], default["id"])]
