"""The hub's settings (environment variables prefixed SKYRAS_)."""

from typing import Literal

from pydantic import Field

from skyras.settings import ServiceSettings


class HubSettings(ServiceSettings):
    service_name: str = "hub"
    port: int = Field(default=8000, ge=1, le=65535)
    # `required` everywhere but the local runner, which sets `loopback-open`.
    auth_mode: Literal["required", "loopback-open"] = "required"


def get_settings() -> HubSettings:
    return HubSettings()
