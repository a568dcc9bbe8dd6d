"""skyras.webhooks: one message, retried with backoff (or Retry-After), every attempt recorded."""

import base64
import os
import time

from standardwebhooks.webhooks import Webhook

from skyras.testing import serve
from skyras.webhooks import (
    DeliveryResult,
    RetryPolicy,
    Settled,
    WebhookSender,
    deliver_with_retries,
)
from tests.standins.n8n import N8nState, n8n_app

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
BODY = b'{"type":"thing.happened","data":{"n":1}}'


async def _deliver(
    receiver: N8nState, policy: RetryPolicy
) -> tuple[Settled, list[tuple[int, DeliveryResult]], float]:
    seen: list[tuple[int, DeliveryResult]] = []

    async def record(attempt: int, result: DeliveryResult) -> None:
        seen.append((attempt, result))

    async with serve(n8n_app(receiver)) as n8n:
        sender = WebhookSender(secret=SECRET, timeout=5, user_agent="test")
        started = time.monotonic()
        try:
            settled = await deliver_with_retries(
                sender, f"{n8n.url}/webhook/x", "msg_1", BODY, policy=policy, record=record
            )
        finally:
            await sender.aclose()
    return settled, seen, time.monotonic() - started


async def test_a_429_waits_for_retry_after_and_the_retry_carries_the_same_id() -> None:
    receiver = N8nState(secret=SECRET, fail_first=1, fail_status=429, retry_after="0.3")
    settled, seen, took = await _deliver(receiver, RetryPolicy(max_attempts=3, backoff_seconds=0))
    assert settled.state == "delivered" and settled.attempts == 2
    assert [(a, r.status_code) for a, r in seen] == [(1, 429), (2, 200)]
    assert took >= 0.3  # Retry-After, not the zero backoff
    assert [a["webhook_id"] for a in receiver.attempts] == ["msg_1", "msg_1"]
    for attempt in receiver.attempts:
        assert Webhook(SECRET).verify(attempt["body"], attempt["headers"]) == {
            "type": "thing.happened", "data": {"n": 1},
        }  # fmt: skip


async def test_gives_up_after_max_attempts_and_says_why() -> None:
    receiver = N8nState(secret=SECRET, fail_first=10, fail_status=502)
    settled, seen, _ = await _deliver(receiver, RetryPolicy(max_attempts=3, backoff_seconds=0.01))
    assert settled.state == "failed" and settled.attempts == 3
    assert settled.error is not None and settled.error.startswith("HTTP 502")
    assert [a for a, _ in seen] == [1, 2, 3]
