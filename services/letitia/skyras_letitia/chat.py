"""Letitia's deterministic chat: a few phrasings, understood without a model.

- "find vocals files tagged final"  -> search "vocals" with tag final
- "what did we upload today"         -> files uploaded since midnight UTC (also "yesterday", "this week")
- "tag mixdown.wav with final"       -> add the tag to the newest file so named
Anything else gets a reply that shows these examples.
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from skyras.db import Pool
from skyras.errors import ApiError
from skyras_letitia import library, store
from skyras_letitia.models import ChatReply, SearchRequest, normalize_tags
from skyras_letitia.search import SearchBackend

HELP = (
    'I look after the asset library. Try: "find vocals files tagged final", '
    '"what did we upload today", or "tag mixdown.wav with final".'
)

_FIND = re.compile(
    r"^(?:please\s+)?(?:find|search(?:\s+for)?|look\s+for|show(?:\s+me)?)\s+(?P<rest>.*)$",
    re.IGNORECASE,
)
_TAGGED = re.compile(r"\s+(?:tagged|with\s+tags?)\s+(?P<tags>.+)$", re.IGNORECASE)
_UPLOADED = re.compile(
    r"\b(?:upload(?:ed)?|added|new)\b.*\b(?P<when>today|yesterday|this\s+week)\b"
    r"|\b(?P<when2>today|yesterday|this\s+week)\b.*\bupload(?:ed|s)?\b",
    re.IGNORECASE,
)
_TAG = re.compile(
    r"^(?:please\s+)?tag\s+(?P<name>.+?)\s+(?:with|as)\s+(?P<tags>.+?)[.!]?$", re.IGNORECASE
)
_FILLER = re.compile(r"\b(?:all|the|my|our|any|some|files?|assets?|called|named)\b", re.IGNORECASE)


def _split_tags(text: str) -> list[str]:
    parts = re.split(r",|\band\b|&", text.strip().rstrip(".!?"))
    return normalize_tags([p.strip().strip("\"'") for p in parts])


def _summary(files: list[dict[str, Any]]) -> str:
    names = ", ".join(f["filename"] for f in files[:5])
    more = f" and {len(files) - 5} more" if len(files) > 5 else ""
    return f"{names}{more}"


async def answer(message: str, *, pool: Pool, search: SearchBackend) -> ChatReply:
    text = message.strip()
    if match := _TAG.match(text):
        return await _tag(
            match["name"].strip().strip("\"'"), match["tags"], pool=pool, search=search
        )
    if match := _UPLOADED.search(text):
        return await _uploaded(match["when"] or match["when2"], search=search)
    if match := _FIND.match(text.rstrip("?.!")):
        return await _find(match["rest"], search=search)
    return ChatReply(reply=HELP, data={"examples": HELP.split('"')[1::2]})


async def _find(rest: str, *, search: SearchBackend) -> ChatReply:
    tags: list[str] = []
    if tagged := _TAGGED.search(rest):
        try:
            tags = _split_tags(tagged["tags"])
        except ValueError as exc:
            return ChatReply(reply=f"I couldn't read those tags: {exc}")
        rest = rest[: tagged.start()]
    query = " ".join(_FILLER.sub(" ", rest).split())[:500]
    results = await search.search(SearchRequest(query=query, tags=tags, limit=20))
    files = [item.model_dump(mode="json") for item in results.items]
    what = f'"{query}"' if query else "files"
    if tags:
        what += f" tagged {', '.join(tags)}"
    if not files:
        reply = f"I found no {what}."
    else:
        reply = f"I found {results.total} match{'es' if results.total != 1 else ''} for {what}: {_summary(files)}."
    return ChatReply(
        reply=reply, data={"query": query, "tags": tags, "files": files, "total": results.total}
    )


async def _uploaded(when: str, *, search: SearchBackend) -> ChatReply:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    when = " ".join(when.lower().split())
    if when == "yesterday":
        start, end = midnight - timedelta(days=1), midnight
    elif when == "this week":
        start, end = midnight - timedelta(days=midnight.weekday()), None
    else:
        start, end = midnight, None
    results = await search.search(
        SearchRequest(query="", limit=100, uploaded_after=start, uploaded_before=end)
    )
    files = [item.model_dump(mode="json") for item in results.items]
    if not files:
        reply = f"Nothing was uploaded {when}."
    else:
        count = len(files)
        reply = f"{count} file{'s' if count != 1 else ''} uploaded {when}: {_summary(files)}."
    return ChatReply(
        reply=reply,
        data={
            "since": start.isoformat(),
            "until": end.isoformat() if end else None,
            "files": files,
        },
    )


async def _tag(name: str, tag_text: str, *, pool: Pool, search: SearchBackend) -> ChatReply:
    try:
        tags = _split_tags(tag_text)
    except ValueError as exc:
        return ChatReply(reply=f"I couldn't read those tags: {exc}", data={"file": None})
    if not tags:
        return ChatReply(
            reply="Which tags? For example: tag mixdown.wav with final", data={"file": None}
        )
    async with pool.connection() as conn:
        found = await store.find_file_by_name(conn=conn, name=name)
    if found is None:
        return ChatReply(reply=f'I couldn\'t find a file named "{name}".', data={"file": None})
    try:
        row = await library.add_tags(pool=pool, search=search, file_id=found["id"], tags=tags)
    except ApiError as exc:
        return ChatReply(reply=exc.message, data={"file": store.file_json(found)})
    return ChatReply(
        reply=f"Tagged {row['filename']} with {', '.join(tags)}.",
        data={"file": store.file_json(row), "tags": tags},
    )
