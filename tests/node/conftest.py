"""Fixtures for tests on the real node (marker `node`): pods run in containers here.

One cluster for the session: the control plane of tests/cluster with the real
node `skyras-node` (containerd, kubelet, kube-proxy, CNI, CoreDNS, kube-router,
local-path) and no kwok, so every pod runs for real. Needs root and the Debian
packages of `make system-deps`; only one real node can run on a machine, so
`make kube-down` first if `make kube-up` is running.
"""

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster.controlplane import ControlPlane


@pytest.fixture(scope="session")
def node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path_factory.mktemp("node-cluster"), die_with_parent=True)
    t0 = time.monotonic()
    cp.start(with_kwok=False, with_node=True, timeout=300)
    print(f"real node cluster up in {time.monotonic() - t0:.1f}s")
    try:
        yield cp
    finally:
        cp.stop()


def kubectl_json(cp: ControlPlane, *args: str) -> Any:
    return json.loads(cp.kubectl(*args, "-o", "json").stdout)


def apply(cp: ControlPlane, *docs: dict[str, Any], namespace: str | None = None) -> None:
    ns = ["-n", namespace] if namespace else []
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(docs)})
    cp.kubectl("apply", *ns, "-f", "-", input=body)


def wait_ready(cp: ControlPlane, namespace: str, selector: str, timeout: int = 120) -> None:
    """Pods matching ``selector`` exist and are Ready (their logs and events on failure)."""
    end = time.monotonic() + timeout
    while not cp.kubectl("get", "pods", "-n", namespace, "-l", selector, "-o", "name").stdout:
        if time.monotonic() > end:
            raise AssertionError(f"no pod matches {selector} in {namespace}")
        time.sleep(0.5)
    res = cp.kubectl(
        "wait",
        "pods",
        "-n",
        namespace,
        "-l",
        selector,
        "--for=condition=Ready",
        f"--timeout={max(1, int(end - time.monotonic()))}s",
        check=False,
        timeout=timeout + 30,
    )
    if res.returncode != 0:
        described = cp.kubectl("describe", "pods", "-n", namespace, "-l", selector, check=False)
        raise AssertionError(f"pods {selector} not Ready: {res.stderr}\n{described.stdout[-4000:]}")


def pod_exec(
    cp: ControlPlane, namespace: str, pod: str, *argv: str
) -> subprocess.CompletedProcess[str]:
    return cp.kubectl("exec", "-n", namespace, pod, "--", *argv, check=False, timeout=60)
