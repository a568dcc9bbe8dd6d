"""Jamal's settings (environment variables prefixed SKYRAS_).

Jamal reads audio and artwork through Letitia's HTTP API (through the hub by
default, the only way in when NetworkPolicies are on). The podcast feed's
links are built from `public_url`: the address at which podcast apps outside
the cluster reach Jamal's `/shows/<slug>/feed.xml` and `/media` paths. The
webhook and bucket channels are off until configured.
"""

from typing import Literal

from pydantic import Field, SecretStr

from skyras.letitia import LetitiaAccessSettings
from skyras.settings import ServiceSettings
from skyras.webhooks import WebhookRetrySettings


class JamalSettings(ServiceSettings, WebhookRetrySettings, LetitiaAccessSettings):
    service_name: str = "jamal"
    port: int = Field(default=8004, ge=1, le=65535)

    # Letitia answers `/files/{id}` and `/files/{id}/content` under `letitia_base`
    # (`skyras.letitia`: through the hub by default, or Letitia's own server).
    # Audio larger than this is refused (it is read once to measure its duration).
    max_audio_bytes: int = Field(default=2 * 1024**3, ge=1)

    # The public address of Jamal's feed and media paths, as podcast apps reach it.
    public_url: str = "http://127.0.0.1:8000/api/v2/agents/jamal"

    # Scheduling: how often the scheduler looks for releases whose time has come
    # (it is also woken at once when a release is created or edited).
    scheduler_poll_seconds: float = Field(default=5.0, gt=0)

    # Webhook channel (Standard Webhooks): comma-separated URLs and one whsec_ secret.
    webhook_urls: str = ""
    webhook_secret: SecretStr | None = None

    # Bucket channel: an S3-compatible bucket (AWS, MinIO, Supabase) and the public
    # base URL of its objects (a CDN, or `<endpoint>/<bucket>` when unset).
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    s3_public_url: str | None = None

    @property
    def webhook_url_list(self) -> list[str]:
        return [url.strip() for url in self.webhook_urls.split(",") if url.strip()]

    @property
    def webhook_configured(self) -> bool:
        return bool(self.webhook_url_list and self.webhook_secret)

    @property
    def bucket_configured(self) -> bool:
        return bool(self.s3_bucket)

    @property
    def bucket_public_base(self) -> str:
        if self.s3_public_url:
            return self.s3_public_url.rstrip("/")
        endpoint = (self.s3_endpoint_url or f"https://s3.{self.s3_region}.amazonaws.com").rstrip(
            "/"
        )
        return f"{endpoint}/{self.s3_bucket}"


def get_settings() -> JamalSettings:
    return JamalSettings()
