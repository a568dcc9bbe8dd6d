"""Release copy from Jinja2 templates, within each platform's length limit.

Who reads it: `generations` (deterministic copy, and the check a model's
copy must pass), the tests (every limit, long and short inputs).

Limits and how each platform counts (`count`):
- X: 280, weighted as twitter-text v3 does: code points in the Latin and
  general-punctuation ranges weigh 1, everything else (CJK, emoji) 2, and
  every URL 23.
- Bluesky: 300 graphemes (we count code points, which is never fewer).
- Mastodon: 500 characters (a default instance), every URL 23.
- Threads: 500; Instagram and TikTok captions: 2,200; LinkedIn posts: 3,000;
  Facebook posts: 63,206.
- Documents: a release description of at most 4,000 characters (Apple
  Music's and Spotify's editorial fields are shorter; distributors' album
  descriptions allow this much), podcast show notes of at most 4,000 (Apple
  Podcasts' episode description).

The same metadata always gives the same text. When a template's output is
too long, the description is shortened at a word (to 160 characters), then
hashtags, the track list, label, date and genre are dropped, then the rest
of the description, and only then is the text cut at a word with "…".
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

URL_LENGTH = 23  # what X and Mastodon count for any link
_URL = re.compile(r"https?://\S+")
ELLIPSIS = "…"
# A description is shortened to this many characters before other parts are dropped.
DESCRIPTION_KEEP = 160


def _plain_length(text: str) -> int:
    return len(unicodedata.normalize("NFC", text))


def _twitter_weight(ch: str) -> int:
    cp = ord(ch)
    light = cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or 8242 <= cp <= 8247
    return 1 if light else 2


def twitter_length(text: str) -> int:
    """twitter-text v3's weighted length (URLs 23, CJK and emoji count double)."""
    text = unicodedata.normalize("NFC", text)
    urls = _URL.findall(text)
    rest = _URL.sub("", text)
    return sum(_twitter_weight(ch) for ch in rest) + URL_LENGTH * len(urls)


def mastodon_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    urls = _URL.findall(text)
    return len(_URL.sub("", text)) + URL_LENGTH * len(urls)


@dataclass(frozen=True)
class Platform:
    name: str
    label: str
    limit: int
    template: str
    count: Callable[[str], int] = _plain_length
    max_hashtags: int = 5


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("x", "X (Twitter)", 280, "social_short.txt.j2", twitter_length, 2),
        Platform("bluesky", "Bluesky", 300, "social_short.txt.j2", _plain_length, 2),
        Platform("mastodon", "Mastodon", 500, "social_short.txt.j2", mastodon_length, 3),
        Platform("threads", "Threads", 500, "social_short.txt.j2", _plain_length, 3),
        Platform("instagram", "Instagram", 2200, "social_long.txt.j2", _plain_length, 10),
        Platform("tiktok", "TikTok", 2200, "social_long.txt.j2", _plain_length, 5),
        Platform("linkedin", "LinkedIn", 3000, "social_long.txt.j2", _plain_length, 3),
        Platform("facebook", "Facebook", 63206, "social_long.txt.j2", _plain_length, 3),
    )
}

DOCUMENTS: dict[str, Platform] = {
    d.name: d
    for d in (
        Platform("description", "Release description", 4000, "description.txt.j2", max_hashtags=0),
        Platform("show_notes", "Podcast show notes", 4000, "show_notes.md.j2", max_hashtags=0),
    )
}

_env = Environment(
    loader=PackageLoader("skyras_giorgio", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # plain text and Markdown, not HTML
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def hashtags_for(release: dict[str, Any]) -> list[str]:
    """Given hashtags first, then #Title, #Artist and #Genre in CamelCase (letters/digits only)."""
    tags: list[str] = []
    for raw in release.get("hashtags") or []:
        tags.append("#" + raw.lstrip("#"))
    for value in (release.get("title"), release.get("artist"), release.get("genre")):
        words = re.findall(r"\w+", value or "")
        tag = "".join(w[:1].upper() + w[1:] for w in words)
        if tag and len(tag) <= 40:
            tags.append("#" + tag)
    tags.append("#NewMusic")
    seen: dict[str, str] = {}
    for tag in tags:
        seen.setdefault(tag.lower(), tag)
    return list(seen.values())


def _format_date(value: Any) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, date):
        return f"{value:%B} {value.day}, {value.year}"
    return ""


def _shorten(text: str, max_chars: int) -> str:
    """At most `max_chars` characters, cut at a word, with an ellipsis when cut."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return ""
    cut = text[: max_chars - 1]
    if " " in cut.strip():
        cut = cut[: cut.rstrip().rfind(" ")]
    return cut.rstrip(" ,.;:-") + ELLIPSIS


def _cut_to(text: str, count: Callable[[str], int], limit: int) -> str:
    """The longest start of `text` that, with an ellipsis, counts at most `limit`; at a word if one is near."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid].rstrip() + ELLIPSIS) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    if space > lo // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + ELLIPSIS


def _context(release: dict[str, Any], platform: Platform) -> dict[str, Any]:
    return {
        "title": release.get("title") or "",
        "artist": release.get("artist") or "",
        "description": release.get("description") or "",
        "genre": release.get("genre") or "",
        "label": release.get("label") or "",
        "release_date": _format_date(release.get("release_date")),
        "tracks": list(release.get("tracks") or []),
        "link": release.get("link") or "",
        "hashtags": hashtags_for(release)[: platform.max_hashtags],
        "platform": platform.label,
    }


def _render(template: str, context: dict[str, Any]) -> str:
    text = _env.get_template(template).render(**context)
    # Templates leave blank lines where optional parts are empty: one blank line at most.
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render(release: dict[str, Any], target: Platform) -> str:
    """The template's text for `target`, trimmed until it is within the limit."""
    context = _context(release, target)
    text = _render(target.template, context)
    # 1. The description, shortened at a word, down to a short paragraph; 2. hashtags,
    # the track list, label, date and genre; 3. the rest of the description.
    for keep in (DESCRIPTION_KEEP, 0):
        while target.count(text) > target.limit and len(context["description"]) > keep:
            over = target.count(text) - target.limit
            # Weighted counts can be double per character: shorten by at least the overflow.
            wanted = max(keep, len(context["description"]) - over)
            context["description"] = _shorten(context["description"], wanted) if wanted else ""
            text = _render(target.template, context)
        if keep:
            for key in ("hashtags", "tracks", "label", "release_date", "genre"):
                if target.count(text) <= target.limit:
                    break
                context[key] = [] if isinstance(context[key], list) else ""
                text = _render(target.template, context)
    # 3. Still too long (a 200-character title on X): cut the text itself.
    if target.count(text) > target.limit:
        text = _cut_to(text, target.count, target.limit)
    return text


def render_all(release: dict[str, Any], platforms: list[str]) -> dict[str, Any]:
    """Every document, and a post for each platform asked for."""
    documents = {name: render(release, doc) for name, doc in DOCUMENTS.items()}
    social = {name: render(release, PLATFORMS[name]) for name in platforms}
    return {**documents, "social": social}


def limit_report(copy: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Each text's counted length next to its limit (shown in the result)."""
    report = {
        name: {"length": doc.count(copy[name]), "limit": doc.limit}
        for name, doc in DOCUMENTS.items()
        if name in copy
    }
    for name, text in copy.get("social", {}).items():
        platform = PLATFORMS[name]
        report[name] = {"length": platform.count(text), "limit": platform.limit}
    return report


def within_limit(name: str, text: str) -> bool:
    target = DOCUMENTS.get(name) or PLATFORMS[name]
    return bool(text.strip()) and target.count(text) <= target.limit


def as_markdown(release: dict[str, Any], copy: dict[str, Any]) -> str:
    """All the copy as one Markdown document (what is stored in Letitia)."""
    return (
        _render(
            "copy_document.md.j2",
            {
                "title": release.get("title") or "",
                "artist": release.get("artist") or "",
                "description": copy.get("description", ""),
                "show_notes": copy.get("show_notes", ""),
                "social": [(PLATFORMS[n].label, t) for n, t in copy.get("social", {}).items()],
            },
        )
        + "\n"
    )
