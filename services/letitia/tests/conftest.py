"""Fixtures for Letitia's tests: the app served on a real socket, its settings, stand-ins."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from skyras.testing import ServedApp, serve
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.main import build_app


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> LetitiaSettings:
    return LetitiaSettings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path / "data",
        log_format="text",
    )


def with_overrides(settings: LetitiaSettings, **overrides: Any) -> LetitiaSettings:
    """A validated copy (model_copy would keep strings where SecretStr is expected)."""
    return LetitiaSettings(**{**settings.model_dump(), **overrides})


LetitiaFactory = Callable[..., AbstractAsyncContextManager[ServedApp]]


@pytest.fixture
def letitia_app(settings: LetitiaSettings) -> LetitiaFactory:
    """`async with letitia_app(max_upload_bytes=...) as served:` with settings overridden."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[ServedApp]:
        app_settings = with_overrides(settings, **overrides)
        async with serve(build_app(app_settings)) as served:
            yield served

    return start


@pytest.fixture
async def letitia(letitia_app: LetitiaFactory) -> AsyncIterator[ServedApp]:
    async with letitia_app() as served:
        yield served
