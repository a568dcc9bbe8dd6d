"""Fixtures for Ari's tests: generated media, and Ari beside a real Letitia, both served on
real sockets against real Postgres and Redis (the embedded servers of skyras.testing)."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import DictRow

from skyras.testing import ServedApp, serve
from skyras_ari.config import AriSettings
from skyras_ari.main import build_app
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.main import build_app as build_letitia

from .media import make_media


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
async def letitia(database_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[ServedApp]:
    """The real asset library, where sources come from and masters go."""
    settings = LetitiaSettings(
        database_url=database_url, redis_url=redis_url, data_dir=tmp_path / "letitia",
        log_format="text", consumer_block_ms=50,
    )  # fmt: skip
    async with serve(build_letitia(settings)) as served:
        yield served


AriFactory = Callable[..., AbstractAsyncContextManager[ServedApp]]


@pytest.fixture
def ari_app(database_url: str, redis_url: str, tmp_path: Path, letitia: ServedApp) -> AriFactory:
    """`async with ari_app(job_workers=1) as served:` with settings overridden."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[ServedApp]:
        values: dict[str, Any] = {
            "database_url": database_url, "redis_url": redis_url, "data_dir": tmp_path / "ari",
            "log_format": "text", "letitia_url": letitia.url, "job_poll_seconds": 0.05,
            "consumer_block_ms": 50, "job_lease_seconds": 5,
        }  # fmt: skip
        values.update(overrides)
        async with serve(build_app(AriSettings(_env_file=None, **values))) as served:
            yield served

    return start


@pytest.fixture
async def ari(ari_app: AriFactory) -> AsyncIterator[ServedApp]:
    async with ari_app() as served:
        yield served


async def upload(
    letitia: ServedApp, path: Path, *, name: str | None = None, tags: str = ""
) -> dict[str, Any]:
    """Upload a file to Letitia as a person would (multipart)."""
    async with letitia.client() as http:
        response = await http.post(
            "/api/files",
            files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")},
            data={"tags": tags},
        )
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


async def letitia_files(letitia: ServedApp, *tags: str) -> list[dict[str, Any]]:
    async with letitia.client() as http:
        response = await http.get(
            "/api/files", params=[("tag", t) for t in tags] + [("limit", "100")]
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def events(db: psycopg.AsyncConnection[DictRow], event_type: str) -> list[dict[str, Any]]:
    cur = await db.execute(
        "SELECT type, subject, data, correlation_id FROM events WHERE type = %s ORDER BY created_at",
        (event_type,),
    )
    return [dict(r) for r in await cur.fetchall()]


async def wait_for_job(
    ari: ServedApp, job_id: str, statuses: tuple[str, ...] = ("completed", "failed", "cancelled"),
    timeout: float = 120,
) -> dict[str, Any]:  # fmt: skip
    deadline = time.monotonic() + timeout
    async with ari.client() as http:
        while True:
            job: dict[str, Any] = (await http.get(f"/api/jobs/{job_id}")).json()
            if job["status"] in statuses:
                return job
            assert time.monotonic() < deadline, f"job not {statuses} in {timeout}s: {job}"
            await asyncio.sleep(0.1)
