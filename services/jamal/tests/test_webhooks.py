"""The webhook channel: Standard Webhooks signatures (checked by the reference library),
retries with the same message id, the delivery log, and a failure users can read."""

import base64
import json
import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import DictRow
from standardwebhooks.webhooks import Webhook

from skyras.testing import serve
from tests.standins.n8n import N8nState, n8n_app

from .conftest import Studio, StudioFactory, count

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


async def _release(studio: Studio, mp3: Path, cover: bytes) -> dict[str, Any]:
    audio = await studio.upload("mix.mp3", mp3.read_bytes())
    art = await studio.upload("cover.jpg", cover)
    response = await studio.http.post("/api/releases", json={
        "title": "Night Drive", "artist": "The Night Shift", "audio_file_id": audio["id"],
        "artwork_file_id": art["id"], "channels": ["webhook"],
    })  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_deliveries_are_signed_retried_with_one_message_id_and_logged(
    studio_factory: StudioFactory,
    episode_mp3: Path,
    cover_jpg: bytes,
    db: psycopg.AsyncConnection[DictRow],
) -> None:
    receiver = N8nState(secret=SECRET, fail_first=2, fail_status=503)
    async with serve(n8n_app(receiver)) as n8n:
        url = f"{n8n.url}/webhook/releases"
        async with studio_factory(
            webhook_urls=url, webhook_secret=SECRET, webhook_backoff_seconds=0.05
        ) as studio:
            release = await _release(studio, episode_mp3, cover_jpg)
            published = await studio.wait_status(release["id"], "published")
            log = (await studio.http.get(f"/api/releases/{release['id']}/deliveries")).json()

    assert len(receiver.attempts) == 3
    verifier = Webhook(SECRET)
    payloads = [verifier.verify(a["body"], a["headers"]) for a in receiver.attempts]
    assert len({a["headers"]["webhook-id"] for a in receiver.attempts}) == 1
    (payload,) = receiver.received.values()
    assert payloads[-1] == payload
    assert payload["type"] == "release.published"
    assert payload["data"]["id"] == release["id"] and payload["data"]["title"] == "Night Drive"
    assert payload["data"]["audio"]["url"].endswith("/episode.mp3")
    (channel,) = published["channels"]
    assert channel["result"]["message_id"] == receiver.attempts[0]["headers"]["webhook-id"]
    assert [(d["attempt"], d["status_code"]) for d in log["items"]] == [
        (1, 503),
        (2, 503),
        (3, 200),
    ]
    assert all(d["url"] == url and d["message_id"] == channel["result"]["message_id"]
               for d in log["items"])  # fmt: skip
    assert "HTTP 503" in log["items"][0]["error"]
    # Tampering is caught by the same reference verifier.
    tampered = json.dumps({**payload, "type": "release.withdrawn"}).encode()
    try:
        verifier.verify(tampered, receiver.attempts[-1]["headers"])
    except Exception as exc:
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("a tampered body verified")
    assert await count(db, "events", "type = 'release.published'") == 1


async def test_a_receiver_that_refuses_fails_the_channel_with_the_reason(
    studio_factory: StudioFactory,
    episode_mp3: Path,
    cover_jpg: bytes,
    db: psycopg.AsyncConnection[DictRow],
) -> None:
    wrong = "whsec_" + base64.b64encode(b"not the secret jamal has").decode()
    receiver = N8nState(secret=wrong)
    async with serve(n8n_app(receiver)) as n8n:
        url = f"{n8n.url}/webhook/releases"
        async with studio_factory(
            webhook_urls=url, webhook_secret=SECRET, webhook_backoff_seconds=0.05
        ) as studio:
            release = await _release(studio, episode_mp3, cover_jpg)
            failed = await studio.wait_status(release["id"], "failed")
    (channel,) = failed["channels"]
    assert channel["error"].startswith(f"webhook {url} failed after 1 attempt(s): HTTP 401")
    assert len(receiver.attempts) == 1  # a 401 is final: not retried
    cur = await db.execute("SELECT data FROM events WHERE type = 'release.failed'")
    (event,) = await cur.fetchall()
    assert event["data"]["channel"] == "webhook" and "HTTP 401" in event["data"]["error"]
