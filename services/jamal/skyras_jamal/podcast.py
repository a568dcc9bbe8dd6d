"""The podcast feed of a show: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces.

Who fills it: nobody (pure functions over rows). Who reads it: the feed route,
which serves `render_feed`'s bytes with an ETag and Last-Modified. What
Apple Podcasts requires is all here: channel title, description, language,
itunes:image, itunes:category, itunes:explicit, itunes:author and
itunes:owner; items with a title, an enclosure (public URL, exact length in
bytes, MIME type), a GUID that never changes (isPermaLink="false"), an RFC
2822 pubDate, itunes:duration in seconds and the episode's image.
"""

import uuid
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from skyras_jamal.media import PODCAST_AUDIO_TYPES

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
# Podcasting 2.0: a feed's podcast:guid is the UUIDv5 of its URL (scheme removed) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

for prefix, uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM), ("content", CONTENT)):
    ET.register_namespace(prefix, uri)


def feed_url(public_url: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}/shows/{slug}/feed.xml"


def media_url(public_url: str, file_id: Any, name: str) -> str:
    return f"{public_url.rstrip('/')}/media/{file_id}/{name}"


def audio_media(public_url: str, audio: dict[str, Any]) -> tuple[str, str]:
    """(enclosure URL, MIME type) of a release's audio."""
    mime, ext = PODCAST_AUDIO_TYPES.get(audio["content_type"], (audio["content_type"], "bin"))
    return media_url(public_url, audio["file_id"], f"episode.{ext}"), mime


def artwork_url(public_url: str, artwork: dict[str, Any]) -> str:
    ext = "png" if artwork["content_type"] == "image/png" else "jpg"
    return media_url(public_url, artwork["file_id"], f"cover.{ext}")


def podcast_guid(url: str) -> str:
    bare = url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _it(name: str) -> str:
    return f"{{{ITUNES}}}{name}"


def render_feed(
    show: dict[str, Any], items: list[dict[str, Any]], *, public_url: str, changed_at: datetime
) -> bytes:
    """The feed's XML bytes; the same rows always give the same bytes (ETags rely on it)."""
    url = feed_url(public_url, show["slug"])
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, f"{{{ATOM}}}link", href=url, rel="self", type="application/rss+xml")
    _sub(channel, "title", show["title"])
    _sub(channel, "link", url)
    _sub(channel, "description", show["description"])
    _sub(channel, "language", show["language"])
    _sub(channel, "lastBuildDate", rfc2822(changed_at))
    _sub(channel, "generator", "SkyRas Jamal")
    _sub(channel, _it("author"), show["author"])
    _sub(channel, _it("summary"), show["description"])
    owner = _sub(channel, _it("owner"))
    _sub(owner, _it("name"), show["owner_name"])
    _sub(owner, _it("email"), show["owner_email"])
    _sub(channel, _it("explicit"), "true" if show["explicit"] else "false")
    # itunes:category names its category in a `text` attribute (a subcategory nests inside).
    category = ET.SubElement(channel, _it("category"), {"text": show["category"]})
    if show.get("subcategory"):
        ET.SubElement(category, _it("category"), {"text": show["subcategory"]})
    cover = artwork_url(public_url, show["artwork"])
    _sub(channel, _it("image"), href=cover)
    image = _sub(channel, "image")
    _sub(image, "url", cover)
    _sub(image, "title", show["title"])
    _sub(image, "link", url)
    _sub(channel, _it("type"), "episodic")
    _sub(channel, f"{{{PODCAST}}}guid", podcast_guid(url))
    _sub(channel, f"{{{PODCAST}}}locked", "no", owner=show["owner_email"])
    _sub(channel, f"{{{PODCAST}}}medium", "podcast")
    for row in items:
        _item(channel, row, public_url)
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True) + b"\n"


def _item(channel: ET.Element, row: dict[str, Any], public_url: str) -> None:
    audio, artwork = row["audio"], row["artwork"]
    item = _sub(channel, "item")
    _sub(item, "title", row["title"])
    _sub(item, _it("title"), row["title"])
    _sub(item, "description", row["description"] or row["title"])
    if row["description"]:
        _sub(item, f"{{{CONTENT}}}encoded", row["description"])
    enclosure_url, mime = audio_media(public_url, audio)
    _sub(item, "enclosure", url=enclosure_url, length=str(audio["size"]), type=mime)
    _sub(item, "guid", row["guid"], isPermaLink="false")
    _sub(item, "pubDate", rfc2822(row["publish_at"]))
    _sub(item, _it("author"), row["artist"])
    _sub(item, _it("duration"), str(round(float(audio["duration_seconds"]))))
    _sub(item, _it("image"), href=artwork_url(public_url, artwork))
    _sub(item, _it("explicit"), "true" if row["explicit"] else "false")
    _sub(item, _it("episodeType"), "full")
