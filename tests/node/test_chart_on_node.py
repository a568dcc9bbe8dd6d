"""The chart on the real node: every pod from our images in a real container,
the migration Job run to completion, `helm test` on real pods, REST through a
port-forward to the hub reaching the agents' pods."""

import base64
import contextlib
import re
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx

from tests.cluster import images, node

from .conftest import Release

OUR_IMAGES = {f"skyras/{i.name}" for i in images.PROJECT_IMAGES}


def _ready(pod: dict) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in pod.get("status", {}).get("conditions", [])
    )


EXPECTED = {"hub", "operator", "frontend", "postgres", "redis", "marcus", "letitia"}


def _role(pod: dict) -> str:
    """The chart's component, or the agent's name for the operator's agent pods."""
    labels = pod["metadata"].get("labels", {})
    component = labels.get("app.kubernetes.io/component", "")
    return labels.get("app.kubernetes.io/name", "") if component == "agent" else component


def _wait_pods_ready(release: Release, timeout: float = 300) -> list[dict]:
    """The release's long-running pods (the operator's agents too), once all are Ready."""
    deadline = time.monotonic() + timeout
    while True:
        pods = [
            p
            for p in release.get("pods")["items"]
            if p["status"].get("phase") not in ("Succeeded", "Failed")
            and p["metadata"].get("labels", {}).get("app.kubernetes.io/component") != "test"
        ]
        roles = {_role(p) for p in pods}
        if roles >= EXPECTED and all(
            p["status"].get("phase") == "Running" and _ready(p) for p in pods
        ):
            return pods
        if time.monotonic() > deadline:
            states = {p["metadata"]["name"]: p["status"].get("phase") for p in pods}
            raise AssertionError(
                f"after {timeout:.0f} s: missing {EXPECTED - roles}, pods {states}"
            )
        time.sleep(2)


def test_every_pod_runs_in_a_container_on_the_real_node(release: Release) -> None:
    pods = _wait_pods_ready(release)
    assert {_role(p) for p in pods} >= EXPECTED
    for pod in pods:
        assert pod["spec"]["nodeName"] == node.NODE_NAME, pod["metadata"]["name"]
        assert pod["status"]["podIP"].startswith(node.POD_CIDR.rsplit(".", 2)[0])
        for status in pod["status"]["containerStatuses"]:
            assert status["ready"] and "running" in status["state"], status
            repository = status["image"].removeprefix("docker.io/").rsplit(":", 1)[0]
            if _role(pod) not in ("postgres", "redis"):
                assert repository in OUR_IMAGES, status["image"]


def test_the_migration_job_completed_in_a_container(release: Release) -> None:
    jobs = release.get("jobs")["items"]
    migrations = [j for j in jobs if "migrat" in j["metadata"]["name"]]
    assert migrations, [j["metadata"]["name"] for j in jobs]
    for job in migrations:
        assert job["status"].get("succeeded") == 1, job["status"]
    pods = [
        p
        for p in release.get("pods")["items"]
        if p["metadata"].get("labels", {}).get("job-name")
        in {j["metadata"]["name"] for j in migrations}
    ]
    # The Job's pod really ran (kwok never sets an exit code or a container id).
    terminated = [s["state"]["terminated"] for p in pods for s in p["status"]["containerStatuses"]]
    assert terminated and all(t["exitCode"] == 0 and t["containerID"] for t in terminated)


def test_helm_test_passes_with_real_pods(release: Release) -> None:
    _wait_pods_ready(release)
    res = release.helm("test", release.name, "--logs", "--timeout", "10m")
    assert res.returncode == 0, res.stdout + res.stderr
    for check in ("health", "task", "search", "status"):
        assert re.search(rf"ok +{check}:", res.stdout), res.stdout


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


def test_port_forwarded_rest_reaches_the_agents_pods(release: Release) -> None:
    _wait_pods_ready(release)
    headers = {"Authorization": f"Bearer {api_key(release)}"}
    with (
        port_forward(release, f"svc/{release.name}-hub", 8000) as hub,
        httpx.Client(base_url=hub, headers=headers, timeout=20) as client,
    ):
        status = client.get("/api/v2/agents/status").json()
        assert {a["name"]: a["status"] for a in status["agents"]}.items() >= {
            "marcus": "healthy",
            "letitia": "healthy",
        }.items(), status
        created = client.post(
            "/api/v2/agents/marcus/task", json={"title": "Master the node mix", "priority": "high"}
        )
        assert created.status_code == 201, created.text
        listed = client.get("/api/v2/agents/marcus/tasks").json()["items"]
        assert created.json()["id"] in {t["id"] for t in listed}
