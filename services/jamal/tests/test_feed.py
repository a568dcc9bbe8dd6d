"""The podcast feed, read by feedparser (a reader no one here wrote) and held to Apple's rules."""

import email.utils
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import feedparser

from .conftest import SHOW, Studio, probe_duration

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"


async def published_episode(
    studio: Studio, mp3: Path, cover: bytes, **release: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(show, release, audio record): a show with one episode published on the feed."""
    show_art = await studio.upload("show.jpg", cover)
    show = await studio.create_show(show_art["id"])
    audio = await studio.upload("night-drive.mp3", mp3.read_bytes(), tags="mix")
    art = await studio.upload("episode.jpg", cover)
    body = {
        "show": show["slug"],
        "title": "Night Drive",
        "artist": "The Night Shift",
        "description": "Episode one: a drive through the city after dark.",
        "audio_file_id": audio["id"],
        "artwork_file_id": art["id"],
        "channels": ["podcast"],
        **release,
    }
    created = await studio.http.post("/api/releases", json=body)
    assert created.status_code == 201, created.text
    published = await studio.wait_status(created.json()["id"], "published")
    return show, published, audio


async def test_feed_parses_cleanly_with_every_required_element(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    show, release, audio = await published_episode(studio, episode_mp3, cover_jpg)
    response = await studio.http.get(f"/api/shows/{show['slug']}/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)

    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert {"itunes", "podcast"} <= set(feed.namespaces)
    channel = feed.feed
    assert channel.title == SHOW["title"]
    assert channel.subtitle == SHOW["description"]  # feedparser's name for <description>
    assert channel.language == "en"
    # feedparser folds itunes:owner into author/publisher (itunes:author is checked on the XML
    # below), and knows only the old yes/clean values of itunes:explicit (Apple's are true/false).
    assert channel.publisher_detail == {"name": SHOW["owner_name"], "email": SHOW["owner_email"]}
    assert [t.term for t in channel.tags] == ["Music", "Music Commentary"]
    assert channel.image.href == show["artwork"]["url"]
    assert channel.podcast_guid  # Podcasting 2.0

    (entry,) = feed.entries
    assert entry.title == "Night Drive"
    assert entry.author == "The Night Shift"
    assert entry.summary.startswith("Episode one")
    (enclosure,) = entry.enclosures
    assert int(enclosure.length) == episode_mp3.stat().st_size == audio["file_size"]
    assert enclosure.type == "audio/mpeg"
    assert enclosure.href == release["audio"]["url"]
    assert entry.id == release["guid"] and entry.guidislink is False
    assert abs(int(entry.itunes_duration) - probe_duration(episode_mp3)) <= 1
    assert entry.image.href == release["artwork"]["url"]
    published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
    assert abs(published - datetime.fromisoformat(release["publish_at"])) < timedelta(seconds=1)

    # The enclosure URL serves exactly those bytes, as a podcast app downloads them.
    download = await studio.http.get(enclosure.href)
    assert download.status_code == 200 and download.content == episode_mp3.read_bytes()
    assert download.headers["content-type"] == "audio/mpeg"
    assert (await studio.http.get(channel.image.href)).content == cover_jpg


async def test_feed_meets_apple_podcasts_requirements(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    """Apple Podcasts' published RSS requirements, each checked by name on the raw XML."""
    show, _, _ = await published_episode(studio, episode_mp3, cover_jpg)
    xml = (await studio.http.get(f"/api/shows/{show['slug']}/feed.xml")).content
    rss = ET.fromstring(xml)
    channel = rss.find("channel")
    assert channel is not None
    item = channel.find("item")
    assert item is not None
    enclosure = item.find("enclosure")
    assert enclosure is not None
    category = channel.find(f"{ITUNES}category")
    image = channel.find(f"{ITUNES}image")
    owner = channel.find(f"{ITUNES}owner")
    guid = item.find("guid")
    requirements = {
        "RSS 2.0 root element": rss.tag == "rss" and rss.get("version") == "2.0",
        "channel <title>": bool(channel.findtext("title")),
        "channel <description>": bool(channel.findtext("description")),
        "channel <language> (ISO 639)": channel.findtext("language") == "en",
        "channel <itunes:image> href ending in .jpg or .png": image is not None
        and (image.get("href") or "").endswith((".jpg", ".png")),
        "channel <itunes:category> from Apple's list": category is not None
        and category.get("text") == "Music",
        "channel <itunes:explicit> true/false": channel.findtext(f"{ITUNES}explicit")
        in ("true", "false"),
        "channel <itunes:author>": bool(channel.findtext(f"{ITUNES}author")),
        "channel <itunes:owner> with <itunes:email>": owner is not None
        and owner.findtext(f"{ITUNES}email") == SHOW["owner_email"],
        "channel <link>": bool(channel.findtext("link")),
        "episode <title>": bool(item.findtext("title")),
        "episode <enclosure> url, length and type": all(
            enclosure.get(a) for a in ("url", "length", "type")
        ),
        "episode enclosure file extension is a supported format (.mp3)": (
            enclosure.get("url") or ""
        ).endswith(".mp3"),
        "episode <guid> isPermaLink=false": guid is not None
        and guid.get("isPermaLink") == "false"
        and bool(guid.text),
        "episode <pubDate> in RFC 2822": email.utils.parsedate_to_datetime(
            item.findtext("pubDate") or ""
        ).tzinfo
        is not None,
        "episode <itunes:duration> in seconds": (
            item.findtext(f"{ITUNES}duration") or ""
        ).isdigit(),
        "episode <itunes:image> href": item.find(f"{ITUNES}image") is not None,
    }
    failed = [name for name, ok in requirements.items() if not ok]
    assert not failed, f"Apple Podcasts requirements not met: {failed}"
    # Artwork: Apple asks for a square JPEG or PNG, 1400 to 3000 pixels a side, in RGB.
    assert show["artwork"]["width"] == show["artwork"]["height"] == 1400
    assert show["artwork"]["content_type"] == "image/jpeg"


async def test_guid_never_changes_across_edits(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    show_art = await studio.upload("show.jpg", cover_jpg)
    show = await studio.create_show(show_art["id"])
    audio = await studio.upload("a.mp3", episode_mp3.read_bytes())
    art = await studio.upload("a.jpg", cover_jpg)
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    created = await studio.http.post(
        "/api/releases",
        json={"show": show["slug"], "title": "Draft title", "artist": "A", "channels": ["podcast"],
              "audio_file_id": audio["id"], "artwork_file_id": art["id"], "publish_at": later},
    )  # fmt: skip
    guid = created.json()["guid"]
    edited = await studio.http.patch(
        f"/api/releases/{created.json()['id']}",
        json={"title": "Night Drive (final)", "description": "Now with notes"},
    )
    assert edited.status_code == 200 and edited.json()["guid"] == guid
    now = await studio.http.patch(
        f"/api/releases/{created.json()['id']}",
        json={"publish_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
    )
    assert now.json()["notice"] == "publish_at was in the past, so the release is published now"
    await studio.wait_status(created.json()["id"], "published")
    feed = feedparser.parse((await studio.http.get(f"/api/shows/{show['slug']}/feed.xml")).content)
    (entry,) = feed.entries
    assert entry.id == guid and entry.title == "Night Drive (final)"


async def test_conditional_get_answers_304_until_the_feed_changes(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    show, release, _ = await published_episode(studio, episode_mp3, cover_jpg)
    url = f"/api/shows/{show['slug']}/feed.xml"
    first = await studio.http.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = await studio.http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    head = await studio.http.head(url)
    assert head.status_code == 200 and head.headers["etag"] == etag and head.content == b""
    since = await studio.http.get(url, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    # Editing the show changes the feed.
    edited = await studio.http.patch(f"/api/shows/{show['slug']}", json={"title": "Night Drives"})
    assert edited.status_code == 200 and edited.json()["title"] == "Night Drives"
    retitled = await studio.http.get(url, headers={"If-None-Match": etag})
    assert (
        retitled.status_code == 200
        and feedparser.parse(retitled.content).feed.title == "Night Drives"
    )
    etag = retitled.headers["etag"]
    bad = await studio.http.patch(f"/api/shows/{show['slug']}", json={"category": "Cooking"})
    assert (
        bad.status_code == 422
        and "not an Apple Podcasts category" in bad.json()["error"]["message"]
    )
    # Withdrawing the episode changes the feed: the old ETag no longer matches.
    await studio.http.post(f"/api/releases/{release['id']}/withdraw")
    changed = await studio.http.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert feedparser.parse(changed.content).entries == []


async def test_range_on_the_enclosure_returns_206_with_those_bytes(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    _, release, _ = await published_episode(studio, episode_mp3, cover_jpg)
    data = episode_mp3.read_bytes()
    url = release["audio"]["url"]
    part = await studio.http.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert part.headers["content-length"] == "1000"
    tail = await studio.http.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == data[-500:]
    head = await studio.http.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    assert head.headers["accept-ranges"] == "bytes"
    outside = await studio.http.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert outside.status_code == 416
    cached = await studio.http.get(url, headers={"If-None-Match": part.headers["etag"]})
    assert cached.status_code == 304


async def test_unpublished_media_is_not_served(
    studio: Studio, episode_mp3: Path, cover_jpg: bytes
) -> None:
    audio = await studio.upload("secret.mp3", episode_mp3.read_bytes())
    response = await studio.http.get(f"/api/media/{audio['id']}/episode.mp3")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "media_not_found"
