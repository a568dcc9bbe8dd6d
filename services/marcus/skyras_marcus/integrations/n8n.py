"""Webhook delivery to n8n (or any receiver) signed per the Standard Webhooks spec.

Headers: `webhook-id` (the event id, the same on every retry so receivers
can deduplicate), `webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
base64-decoded part of the `whsec_...` secret).
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

SECRET_PREFIX = "whsec_"


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional)."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw, validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = decode_secret(secret)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def event_body(event: dict[str, Any]) -> bytes:
    """The JSON delivered for an `events` row: its CloudEvents envelope."""
    envelope = {
        "id": str(event["id"]),
        "specversion": "1.0",
        "type": event["type"],
        "source": event["source"],
        "subject": event.get("subject"),
        "time": event["created_at"].isoformat(),
        "datacontenttype": "application/json",
        "correlationid": event.get("correlation_id"),
        "data": event.get("data") or {},
    }
    return json.dumps(envelope, separators=(",", ":"), default=str).encode()


@dataclass
class DeliveryResult:
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        # 4xx other than 408/409/429 means the receiver refuses this message for good.
        if self.status_code is None:
            return True
        return self.status_code >= 500 or self.status_code in (408, 409, 429)


class WebhookSender:
    def __init__(self, *, secret: str, timeout: float = 10.0) -> None:
        decode_secret(secret)  # fail early on a malformed secret
        self.secret = secret
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def deliver(self, url: str, event: dict[str, Any]) -> DeliveryResult:
        body = event_body(event)
        msg_id = str(event["id"])
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": "skyras-marcus-webhooks",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.secret, msg_id, timestamp, body),
        }
        started = time.perf_counter()
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            elapsed = int((time.perf_counter() - started) * 1000)
            return DeliveryResult(None, f"{type(exc).__name__}: {exc}"[:500], elapsed)
        elapsed = int((time.perf_counter() - started) * 1000)
        retry_after = None
        if response.status_code == 429:
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = None
        error = (
            None if response.is_success else f"HTTP {response.status_code}: {response.text[:200]}"
        )
        return DeliveryResult(response.status_code, error, elapsed, retry_after)
