"""Settings every service shares; each service subclasses `ServiceSettings` once.

Values come from the environment with the `SKYRAS_` prefix (and `.env` when
present). URLs that can carry passwords are `SecretStr`, so they never show in
logs or reprs; `redacted_url` prints them for people.
"""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://skyras:skyras@127.0.0.1:5432/skyras_v2"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SKYRAS_", env_file=".env", extra="ignore")

    service_name: str = "skyras"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    redis_url: SecretStr = SecretStr(DEFAULT_REDIS_URL)
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    data_dir: Path = Path(".skyras")
    # How long /ready waits for Postgres and Redis.
    ready_timeout_seconds: float = Field(default=2.0, gt=0)

    # Events (skyras.relay, skyras.consumer).
    stream_maxlen: int = Field(default=100_000, ge=100)
    relay_sweep_seconds: float = Field(default=1.0, gt=0)
    consumer_block_ms: int = Field(default=1000, ge=10)
    consumer_claim_idle_ms: int = Field(default=30_000, ge=10)
    consumer_max_deliveries: int = Field(default=5, ge=1)


def redacted_url(url: str | SecretStr) -> str:
    """The URL with its password replaced by `***`, for logs and messages."""
    raw = url.get_secret_value() if isinstance(url, SecretStr) else url
    parts = urlsplit(raw)
    if parts.password is None:
        return raw
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
