"""Webhook delivery signed per the Standard Webhooks spec, retried with backoff.

Who fills it: nobody (a sender and functions). Who reads it: Marcus's n8n
delivery of task events and Jamal's webhook channel, so both sign, retry and
log the same way. Each caller keeps its own delivery log: it passes
`record`, called after every attempt.

Headers: `webhook-id` (the message id, the same on every retry so receivers
can deduplicate), `webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
base64-decoded part of the `whsec_...` secret).
"""

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import httpx
from pydantic import BaseModel, Field

from skyras.backoff import Backoff

log = logging.getLogger("skyras.webhooks")

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
    """One pooled HTTP client that POSTs signed messages."""

    def __init__(self, *, secret: str, timeout: float = 10.0, user_agent: str = "skyras") -> None:
        decode_secret(secret)  # fail early on a malformed secret
        self.secret = secret
        self.user_agent = user_agent
        self._http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def deliver(self, url: str, msg_id: str, body: bytes) -> DeliveryResult:
        """One attempt: POST the JSON body, signed afresh (the timestamp is now)."""
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": self.user_agent,
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


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    backoff_seconds: float = 1.0  # the first wait; doubled after each failure (skyras.backoff)
    backoff_max_seconds: float = 60.0


class WebhookRetrySettings(BaseModel):
    """The retry settings (SKYRAS_WEBHOOK_*) of a service that delivers webhooks; mixed into
    its settings class, so every service names and bounds them the same way."""

    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    webhook_backoff_seconds: float = Field(default=1.0, ge=0)
    webhook_backoff_max_seconds: float = Field(default=60.0, ge=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def webhook_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.webhook_max_attempts,
            backoff_seconds=self.webhook_backoff_seconds,
            backoff_max_seconds=self.webhook_backoff_max_seconds,
        )


@dataclass(frozen=True)
class Settled:
    state: Literal["delivered", "failed"]
    attempts: int
    error: str | None


RecordAttempt = Callable[[int, DeliveryResult], Awaitable[None]]


async def deliver_with_retries(
    sender: WebhookSender,
    url: str,
    msg_id: str,
    body: bytes,
    *,
    policy: RetryPolicy,
    record: RecordAttempt,
) -> Settled:
    """Deliver one message to one URL, retrying with exponential backoff (or Retry-After).

    `record(attempt, result)` is awaited after each attempt (the caller's log).
    Every attempt carries the same `webhook-id`.
    """
    backoff = Backoff(policy.backoff_seconds, policy.backoff_max_seconds)
    attempt = 0
    result: DeliveryResult | None = None
    for attempt in range(1, policy.max_attempts + 1):
        result = await sender.deliver(url, msg_id, body)
        await record(attempt, result)
        if result.ok:
            return Settled("delivered", attempt, None)
        if not result.retryable:
            break
        if attempt < policy.max_attempts:
            wait = backoff.next()  # the receiver's Retry-After wins over our own delay
            if result.retry_after is not None:
                wait = result.retry_after
            await asyncio.sleep(min(wait, policy.backoff_max_seconds))
    assert result is not None
    log.error(
        "webhook delivery of %s to %s failed for good after %d attempt(s): %s",
        msg_id,
        url,
        attempt,
        result.error,
    )
    return Settled("failed", attempt, result.error)
