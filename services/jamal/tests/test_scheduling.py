"""Scheduled publishing across downtime: what came due while Jamal was stopped goes out once."""

import asyncio
import base64
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import DictRow

from skyras.embedded import free_port
from skyras.testing import ServedApp, serve
from skyras_jamal.main import build_app
from skyras_letitia.config import LetitiaSettings
from skyras_letitia.main import build_app as build_letitia
from tests.standins.n8n import N8nState, n8n_app

from .conftest import SHOW, JamalFactory, StudioFactory, count, make_image, make_mp3

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


async def _status(db: psycopg.AsyncConnection[DictRow], release_id: str) -> dict[str, str]:
    cur = await db.execute(
        "SELECT channel, status FROM release_channels WHERE release_id = %s", (release_id,)
    )
    return {r["channel"]: r["status"] for r in await cur.fetchall()}


async def _wait_published(db: psycopg.AsyncConnection[DictRow], release_id: str) -> None:
    for _ in range(400):
        if set((await _status(db, release_id)).values()) == {"published"}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not published: {await _status(db, release_id)}")


async def test_a_release_due_while_jamal_was_down_is_published_on_start_once(
    letitia_settings: LetitiaSettings,
    jamal_settings: JamalFactory,
    db: psycopg.AsyncConnection[DictRow],
    tmp_path: Path,
) -> None:
    mp3 = make_mp3(tmp_path / "mix.mp3", 3.0)
    receiver = N8nState(secret=SECRET)
    port = free_port()
    async with serve(build_letitia(letitia_settings)) as letitia, serve(n8n_app(receiver)) as n8n:
        settings = jamal_settings(
            letitia_url=letitia.url,
            public_url=f"http://127.0.0.1:{port}/api",
            webhook_urls=f"{n8n.url}/webhook/releases",
            webhook_secret=SECRET,
        )
        async with letitia.client() as files:
            cover = (
                await files.post("/api/files", files={"file": ("c.jpg", make_image((1400, 1400)))})
            ).json()
            audio = (
                await files.post("/api/files", files={"file": ("m.mp3", mp3.read_bytes())})
            ).json()

        due = datetime.now(UTC) + timedelta(seconds=2)
        async with ServedApp(build_app(settings), port=port) as jamal, jamal.client() as http:
            await http.post("/api/shows", json={**SHOW, "artwork_file_id": cover["id"]})
            release = (await http.post("/api/releases", json={
                "show": SHOW["slug"], "title": "Night Drive", "artist": "The Night Shift",
                "audio_file_id": audio["id"], "artwork_file_id": cover["id"],
                "publish_at": due.isoformat(), "channels": ["podcast", "webhook"],
            })).json()  # fmt: skip
            assert release["status"] == "scheduled"
        # Jamal is down while the release comes due.
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
        assert await _status(db, release["id"]) == {"podcast": "scheduled", "webhook": "scheduled"}
        assert receiver.attempts == []

        async with ServedApp(build_app(settings), port=port):
            await _wait_published(db, release["id"])
        # A second start finds nothing left to do.
        async with ServedApp(build_app(settings), port=port) as jamal, jamal.client() as http:
            await asyncio.sleep(1.0)
            feed = (await http.get(f"/api/shows/{SHOW['slug']}/feed.xml")).text

    assert feed.count("<item>") == 1 and release["guid"] in feed
    assert await count(db, "events", "type = 'release.published'") == 2  # one per channel
    assert await count(db, "events", "type = 'release.failed'") == 0
    assert len(receiver.attempts) == 1 and len(receiver.received) == 1


async def test_a_channel_left_mid_publish_by_a_crash_is_finished_once(
    studio_factory: StudioFactory, db: psycopg.AsyncConnection[DictRow], tmp_path: Path
) -> None:
    """A process killed between `publishing` and `published` leaves the row so; the next start
    (its advisory lock is gone with it) finishes the work and records one event."""
    mp3 = make_mp3(tmp_path / "mix.mp3", 2.0)
    async with studio_factory() as studio:
        cover = await studio.upload("c.jpg", make_image((1400, 1400)))
        audio = await studio.upload("m.mp3", mp3.read_bytes())
        await studio.create_show(cover["id"])
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        release = (await studio.http.post("/api/releases", json={
            "show": SHOW["slug"], "title": "Crash Test", "artist": "A",
            "audio_file_id": audio["id"], "artwork_file_id": cover["id"],
            "publish_at": later, "channels": ["podcast"],
        })).json()  # fmt: skip
    # What a SIGKILL mid-publish leaves behind: the claim committed, the result not.
    await db.execute(
        "UPDATE releases SET publish_at = now() - interval '1 minute' WHERE id = %s",
        (release["id"],),
    )
    await db.execute(
        "UPDATE release_channels SET status = 'publishing', attempts = 1 WHERE release_id = %s",
        (release["id"],),
    )
    async with studio_factory() as studio:
        published = await studio.wait_status(release["id"], "published")
    assert published["channels"][0]["attempts"] == 2
    assert await count(db, "events", "type = 'release.published'") == 1
