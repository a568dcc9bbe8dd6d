"""Giorgio's settings (environment variables prefixed SKYRAS_).

Letitia is reached over HTTP through the hub by default (the runner sets
SKYRAS_HUB_URL), so Giorgio needs no route of its own to another agent; set
SKYRAS_LETITIA_URL (Letitia's server, e.g. `http://letitia:8002`) to call it directly.
The model endpoint is off until SKYRAS_MODEL_BASE_URL is set: any
OpenAI-compatible API (`https://<host>/v1`, a local vLLM or Ollama `/v1`).
"""

from pathlib import Path

from pydantic import Field, SecretStr

from skyras.letitia import LetitiaAccessSettings
from skyras.settings import ServiceSettings
from skyras_giorgio.typography import DEFAULT_FONT_DIRS


class GiorgioSettings(ServiceSettings, LetitiaAccessSettings):
    service_name: str = "giorgio"
    port: int = Field(default=8005, ge=1, le=65535)

    # Where generations are stored: Letitia (`skyras.letitia`: hub_url, letitia_url...).

    # OpenAI-compatible endpoint: chat completions for copy, image generation for art.
    model_base_url: str | None = None
    model_api_key: SecretStr | None = None
    chat_model: str = "gpt-4o-mini"
    image_model: str | None = None  # unset: artwork stays deterministic even with a model
    image_size: str = "1024x1024"
    model_timeout_seconds: float = Field(default=30.0, gt=0)
    # 429: wait as the endpoint says (Retry-After), at most this long, this many times.
    model_max_retries: int = Field(default=2, ge=0, le=10)
    model_max_retry_wait_seconds: float = Field(default=20.0, ge=0)

    # Jobs (events and interrupted requests) are picked up by a worker polling this often.
    job_poll_seconds: float = Field(default=1.0, gt=0)
    # A running job whose worker is gone for this long is taken over.
    job_lease_seconds: float = Field(default=300.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1)

    font_dirs: list[Path] = Field(default_factory=lambda: list(DEFAULT_FONT_DIRS))

    @property
    def model_configured(self) -> bool:
        return bool(self.model_base_url)


def get_settings() -> GiorgioSettings:
    return GiorgioSettings()
