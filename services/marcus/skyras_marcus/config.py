"""Marcus's settings (environment variables prefixed SKYRAS_)."""

from pydantic import Field

from skyras.settings import ServiceSettings


class MarcusSettings(ServiceSettings):
    service_name: str = "marcus"
    port: int = Field(default=8001, ge=1, le=65535)


def get_settings() -> MarcusSettings:
    return MarcusSettings()
