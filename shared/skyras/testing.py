"""Pytest fixtures for every SkyRas test suite: real Postgres, real Redis, real sockets.

Loaded automatically (a `pytest11` entry point). Servers are the embedded
ones, started once per session in a temporary folder, unless
SKYRAS_TEST_DATABASE_URL (a superuser URL; each test gets its own database on
that server) and SKYRAS_TEST_REDIS_URL name servers to use instead.

Isolation: each test gets a fresh database cloned from a migrated template,
and a flushed Redis.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from psycopg.rows import DictRow, dict_row

from skyras import apikeys
from skyras.db import connect
from skyras.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from skyras.migrate import apply_migrations

TEMPLATE_DB = "skyras_test_template"


@dataclass
class PostgresServer:
    """A server on which tests may create databases; `embedded` is None when external."""

    admin_url: str
    embedded: EmbeddedPostgres | None

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.contextmanager
def _server_dir(kind: str) -> Iterator[Path]:
    # Not pytest's tmp_path: pytest prunes old basetemp folders, and a second
    # pytest session running meanwhile would delete a live server's data.
    path = Path(tempfile.mkdtemp(prefix=f"skyras-test-{kind}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    external = os.environ.get("SKYRAS_TEST_DATABASE_URL")
    if external:
        yield PostgresServer(external, None)
        return
    with _server_dir("postgres") as data_dir:
        server = EmbeddedPostgres(data_dir, port=free_port())
        server.start()
        try:
            yield PostgresServer(server.url_for("postgres"), server)
        finally:
            server.stop(mode="immediate")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis | str]:
    """The embedded server (stop()/start() it to inject faults), or an external URL."""
    external = os.environ.get("SKYRAS_TEST_REDIS_URL")
    if external:
        yield external
        return
    with _server_dir("redis") as data_dir:
        server = EmbeddedRedis(data_dir, port=free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def migrated_template(pg_server: PostgresServer) -> str:
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    asyncio.run(apply_migrations(pg_server.url_for(TEMPLATE_DB)))
    return TEMPLATE_DB


@contextlib.contextmanager
def _fresh_database(server: PostgresServer, prefix: str, template: str | None) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    clone = f" TEMPLATE {template}" if template else ""
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}{clone}")
    try:
        yield server.url_for(name)
    finally:
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(pg_server: PostgresServer, migrated_template: str) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    with _fresh_database(pg_server, "t", migrated_template) as url:
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[DictRow]]:
    """A direct connection to the test database (autocommit), to look behind the API."""
    conn = await psycopg.AsyncConnection.connect(
        database_url, row_factory=dict_row, autocommit=True
    )
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def empty_database_url(pg_server: PostgresServer) -> Iterator[str]:
    """A database with no tables at all (for migration tests)."""
    with _fresh_database(pg_server, "e", None) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(pg_server: PostgresServer, migrated_template: str) -> Iterator[str]:
    """A migrated database shared by one test module (for long-lived processes)."""
    with _fresh_database(pg_server, "m", migrated_template) as url:
        yield url


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis | str) -> str:
    """The Redis server's URL, flushed for this test."""
    import redis

    url = redis_server if isinstance(redis_server, str) else redis_server.url
    with redis.Redis.from_url(url) as client:
        client.flushall()
    return url


@pytest.fixture
def service_env(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for a service process or settings object under test."""
    return {
        "SKYRAS_DATABASE_URL": database_url,
        "SKYRAS_REDIS_URL": redis_url,
        "SKYRAS_DATA_DIR": str(tmp_path / "data"),
        "SKYRAS_LOG_FORMAT": "json",
    }


async def count(db: psycopg.AsyncConnection[DictRow], table: str, where: str = "TRUE") -> int:
    """Rows of `table` matching the SQL condition `where` (test code only: no parameters)."""
    cur = await db.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}")
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def create_api_key(database_url: str, *scopes: str, name: str = "test") -> str:
    """Store a new API key with these scopes; returns its plaintext."""
    conn = await connect(database_url)
    try:
        _, plaintext = await apikeys.create_key(conn, name=name, scopes=list(scopes))
        await conn.commit()
        return plaintext
    finally:
        await conn.close()


def create_api_key_sync(database_url: str, *scopes: str, name: str = "test") -> str:
    """`create_api_key` for code outside an event loop (process-level tests, benchmarks)."""
    return asyncio.run(create_api_key(database_url, *scopes, name=name))


class ServedApp:
    """A FastAPI app served by uvicorn on a real loopback socket, in this event loop."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "ServedApp":
        self.task = asyncio.create_task(self.server.serve())
        deadline = time.monotonic() + 20
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("uvicorn stopped while starting")
            if time.monotonic() > deadline:
                raise TimeoutError("app did not start within 20s")
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *_: Any) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10, **kwargs)


class ServiceProcess:
    """A service run as a real process (`uvicorn module:app`), stopped with SIGTERM."""

    def __init__(
        self, target: str, env: dict[str, str], port: int | None = None, log: Path | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.target = target
        self.env = {**os.environ, **env, "SKYRAS_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> "ServiceProcess":
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                self.target,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.target} exited with {self.proc.returncode}; log: {self.log}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return self
            time.sleep(0.05)
        raise TimeoutError(f"{self.target} not healthy within {timeout}s; log: {self.log}")

    def stop(self, sig: int = 15) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def port_accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[ServedApp]:
    async with ServedApp(app) as served:
        yield served
