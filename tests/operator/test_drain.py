"""`python -m skyras_operator.drain` (the chart's pre-delete hook) against a real API server.

With the real operator and hub running, the drain deletes the selected Agents
and returns once the operator has deregistered them and dropped its finalizer.
Without an operator, it gives up after --timeout with a message naming the
stuck Agents, then removes the finalizer itself (or fails, when told to).
"""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skyras.embedded import EmbeddedRedis, free_port
from tests.cluster.controlplane import ControlPlane
from tests.conftest import ROOT
from tests.utils import eventually

from .test_agents_on_kubernetes import Stack, agent_manifest

pytestmark = pytest.mark.kube

RELEASE = {"app.kubernetes.io/instance": "studio", "app.kubernetes.io/component": "agent"}
SELECTOR = ",".join(f"{k}={v}" for k, v in RELEASE.items())


def drain(kube: ControlPlane, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skyras_operator.drain", "--namespace", namespace,
         "--selector", SELECTOR, "--poll", "0.5", *args],
        env=kube.env(), capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip


def agents_in(kube: ControlPlane, namespace: str) -> dict[str, list[str]]:
    """Agent name -> its finalizers."""
    out = kube.kubectl("get", "agents", "-n", namespace, "-o", "json").stdout
    return {
        a["metadata"]["name"]: a["metadata"].get("finalizers", []) for a in json.loads(out)["items"]
    }


def apply_agent(
    kube: ControlPlane, namespace: str, name: str, labels: dict[str, str], **metadata: object
) -> None:
    import yaml

    doc = yaml.safe_load(agent_manifest(name, free_port()))
    doc["metadata"].setdefault("labels", {}).update(labels)
    doc["metadata"].update(metadata)
    kube.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(doc))


@pytest.fixture
def namespace(kube: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "drain-" + request.node.name.lower().replace("_", "-")[5:40].strip("-")
    kube.kubectl("create", "namespace", name)
    yield name
    kube.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def running_operator(
    kube: ControlPlane,
    module_database_url: str,
    redis_server: EmbeddedRedis | str,
    tmp_path: Path,
) -> Iterator[Stack]:
    """The hub and the operator for one test only: the other tests need no operator running."""
    redis_url = redis_server if isinstance(redis_server, str) else redis_server.url
    stack = Stack(kube, module_database_url, redis_url, tmp_path)
    stack.hub.start()
    stack.start_operator()
    yield stack
    stack.stop()


def test_help_says_what_it_does() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "skyras_operator.drain", "--help"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0
    for option in ("--namespace", "--selector", "--timeout", "--on-timeout", "remove-finalizer"):
        assert option in res.stdout
    assert "skyras.io/operator" in res.stdout


def test_without_an_operator_it_times_out_and_removes_the_finalizer(
    kube: ControlPlane, namespace: str
) -> None:
    for name in ("marcus", "letitia"):
        apply_agent(kube, namespace, name, RELEASE, finalizers=["skyras.io/operator"])
    apply_agent(kube, namespace, "jamal", {"app.kubernetes.io/instance": "other"})

    started = time.monotonic()
    res = drain(kube, namespace, "--timeout", "3")
    assert res.returncode == 0, res.stdout + res.stderr
    assert time.monotonic() - started >= 3, "it must wait for the operator first"
    assert "Timed out after 3s: 2 Agent(s) still there" in res.stdout
    assert "letitia (finalizers: skyras.io/operator)" in res.stdout
    assert "Removing the finalizer skyras.io/operator myself" in res.stdout
    assert "hub registrations are left behind" in res.stdout
    # Only the release's Agents went.
    assert agents_in(kube, namespace) == {"jamal": []}


def test_told_to_fail_it_leaves_the_stuck_agents_and_exits_1(
    kube: ControlPlane, namespace: str
) -> None:
    apply_agent(kube, namespace, "marcus", RELEASE, finalizers=["skyras.io/operator"])
    res = drain(kube, namespace, "--timeout", "1", "--on-timeout", "fail")
    assert res.returncode == 1
    assert "Timed out after 1s: 1 Agent(s) still there: marcus" in res.stdout
    assert "Is the SkyRas operator running" in res.stdout
    agent = json.loads(kube.kubectl("get", "agent", "marcus", "-n", namespace, "-o", "json").stdout)
    assert agent["metadata"]["deletionTimestamp"] and agent["metadata"]["finalizers"] == [
        "skyras.io/operator"
    ]
    # Clean up for the namespace's deletion.
    res = drain(kube, namespace, "--timeout", "0")
    assert res.returncode == 0 and agents_in(kube, namespace) == {}


def test_nothing_to_drain_is_fine(kube: ControlPlane, namespace: str) -> None:
    res = drain(kube, namespace, "--timeout", "1")
    assert res.returncode == 0 and "nothing to drain" in res.stdout


def test_with_the_operator_the_agents_are_deregistered_and_go(
    running_operator: Stack, kube: ControlPlane, namespace: str
) -> None:
    stack = running_operator
    for name in ("marcus", "letitia"):
        apply_agent(kube, namespace, name, RELEASE)
    for name in ("marcus", "letitia"):
        eventually(lambda n=name: stack.registry(n).status_code == 200, 30, f"{name} registered")
    assert all(f == ["skyras.io/operator"] for f in agents_in(kube, namespace).values())

    res = drain(kube, namespace, "--timeout", "60")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "All 2 Agent(s) are gone" in res.stdout and "Timed out" not in res.stdout
    assert agents_in(kube, namespace) == {}
    # The operator deregistered them from the hub on their way out.
    assert stack.registry("marcus").status_code == 404
    assert stack.registry("letitia").status_code == 404
