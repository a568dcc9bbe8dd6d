"""The hub's route registry client (DESIGN.md section 6).

Created at operator startup (main.py) and kept in kopf's memo; used by the
Agent handlers to register, verify and deregister agents.
    PUT    {hub}/api/v2/registry/agents/{name}   -> 200/201 record, 422 bad input
    GET    {hub}/api/v2/registry/agents/{name}   -> record or 404
    GET    {hub}/api/v2/registry/agents          -> {"agents": [...]}
    DELETE {hub}/api/v2/registry/agents/{name}   -> 204 (404: already gone)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

REGISTRY_PATH = "/api/v2/registry/agents"


class HubError(Exception):
    """A registry call did not succeed."""


class HubUnavailable(HubError):
    """The hub could not be reached or answered 5xx/429/401/403: worth retrying."""


class HubRejected(HubError):
    """The hub refused the registration itself (4xx such as 422): retrying will not help."""

    def __init__(self, message: str, *, status_code: int, details: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.details = details


class HubClient:
    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "skyras-operator"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def register_agent(self, name: str, registration: dict[str, Any]) -> dict[str, Any]:
        """PUT the agent's record; returns what the hub stored."""
        response = await self._request("PUT", _agent_path(name), json=registration)
        _raise_for_status(response, f"registering {name}")
        return _json_object(response)

    async def get_agent(self, name: str) -> dict[str, Any] | None:
        """The hub's record of the agent, or None when it has none."""
        response = await self._request("GET", _agent_path(name))
        if response.status_code == 404:
            return None
        _raise_for_status(response, f"reading {name}")
        return _json_object(response)

    async def list_agents(self) -> list[dict[str, Any]]:
        response = await self._request("GET", REGISTRY_PATH)
        _raise_for_status(response, "listing agents")
        agents = _json_object(response).get("agents")
        if not isinstance(agents, list):
            raise HubUnavailable("the hub's agent list has no 'agents' array")
        return agents

    async def deregister_agent(self, name: str) -> bool:
        """Deletes the record; False when the hub did not know the agent (also done)."""
        response = await self._request("DELETE", _agent_path(name))
        if response.status_code == 404:
            return False
        _raise_for_status(response, f"deregistering {name}")
        return True

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise HubUnavailable(f"the hub at {self.base_url} timed out ({method} {path})") from exc
        except httpx.TransportError as exc:
            raise HubUnavailable(f"the hub at {self.base_url} is unreachable: {exc!s}") from exc


def _agent_path(name: str) -> str:
    return f"{REGISTRY_PATH}/{quote(name, safe='')}"


def _error_message(response: httpx.Response) -> tuple[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200], None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or ""), error.get("details")
    return str(payload)[:200], None


def _raise_for_status(response: httpx.Response, doing: str) -> None:
    if response.is_success:
        return
    message, details = _error_message(response)
    text = f"{doing}: hub answered {response.status_code}" + (f": {message}" if message else "")
    # 401/403 are a token problem the operator cannot fix but an admin can,
    # without touching the Agent: keep retrying with backoff.
    if response.status_code >= 500 or response.status_code in (401, 403, 408, 409, 429):
        raise HubUnavailable(text)
    raise HubRejected(text, status_code=response.status_code, details=details)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 204 or not response.content:
        return {}
    try:
        payload = response.json()
    except ValueError as exc:
        raise HubUnavailable(
            f"the hub answered {response.status_code} with a non-JSON body"
        ) from exc
    return payload if isinstance(payload, dict) else {"value": payload}
