"""The local runner behind `skyras up`, `skyras status` and `skyras down`.

It runs the whole system as local processes: Postgres and Redis (embedded
unless SKYRAS_DATABASE_URL / SKYRAS_REDIS_URL are set), migrations, the hub,
every agent of `manifests/agents/` with the command and port its manifest
gives, and the frontend when Node is present. It registers each agent with
the hub from its manifest, and stops everything, in order, on Ctrl-C or
`skyras down`. What runs is written to `<data dir>/state.json`.
"""

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from skyras.embedded import EmbeddedPostgres, EmbeddedRedis, port_is_free
from skyras.manifests import AgentManifest, load_manifests
from skyras.migrate import apply_migrations
from skyras.register import RegistrationError, make_registry_key, register_manifests

HUB_PORT = 8000
FRONTEND_PORT = 3000
RUNNER_KEY_NAME = "skyras-up"
STOP_TIMEOUT = 10.0


class RunnerError(RuntimeError):
    """A problem the user can fix; its message says how. Printed as one line."""


def say(message: str) -> None:
    print(message, flush=True)


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder holding `manifests/agents`, from the current one upward."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "manifests" / "agents").is_dir():
            return folder
    raise RunnerError(
        "no manifests/agents folder here or above: run skyras from the SkyRas project folder"
    )


def default_data_dir(root: Path) -> Path:
    return Path(os.environ.get("SKYRAS_DATA_DIR", root / ".skyras")).resolve()


@dataclass
class ProcessInfo:
    name: str
    pid: int
    port: int
    url: str
    log: str
    health: str


@dataclass
class RunnerState:
    runner_pid: int
    database_url: str
    redis_url: str
    database_embedded: bool
    redis_embedded: bool
    data_dir: str
    processes: list[ProcessInfo] = field(default_factory=list)

    @staticmethod
    def path(data_dir: Path) -> Path:
        return data_dir / "state.json"

    def save(self) -> None:
        path = self.path(Path(self.data_dir))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, data_dir: Path) -> "RunnerState | None":
        try:
            raw = json.loads(cls.path(data_dir).read_text())
        except (OSError, ValueError):
            return None
        raw["processes"] = [ProcessInfo(**p) for p in raw.get("processes", [])]
        return cls(**raw)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists"; treat it as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def stop_process_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group led by `pid`, SIGKILL it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def health_of(url: str, timeout: float = 1.0) -> str:
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return "down"
    return "healthy" if response.status_code == 200 else f"unhealthy ({response.status_code})"


class LocalRunner:
    def __init__(
        self,
        root: Path,
        data_dir: Path,
        *,
        agents: list[str] | None = None,
        frontend: bool = True,
        hub_port: int = HUB_PORT,
        frontend_port: int = FRONTEND_PORT,
        postgres_port: int = 5432,
        redis_port: int = 6379,
    ) -> None:
        self.root = root
        self.data_dir = data_dir
        self.log_dir = data_dir / "logs"
        self.wanted_agents = agents
        self.want_frontend = frontend
        self.hub_port = hub_port
        self.frontend_port = frontend_port
        self.postgres_port = postgres_port
        self.redis_port = redis_port
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.state: RunnerState | None = None
        self._stopping = False

    # ----- planning -------------------------------------------------------------

    def _select_agents(self) -> list[AgentManifest]:
        manifests = load_manifests(self.root / "manifests" / "agents")
        # Only agents whose code is installed can run locally (ari & co. come later).
        runnable = [m for m in manifests if self._module_installed(m)]
        if self.wanted_agents is None:
            return runnable
        known = {m.name: m for m in manifests}
        missing = [name for name in self.wanted_agents if name not in known]
        if missing:
            raise RunnerError(
                f"unknown agent(s) {', '.join(missing)}; manifests define {', '.join(known)}"
            )
        chosen = [known[name] for name in self.wanted_agents]
        for manifest in chosen:
            if manifest not in runnable:
                raise RunnerError(
                    f"agent {manifest.name} has a manifest but its code is not installed yet"
                )
        return chosen

    @staticmethod
    def _module_installed(manifest: AgentManifest) -> bool:
        for arg in manifest.spec.command:
            if ":" in arg and "." in arg.split(":", 1)[0]:
                module = arg.split(":", 1)[0]
                return importlib.util.find_spec(module.split(".")[0]) is not None
        return True

    def _check_ports(self, agents: list[AgentManifest]) -> None:
        wanted = [("hub", self.hub_port)] + [(m.name, m.spec.port) for m in agents]
        if self._frontend_available():
            wanted.append(("frontend", self.frontend_port))
        for name, port in wanted:
            if not port_is_free(port):
                raise RunnerError(
                    f"port {port} for {name} is in use: stop what listens there "
                    f"(`ss -ltnp 'sport = :{port}'` shows it) or run `skyras down`"
                )

    def _frontend_dir(self) -> Path:
        return self.root / "services" / "frontend"

    def _frontend_available(self) -> bool:
        return (
            self.want_frontend
            and shutil.which("node") is not None
            and (self._frontend_dir() / "package.json").is_file()
        )

    # ----- starting -------------------------------------------------------------

    def up(self) -> None:
        previous = RunnerState.load(self.data_dir)
        if previous and pid_alive(previous.runner_pid) and previous.runner_pid != os.getpid():
            raise RunnerError(
                f"SkyRas is already running (runner pid {previous.runner_pid}): "
                "`skyras status` shows it, `skyras down` stops it"
            )
        started = time.monotonic()
        agents = self._select_agents()
        self._check_ports(agents)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            self._start_all(agents, started)
            self._watch()
        finally:
            self.down()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if not self._stopping:
            self._stopping = True
            say(f"\n{signal.Signals(signum).name} received: stopping SkyRas...")
            raise KeyboardInterrupt

    def _start_all(self, agents: list[AgentManifest], started: float) -> None:
        def step(message: str) -> None:
            say(f"[{time.monotonic() - started:5.1f}s] {message}")

        database_url = os.environ.get("SKYRAS_DATABASE_URL")
        if database_url:
            step("postgres  using SKYRAS_DATABASE_URL")
        else:
            step("postgres  starting the embedded server...")
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", self.postgres_port)
            database_url = self.postgres.start()
            step(f"postgres  ready on port {self.postgres.port} (data in {self.postgres.pgdata})")
        redis_url = os.environ.get("SKYRAS_REDIS_URL")
        if redis_url:
            step("redis     using SKYRAS_REDIS_URL")
        else:
            step("redis     starting the embedded server (valkey)...")
            self.redis = EmbeddedRedis(self.data_dir / "redis", self.redis_port)
            redis_url = self.redis.start()
            step(f"redis     ready on port {self.redis.port} (data in {self.redis.data_dir})")
        self.state = RunnerState(
            runner_pid=os.getpid(),
            database_url=database_url,
            redis_url=redis_url,
            database_embedded=self.postgres is not None,
            redis_embedded=self.redis is not None,
            data_dir=str(self.data_dir),
        )
        self.state.save()

        applied = asyncio.run(apply_migrations(database_url))
        step(
            f"migrate   {len(applied)} migration(s) applied" if applied else "migrate   up to date"
        )

        env = self._child_env(database_url, redis_url)
        bin_dir = str(Path(sys.executable).parent)
        hub_cmd = [
            f"{bin_dir}/uvicorn", "skyras_hub.main:app", "--host", "127.0.0.1",
            "--port", str(self.hub_port), "--no-access-log",
        ]  # fmt: skip
        self._spawn("hub", hub_cmd, self.hub_port, env)
        # Agents that call each other (Ari reads from Letitia) find one another here.
        env.update(
            {f"SKYRAS_{m.name.upper()}_URL": f"http://127.0.0.1:{m.spec.port}" for m in agents}
        )
        for manifest in agents:
            command = list(manifest.spec.command)
            if (Path(bin_dir) / command[0]).exists():
                command[0] = f"{bin_dir}/{command[0]}"
            self._spawn(manifest.name, command, manifest.spec.port, {**env})
        if self._frontend_available():
            self._start_frontend(env, step)
        elif self.want_frontend:
            step("frontend  skipped: needs `node` on PATH and services/frontend/")

        pending = {p.name: p for p in self.state.processes}
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for name, info in list(pending.items()):
                proc = self.children[name]
                if proc.poll() is not None:
                    raise RunnerError(
                        f"{name} exited with code {proc.returncode} while starting; see {info.log}"
                    )
                if health_of(info.health, 0.5) == "healthy":
                    step(f"{name:<9} healthy on port {info.port}")
                    del pending[name]
            time.sleep(0.1)
        if pending:
            raise RunnerError(
                f"{', '.join(pending)} not healthy after 60s; see {self.log_dir}/<name>.log"
            )
        self._register_agents(agents)
        step("SkyRas is up.")
        self._print_summary()

    def _child_env(self, database_url: str, redis_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SKYRAS_DATABASE_URL=database_url,
            SKYRAS_REDIS_URL=redis_url,
            SKYRAS_DATA_DIR=str(self.data_dir),
            SKYRAS_HUB_URL=f"http://127.0.0.1:{self.hub_port}",
            PYTHONUNBUFFERED="1",
        )
        # Loopback needs no key locally, so the seed's curl commands work as written.
        env.setdefault("SKYRAS_AUTH_MODE", "loopback-open")
        return env

    def _spawn(self, name: str, argv: list[str], port: int, env: dict[str, str], **kw: Any) -> None:
        assert self.state is not None
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=kw.get("cwd", self.root),
                env={**env, "SKYRAS_SERVICE_NAME": name, "SKYRAS_PORT": str(port)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the runner, which stops children in order
            )
        self.children[name] = proc
        url = f"http://127.0.0.1:{port}"
        self.state.processes.append(
            ProcessInfo(name, proc.pid, port, url, str(log_path), f"{url}/health")
        )
        self.state.save()

    def _start_frontend(self, env: dict[str, str], step: Any) -> None:
        frontend = self._frontend_dir()
        if not (frontend / "node_modules").is_dir():
            step("frontend  installing its dependencies (npm ci)...")
            result = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=frontend,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise RunnerError(f"npm ci failed in {frontend}: {result.stderr.strip()[-300:]}")
        self._spawn(
            "frontend",
            ["node", "server.js"],
            self.frontend_port,
            {**env, "SKYRAS_FRONTEND_PORT": str(self.frontend_port)},
            cwd=frontend,
        )

    def _register_agents(self, agents: list[AgentManifest]) -> None:
        """Register each agent from its manifest, with a registry key made for this run."""
        assert self.state is not None
        if not agents:
            return
        token = asyncio.run(make_registry_key(self.state.database_url, RUNNER_KEY_NAME))
        try:
            register_manifests(
                f"http://127.0.0.1:{self.hub_port}",
                token,
                agents,
                endpoint=lambda manifest: f"http://127.0.0.1:{manifest.spec.port}",
                report=lambda line: say(f"          {line}"),
            )
        except RegistrationError as exc:
            raise RunnerError(str(exc)) from exc

    def _print_summary(self) -> None:
        assert self.state is not None
        say("")
        for proc in self.state.processes:
            say(f"  {proc.name:<9} {proc.url:<24} log: {proc.log}")
        say(f"  postgres  {self.state.database_url}")
        say(f"  redis     {self.state.redis_url}")
        say("")
        say(f"Try: curl http://localhost:{self.hub_port}/api/v2/agents/status")
        say("Ctrl-C here, or `skyras down` elsewhere, stops everything.")

    def _watch(self) -> None:
        reported: set[str] = set()
        while True:
            for name, proc in self.children.items():
                if proc.poll() is not None and name not in reported:
                    reported.add(name)
                    say(f"{name} exited with code {proc.returncode}; see {self.log_dir / name}.log")
            time.sleep(0.5)

    # ----- stopping -------------------------------------------------------------

    def down(self) -> None:
        # Stop in reverse start order: frontend, agents, hub; then Redis and Postgres.
        for name in reversed(list(self.children)):
            proc = self.children.pop(name)
            if proc.poll() is None:
                stop_process_group(proc.pid)
            say(f"stopped {name}")
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
            say("stopped redis")
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
            say("stopped postgres")
        if self.state is not None:
            RunnerState.path(self.data_dir).unlink(missing_ok=True)
            self.state = None


def stop_running(data_dir: Path, timeout: float = 60) -> str:
    """`skyras down`: ask the runner to stop; clean up after it if it died."""
    state = RunnerState.load(data_dir)
    if state is None:
        return "SkyRas is not running"
    if pid_alive(state.runner_pid):
        os.kill(state.runner_pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(state.runner_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pid_alive(state.runner_pid):
            return "SkyRas stopped"
    # The runner is gone (killed): stop what it left behind ourselves.
    for proc in reversed(state.processes):
        if pid_alive(proc.pid):
            stop_process_group(proc.pid)
    if state.database_embedded:
        EmbeddedPostgres(data_dir / "postgres").stop()
    if state.redis_embedded:
        with contextlib.suppress(Exception):
            redis.Redis.from_url(state.redis_url).shutdown()
    RunnerState.path(data_dir).unlink(missing_ok=True)
    return "SkyRas stopped (cleaned up after a runner that had died)"
