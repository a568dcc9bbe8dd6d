"""Fixtures for Jamal's tests: real Letitia and Jamal on real sockets, real media files.

Media comes from `tests.media` (ffmpeg, Pillow, ffprobe) and is uploaded to a
real Letitia, which Jamal reads over HTTP as it does in production.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from skyras.embedded import free_port
from skyras.testing import ServedApp, count, serve
from skyras_jamal.config import JamalSettings
from skyras_jamal.main import build_app
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.main import build_app as build_letitia
from tests.media import make_image, make_mp3, probe_duration

__all__ = ["SHOW", "count", "make_image", "make_mp3", "probe_duration"]

SHOW = {
    "slug": "night-drive",
    "title": "Night Drive Sessions",
    "description": "Late-night mixes from the studio, one a week.",
    "language": "en",
    "author": "SkyRas Studio",
    "owner_name": "Sam Studio",
    "owner_email": "sam@studio.test",
    "explicit": False,
    "category": "Music",
    "subcategory": "Music Commentary",
}


@dataclass
class Studio:
    """Letitia and Jamal served together, and a client for each."""

    letitia: ServedApp
    jamal: ServedApp
    settings: JamalSettings
    http: httpx.AsyncClient  # Jamal's
    files: httpx.AsyncClient  # Letitia's

    async def upload(self, name: str, data: bytes, tags: str = "") -> dict[str, Any]:
        response = await self.files.post(
            "/api/files", files={"file": (name, data)}, data={"tags": tags}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def create_show(self, artwork_id: str, **overrides: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/api/shows", json={**SHOW, "artwork_file_id": artwork_id, **overrides}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def wait_status(
        self, release_id: str, status: str, timeout: float = 20
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            release = (await self.http.get(f"/api/releases/{release_id}")).json()
            if release["status"] == status:
                return dict(release)
            assert time.monotonic() < deadline, f"release never {status}: {release}"
            await asyncio.sleep(0.05)


@pytest.fixture
def letitia_settings(database_url: str, redis_url: str, tmp_path: Path) -> LetitiaSettings:
    return LetitiaSettings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path / "letitia",
        log_format="text",
    )


JamalFactory = Callable[..., JamalSettings]


@pytest.fixture
def jamal_settings(database_url: str, redis_url: str, tmp_path: Path) -> JamalFactory:
    def make(**overrides: Any) -> JamalSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "data_dir": tmp_path / "jamal",
            "log_format": "text",
            "scheduler_poll_seconds": 0.2,
            "webhook_urls": "",
            "s3_bucket": None,
        }
        values.update(overrides)
        return JamalSettings(_env_file=None, **values)

    return make


@asynccontextmanager
async def running_studio(
    letitia_settings: LetitiaSettings, jamal_settings: JamalFactory, **overrides: Any
) -> AsyncIterator[Studio]:
    port = overrides.pop("port", None) or free_port()
    async with serve(build_letitia(letitia_settings)) as letitia:
        settings = jamal_settings(
            letitia_url=letitia.url, public_url=f"http://127.0.0.1:{port}/api", **overrides
        )
        async with (
            ServedApp(build_app(settings), port=port) as jamal,
            jamal.client() as http,
            letitia.client() as files,
        ):
            yield Studio(letitia, jamal, settings, http, files)


StudioFactory = Callable[..., Any]


@pytest.fixture
def studio_factory(
    letitia_settings: LetitiaSettings, jamal_settings: JamalFactory
) -> StudioFactory:
    """`async with studio_factory(webhook_urls=...) as studio:` with Jamal's settings overridden."""

    def start(**overrides: Any) -> Any:
        return running_studio(letitia_settings, jamal_settings, **overrides)

    return start


@pytest.fixture
async def studio(studio_factory: StudioFactory) -> AsyncIterator[Studio]:
    async with studio_factory() as running:
        yield running


@pytest.fixture(scope="session")
def episode_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mp3(tmp_path_factory.mktemp("media") / "night-drive.mp3", 7.4)


@pytest.fixture(scope="session")
def cover_jpg() -> bytes:
    return make_image((1400, 1400))
