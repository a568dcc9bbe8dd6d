"""The real node itself: pods run in containers, with DNS, Services, NetworkPolicies and volumes.

Uses only the node's own busybox image (Debian's static busybox), so it says
whether the node works before any SkyRas image is involved.
"""

import time
import urllib.request
from typing import Any

import pytest

from tests.cluster.controlplane import ControlPlane
from tests.cluster.node import BUSYBOX_IMAGE, NODE_NAME
from tests.node.conftest import apply, kubectl_json, pod_exec, wait_ready

pytestmark = pytest.mark.node

NS = "node-basics"


def web_pod(name: str, labels: dict[str, str], text: str) -> dict[str, Any]:
    """busybox httpd as a non-root user on a read-only root filesystem, with a readiness probe."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532},
            "containers": [
                {
                    "name": "web",
                    "image": BUSYBOX_IMAGE,
                    "imagePullPolicy": "Never",
                    "command": [
                        "sh",
                        "-c",
                        f"mkdir -p /tmp/www && echo {text} > /tmp/www/index.html"
                        " && exec httpd -f -p 8080 -h /tmp/www",
                    ],
                    "ports": [{"containerPort": 8080}],
                    "securityContext": {
                        "readOnlyRootFilesystem": True,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def client_pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    pod = web_pod(name, labels, name)
    pod["spec"]["containers"][0]["command"] = ["sleep", "3600"]
    del pod["spec"]["containers"][0]["readinessProbe"]
    return pod


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode().strip()


@pytest.fixture(scope="module")
def basics(node_cluster: ControlPlane) -> ControlPlane:
    node_cluster.kubectl("create", "namespace", NS)
    apply(
        node_cluster,
        web_pod("web", {"app": "web"}, "hello-from-a-container"),
        client_pod("friend", {"role": "friend"}),
        client_pod("stranger", {"role": "stranger"}),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )
    wait_ready(node_cluster, NS, "app=web")
    node_cluster.kubectl(
        "wait", "-n", NS, "pod/friend", "pod/stranger", "--for=condition=Ready", "--timeout=60s"
    )
    return node_cluster


def test_pod_runs_in_a_container_on_the_real_node(basics: ControlPlane) -> None:
    pod = kubectl_json(basics, "get", "pod", "web", "-n", NS)
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert pod["status"]["phase"] == "Running"
    state = pod["status"]["containerStatuses"][0]
    assert state["ready"] and state["containerID"].startswith("containerd://")
    # reachable on its pod IP from this machine, serving what the container wrote
    assert get(f"http://{pod['status']['podIP']}:8080/") == "hello-from-a-container"
    # the container really runs as the non-root user on a read-only root filesystem
    assert pod_exec(basics, NS, "web", "sh", "-c", "id -u").stdout.strip() == "65532"
    denied = pod_exec(basics, NS, "web", "sh", "-c", "echo x > /x")
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr


def test_services_and_dns(basics: ControlPlane) -> None:
    svc = kubectl_json(basics, "get", "service", "web", "-n", NS)
    # kube-proxy's rules take a Service's cluster IP to the pod, from the host ...
    assert get(f"http://{svc['spec']['clusterIP']}/") == "hello-from-a-container"
    # ... and from a pod, by name through CoreDNS
    res = pod_exec(
        basics, NS, "friend", "wget", "-q", "-O-", "-T", "5", f"http://web.{NS}.svc.cluster.local/"
    )
    assert res.stdout.strip() == "hello-from-a-container", res.stderr
    res = pod_exec(basics, NS, "friend", "nslookup", "kubernetes.default.svc.cluster.local")
    assert "10.96.0.1" in res.stdout, res.stdout + res.stderr


def test_network_policies_are_enforced(basics: ControlPlane) -> None:
    web_ip = kubectl_json(basics, "get", "pod", "web", "-n", NS)["status"]["podIP"]
    url = f"http://{web_ip}:8080/"

    def reach(client: str) -> bool:
        res = pod_exec(basics, NS, client, "wget", "-q", "-O-", "-T", "3", url)
        return res.returncode == 0 and "hello-from-a-container" in res.stdout

    assert reach("friend") and reach("stranger")  # no policy yet: open
    apply(
        basics,
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "web-from-friends", "namespace": NS},
            "spec": {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "friend"}}}]}],
            },
        },
    )
    end = time.monotonic() + 30
    while reach("stranger") and time.monotonic() < end:  # kube-router syncs within seconds
        time.sleep(1)
    assert not reach("stranger"), "a pod without the allowed label still reaches web"
    assert reach("friend"), "the allowed pod lost access"
    basics.kubectl("delete", "networkpolicy", "web-from-friends", "-n", NS)


def test_persistent_volume_outlives_its_pod(node_cluster: ControlPlane) -> None:
    ns = "node-volumes"
    node_cluster.kubectl("create", "namespace", ns)
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": ns},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}},
    }

    def pod(command: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "user", "namespace": ns, "labels": {"app": "user"}},
            "spec": {
                "securityContext": {"runAsUser": 65532, "fsGroup": 65532},
                "containers": [
                    {
                        "name": "c",
                        "image": BUSYBOX_IMAGE,
                        "imagePullPolicy": "Never",
                        "command": ["sh", "-c", command],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    }
                ],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
            },
        }

    apply(node_cluster, claim, pod("echo kept-across-pods > /data/f && sleep 3600"))
    wait_ready(node_cluster, ns, "app=user", timeout=180)
    pvc = kubectl_json(node_cluster, "get", "pvc", "data", "-n", ns)
    assert pvc["status"]["phase"] == "Bound"
    assert pvc["spec"]["storageClassName"] == "local-path"
    node_cluster.kubectl("delete", "pod", "user", "-n", ns, "--wait=true", "--grace-period=1")
    apply(node_cluster, pod("cat /data/f && sleep 3600"))
    wait_ready(node_cluster, ns, "app=user")
    logs = node_cluster.kubectl("logs", "user", "-n", ns).stdout
    assert logs.strip() == "kept-across-pods"
