"""Fixtures for Giorgio's tests: Giorgio and a real Letitia on real sockets, one database."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from skyras.testing import ServedApp, serve
from skyras_giorgio.config import GiorgioSettings
from skyras_giorgio.main import build_app
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.main import build_app as build_letitia


@pytest.fixture
async def letitia(database_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[ServedApp]:
    """The real Letitia (its own app, same database), where Giorgio stores what it makes."""
    settings = LetitiaSettings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path / "letitia",
        log_format="text",
    )
    async with serve(build_letitia(settings)) as served:
        yield served


@pytest.fixture
def settings(
    database_url: str, redis_url: str, tmp_path: Path, letitia: ServedApp
) -> GiorgioSettings:
    return GiorgioSettings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path / "giorgio",
        log_format="text",
        letitia_url=letitia.url,
        job_poll_seconds=0.05,
    )


GiorgioFactory = Callable[..., AbstractAsyncContextManager[ServedApp]]


@pytest.fixture
def giorgio_app(settings: GiorgioSettings) -> GiorgioFactory:
    """`async with giorgio_app(model_base_url=...) as served:` with settings overridden."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[ServedApp]:
        app_settings = GiorgioSettings(**{**settings.model_dump(), **overrides})
        async with serve(build_app(app_settings)) as served:
            yield served

    return start


@pytest.fixture
async def giorgio(giorgio_app: GiorgioFactory) -> AsyncIterator[ServedApp]:
    async with giorgio_app() as served:
        yield served
