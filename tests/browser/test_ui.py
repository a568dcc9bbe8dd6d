"""The UI in a real browser against a real stack started by `skyras up`.

One stack for the module: `skyras up` (hub, marcus, letitia, frontend) from a
temporary project folder whose agent manifests use free ports. The runner finds
the frontend at `<project>/services/frontend`, so the temporary project holds a
symlink to this repository's `services/frontend` (its code and its installed
node_modules, nothing copied). Postgres and Redis are the same embedded servers
the runner would start, started here on free ports and handed to `skyras up` as
SKYRAS_DATABASE_URL / SKYRAS_REDIS_URL: the runner itself prefers 5432 and 6379,
which a test must never take.

Each scenario is a `node --test` script in this folder (playwright-core, from
services/frontend/node_modules, driving Debian's /usr/bin/chromium headless).
Screenshots go to test-artifacts/browser/, the services' logs to
test-artifacts/browser/logs/.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from skyras.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from skyras.runner import pid_alive

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FRONTEND = ROOT / "services" / "frontend"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("SKYRAS_E2E_CHROMIUM", "/usr/bin/chromium")
SKYRAS = [sys.executable, "-m", "skyras.cli"]
UP_TIMEOUT = 180  # two shared cores: Postgres, Redis, three Python services and Node
SCENARIO_TIMEOUT = 300


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing: run `make system-deps`"
    if not (FRONTEND / "node_modules" / "playwright-core" / "package.json").is_file():
        return "playwright-core is not installed in services/frontend: run `make install`"
    return None


@pytest.fixture(scope="module", autouse=True)
def _requirements() -> None:
    reason = _missing()
    if reason is None:
        return
    pytest.fail(f"the browser tests cannot run: {reason}")


@dataclass
class Stack:
    project: Path
    data_dir: Path
    hub_url: str
    frontend_url: str
    output: Path
    proc: subprocess.Popen[bytes]

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def state(self) -> dict:
        return json.loads((self.data_dir / "state.json").read_text())

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SKYRAS_E2E_URL": self.frontend_url,
            "SKYRAS_E2E_HUB_URL": self.hub_url,
            "SKYRAS_E2E_STATE": str(self.data_dir / "state.json"),
            "SKYRAS_E2E_ARTIFACTS": str(ARTIFACTS),
            "SKYRAS_E2E_CHROMIUM": CHROMIUM,
        }


def _project(base: Path, agents_run: tuple[str, ...]) -> Path:
    """manifests/agents/<each of agents_run>.yaml on free ports, services/frontend linked."""
    project = base / "project"
    agents = project / "manifests" / "agents"
    agents.mkdir(parents=True)
    for name in agents_run:
        text = (ROOT / "manifests" / "agents" / f"{name}.yaml").read_text()
        old = re.search(r"^  port: (\d+)$", text, re.M)
        assert old is not None, f"{name}.yaml has no spec.port"
        (agents / f"{name}.yaml").write_text(text.replace(old[1], str(free_port())))
    (project / "services").mkdir()
    (project / "services" / "frontend").symlink_to(FRONTEND, target_is_directory=True)
    return project


def _stop(stack: Stack) -> None:
    if stack.proc.poll() is None:
        stack.proc.send_signal(signal.SIGINT)  # Ctrl-C: the runner stops its children in order
        try:
            stack.proc.wait(60)
        except subprocess.TimeoutExpired:
            stack.proc.kill()
            stack.proc.wait()
    # Whatever happened, leave nothing running.
    subprocess.run(
        [*SKYRAS, "down", "--data-dir", str(stack.data_dir)],
        cwd=stack.project,
        capture_output=True,
        check=False,
        timeout=120,
    )


def _keep_logs(stack: Stack) -> None:
    logs = ARTIFACTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    shutil.copy(stack.output, logs / "skyras-up.log")
    for log in (stack.data_dir / "logs").glob("*.log"):
        shutil.copy(log, logs / log.name)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    # Not pytest's tmp_path: another pytest session starting meanwhile makes its root
    # 0700 again (and prunes old ones), which locks Postgres's own user out of its data.
    base = Path(tempfile.mkdtemp(prefix="skyras-browser-"))
    try:
        yield from _run_stack(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run_stack(base: Path, agents: tuple[str, ...] = ("marcus", "letitia")) -> Iterator[Stack]:
    project = _project(base, agents)
    postgres = EmbeddedPostgres(base / "postgres", port=free_port())
    redis = EmbeddedRedis(base / "redis", port=free_port())
    try:
        database_url = postgres.start()
        redis_url = redis.start()
        hub_port, frontend_port = free_port(), free_port()
        output = base / "skyras-up.log"
        env = {
            **os.environ,
            "SKYRAS_DATABASE_URL": database_url,
            "SKYRAS_REDIS_URL": redis_url,
        }
        for name in ("SKYRAS_HUB_URL", "SKYRAS_DATA_DIR", "SKYRAS_FRONTEND_API_KEY"):
            env.pop(name, None)
        with open(output, "wb") as out:
            proc = subprocess.Popen(
                [*SKYRAS, "up", "--hub-port", str(hub_port), "--frontend-port",
                 str(frontend_port), "--data-dir", str(base / "data")],
                cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        stack = Stack(
            project=project,
            data_dir=base / "data",
            hub_url=f"http://127.0.0.1:{hub_port}",
            frontend_url=f"http://127.0.0.1:{frontend_port}",
            output=output,
            proc=proc,
        )
        try:
            deadline = time.monotonic() + UP_TIMEOUT
            while "SkyRas is up." not in stack.text():
                if proc.poll() is not None:
                    pytest.fail(f"skyras up exited with {proc.returncode}:\n{stack.text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"skyras up was not up in {UP_TIMEOUT}s:\n{stack.text()}")
                time.sleep(0.2)
            yield stack
        finally:
            _stop(stack)
            _keep_logs(stack)
    finally:
        redis.stop()
        postgres.stop()


def run_scenario(stack: Stack, script: str) -> None:
    """`node --test tests/browser/<script>`; its output is the failure message."""
    assert stack.proc.poll() is None, f"skyras up is no longer running:\n{stack.text()}"
    try:
        result = subprocess.run(
            ["node", "--test", "--test-reporter=spec", str(HERE / script)],
            cwd=ROOT,
            env=stack.env(),
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        out = b"".join(
            x if isinstance(x, bytes) else (x or "").encode() for x in (exc.stdout, exc.stderr)
        )
        pytest.fail(
            f"{script} did not finish in {SCENARIO_TIMEOUT}s:\n{out.decode(errors='replace')}",
            pytrace=False,
        )
    log = ARTIFACTS / f"{script.removesuffix('.test.mjs')}.log"
    log.write_text(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    if result.returncode != 0:
        pytest.fail(
            f"{script} failed (exit {result.returncode}); screenshots in {ARTIFACTS}\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


# ----- the stack itself -------------------------------------------------------------


def test_skyras_up_starts_the_frontend_and_prints_its_url(stack: Stack) -> None:
    text = stack.text()
    port = stack.frontend_url.rsplit(":", 1)[1]
    assert re.search(rf"frontend\s+healthy on port {port}", text), text
    assert f"  frontend  {stack.frontend_url}" in text, text
    assert "registered marcus" in text and "registered letitia" in text, text
    names = [p["name"] for p in stack.state()["processes"]]
    assert sorted(names) == ["frontend", "hub", "letitia", "marcus"]

    health = httpx.get(f"{stack.frontend_url}/health", timeout=10)
    assert health.status_code == 200
    body = health.json()
    assert body["service"] == "frontend"
    assert body["status"] == "ok" and body["hub"]["reachable"] is True, body
    page = httpx.get(stack.frontend_url + "/", timeout=10)
    assert page.status_code == 200 and 'data-testid="chat-input"' in page.text


def test_agents_status_answers_through_the_proxy(stack: Stack) -> None:
    """What `curl localhost:3000/api/v2/agents/status` shows after `make up`."""
    through = httpx.get(f"{stack.frontend_url}/api/v2/agents/status", timeout=15)
    direct = httpx.get(f"{stack.hub_url}/api/v2/agents/status", timeout=15)
    assert through.status_code == 200, through.text
    assert through.headers["content-type"].startswith("application/json")
    assert through.headers.get("x-request-id")
    body = through.json()
    assert body["status"] == "ok", body
    agents = {a["name"]: a for a in body["agents"]}
    assert set(agents) == {"marcus", "letitia"}
    assert all(a["status"] == "healthy" for a in agents.values()), body
    assert {a["name"] for a in direct.json()["agents"]} == set(agents)


# ----- in the browser (order matters: the last one stops letitia) ---------------------


def test_chat_creates_a_task_seen_in_the_tasks_panel_and_the_feed(stack: Stack) -> None:
    run_scenario(stack, "chat.test.mjs")


def test_chat_on_a_phone_sized_screen(stack: Stack) -> None:
    run_scenario(stack, "phone.test.mjs")


def test_upload_shows_progress_then_search_finds_the_file(stack: Stack) -> None:
    run_scenario(stack, "library.test.mjs")


def test_a_stopped_agent_shows_down_and_the_chat_says_so(stack: Stack) -> None:
    run_scenario(stack, "agent-down.test.mjs")
    letitia = next(p for p in stack.state()["processes"] if p["name"] == "letitia")
    assert not pid_alive(letitia["pid"])
