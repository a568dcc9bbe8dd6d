"""The prototype's Docker Compose quick start, on our images (docker-compose.yml).

Our images are built from their Dockerfiles on the Debian stand-in bases
(tests/cluster/images.py), then the prototype's commands run as its README
writes them: `docker compose up -d`, `curl :8000/health ...`, `redis-cli` and
`psql` inside the containers found by name, `docker-compose logs`. The
project gets its own name, so a studio's own `skyras` project is never touched.
"""

import json
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import build, images
from tests.utils import eventually

REPO = Path(__file__).resolve().parents[2]
PROJECT = "skyras-compose-test"
PORTS = (8000, 8001, 8002, 8003, 8004, 8005, 3000, 5432, 6379)
AGENTS = {"marcus", "letitia", "ari", "jamal", "giorgio"}


def sh(command: str, timeout: float = 120, check: bool = True) -> str:
    """Run a command line as written in a README (in the repo, with the test's env)."""
    done = subprocess.run(
        command, shell=True, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"`{command}` exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def compose(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[None]:
    if not shutil.which("docker") or not shutil.which("curl"):
        pytest.fail("docker and curl are needed: run `make system-deps`")
    taken = [p for p in PORTS if _listening(p)]
    if taken:
        pytest.fail(f"ports {taken} are in use; docker-compose.yml publishes them (stop `make up`)")
    build.install_compose()
    images.ensure_dockerd()
    refs = images.build_project_images()  # cached layers: quick after the first time
    bases = images.build_base_images()
    env = {
        "COMPOSE_PROJECT_NAME": PROJECT,
        "SKYRAS_IMAGE_TAG": refs[0].rsplit(":", 1)[1],
        "SKYRAS_PYTHON_IMAGE": bases["python"],
        "SKYRAS_NODE_IMAGE": bases["node"],
        "SKYRAS_POSTGRES_IMAGE": bases["postgres"],
        "SKYRAS_REDIS_IMAGE": bases["redis"],
    }
    for name, value in env.items():
        monkeypatch_module.setenv(name, value)
    sh("docker compose down -v --remove-orphans")
    try:
        yield
    finally:
        print(sh("docker compose logs --no-color --tail 20", check=False)[-6000:])
        sh("docker compose down -v --remove-orphans", timeout=180, check=False)


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _up() -> None:
    sh("docker compose up -d --wait --wait-timeout 300", timeout=420)


def _key() -> str:
    return sh(
        "docker compose exec -T fastapi-hub skyras keys create --name studio"
        " --scope read --scope write 2>/dev/null"
    ).strip()


def _tasks_in_postgres() -> str:
    return sh(
        'docker exec $(docker ps -qf "name=postgres") '
        'psql -U skyras -d skyras_v2 -c "SELECT * FROM tasks;"'
    )


def test_the_prototype_quick_start_works_as_written(compose: None) -> None:
    started = time.monotonic()
    _up()
    print(f"docker compose up -d --wait: {time.monotonic() - started:.0f} s")
    states = {
        row["Service"]: row
        for row in map(json.loads, sh("docker compose ps -a --format json").splitlines())
    }
    running = {s for s, row in states.items() if row["State"] == "running"}
    assert running == {"postgres", "redis", "fastapi-hub", "frontend", *AGENTS}, states
    assert all(states[s]["Health"] == "healthy" for s in running), states
    for step in ("init-volumes", "migrate", "register"):
        assert states[step]["ExitCode"] == 0, sh(f"docker compose logs {step}")
    for port, service in ((8000, "hub"), (8001, "marcus"), (8002, "letitia")):
        health = json.loads(sh(f"curl -sf http://localhost:{port}/health"))
        assert health["status"] == "ok" and health["service"] == service

    # Agents registered from their manifests; the chart's auth mode: no key, no entry.
    key = _key()
    auth = f"-H {shlex.quote('Authorization: Bearer ' + key)}"
    status = json.loads(sh(f"curl -sf {auth} http://localhost:8000/api/v2/agents/status"))
    assert {a["name"] for a in status["agents"] if a["status"] == "healthy"} == AGENTS, status
    anonymous = (
        "curl -s -o /dev/null -w '%{http_code}' http://localhost:8000/api/v2/agents/marcus/tasks"
    )
    assert sh(anonymous) == "401"

    # The prototype's event check: a subscriber sees task.created.
    subscriber = subprocess.Popen(
        'exec docker exec $(docker ps -qf "name=redis") redis-cli SUBSCRIBE skyras:tasks',
        shell=True, cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert subscriber.stdout is not None
        assert [subscriber.stdout.readline().strip() for _ in range(3)] == [
            "subscribe", "skyras:tasks", "1"
        ]  # fmt: skip
        body = shlex.quote(json.dumps({"title": "Mix the single", "priority": "high"}))
        created = json.loads(
            sh(
                f"curl -sf -X POST {auth} -H 'Content-Type: application/json' -d {body}"
                " http://localhost:8000/api/v2/agents/marcus/task"
            )
        )
        lines = [subscriber.stdout.readline().strip() for _ in range(3)]
    finally:
        subscriber.kill()
    assert lines[:2] == ["message", "skyras:tasks"]
    event = json.loads(lines[2])
    assert event["type"] == "task.created" and event["data"]["task"]["id"] == created["id"]

    # The prototype's psql and redis-cli lines, and the logs by the prototype's names.
    assert "Mix the single" in _tasks_in_postgres()
    assert "(1 row)" in sh(
        'docker exec $(docker ps -qf "name=postgres") psql -U skyras -d skyras_v2 -c "SELECT 1;"'
    )
    assert sh('docker exec $(docker ps -qf "name=redis") redis-cli PING').strip() == "PONG"
    logged = [
        json.loads(line.split("|", 1)[1])
        for line in sh("docker-compose logs --no-color marcus").splitlines()
        if "|" in line and line.split("|", 1)[1].strip().startswith("{")
    ]
    assert any(
        e["service"] == "marcus" and "POST /api/tasks 201" in e["message"] for e in logged
    ), logged[-5:]
    assert "hub" in sh("docker-compose logs --no-color fastapi-hub")

    # The studio's UI: the frontend holds its own key (made by the migration step).
    listed = json.loads(sh("curl -sf http://localhost:3000/api/v2/agents/marcus/tasks"))
    assert [t["title"] for t in listed["items"]] == ["Mix the single"]

    # down and up keeps the data (and the key); down -v removes it.
    sh("docker compose down", timeout=180)
    _up()
    after = json.loads(sh(f"curl -sf {auth} http://localhost:8000/api/v2/agents/marcus/tasks"))
    assert [t["id"] for t in after["items"]] == [created["id"]]
    eventually(
        lambda: json.loads(sh("curl -sf http://localhost:3000/api/v2/agents/marcus/tasks")),
        what="the frontend serving again",
    )
    sh("docker compose down -v", timeout=180)
    volumes = sh(f"docker volume ls -q --filter label=com.docker.compose.project={PROJECT}")
    assert volumes.strip() == ""
    _up()
    assert "(0 rows)" in _tasks_in_postgres()
