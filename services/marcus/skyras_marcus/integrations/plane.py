"""Plane REST API v1: tasks as work items of one project.

Wire contract: `X-API-Key` on every request; work items under
`/api/v1/workspaces/{slug}/projects/{project_id}/work-items/`; lists are
cursor-paginated (`cursor`, `per_page`; the answer carries `results`,
`next_cursor` and `next_page_results`); a throttled request is a 429 with
`Retry-After`, and successful ones report `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (a Unix time), which this client honours by waiting
before the next call instead of running into the limit.
"""

import asyncio
import html
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from skyras.backoff import Backoff
from skyras_marcus.config import MarcusSettings

log = logging.getLogger("skyras_marcus.plane")

EXTERNAL_SOURCE = "skyras"
# Our status -> the Plane state group a work item is moved to.
STATE_GROUPS = {
    "pending": "unstarted",
    "in_progress": "started",
    "completed": "completed",
    "cancelled": "cancelled",
}


class PlaneError(Exception):
    def __init__(self, message: str, *, status_code: int | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.details = details

    @property
    def retryable(self) -> bool:
        return self.status_code is None or self.status_code == 429 or self.status_code >= 500


class PlaneClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        workspace: str,
        project_id: str,
        timeout: float = 10.0,
        max_retries: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.workspace = workspace
        self.project_id = project_id
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._sleep = sleep
        self._not_before = 0.0  # monotonic time before which we hold requests back
        self._states: dict[str, str] | None = None
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"X-API-Key": api_key, "Accept": "application/json"},
        )

    @classmethod
    def from_settings(cls, settings: MarcusSettings) -> "PlaneClient | None":
        if not settings.plane_configured:
            return None
        assert settings.plane_api_key and settings.plane_workspace and settings.plane_project_id
        return cls(
            base_url=settings.plane_url,
            api_key=settings.plane_api_key.get_secret_value(),
            workspace=settings.plane_workspace,
            project_id=settings.plane_project_id,
            timeout=settings.plane_timeout_seconds,
            max_retries=settings.plane_max_retries,
            max_wait=settings.plane_max_wait_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def _project_path(self) -> str:
        return f"/api/v1/workspaces/{self.workspace}/projects/{self.project_id}"

    def _wait_from_headers(self, response: httpx.Response) -> float | None:
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        reset = response.headers.get("X-RateLimit-Reset")
        if reset is not None:
            try:
                return max(0.0, float(reset) - time.time())
            except ValueError:
                pass
        return None

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        backoff = Backoff(1.0, self.max_wait)
        for attempt in range(self.max_retries + 1):
            delay = self._not_before - time.monotonic()
            if delay > 0:
                await self._sleep(min(delay, self.max_wait))
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise PlaneError(f"Plane unreachable: {exc}") from exc
            remaining = response.headers.get("X-RateLimit-Remaining")
            if response.status_code != 429:
                if remaining is not None and remaining.strip() == "0":
                    # Out of budget: hold the next request until the window resets.
                    hold = self._wait_from_headers(response) or 1.0
                    self._not_before = time.monotonic() + min(hold, self.max_wait)
                return response
            told = self._wait_from_headers(response)
            computed = backoff.next()  # grows on every 429, as before; the server's wait wins
            wait = min(computed if told is None else told, self.max_wait)
            log.warning(
                "Plane rate limit hit on %s %s (attempt %d); waiting %.1fs",
                method,
                path,
                attempt + 1,
                wait,
            )
            self._not_before = time.monotonic() + wait
        raise PlaneError("Plane kept answering 429 (rate limited)", status_code=429)

    @staticmethod
    def _check(response: httpx.Response) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        message = (body.get("detail") or body.get("error")) if isinstance(body, dict) else None
        raise PlaneError(
            f"Plane answered {response.status_code}: {message or body}",
            status_code=response.status_code,
            details=body,
        )

    async def list_work_items(
        self, *, cursor: str | None = None, per_page: int = 100
    ) -> dict[str, Any]:
        """One page: `{"results": [...], "next_cursor": str | None}`."""
        params: dict[str, Any] = {"per_page": per_page}
        if cursor:
            params["cursor"] = cursor
        body = self._check(
            await self._request("GET", f"{self._project_path}/work-items/", params=params)
        )
        results = body.get("results", []) if isinstance(body, dict) else []
        has_next = isinstance(body, dict) and bool(body.get("next_page_results"))
        return {"results": results, "next_cursor": body.get("next_cursor") if has_next else None}

    async def list_all_work_items(self, *, max_items: int = 1000) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(items) < max_items:
            page = await self.list_work_items(cursor=cursor)
            items.extend(page["results"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        return items[:max_items]

    async def state_for(self, status: str) -> str | None:
        """The id of the project's first state in the group matching our status."""
        if self._states is None:
            body = self._check(await self._request("GET", f"{self._project_path}/states/"))
            rows = body.get("results", []) if isinstance(body, dict) else (body or [])
            states: dict[str, str] = {}
            for state in rows:
                states.setdefault(state.get("group"), state.get("id"))
            self._states = states
        return self._states.get(STATE_GROUPS.get(status, ""))

    async def work_item_payload(self, task: dict[str, Any]) -> dict[str, Any]:
        description = html.escape(task.get("description") or "")
        due = task.get("due_date")
        payload: dict[str, Any] = {
            "name": task["title"][:255],
            "description_html": f"<p>{description}</p>" if description else "<p></p>",
            "priority": task["priority"],
            "target_date": str(due)[:10] if due else None,
            "external_id": str(task["id"]),
            "external_source": EXTERNAL_SOURCE,
        }
        state = await self.state_for(task["status"])
        if state:
            payload["state"] = state
        return payload

    async def create_work_item(self, task: dict[str, Any]) -> dict[str, Any]:
        payload = await self.work_item_payload(task)
        response = await self._request("POST", f"{self._project_path}/work-items/", json=payload)
        if response.status_code == 409:
            # Already there (same external id): adopt it and bring it up to date.
            existing = response.json().get("id")
            if existing:
                return await self.update_work_item(str(existing), task)
        return self._check(response)

    async def update_work_item(self, work_item_id: str, task: dict[str, Any]) -> dict[str, Any]:
        payload = await self.work_item_payload(task)
        path = f"{self._project_path}/work-items/{work_item_id}/"
        return self._check(await self._request("PATCH", path, json=payload))

    async def delete_work_item(self, work_item_id: str) -> None:
        response = await self._request("DELETE", f"{self._project_path}/work-items/{work_item_id}/")
        if response.status_code != 404:
            self._check(response)
