"""Fixtures of the real-node tests: the control plane with `skyras-node`, our images
built from their Dockerfiles and loaded into it, and the chart installed with `--wait`.

One node per machine: these tests share one cluster for the session (as root;
`make system-deps` installs what the node needs). The first run on a machine
builds the Debian stand-in bases and our images (a few minutes); later runs
reuse Docker's cache.
"""

import base64
import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chart.conftest import set_args
from tests.cluster import images
from tests.cluster.controlplane import ControlPlane, is_ready

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "skyras"
NAMESPACE = "skyras"
RELEASE = "skyras"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.node)


@pytest.fixture(scope="session")
def node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path_factory.mktemp("node-cluster"), die_with_parent=True)
    cp.start(with_kwok=False, with_node=True, timeout=300)
    yield cp
    cp.stop()


@dataclass
class Release:
    cp: ControlPlane
    namespace: str
    name: str
    install_seconds: float

    def kubectl(self, *args: str, timeout: float = 120) -> str:
        return self.cp.kubectl(*args, "-n", self.namespace, timeout=timeout).stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def helm(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return self.cp.helm(*args, "-n", self.namespace, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def release(node_cluster: ControlPlane) -> Release:
    """The chart with every default component, installed and waited for on the real node."""
    values = images.build_and_load(node_cluster)
    # Every agent of manifests/agents/, not only the chart's defaults.
    values.update({f"agents.{name}.enabled": True for name in ("ari", "jamal", "giorgio")})
    # Giorgio idles at zero replicas by its manifest, and an agent without a pod counts as
    # down in /api/v2/agents/status (helm test's `status` check): keep one running.
    values["agents.giorgio.autoscaling"] = {"minReplicas": 1}
    started = time.monotonic()
    res = node_cluster.helm(
        "install",
        RELEASE,
        str(CHART),
        "-n",
        NAMESPACE,
        "--create-namespace",
        "--wait",
        "--wait-for-jobs",
        "--timeout",
        "15m",
        *set_args(values),
        timeout=1000,
        check=False,
    )
    elapsed = time.monotonic() - started
    if res.returncode != 0:
        pods = node_cluster.kubectl("get", "pods", "-A", "-o", "wide", check=False).stdout
        events = node_cluster.kubectl(
            "get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp", check=False
        ).stdout
        pytest.fail(f"helm install failed:\n{res.stderr}{res.stdout}\n{pods}\n{events[-4000:]}")
    print(f"\nhelm install --wait on the real node: {elapsed:.0f} s")
    return Release(node_cluster, NAMESPACE, RELEASE, elapsed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def port_forward(release: Release, target: str, port: int) -> Iterator[str]:
    """`kubectl port-forward` as a user runs it; yields the local base URL."""
    local = _free_port()
    proc = subprocess.Popen(
        [
            str(release.cp.bins.kubectl),
            "--kubeconfig",
            str(release.cp.kubeconfig),
            "-n",
            release.namespace,
            "port-forward",
            target,
            f"{local}:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"port-forward {target} did not start: {proc.stdout.read() if proc.stdout else ''}"
                )
            time.sleep(0.3)
        yield f"http://127.0.0.1:{local}"
    finally:
        proc.terminate()
        proc.wait(10)


def api_key(release: Release, key: str = "admin") -> str:
    secret = release.get("secret", f"{release.name}-api-keys")
    return base64.b64decode(secret["data"][key]).decode()


EXPECTED = {
    "hub",
    "operator",
    "frontend",
    "postgres",
    "redis",
    "marcus",
    "letitia",
    "ari",
    "jamal",
    "giorgio",
}


def role(pod: dict) -> str:
    """The chart's component, or the agent's name for the operator's agent pods."""
    labels = pod["metadata"].get("labels", {})
    component = labels.get("app.kubernetes.io/component", "")
    return labels.get("app.kubernetes.io/name", "") if component == "agent" else component


def wait_pods_ready(release: Release, timeout: float = 300) -> list[dict]:
    """The release's long-running pods (the operator's agents too), once all are Ready."""
    deadline = time.monotonic() + timeout
    while True:
        pods = [
            p
            for p in release.get("pods")["items"]
            if p["status"].get("phase") not in ("Succeeded", "Failed")
            and p["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "test"
        ]
        roles = {role(p) for p in pods}
        if roles >= EXPECTED and all(
            p["status"].get("phase") == "Running" and is_ready(p) for p in pods
        ):
            return pods
        if time.monotonic() > deadline:
            states = {p["metadata"]["name"]: p["status"].get("phase") for p in pods}
            raise AssertionError(
                f"after {timeout:.0f} s: missing {EXPECTED - roles}, pods {states}"
            )
        time.sleep(2)
