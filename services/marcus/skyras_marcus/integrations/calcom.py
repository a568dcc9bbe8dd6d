"""Cal.com API v2: list bookings and create one for a task.

Wire contract: `Authorization: Bearer <key>` and the `cal-api-version` the
endpoint is versioned by (bookings: 2024-08-13); every response is the
envelope `{"status": "success"|"error", "data": ..., "error": {...}}`.
The base URL is configurable for self-hosted instances and tests.
"""

from datetime import UTC, datetime
from typing import Any

import httpx

from skyras_marcus.config import MarcusSettings


class CalcomError(Exception):
    """Cal.com answered with an error, or not at all (status_code None)."""

    def __init__(self, message: str, *, status_code: int | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.details = details


class CalcomClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        bookings_api_version: str = "2024-08-13",
        timeout: float = 10.0,
    ) -> None:
        self.bookings_api_version = bookings_api_version
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    @classmethod
    def from_settings(cls, settings: MarcusSettings) -> "CalcomClient | None":
        if not settings.calcom_configured or settings.calcom_api_key is None:
            return None
        return cls(
            base_url=settings.calcom_url,
            api_key=settings.calcom_api_key.get_secret_value(),
            bookings_api_version=settings.calcom_bookings_api_version,
            timeout=settings.calcom_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"cal-api-version": self.bookings_api_version}
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise CalcomError(f"Cal.com unreachable: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict) and body.get("status") == "success":
            return body
        error = body.get("error") if isinstance(body, dict) else None
        message = (
            error.get("message") if isinstance(error, dict) else None
        ) or f"Cal.com answered {response.status_code}"
        raise CalcomError(message, status_code=response.status_code, details=error)

    async def list_bookings(
        self,
        *,
        after_start: datetime | None = None,
        before_end: datetime | None = None,
        take: int = 100,
        max_items: int = 500,
    ) -> list[dict[str, Any]]:
        """Bookings in the window, following Cal.com's take/skip pages up to `max_items`."""
        items: list[dict[str, Any]] = []
        skip = 0
        while len(items) < max_items:
            params: dict[str, Any] = {"take": take, "skip": skip, "sortStart": "asc"}
            if after_start is not None:
                params["afterStart"] = after_start.isoformat()
            if before_end is not None:
                params["beforeEnd"] = before_end.isoformat()
            body = await self._call("GET", "/v2/bookings", params=params)
            page = body.get("data") or []
            items.extend(page)
            pagination = body.get("pagination") or {}
            if not page or not pagination.get("hasNextPage"):
                break
            skip += len(page)
        return items[:max_items]

    async def create_booking(
        self,
        *,
        start: datetime,
        event_type_id: int,
        attendee: dict[str, Any],
        metadata: dict[str, str] | None = None,
        length_in_minutes: int | None = None,
    ) -> dict[str, Any]:
        # Cal.com wants the start in UTC.
        payload: dict[str, Any] = {
            "start": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "eventTypeId": event_type_id,
            "attendee": attendee,
        }
        if metadata:
            payload["metadata"] = metadata
        if length_in_minutes:
            payload["lengthInMinutes"] = length_in_minutes
        body = await self._call("POST", "/v2/bookings", json=payload)
        data = body.get("data")
        return data if isinstance(data, dict) else {"bookings": data}
