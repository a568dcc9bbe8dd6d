"""Letitia's settings (environment variables prefixed SKYRAS_)."""

from pydantic import Field

from skyras.settings import ServiceSettings


class LetitiaSettings(ServiceSettings):
    service_name: str = "letitia"
    port: int = Field(default=8002, ge=1, le=65535)


def get_settings() -> LetitiaSettings:
    return LetitiaSettings()
