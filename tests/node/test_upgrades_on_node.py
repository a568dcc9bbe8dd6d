"""Changes a studio makes while people work: a rolling upgrade of the hub under a
steady stream of requests, and a Marcus pod lost in the middle of a burst."""

import subprocess
import threading
import time
from collections import Counter

import httpx

from tests.cluster import images

from .conftest import CHART, Release, api_key, port_forward, wait_pods_ready


class RequestLoop(threading.Thread):
    """GET `path` steadily until stopped; counts answers by status (or error name)."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base_url, self.path, self.headers = base_url, path, headers
        self.results: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=10) as client:
            while not self._stopping.is_set():
                try:
                    response = client.get(self.path)
                    self.results[str(response.status_code)] += 1
                    if response.status_code != 200:
                        self.failures.append(f"{response.status_code}: {response.text[:200]}")
                except httpx.HTTPError as exc:
                    self.results[type(exc).__name__] += 1
                    self.failures.append(repr(exc))
                # Five a second: steady, and inside the frontend key's rate limit (600/min).
                time.sleep(0.2)

    def stop(self) -> None:
        self._stopping.set()
        self.join(15)


def _hub_images(release: Release) -> set[str]:
    pods = release.get("pods", "-l", "app.kubernetes.io/component=hub")["items"]
    return {c["image"] for p in pods for c in p["spec"]["containers"]}


def test_a_rolling_upgrade_of_the_hub_fails_no_request(release: Release) -> None:
    wait_pods_ready(release)
    tag = f"{images.chart_app_version()}-rollout-{int(time.time())}"
    subprocess.run(
        ["docker", "tag", f"skyras/hub:{images.chart_app_version()}", f"skyras/hub:{tag}"],
        check=True,
    )
    images.load_into_node(release.cp, [f"skyras/hub:{tag}"])
    # What a browser does: the frontend (not restarted) proxies /api/v2 to the hub Service.
    with port_forward(release, f"svc/{release.name}-frontend", 3000) as frontend:
        loop = RequestLoop(frontend, "/api/v2/agents/status", {})
        loop.start()
        time.sleep(3)
        res = release.helm(
            "upgrade",
            release.name,
            str(CHART),
            "--reuse-values",
            "--set",
            f"hub.image.tag={tag}",
            "--wait",
            "--timeout",
            "10m",
        )
        assert res.returncode == 0, res.stdout + res.stderr
        deadline = time.monotonic() + 120
        while _hub_images(release) != {f"skyras/hub:{tag}"} and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(10)  # and on, with the new pods only
        loop.stop()
    assert _hub_images(release) == {f"skyras/hub:{tag}"}
    assert sum(loop.results.values()) > 50, loop.results
    assert loop.failures == [], (loop.results, loop.failures[:10])


def _events(client: httpx.Client, event_type: str, since: str) -> list[dict]:
    """Every event of `event_type` since `since`, through the hub's history API."""
    found: list[dict] = []
    params: dict[str, str | int] = {"type": event_type, "since": since, "limit": 500}
    while True:
        page = client.get("/api/v2/events", params=params).json()
        found += page["items"]
        if not page.get("next_cursor"):
            return found
        params["cursor"] = page["next_cursor"]


def test_losing_a_marcus_pod_mid_burst_loses_and_repeats_no_task_created(
    release: Release,
) -> None:
    wait_pods_ready(release)
    headers = {"Authorization": f"Bearer {api_key(release)}"}
    tag = f"burst-{int(time.time())}"
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
    with (
        port_forward(release, f"svc/{release.name}-hub", 8000) as hub,
        httpx.Client(base_url=hub, headers=headers, timeout=20) as client,
    ):
        # One file with the burst's tag: Letitia links it to each new task of that tag.
        upload = client.post(
            "/api/v2/agents/letitia/upload",
            json={"filename": f"{tag}.wav", "file_type": "audio", "file_size": 1, "tags": [tag]},
        )
        assert upload.status_code == 201, upload.text
        created: list[str] = []
        refused = Counter[str]()
        marcus = release.get("pods", "-l", "app.kubernetes.io/name=marcus")["items"]
        # 20 tasks, Marcus's only pod killed, then on until 20 more are created.
        killed_at: int | None = None
        deadline = time.monotonic() + 180
        i = 0
        while time.monotonic() < deadline and (killed_at is None or len(created) < killed_at + 20):
            if killed_at is None and len(created) == 20:
                release.kubectl(
                    "delete",
                    "pod",
                    "--grace-period=0",
                    "--force",
                    "--wait=false",
                    *(p["metadata"]["name"] for p in marcus),
                )
                killed_at = len(created)
            i += 1
            try:
                r = client.post(
                    "/api/v2/agents/marcus/task", json={"title": f"Stem {i}", "tags": [tag]}
                )
            except httpx.HTTPError as exc:
                refused[type(exc).__name__] += 1
                continue
            if r.status_code == 201:
                created.append(r.json()["id"])
            else:  # while no Marcus pod serves: the hub says so, nothing is half-done
                refused[str(r.status_code)] += 1
            time.sleep(0.1)
        assert len(created) >= 40, (len(created), refused)
        wait_pods_ready(release)

        def associations() -> Counter[str]:
            links = _events(client, "file.associated", since)
            return Counter(e["data"]["task_id"] for e in links if e["data"]["task_id"] in created)

        deadline = time.monotonic() + 180
        while len(associations()) < len(created) and time.monotonic() < deadline:
            time.sleep(2)
        seen = associations()
        announced = Counter(
            e["subject"].removeprefix("tasks/") for e in _events(client, "task.created", since)
        )
        for task_id in created:
            client.delete(f"/api/v2/agents/marcus/tasks/{task_id}")
        client.delete(f"/api/v2/agents/letitia/files/{upload.json()['id']}")
    assert {t: announced[t] for t in created} == dict.fromkeys(created, 1), (
        "task.created lost or repeated"
    )
    assert dict(seen) == dict.fromkeys(created, 1), "a task.created was not handled exactly once"
