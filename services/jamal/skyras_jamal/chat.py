"""Jamal's chat: deterministic understanding of release requests (no model needed).

Understood:
- "schedule Night Drive for friday 9am on the podcast feed" (also "... on the
  podcast and the bucket", "publish Night Drive now", "... tomorrow 18:00")
- "withdraw Night Drive"
- "list releases" (also "what's scheduled", "show releases")
Anything else gets a reply with examples. Times are read by dateparser in
UTC, a bare weekday being its next occurrence. A release is named by its
title (case-insensitive); the newest one of that title wins.
"""

import re
from datetime import UTC, datetime
from typing import Any

import dateparser

from skyras.db import Pool
from skyras.errors import ApiError
from skyras_jamal import releases, store
from skyras_jamal.config import JamalSettings
from skyras_jamal.letitia import LetitiaClient
from skyras_jamal.models import ChatResponse, ReleaseUpdate

_CHANNEL_WORDS = {
    "podcast": "podcast", "podcast feed": "podcast", "feed": "podcast", "rss": "podcast",
    "rss feed": "podcast", "webhook": "webhook", "webhooks": "webhook", "n8n": "webhook",
    "bucket": "bucket", "s3": "bucket", "s3 bucket": "bucket",
}  # fmt: skip
_CHANNEL = "|".join(sorted((re.escape(w) for w in _CHANNEL_WORDS), key=len, reverse=True))
_CHANNELS_TAIL = re.compile(
    rf"\s+(?:on|to)\s+(?:the\s+)?(?P<channels>(?:{_CHANNEL})"
    rf"(?:\s*(?:,|and|&)\s*(?:the\s+)?(?:{_CHANNEL}))*)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_SCHEDULE = re.compile(
    r"^\s*(?:please\s+)?(?:schedule|publish|release|put\s+out)\s+(?P<rest>.+?)\s*[.!]?\s*$",
    re.IGNORECASE,
)
# Where the title may end and the time begin: "<title> for|at|on <time>", or "<title> now".
_CONNECTOR = re.compile(r"\s+(?:(?:for|at|on)\s+|(?=now$|today$|tomorrow\b))", re.IGNORECASE)
_WITHDRAW = re.compile(
    r"^\s*(?:please\s+)?(?:withdraw|unpublish|pull|take\s+down)\s+[\"']?(?P<title>.+?)[\"']?"
    r"\s*[.!]?\s*$",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"^\s*(?:list|show|what(?:'s|\s+is|\s+are)?)\s+(?:(?:the|my|all)\s+)?"
    r"(?:releases?|scheduled|published)\b",
    re.IGNORECASE,
)
HELP = (
    "I can schedule, withdraw and list releases. Try: "
    '"schedule Night Drive for friday 9am on the podcast feed", '
    '"withdraw Night Drive", "list releases".'
)


def parse_when(text: str, now: datetime | None = None) -> datetime | None:
    """A time in plain words ("friday 9am", "tomorrow 18:00", "now"), in UTC, or None."""
    base = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": base,
        },
    )
    return parsed.astimezone(UTC) if parsed else None


def split_channels(text: str) -> list[str]:
    words = re.split(r"\s*(?:,|\band\b|&)\s*", text.lower())
    found: list[str] = []
    for word in words:
        channel = _CHANNEL_WORDS.get(" ".join(word.removeprefix("the ").split()))
        if channel and channel not in found:
            found.append(channel)
    return found


async def _find(pool: Pool, title: str) -> dict[str, Any] | None:
    async with pool.connection() as conn:
        found = await store.find_releases_by_title(conn=conn, title=title.strip())
    return found[0] if found else None


async def answer(
    message: str, *, pool: Pool, letitia: LetitiaClient, settings: JamalSettings
) -> ChatResponse:
    text = message.strip()
    channels: list[str] | None = None
    tail = _CHANNELS_TAIL.search(text)
    if tail:
        channels = split_channels(tail["channels"])
        text = text[: tail.start()]
    if match := _SCHEDULE.match(text):
        return await _schedule(
            match["rest"], channels, pool=pool, letitia=letitia, settings=settings
        )
    if match := _WITHDRAW.match(message):
        return await _withdraw(match["title"], pool=pool, settings=settings)
    if _LIST.match(message):
        return await _list(pool=pool, settings=settings)
    return ChatResponse(reply=HELP, action="help")


async def _title_and_time(
    pool: Pool, rest: str
) -> tuple[str, datetime | None, dict[str, Any] | None]:
    """Split "<title> for <time>": the split naming an existing release wins ("Music for
    Airports for friday 9am"), else the first whose time reads."""
    first: tuple[str, datetime | None, dict[str, Any] | None] | None = None
    for connector in _CONNECTOR.finditer(rest):
        title, when_text = rest[: connector.start()].strip("\"' "), rest[connector.end() :]
        when = parse_when(when_text)
        if when is None or not title:
            continue
        found = await _find(pool, title)
        if found is not None:
            return title, when, found
        first = first or (title, when, None)
    return first or (rest.strip("\"' "), None, None)


async def _schedule(
    rest: str,
    channels: list[str] | None,
    *,
    pool: Pool,
    letitia: LetitiaClient,
    settings: JamalSettings,
) -> ChatResponse:
    title, when, found = await _title_and_time(pool, rest)
    if when is None:
        return ChatResponse(
            reply=f'When should "{title}" go out? Say for example "schedule {title} for '
            'friday 9am" or "publish it now".',
            action="help",
        )
    if found is None:
        return ChatResponse(
            reply=f'There is no release called "{title}". Create it first (POST /api/releases '
            "with its audio and artwork from Letitia), then schedule it here.",
            action="not_found",
        )
    changes: dict[str, Any] = {"publish_at": when}
    if channels:
        changes["channels"] = channels
    try:
        release = await releases.update_release(
            pool=pool,
            letitia=letitia,
            settings=settings,
            release_id=found["id"],
            release_in=ReleaseUpdate(**changes),
        )
    except ApiError as exc:
        return ChatResponse(reply=exc.message, action="error", data={"code": exc.code})
    on = ", ".join(c["channel"] for c in release["channels"])
    moment = release["publish_at"].strftime("%A %d %B %Y at %H:%M UTC")
    reply = (
        f'"{release["title"]}" publishes now on {on}.'
        if release["notice"]
        else f'Scheduled "{release["title"]}" for {moment} on {on}.'
    )
    return ChatResponse(reply=reply, action="scheduled", data={"release": release})


async def _withdraw(title: str, *, pool: Pool, settings: JamalSettings) -> ChatResponse:
    found = await _find(pool, title)
    if found is None:
        return ChatResponse(reply=f'There is no release called "{title}".', action="not_found")
    release = await releases.withdraw_release(pool=pool, settings=settings, release_id=found["id"])
    return ChatResponse(
        reply=f'Withdrew "{release["title"]}" from every channel.',
        action="withdrawn",
        data={"release": release},
    )


async def _list(*, pool: Pool, settings: JamalSettings) -> ChatResponse:
    async with pool.connection() as conn:
        rows = await store.list_releases(conn=conn, limit=20)
    items = [releases.release_json(r, settings) for r in rows]
    if not items:
        return ChatResponse(reply="There are no releases yet.", action="listed", data={"items": []})
    lines = [f'"{r["title"]}" ({r["status"]}, {r["publish_at"]:%Y-%m-%d %H:%M} UTC)' for r in items]
    return ChatResponse(
        reply=f"{len(items)} release{'s' if len(items) != 1 else ''}: " + "; ".join(lines) + ".",
        action="listed",
        data={"items": items},
    )
