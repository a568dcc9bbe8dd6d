"""The chart on the real node: every pod from our images in a real container,
the migration Job run to completion, `helm test` on real pods, REST through a
port-forward to the hub reaching the agents' pods."""

import re

import httpx

from tests.cluster import images, node

from .conftest import EXPECTED, Release, api_key, port_forward, role, wait_pods_ready

OUR_IMAGES = {f"skyras/{i.name}" for i in images.PROJECT_IMAGES}


def test_every_pod_runs_in_a_container_on_the_real_node(release: Release) -> None:
    pods = wait_pods_ready(release)
    assert {role(p) for p in pods} >= EXPECTED
    for pod in pods:
        assert pod["spec"]["nodeName"] == node.NODE_NAME, pod["metadata"]["name"]
        assert pod["status"]["podIP"].startswith(node.POD_CIDR.rsplit(".", 2)[0])
        for status in pod["status"]["containerStatuses"]:
            assert status["ready"] and "running" in status["state"], status
            repository = status["image"].removeprefix("docker.io/").rsplit(":", 1)[0]
            if role(pod) not in ("postgres", "redis"):
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
    wait_pods_ready(release)
    res = release.helm("test", release.name, "--logs", "--timeout", "10m")
    assert res.returncode == 0, res.stdout + res.stderr
    for check in ("health", "task", "search", "status"):
        assert re.search(rf"ok +{check}:", res.stdout), res.stdout


def test_port_forwarded_rest_reaches_the_agents_pods(release: Release) -> None:
    wait_pods_ready(release)
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
