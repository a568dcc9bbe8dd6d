"""Jamal's consumer: a release whose files Letitia deletes fails with the reason, once."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.rows import DictRow

from .conftest import SHOW, Studio, count


async def test_deleting_a_releases_audio_fails_it_and_takes_the_episode_off_the_feed(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes, db: psycopg.AsyncConnection[DictRow]
) -> None:
    cover = await studio.upload("cover.jpg", cover_jpg)
    await studio.create_show(cover["id"])
    releases = []
    for title, when in (("Out Now", None), ("Coming Soon", datetime.now(UTC) + timedelta(days=9))):
        audio = await studio.upload(f"{title}.mp3", episode_mp3.read_bytes() + title.encode())
        created = await studio.http.post("/api/releases", json={
            "show": SHOW["slug"], "title": title, "artist": "A", "channels": ["podcast"],
            "audio_file_id": audio["id"], "artwork_file_id": cover["id"],
            "publish_at": when.isoformat() if when else None,
        })  # fmt: skip
        releases.append((created.json(), audio))
    out_now = releases[0][0]
    await studio.wait_status(out_now["id"], "published")

    for _, audio in releases:
        assert (await studio.files.delete(f"/api/files/{audio['id']}")).status_code == 204
    for release, audio in releases:
        failed = await studio.wait_status(release["id"], "failed")
        assert failed["channels"][0]["error"] == f"{audio['filename']} was deleted from Letitia"
    feed = await studio.http.get(f"/api/shows/{SHOW['slug']}/feed.xml")
    assert b"<item>" not in feed.content
    assert await count(db, "events", "type = 'release.failed'") == 2
    assert await count(db, "processed_events", "consumer = 'jamal'") >= 2
