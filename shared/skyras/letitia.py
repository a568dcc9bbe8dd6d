"""How an agent reaches Letitia (where every agent's bytes live, DESIGN section 10).

`LetitiaAccessSettings` is mixed into an agent's settings, so every agent
names and defaults these the same way (SKYRAS_HUB_URL, SKYRAS_LETITIA_URL,
SKYRAS_HUB_API_KEY, SKYRAS_LETITIA_TIMEOUT_SECONDS). By default Letitia is
reached through the hub's routes for it (`<hub_url>/api/v2/agents/letitia`),
so an agent needs no route of its own to another agent; SKYRAS_LETITIA_URL
(Letitia's own server, e.g. `http://letitia:8002`, as `skyras up` sets it)
calls it directly. Either way `letitia_base` is the prefix of `/files...`.
"""

from pydantic import BaseModel, Field, SecretStr


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
