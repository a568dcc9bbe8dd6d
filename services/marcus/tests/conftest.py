"""Fixtures for Marcus's tests: the app on a real socket against real Postgres and Redis."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import DictRow

from skyras.testing import ServedApp, serve
from skyras_marcus.config import MarcusSettings
from skyras_marcus.main import build_app

SettingsFactory = Callable[..., MarcusSettings]


@pytest.fixture
def marcus_settings(database_url: str, redis_url: str, tmp_path: Path) -> SettingsFactory:
    def make(**overrides: Any) -> MarcusSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": redis_url,
            "data_dir": tmp_path / "data",
            "log_format": "text",
            "sync_poll_seconds": 0.05,
            "public_url": "http://hub.test/api/v2/agents/marcus",
            "calcom_api_key": None,
            "plane_api_key": None,
            "n8n_webhook_urls": "",
        }
        values.update(overrides)
        return MarcusSettings(_env_file=None, **values)

    return make


@asynccontextmanager
async def running_marcus(settings: MarcusSettings) -> AsyncIterator[ServedApp]:
    async with serve(build_app(settings)) as served:
        yield served


@pytest.fixture
async def client(marcus_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of Marcus with no integration configured."""
    async with running_marcus(marcus_settings()) as served, served.client() as http:
        yield http


async def count(db: psycopg.AsyncConnection[DictRow], table: str, where: str = "TRUE") -> int:
    cur = await db.execute(f"SELECT count(*) AS n FROM {table} WHERE {where}")
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])
