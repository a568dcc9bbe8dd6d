"""Marcus's settings (environment variables prefixed SKYRAS_).

Every integration is off until configured: Cal.com needs an API key, Plane a
key, a workspace and a project, n8n at least one webhook URL. Secrets are
`SecretStr` so they never show in logs or reprs.
"""

from pydantic import Field, SecretStr

from skyras.settings import ServiceSettings
from skyras.webhooks import WebhookRetrySettings

# Public API bases of the hosted services; self-hosted instances override them.
DEFAULT_CALCOM_URL = "https://api.cal.com"
DEFAULT_PLANE_URL = "https://api.plane.so"


class MarcusSettings(ServiceSettings, WebhookRetrySettings):
    service_name: str = "marcus"
    port: int = Field(default=8001, ge=1, le=65535)

    # Where links in calendar events and the iCalendar feed point (the hub, usually).
    public_url: str = "http://127.0.0.1:8000/api/v2/agents/marcus"

    # Cal.com API v2 (`Authorization: Bearer`, `cal-api-version` per endpoint).
    calcom_url: str = DEFAULT_CALCOM_URL
    calcom_api_key: SecretStr | None = None
    calcom_bookings_api_version: str = "2024-08-13"
    calcom_timeout_seconds: float = Field(default=10.0, gt=0)

    # Plane REST API v1 (`X-API-Key`).
    plane_url: str = DEFAULT_PLANE_URL
    plane_api_key: SecretStr | None = None
    plane_workspace: str | None = None
    plane_project_id: str | None = None
    plane_timeout_seconds: float = Field(default=10.0, gt=0)
    # 429s retried per request before the sync gives up on that event (and retries later).
    plane_max_retries: int = Field(default=5, ge=0)
    plane_max_wait_seconds: float = Field(default=60.0, gt=0)

    # n8n (or any Standard Webhooks receiver): comma-separated URLs and one secret.
    n8n_webhook_urls: str = ""
    n8n_webhook_secret: SecretStr | None = None

    # How often the delivery workers (webhooks, Plane sync) look for new task events.
    sync_poll_seconds: float = Field(default=1.0, gt=0)

    @property
    def calcom_configured(self) -> bool:
        return self.calcom_api_key is not None and bool(self.calcom_api_key.get_secret_value())

    @property
    def plane_configured(self) -> bool:
        return bool(
            self.plane_api_key
            and self.plane_api_key.get_secret_value()
            and self.plane_workspace
            and self.plane_project_id
        )

    @property
    def webhook_urls(self) -> list[str]:
        return [url.strip() for url in self.n8n_webhook_urls.split(",") if url.strip()]


def get_settings() -> MarcusSettings:
    return MarcusSettings()
