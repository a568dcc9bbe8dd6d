"""The local control plane works for real: version, Deployment -> ReplicaSet -> Ready Pod
(kube-controller-manager, kube-scheduler, kwok), garbage collection, helm, clean stop.

Builds the pinned binaries on first use (about 20 minutes on 2 cores; cached after).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .controlplane import HELM_VERSION, K8S_VERSION, ControlPlane, _pid_alive

pytestmark = [pytest.mark.kube]
if importlib.util.find_spec("pytest_timeout") is not None:
    pytestmark.append(pytest.mark.timeout(3600))  # may include the one-time cold build


def _poll(what: str, check: Callable[[], object], timeout: float = 60) -> object:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path_factory.mktemp("kube"), die_with_parent=True)
    cp.start(with_kwok=True, nodes=2)
    try:
        yield cp
    finally:
        cp.stop()


def _json(cp: ControlPlane, *args: str) -> dict:
    return json.loads(cp.kubectl(*args, "-o", "json").stdout)


def test_kubectl_version_reports_pinned_server(plane: ControlPlane) -> None:
    v = json.loads(plane.kubectl("version", "-o", "json").stdout)
    assert v["serverVersion"]["gitVersion"] == K8S_VERSION
    assert v["clientVersion"]["gitVersion"] == K8S_VERSION
    assert plane.kubeconfig == plane.state_dir / "kubeconfig"
    env = plane.env()
    assert env["KUBECONFIG"] == str(plane.kubeconfig)
    assert env["PATH"].split(":")[0] == str(plane.bins.dir)


def test_start_twice_is_a_no_op(plane: ControlPlane) -> None:
    before = plane.pids()
    t0 = time.monotonic()
    plane.start(with_kwok=True, nodes=2)
    assert time.monotonic() - t0 < 10
    assert plane.pids() == before
    assert all(s.healthy for s in plane.status()), plane.status()


def test_deployment_gets_replicaset_and_ready_pod_then_gc(plane: ControlPlane) -> None:
    ns = "kube-test"
    plane.kubectl("create", "namespace", ns)
    plane.kubectl(
        "-n", ns, "create", "deployment", "web", "--image=registry.invalid/web:1", "--replicas=2"
    )

    def replicaset() -> dict | None:
        items = _json(plane, "-n", ns, "get", "replicasets", "-l", "app=web")["items"]
        return items[0] if items else None

    rs = _poll("a ReplicaSet of the Deployment", replicaset)
    assert isinstance(rs, dict)
    owner = rs["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("Deployment", "web")

    def ready_pods() -> list[dict] | None:
        pods = _json(plane, "-n", ns, "get", "pods", "-l", "app=web")["items"]
        ready = [
            p
            for p in pods
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
        ]
        return ready if len(ready) == 2 else None

    pods = _poll("2 Ready Pods (scheduled, then made Ready by kwok)", ready_pods, timeout=90)
    assert isinstance(pods, list)
    assert {p["spec"]["nodeName"] for p in pods} <= {"kwok-node-0", "kwok-node-1"}
    assert all(p["status"].get("podIP") for p in pods)
    plane.kubectl("-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")

    plane.kubectl("-n", ns, "delete", "deployment", "web", "--wait=true")
    _poll("the ReplicaSet to be garbage-collected", lambda: replicaset() is None)
    _poll(
        "the Pods to be garbage-collected",
        lambda: not _json(plane, "-n", ns, "get", "pods", "-l", "app=web")["items"],
        timeout=90,
    )


def test_service_account_token_and_rbac(plane: ControlPlane) -> None:
    token = plane.kubectl("create", "token", "default", "--duration=10m").stdout.strip()
    assert token.count(".") == 2
    res = plane.kubectl(
        "auth", "can-i", "list", "pods", "--as=system:serviceaccount:default:default", check=False
    )
    assert res.stdout.strip() == "no"


def test_helm_version_and_install(plane: ControlPlane, tmp_path: Path) -> None:
    env = plane.env()
    out = subprocess.run(
        ["helm", "version", "--short"], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.startswith(HELM_VERSION)
    plane.helm("create", str(tmp_path / "demo"))
    plane.helm(
        "install", "demo", str(tmp_path / "demo"), "--namespace", "helm-test",
        "--create-namespace", "--wait", "--timeout", "120s",
    )  # fmt: skip
    releases = json.loads(plane.helm("list", "-A", "-o", "json").stdout)
    assert [(r["name"], r["status"]) for r in releases] == [("demo", "deployed")]
    plane.kubectl("-n", "helm-test", "rollout", "status", "deployment/demo", "--timeout=60s")
    plane.helm("uninstall", "demo", "--namespace", "helm-test", "--wait")
    assert json.loads(plane.helm("list", "-A", "-o", "json").stdout) == []


def test_stop_leaves_no_process(plane: ControlPlane) -> None:
    pids = plane.pids()
    assert set(pids) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
    }
    plane.stop()
    assert not [name for name, pid in pids.items() if _pid_alive(pid)]
    assert plane.pids() == {}
    assert not any(Path(plane.state_dir, "run").glob("*.pid"))
    assert not plane.is_running()
