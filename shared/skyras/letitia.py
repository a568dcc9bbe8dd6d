"""How an agent reaches Letitia (where every agent's bytes live, DESIGN section 10).

`LetitiaHttp` below is the connection the agents' Letitia clients share.

`LetitiaAccessSettings` is mixed into an agent's settings, so every agent
names and defaults these the same way (SKYRAS_HUB_URL, SKYRAS_LETITIA_URL,
SKYRAS_HUB_API_KEY, SKYRAS_LETITIA_TIMEOUT_SECONDS). By default Letitia is
reached through the hub's routes for it (`<hub_url>/api/v2/agents/letitia`),
so an agent needs no route of its own to another agent; SKYRAS_LETITIA_URL
(Letitia's own server, e.g. `http://letitia:8002`, as `skyras up` sets it)
calls it directly. Either way `letitia_base` is the prefix of `/files...`.
"""

from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr

from skyras.errors import ApiError


class LetitiaAccessSettings(BaseModel):
    hub_url: str = "http://127.0.0.1:8000"
    letitia_url: str | None = None
    # A hub API key with the write scope (the hub's `required` auth mode needs one).
    hub_api_key: SecretStr | None = None
    letitia_timeout_seconds: float = Field(default=30.0, gt=0)

    @property
    def letitia_base(self) -> str:
        if self.letitia_url:  # Letitia's own server (as SKYRAS_HUB_URL names the hub's)
            return f"{self.letitia_url.rstrip('/')}/api"
        return f"{self.hub_url.rstrip('/')}/api/v2/agents/letitia"

    @property
    def letitia_auth_headers(self) -> dict[str, str]:
        if self.hub_api_key is None:
            return {}
        return {"Authorization": f"Bearer {self.hub_api_key.get_secret_value()}"}


class LetitiaUnavailable(ApiError):
    """Letitia did not answer, or answered 5xx: worth trying again later (503)."""

    def __init__(self, base_url: str, why: str) -> None:
        super().__init__(
            503,
            f"Letitia (the asset library) could not be reached at {base_url}: {why}",
            code="letitia_unavailable",
        )


class LetitiaHttp:
    """The HTTP connection every agent's Letitia client is built on.

    One place for how an agent talks to Letitia: a base URL (see `letitia_base`
    above, or Letitia's server root), the hub's API key, a timeout with a short
    connect timeout, and `request`, which turns "no answer" and 5xx into
    `LetitiaUnavailable`. What a 4xx means is the calling agent's to say.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
        agent: str = "skyras",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"user-agent": f"skyras-{agent}", **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )

    async def close(self) -> None:
        await self.http.aclose()

    def unavailable(self, exc: Exception | None = None, status: int | None = None) -> ApiError:
        why = f"HTTP {status}" if status else f"{type(exc).__name__}: {exc}"
        return LetitiaUnavailable(self.base_url, why)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self.unavailable(exc) from exc
        if response.status_code >= 500:
            raise self.unavailable(status=response.status_code)
        return response
