"""Releases: per-channel status, events, edits until published, withdrawal, clear errors."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import DictRow

from .conftest import Studio, count, make_image


async def _files(studio: Studio, mp3: Path, cover: bytes) -> tuple[str, str, str]:
    show_art = await studio.upload("show.jpg", cover)
    show = await studio.create_show(show_art["id"])
    audio = await studio.upload("mix.mp3", mp3.read_bytes())
    art = await studio.upload("cover.jpg", cover)
    return show["slug"], audio["id"], art["id"]


def _body(show: str, audio: str, art: str, **extra: Any) -> dict[str, Any]:
    return {"show": show, "title": "Night Drive", "artist": "The Night Shift",
            "audio_file_id": audio, "artwork_file_id": art, "channels": ["podcast"],
            **extra}  # fmt: skip


async def _error(studio: Studio, body: dict[str, Any], status: int = 422) -> str:
    response = await studio.http.post("/api/releases", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return str(error["message"])


async def test_bad_input_gets_a_clear_error_and_writes_nothing(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes, db: psycopg.AsyncConnection[DictRow]
) -> None:
    show, audio, art = await _files(studio, episode_mp3, cover_jpg)
    jamal_events = "source = '/agents/jamal'"
    events_before = await count(db, "events", jamal_events)
    body = _body(show, audio, art)

    no_audio = {k: v for k, v in body.items() if k != "audio_file_id"}
    assert "audio_file_id: a release needs its audio" in await _error(studio, no_audio)

    oblong = await studio.upload("wide.jpg", make_image((3000, 1400)))
    message = await _error(studio, {**body, "artwork_file_id": oblong["id"]})
    assert "artwork must be square; wide.jpg is 3000x1400" in message

    small = await studio.upload("small.jpg", make_image((600, 600)))
    message = await _error(studio, {**body, "artwork_file_id": small["id"]})
    assert "1400x1400 to 3000x3000 pixels; small.jpg is 600x600" in message

    cmyk = await studio.upload("print.jpg", make_image((1400, 1400), mode="CMYK"))
    message = await _error(studio, {**body, "artwork_file_id": cmyk["id"]})
    assert "RGB colour space; print.jpg is CMYK" in message

    message = await _error(studio, {**body, "channels": ["podcast", "spotify"]})
    assert "unknown channel 'spotify'; Jamal publishes to podcast, webhook, bucket" in message

    message = await _error(studio, {**body, "channels": ["webhook"]})
    assert "the webhook channel is not configured on Jamal" in message

    wav = await studio.upload("take.wav", _wav_bytes())
    message = await _error(studio, {**body, "audio_file_id": wav["id"]})
    assert "the podcast feed needs MP3 or M4A audio; take.wav is audio/" in message

    message = await _error(studio, {**body, "audio_file_id": art})
    assert "cover.jpg is not audio" in message

    missing = "00000000-0000-4000-8000-000000000000"
    message = await _error(studio, {**body, "audio_file_id": missing})
    assert f"Letitia has no stored file {missing}" in message

    assert "No show nope" in await _error(studio, {**body, "show": "nope"}, status=404)

    assert await count(db, "releases") == 0
    assert await count(db, "release_channels") == 0
    assert await count(db, "events", jamal_events) == events_before


def _wav_bytes() -> bytes:
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    return out.getvalue()


async def test_a_past_publish_time_publishes_now_and_says_so(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes, db: psycopg.AsyncConnection[DictRow]
) -> None:
    show, audio, art = await _files(studio, episode_mp3, cover_jpg)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    created = await studio.http.post(
        "/api/releases", json=_body(show, audio, art, publish_at=yesterday)
    )
    assert created.status_code == 201
    release = created.json()
    assert release["notice"] == "publish_at was in the past, so the release is published now"
    assert datetime.fromisoformat(release["publish_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    published = await studio.wait_status(release["id"], "published")
    (podcast,) = published["channels"]
    assert podcast["channel"] == "podcast" and podcast["status"] == "published"
    assert podcast["published_at"] is not None
    cur = await db.execute(
        "SELECT type FROM events WHERE subject = %s ORDER BY seq", (f"releases/{release['id']}",)
    )
    assert [r["type"] for r in await cur.fetchall()] == ["release.scheduled", "release.published"]


async def test_edit_until_published_then_409_and_withdraw_takes_it_off_the_feed(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes, db: psycopg.AsyncConnection[DictRow]
) -> None:
    show, audio, art = await _files(studio, episode_mp3, cover_jpg)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    release = (
        await studio.http.post("/api/releases", json=_body(show, audio, art, publish_at=later))
    ).json()
    assert release["status"] == "scheduled" and release["notice"] is None
    edited = await studio.http.patch(
        f"/api/releases/{release['id']}", json={"artist": "Night Shift"}
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    bad = await studio.http.patch(f"/api/releases/{release['id']}", json={"channels": ["tiktok"]})
    assert bad.status_code == 422 and "unknown channel 'tiktok'" in bad.json()["error"]["message"]

    await studio.http.patch(
        f"/api/releases/{release['id']}", json={"publish_at": datetime.now(UTC).isoformat()}
    )
    await studio.wait_status(release["id"], "published")
    late = await studio.http.patch(f"/api/releases/{release['id']}", json={"title": "Too late"})
    assert late.status_code == 409
    assert late.json()["error"]["message"].endswith("cannot be edited: podcast is published")

    withdrawn = await studio.http.post(f"/api/releases/{release['id']}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    feed = await studio.http.get(f"/api/shows/{show}/feed.xml")
    assert b"<item>" not in feed.content
    assert (await studio.http.get(release["audio"]["url"])).status_code == 404
    cur = await db.execute(
        "SELECT type FROM events WHERE subject = %s ORDER BY seq", (f"releases/{release['id']}",)
    )
    types = [r["type"] for r in await cur.fetchall()]
    assert types == ["release.scheduled", "release.scheduled", "release.scheduled",
                     "release.published", "release.withdrawn"]  # fmt: skip


async def test_a_scheduled_release_that_is_withdrawn_never_goes_out(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes, db: psycopg.AsyncConnection[DictRow]
) -> None:
    show, audio, art = await _files(studio, episode_mp3, cover_jpg)
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    release = (
        await studio.http.post("/api/releases", json=_body(show, audio, art, publish_at=soon))
    ).json()
    await studio.http.post(f"/api/releases/{release['id']}/withdraw")
    import asyncio

    await asyncio.sleep(1.5)
    final = (await studio.http.get(f"/api/releases/{release['id']}")).json()
    assert final["status"] == "withdrawn"
    assert await count(db, "events", "type = 'release.published'") == 0


async def test_channels_say_what_is_configured(studio: Studio) -> None:
    channels = (await studio.http.get("/api/channels")).json()["items"]
    assert {c["channel"]: c["configured"] for c in channels} == {
        "podcast": True, "webhook": False, "bucket": False,
    }  # fmt: skip
