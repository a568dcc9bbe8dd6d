"""n8n webhook delivery: Standard Webhooks signatures, retries with backoff, the delivery log."""

import asyncio
import base64
import os
import time
from collections.abc import Callable

import httpx
import psycopg
from psycopg.rows import DictRow
from standardwebhooks.webhooks import Webhook

from skyras.testing import serve
from skyras.webhooks import sign
from tests.standins.n8n import N8nState, n8n_app, verify

from .conftest import SettingsFactory, count, running_marcus

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


async def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def test_signature_matches_the_specs_example() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bogus {signature}",
    }
    assert verify(secret, headers, body, now=1614265330) is None
    assert verify(secret, headers, body + b" ", now=1614265330) == "no matching signature"
    assert (
        verify(secret, headers, body, now=1614265330 + 600)
        == "webhook-timestamp outside the tolerance"
    )


async def _wait_registered(db: psycopg.AsyncConnection[DictRow]) -> None:
    deadline = time.monotonic() + 15
    while await count(db, "event_sinks") == 0:
        assert time.monotonic() < deadline, "the webhook worker never registered its sink"
        await asyncio.sleep(0.05)


async def test_task_events_are_signed_retried_and_logged(
    marcus_settings: SettingsFactory, db: psycopg.AsyncConnection[DictRow]
) -> None:
    receiver = N8nState(secret=SECRET, fail_first=2, fail_status=503)
    async with serve(n8n_app(receiver)) as n8n:
        url = f"{n8n.url}/webhook/skyras-tasks"
        settings = marcus_settings(
            n8n_webhook_urls=f" {url} ,",
            n8n_webhook_secret=SECRET,
            webhook_backoff_seconds=0.05,
            webhook_max_attempts=4,
        )
        async with running_marcus(settings) as marcus, marcus.client() as client:
            await _wait_registered(db)
            task = (await client.post("/api/tasks", json={"title": "Mix track 3"})).json()
            await client.patch(f"/api/tasks/{task['id']}", json={"status": "completed"})
            await client.delete(f"/api/tasks/{task['id']}")

            await wait_for(lambda: len(receiver.received) == 3)
            cur = await db.execute("SELECT id, type FROM events ORDER BY seq")
            events = await cur.fetchall()
            assert list(receiver.received) == [str(e["id"]) for e in events]
            bodies = list(receiver.received.values())
            assert [b["type"] for b in bodies] == ["task.created", "task.updated", "task.deleted"]
            assert bodies[1]["data"]["task"]["status"] == "completed"
            assert (
                bodies[0]["source"] == "/agents/marcus"
                and bodies[0]["subject"] == f"tasks/{task['id']}"
            )
            # The same webhook-id on every retry of the first event.
            assert [a["webhook_id"] for a in receiver.attempts[:3]] == [str(events[0]["id"])] * 3
            assert all(a["problem"] is None for a in receiver.attempts)
            # And by the Standard Webhooks reference library, not only by our stand-in.
            verifier = Webhook(SECRET)
            assert [verifier.verify(a["body"], a["headers"])["id"] for a in receiver.attempts] == [
                a["webhook_id"] for a in receiver.attempts
            ]

            log = (await client.get("/api/webhooks/deliveries", params={"limit": 500})).json()
            assert log["configured"] is True
            attempts = sorted(
                (d["event_type"], d["attempt"], d["status_code"]) for d in log["items"]
            )
            assert attempts == [
                ("task.created", 1, 503), ("task.created", 2, 503), ("task.created", 3, 200),
                ("task.deleted", 1, 200), ("task.updated", 1, 200),
            ]  # fmt: skip
            assert all(d["url"] == url and d["duration_ms"] >= 0 for d in log["items"])
            failed = (
                await client.get("/api/webhooks/deliveries", params={"failed": "true"})
            ).json()
            assert {d["status_code"] for d in failed["items"]} == {503}
            assert all("HTTP 503" in d["error"] for d in failed["items"])


async def test_a_refused_delivery_is_not_retried_and_later_events_still_go(
    marcus_settings: SettingsFactory, db: psycopg.AsyncConnection[DictRow]
) -> None:
    wrong = "whsec_" + base64.b64encode(b"another secret entirely").decode()
    receiver = N8nState(secret=wrong)
    async with serve(n8n_app(receiver)) as n8n:
        url = f"{n8n.url}/webhook/x"
        settings = marcus_settings(
            n8n_webhook_urls=url, n8n_webhook_secret=SECRET, webhook_backoff_seconds=0.05
        )
        async with running_marcus(settings) as marcus, marcus.client() as client:
            await _wait_registered(db)
            await client.post("/api/tasks", json={"title": "One"})
            await client.post("/api/tasks", json={"title": "Two"})
            await wait_for(lambda: len(receiver.attempts) == 2)
            deadline = time.monotonic() + 10
            while await count(db, "event_sink_progress", "state = 'failed'") < 2:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            log = (await client.get("/api/webhooks/deliveries")).json()["items"]
            assert sorted((d["attempt"], d["status_code"]) for d in log) == [(1, 401), (1, 401)]
            assert receiver.received == {}


async def test_deliveries_list_is_empty_and_unconfigured_by_default(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/webhooks/deliveries")).json() == {
        "items": [],
        "configured": False,
    }
