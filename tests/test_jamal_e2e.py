"""Jamal end to end through the hub: hub, Letitia and Jamal as real processes.

An uploaded mix and artwork (to Letitia, through the hub) become a release
that Jamal reads back through the hub; chat through the hub schedules it and
then publishes it now; the show's
feed and its enclosure are fetched through the hub as a podcast app would,
at the public URL the feed gives, and checked with feedparser.
"""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest

from skyras.testing import ServiceProcess, create_api_key_sync
from tests.media import make_image, make_mp3, probe_duration
from tests.utils import eventually, register_agent

SHOW = {
    "slug": "studio-singles", "title": "Studio Singles", "language": "en",
    "description": "Every single the studio releases, as it comes out.",
    "author": "SkyRas Studio", "owner_name": "Sam", "owner_email": "sam@studio.test",
    "category": "Music",
}  # fmt: skip


def next_weekday_at(weekday: int, hour: int) -> datetime:
    """The next such weekday and hour in UTC, strictly after now (Monday is 0)."""
    now = datetime.now(UTC)
    day = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    day += timedelta(days=(weekday - now.weekday()) % 7)
    return day if day > now else day + timedelta(days=7)


@contextlib.contextmanager
def running_stack(
    database_url: str, redis_url: str, tmp_path: Path, auth: str, jamal_key: str | None = None
) -> Iterator[str]:
    """Hub, Letitia and Jamal as processes, both agents registered; yields the hub's /api/v2."""
    env = {
        "SKYRAS_DATABASE_URL": database_url,
        "SKYRAS_REDIS_URL": redis_url,
        "SKYRAS_DATA_DIR": str(tmp_path / "data"),
        "SKYRAS_AUTH_MODE": auth,
        "SKYRAS_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    hub = ServiceProcess("skyras_hub.main:app", env, log=tmp_path / "hub.log").start()
    jamal_env = {
        **env,
        "SKYRAS_HUB_URL": hub.url,
        "SKYRAS_PUBLIC_URL": f"{hub.url}/api/v2/agents/jamal",
        "SKYRAS_SCHEDULER_POLL_SECONDS": "0.2",
        **({"SKYRAS_HUB_API_KEY": jamal_key} if jamal_key else {}),
    }
    letitia = ServiceProcess("skyras_letitia.main:app", env, log=tmp_path / "letitia.log")
    jamal = ServiceProcess("skyras_jamal.main:app", jamal_env, log=tmp_path / "jamal.log")
    try:
        letitia.start()
        jamal.start()
        for name, proc in (("letitia", letitia), ("jamal", jamal)):
            register_agent(hub.url, database_url, name, proc.url)
        yield f"{hub.url}/api/v2"
    finally:
        for proc in (jamal, letitia, hub):
            proc.stop()


@pytest.fixture
def hub_with_jamal(
    database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """The chart's way: the hub requires keys (but not on the public feed and media routes).

    Yields the hub's /api/v2 and the studio's Authorization header."""
    user = create_api_key_sync(database_url, "read", "write", name="studio")
    jamal_key = create_api_key_sync(database_url, "read", name="jamal")
    with running_stack(database_url, redis_url, tmp_path, "required", jamal_key) as api:
        yield api, {"Authorization": f"Bearer {user}"}


def test_jamal_reads_letitia_with_its_own_key_when_the_hub_requires_keys(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    """The chart's auth mode: Jamal's calls to Letitia go through the hub with a read key."""
    user = create_api_key_sync(database_url, "read", "write", name="studio")
    jamal_key = create_api_key_sync(database_url, "read", name="jamal")
    auth = {"Authorization": f"Bearer {user}"}
    with (
        running_stack(database_url, redis_url, tmp_path, "required", jamal_key) as api,
        httpx.Client(base_url=api, timeout=30, headers=auth) as hub,
    ):
        art = hub.post(
            "/agents/letitia/upload", files={"file": ("c.jpg", make_image((1400, 1400)))}
        )
        assert art.status_code == 201, art.text
        show = hub.post("/agents/jamal/shows", json={**SHOW, "artwork_file_id": art.json()["id"]})
        assert show.status_code == 201, show.text
        assert show.json()["artwork"]["width"] == 1400  # measured from bytes read via the hub
        assert httpx.get(f"{api}/agents/jamal/shows").status_code == 401  # no key, no entry


def test_an_uploaded_mix_and_artwork_become_an_episode_in_the_feed_through_the_hub(
    hub_with_jamal: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    api, auth = hub_with_jamal
    mix = make_mp3(tmp_path / "night-drive-master.mp3", 6.2)
    cover = make_image((3000, 3000))
    with httpx.Client(base_url=api, timeout=30, headers=auth) as hub:
        audio = hub.post("/agents/letitia/upload", files={"file": (mix.name, mix.read_bytes())})
        art = hub.post("/agents/letitia/upload", files={"file": ("cover.jpg", cover)})
        assert audio.status_code == art.status_code == 201, audio.text + art.text
        show = hub.post("/agents/jamal/shows", json={**SHOW, "artwork_file_id": art.json()["id"]})
        assert show.status_code == 201, show.text
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        created = hub.post("/agents/jamal/releases", json={
            "show": SHOW["slug"], "title": "Night Drive", "artist": "The Night Shift",
            "description": "The single, mastered.", "audio_file_id": audio.json()["id"],
            "artwork_file_id": art.json()["id"], "publish_at": later, "channels": ["bucket"],
        })  # fmt: skip
        assert created.status_code == 422  # no bucket configured: said, nothing written
        assert "bucket channel is not configured" in created.json()["error"]["message"]
        created = hub.post("/agents/jamal/releases", json={
            "show": SHOW["slug"], "title": "Night Drive", "artist": "The Night Shift",
            "description": "The single, mastered.", "audio_file_id": audio.json()["id"],
            "artwork_file_id": art.json()["id"], "publish_at": later, "channels": ["podcast"],
        })  # fmt: skip
        assert created.status_code == 201, created.text
        release = created.json()
        assert release["status"] == "scheduled"

        # Chat through the hub, addressed to Jamal.
        said = hub.post(
            "/chat",
            json={"message": "@jamal schedule Night Drive for friday 9am on the podcast feed"},
        )
        assert said.status_code == 200, said.text
        friday = next_weekday_at(4, 9)
        assert said.json()["reply"] == (
            f'Scheduled "Night Drive" for {friday:%A %d %B %Y} at 09:00 UTC on podcast.'
        )
        moved = hub.get(f"/agents/jamal/releases/{release['id']}").json()
        assert datetime.fromisoformat(moved["publish_at"]) == friday
        now = hub.post("/chat", json={"message": "@jamal publish Night Drive now"}).json()
        assert now["reply"] == '"Night Drive" publishes now on podcast.'
        eventually(
            lambda: (
                hub.get(f"/agents/jamal/releases/{release['id']}").json()["status"] == "published"
            ),
            what="the release published",
        )
        listed = hub.get("/agents/jamal/releases").json()["items"]
        assert [r["title"] for r in listed] == ["Night Drive"]
        feed_url = show.json()["feed_url"]
        types = [
            e["type"]
            for e in hub.get("/events", params={"source": "/agents/jamal"}).json()["items"]
        ]

    assert feed_url.startswith(api + "/agents/jamal/")
    # A podcast app: the feed at its public URL, then the enclosure it names, with no API
    # key (the feed and media routes are public); the rest of Jamal still needs one.
    with httpx.Client(timeout=30) as app:
        assert app.get(f"{api}/agents/jamal/releases").status_code == 401
        assert app.post(feed_url).status_code == 401  # public covers reads only
        response = app.get(feed_url)
        assert response.status_code == 200
        feed = feedparser.parse(response.content)
        assert not feed.bozo and feed.feed.title == SHOW["title"]
        (entry,) = feed.entries
        (enclosure,) = entry.enclosures
        assert int(enclosure.length) == mix.stat().st_size and enclosure.type == "audio/mpeg"
        assert abs(int(entry.itunes_duration) - probe_duration(mix)) <= 1
        assert entry.id == release["guid"]
        assert app.get(enclosure.href).content == mix.read_bytes()
        part = app.get(enclosure.href, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == mix.read_bytes()[:100]
        assert (
            app.get(feed_url, headers={"If-None-Match": response.headers["etag"]}).status_code
            == 304
        )
        assert app.get(entry.image.href).content == cover
        assert app.head(enclosure.href).headers["content-length"] == str(mix.stat().st_size)
    assert {"show.created", "release.scheduled", "release.published"} <= set(types)
