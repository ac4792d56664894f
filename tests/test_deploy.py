"""The Kubernetes manifests: rendered with ``kubectl kustomize``, every object valid
against the Kubernetes schemas (offline), and the operational invariants held."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30"
TARGETS = {
    "base": ROOT,
    "postgres overlay": ROOT / "overlays" / "postgres",
    "ingress overlay": ROOT / "overlays" / "ingress",
}


def render(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    # .ci/run installs it; without kubectl this would pass without checking anything.
    assert kubectl, "kubectl is needed (apt-get install kubernetes-client)"
    out = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=sorted(TARGETS))
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(TARGETS[request.param])


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_every_object_is_valid(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_replicas_serve_without_migrating(objects: list[dict[str, Any]]) -> None:
    deployment = one(objects, "Deployment", "prefect-server")
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[:2] == ["prefect-server", "start"]
    assert "--no-upgrade" in command
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["envFrom"] == [{"secretRef": {"name": "prefect-server"}}]


def test_readiness_answers_before_the_probe_gives_up(objects: list[dict[str, Any]]) -> None:
    # /ready answers 503 by itself when the database hangs, rather than no answer.
    from prefect_server.http.health import READY_TIMEOUT_SECONDS

    deployment = one(objects, "Deployment", "prefect-server")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["timeoutSeconds"] > READY_TIMEOUT_SECONDS


def test_the_read_only_root_leaves_tmp_writable(objects: list[dict[str, Any]]) -> None:
    """The server writes nothing but temporary files (prometheus-client's multiprocess
    directory under --workers; traced with strace): /tmp is the one writable place, and
    HOME points there for libraries that look for one."""
    for name, kind in (("prefect-server", "Deployment"), ("prefect-server-migrate", "Job")):
        pod = one(objects, kind, name)["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["HOME"] == "/tmp"


def test_the_job_migrates(objects: list[dict[str, Any]]) -> None:
    job = one(objects, "Job", "prefect-server-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["prefect-server", "database", "upgrade", "-y"]
    assert container["envFrom"] == [{"secretRef": {"name": "prefect-server"}}]


def test_graceful_termination_outlasts_the_server_grace(objects: list[dict[str, Any]]) -> None:
    pod = one(objects, "Deployment", "prefect-server")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    grace = float(env["PREFECT_SERVER__GRACEFUL_SHUTDOWN_SECONDS"])
    pre_stop = int(pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1])
    # Requests in flight, then up to 10 s of service passes and hooks (shutdown.py).
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + grace + 10


def test_a_disruption_budget_keeps_one_replica(objects: list[dict[str, Any]]) -> None:
    budget = one(objects, "PodDisruptionBudget", "prefect-server")
    pods = one(objects, "Deployment", "prefect-server")["spec"]["selector"]["matchLabels"]
    assert budget["spec"]["selector"]["matchLabels"] == pods
    assert budget["spec"]["minAvailable"] >= 1


def test_nothing_runs_as_root(objects: list[dict[str, Any]]) -> None:
    workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    assert workloads
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]


def test_the_service_reaches_the_replicas(objects: list[dict[str, Any]]) -> None:
    service = one(objects, "Service", "prefect-server")
    pods = one(objects, "Deployment", "prefect-server")["spec"]["template"]["metadata"]
    for key, value in service["spec"]["selector"].items():
        assert pods["labels"][key] == value


def test_the_overlays_add_postgres_and_an_ingress() -> None:
    objects = render(TARGETS["postgres overlay"])
    assert one(objects, "StatefulSet", "postgres")["spec"]["replicas"] == 1
    ingress = one(render(TARGETS["ingress overlay"]), "Ingress", "prefect-server")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "prefect-server"
    for target in TARGETS.values():
        namespaces = {o["metadata"].get("namespace") for o in render(target)}
        assert namespaces == {None, "prefect-server"}  # None: the Namespace itself
