"""The hub's settings (environment variables prefixed SKYRAS_).

One class, read once at startup (`build_app`), kept on `app.state.settings`;
every hub module takes what it needs from it.
"""

from typing import Literal

from pydantic import Field

from skyras.settings import ServiceSettings


class HubSettings(ServiceSettings):
    service_name: str = "hub"
    port: int = Field(default=8000, ge=1, le=65535)

    # `required` everywhere but the local runner, which sets `loopback-open`.
    auth_mode: Literal["required", "loopback-open"] = "required"
    # Verified keys are remembered this long, so most requests need no database
    # round trip; a revoked key therefore stops working within this time.
    auth_cache_seconds: float = Field(default=10.0, ge=0)

    # Forwarding to agents.
    proxy_connect_timeout: float = Field(default=2.0, gt=0)
    proxy_read_timeout: float = Field(default=30.0, gt=0)
    proxy_max_connections: int = Field(default=200, ge=1)
    # The circuit breaker per agent: open after this many consecutive
    # transport failures, try again (half-open) after the cool-down.
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=10.0, gt=0)

    # GET /api/v2/agents/status: each agent's /health must answer within this.
    status_timeout_seconds: float = Field(default=1.5, gt=0)
    # POST /api/v2/chat: how long an agent may take to reply.
    chat_timeout_seconds: float = Field(default=30.0, gt=0)

    # The registry cache is invalidated through pub/sub; this re-read is the safety net.
    registry_refresh_seconds: float = Field(default=30.0, gt=0)

    # Server-sent events: a comment line this often keeps proxies from closing the stream.
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # Events buffered per SSE client; a client that falls this far behind is disconnected.
    sse_queue_size: int = Field(default=1000, ge=1)

    # Token bucket per API key (per client address without one). 0 turns it off.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    # Per-scope overrides (requests per minute), as JSON in the environment:
    # SKYRAS_RATE_LIMIT_SCOPES='{"admin": 6000, "registry": 6000}'. A key gets
    # the highest rate among its scopes.
    rate_limit_scopes: dict[str, int] = Field(default_factory=dict)


def get_settings() -> HubSettings:
    return HubSettings()
