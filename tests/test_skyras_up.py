"""`skyras up` end to end: real processes, embedded servers, clean stop, data kept."""

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from skyras.embedded import free_port
from skyras.runner import pid_alive

ROOT = Path(__file__).resolve().parents[1]
SKYRAS = [sys.executable, "-m", "skyras.cli"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose marcus and letitia manifests use free ports."""
    agents = tmp_path / "project" / "manifests" / "agents"
    agents.mkdir(parents=True)
    for name in ("marcus", "letitia"):
        text = (ROOT / "manifests" / "agents" / f"{name}.yaml").read_text()
        old = re.search(r"^  port: (\d+)$", text, re.M)
        assert old is not None
        text = text.replace(old[1], str(free_port()))
        (agents / f"{name}.yaml").write_text(text)
    return tmp_path / "project"


class Up:
    def __init__(self, project: Path, data_dir: Path, hub_port: int) -> None:
        self.project, self.data_dir, self.hub_port = project, data_dir, hub_port
        self.output = project / f"up-{time.monotonic_ns()}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Up":
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                [*SKYRAS, "up", "--no-frontend", "--hub-port", str(self.hub_port),
                 "--postgres-port", str(free_port()), "--redis-port", str(free_port()),
                 "--data-dir", str(self.data_dir)],
                cwd=self.project, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while "SkyRas is up." not in self.text():
            assert self.proc.poll() is None, f"skyras up exited:\n{self.text()}"
            assert time.monotonic() < deadline, f"skyras up not up in 120s:\n{self.text()}"
            time.sleep(0.2)
        return self

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def state(self) -> dict:
        return json.loads((self.data_dir / "state.json").read_text())

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)


def skyras(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SKYRAS, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def no_process_left(state: dict, data_dir: Path) -> None:
    for proc in state["processes"]:
        assert not pid_alive(proc["pid"]), f"{proc['name']} still running"
    assert not (data_dir / "postgres" / "pgdata" / "postmaster.pid").exists()
    redis_port = int(state["redis_url"].rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", redis_port)) != 0, "redis still listening"


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    yield path
    # Whatever happened in the test, leave nothing running.
    subprocess.run([*SKYRAS, "down", "--data-dir", str(path)], capture_output=True, check=False)


def test_up_serves_every_service_then_stops_cleanly_and_keeps_the_data(
    project: Path, data_dir: Path
) -> None:
    up = Up(project, data_dir, free_port()).start()
    state = up.state()
    names = [p["name"] for p in state["processes"]]
    assert names == ["hub", "letitia", "marcus"]
    for proc in state["processes"]:
        assert httpx.get(f"{proc['url']}/health").status_code == 200, proc["name"]
        assert httpx.get(f"{proc['url']}/ready").status_code == 200, proc["name"]
    status = skyras("status", "--data-dir", str(data_dir), cwd=project)
    assert status.returncode == 0
    assert state["database_url"] in status.stdout and "healthy" in status.stdout
    with psycopg.connect(state["database_url"]) as conn:
        conn.execute(
            "INSERT INTO tasks (id, title) VALUES (gen_random_uuid(), 'survives restarts')"
        )

    down = skyras("down", "--data-dir", str(data_dir), cwd=project)
    assert down.returncode == 0, down.stderr
    assert up.wait() == 0
    no_process_left(state, data_dir)

    again = Up(project, data_dir, free_port()).start()
    with psycopg.connect(again.state()["database_url"]) as conn:
        titles = [r[0] for r in conn.execute("SELECT title FROM tasks").fetchall()]
    assert titles == ["survives restarts"]
    second_state = again.state()
    assert again.proc is not None
    again.proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert again.wait() == 0
    no_process_left(second_state, data_dir)


def test_a_port_in_use_is_one_clear_line(project: Path, data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = skyras(
            "up", "--no-frontend", "--hub-port", str(port), "--data-dir", str(data_dir), cwd=project
        )

    assert result.returncode == 1
    assert f"port {port} for hub is in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_manifest_is_one_clear_line(project: Path, data_dir: Path) -> None:
    (project / "manifests" / "agents" / "broken.yaml").write_text(
        "apiVersion: skyras.io/v1alpha1\nkind: Agent\nmetadata: {name: broken}\nspec: {image: x}\n"
    )
    result = skyras("up", "--no-frontend", "--data-dir", str(data_dir), cwd=project)

    assert result.returncode == 1
    assert "broken.yaml" in result.stderr and "spec.command" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_says_when_nothing_runs(project: Path, data_dir: Path) -> None:
    result = skyras("status", "--data-dir", str(data_dir), cwd=project)
    assert result.returncode == 1
    assert "not running" in result.stdout


def test_down_cleans_up_after_a_runner_that_was_killed(project: Path, data_dir: Path) -> None:
    up = Up(project, data_dir, free_port()).start()
    state = up.state()
    assert up.proc is not None
    up.proc.send_signal(signal.SIGKILL)  # no chance to stop its children
    up.wait()
    assert all(pid_alive(p["pid"]) for p in state["processes"])

    down = skyras("down", "--data-dir", str(data_dir), cwd=project)

    assert down.returncode == 0 and "cleaned up" in down.stdout
    no_process_left(state, data_dir)
