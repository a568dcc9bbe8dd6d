"""Jamal's chat: scheduling, withdrawing and listing releases in plain words."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from skyras_jamal.chat import parse_when, split_channels

from .conftest import Studio


def test_times_and_channels_in_plain_words() -> None:
    thursday_noon = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert parse_when("friday 9am", thursday_noon) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert parse_when("thursday 9am", thursday_noon) == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    assert parse_when("tomorrow 18:00", thursday_noon) == datetime(2026, 12, 4, 18, tzinfo=UTC)
    assert parse_when("whenever you like", thursday_noon) is None
    assert split_channels("the podcast feed and the bucket") == ["podcast", "bucket"]
    assert split_channels("webhooks, feed") == ["webhook", "podcast"]


async def _say(studio: Studio, message: str) -> dict[str, Any]:
    response = await studio.http.post("/api/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_schedule_withdraw_and_list_by_chat(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    cover = await studio.upload("c.jpg", cover_jpg)
    audio = await studio.upload("m.mp3", episode_mp3.read_bytes())
    await studio.create_show(cover["id"])
    later = (datetime.now(UTC) + timedelta(days=40)).isoformat()
    for title in ("Music for Airports", "Night Drive"):
        created = await studio.http.post("/api/releases", json={
            "show": "night-drive", "title": title, "artist": "A", "publish_at": later,
            "audio_file_id": audio["id"], "artwork_file_id": cover["id"], "channels": ["podcast"],
        })  # fmt: skip
        assert created.status_code == 201

    said = await _say(studio, "schedule Music for Airports for tomorrow 18:00 on the feed")
    assert said["action"] == "scheduled"
    assert said["data"]["release"]["title"] == "Music for Airports"
    when = datetime.fromisoformat(said["data"]["release"]["publish_at"])
    assert (when.hour, when.minute) == (18, 0) and when > datetime.now(UTC)

    missing = await _say(studio, "schedule Day Drive for friday 9am")
    assert missing["action"] == "not_found" and '"Day Drive"' in missing["reply"]
    vague = await _say(studio, "schedule Night Drive for whenever")
    assert vague["action"] == "help" and "When should" in vague["reply"]

    gone = await _say(studio, "withdraw Night Drive")
    assert gone["reply"] == 'Withdrew "Night Drive" from every channel.'
    listed = await _say(studio, "list releases")
    assert listed["reply"].startswith("2 releases: ")
    assert '"Night Drive" (withdrawn' in listed["reply"]
    assert (await _say(studio, "hello"))["action"] == "help"
